/* srtp.c: SRTP/SRTCP contexts over libsrtp2, one per direction, made once and reused. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <srtp2/srtp.h>

#define TT_LOG_DOMAIN "srtp"
#include "tutti/errno.h"
#include "tutti/log.h"
#include "tutti/srtp.h"

_Static_assert(TT_SRTP_MAX_TRAILER >= SRTP_MAX_TRAILER_LEN + 4, "SRTCP trailer headroom");

struct tt_srtp {
	srtp_t tx;
	srtp_t rx;
	enum tt_srtp_suite suite;
};

static const struct {
	const char *name;
	size_t key_len;
} suites[TT_SRTP_SUITE_COUNT] = {
	[TT_SRTP_AES_CM_128_HMAC_SHA1_80] = {"AES_CM_128_HMAC_SHA1_80", 30},
	[TT_SRTP_AES_CM_128_HMAC_SHA1_32] = {"AES_CM_128_HMAC_SHA1_32", 30},
	[TT_SRTP_AEAD_AES_128_GCM] = {"AEAD_AES_128_GCM", 28},
};

int tt_srtp_suite_from_name(enum tt_srtp_suite *suite, const char *name, size_t len)
{
	if (!name)
		return -EINVAL;
	for (int i = 0; i < TT_SRTP_SUITE_COUNT; i++) {
		if (strlen(suites[i].name) == len && memcmp(suites[i].name, name, len) == 0) {
			*suite = (enum tt_srtp_suite)i;
			return 0;
		}
	}
	return -ENOTSUP;
}

const char *tt_srtp_suite_name(enum tt_srtp_suite suite)
{
	if ((unsigned)suite >= TT_SRTP_SUITE_COUNT)
		return "?";
	return suites[suite].name;
}

size_t tt_srtp_key_len(enum tt_srtp_suite suite)
{
	if ((unsigned)suite >= TT_SRTP_SUITE_COUNT)
		return 0;
	return suites[suite].key_len;
}

/* The one conversion from libsrtp's error type into ours. */
static int srtp_err(srtp_err_status_t st)
{
	switch (st) {
	case srtp_err_status_ok:
		return 0;
	case srtp_err_status_replay_fail:
	case srtp_err_status_replay_old:
		return -EALREADY;
	case srtp_err_status_auth_fail:
	case srtp_err_status_bad_param:
	case srtp_err_status_parse_err:
	case srtp_err_status_cipher_fail:
		return -EBADMSG;
	case srtp_err_status_alloc_fail:
		return -ENOMEM;
	case srtp_err_status_no_ctx:
		return -ENOENT;
	default:
		return -EIO;
	}
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static srtp_err_status_t init_status;

static void lib_init(void)
{
	init_status = srtp_init();
}

static void set_policy(srtp_policy_t *p, enum tt_srtp_suite suite)
{
	memset(p, 0, sizeof *p);
	switch (suite) {
	case TT_SRTP_AES_CM_128_HMAC_SHA1_80:
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp);
		break;
	case TT_SRTP_AES_CM_128_HMAC_SHA1_32:
		/* RFC 4568 6.2.2: the 32-bit tag applies to SRTP only; SRTCP keeps 80 bits. */
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&p->rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp);
		break;
	default:
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtcp);
		break;
	}
	p->window_size = 128;          /* replay window (the minimum libsrtp allows) */
	p->allow_repeat_tx = 0;        /* never encrypt twice with one index */
}

static int make_session(srtp_t *out, enum tt_srtp_suite suite, const uint8_t *key,
			bool outbound)
{
	srtp_policy_t p;
	uint8_t k[TT_SRTP_MAX_KEY_LEN];

	set_policy(&p, suite);
	memcpy(k, key, tt_srtp_key_len(suite));
	p.key = k;    /* libsrtp copies the key while creating the session */
	p.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
	srtp_err_status_t st = srtp_create(out, &p);
	memset(k, 0, sizeof k);
	if (st == srtp_err_status_bad_param || st == srtp_err_status_cipher_fail ||
	    st == srtp_err_status_init_fail)
		return -ENOTSUP;
	return srtp_err(st);
}

int tt_srtp_alloc(struct tt_srtp **sp, enum tt_srtp_suite suite, const uint8_t *tx_key,
		  const uint8_t *rx_key)
{
	struct tt_srtp *s = NULL;
	int err;

	if (!sp || !tx_key || !rx_key || (unsigned)suite >= TT_SRTP_SUITE_COUNT)
		return -EINVAL;
	pthread_once(&init_once, lib_init);
	if (init_status != srtp_err_status_ok) {
		tt_error("libsrtp2 initialisation failed (%d)", (int)init_status);
		return -EIO;
	}
	s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	s->suite = suite;
	err = make_session(&s->tx, suite, tx_key, true);
	if (err)
		goto out;
	err = make_session(&s->rx, suite, rx_key, false);
	if (err)
		goto out;
	*sp = s;
	s = NULL;
out:
	if (err)
		tt_warn("cannot set up SRTP %s: %s", tt_srtp_suite_name(suite), tt_strerror(err));
	tt_srtp_free(s);
	return err;
}

struct tt_srtp *tt_srtp_free(struct tt_srtp *s)
{
	if (!s)
		return NULL;
	if (s->tx)
		srtp_dealloc(s->tx);
	if (s->rx)
		srtp_dealloc(s->rx);
	free(s);
	return NULL;
}

int tt_srtp_protect(struct tt_srtp *s, uint8_t *buf, size_t *len, size_t cap, bool rtcp)
{
	if (!s || !buf || !len || *len > 0x7fff0000u)
		return -EINVAL;
	if (cap < *len + TT_SRTP_MAX_TRAILER)
		return -ENOSPC;
	int n = (int)*len;
	srtp_err_status_t st = rtcp ? srtp_protect_rtcp(s->tx, buf, &n)
				    : srtp_protect(s->tx, buf, &n);
	if (st != srtp_err_status_ok)
		return srtp_err(st) == -EBADMSG ? -EINVAL : srtp_err(st);
	*len = (size_t)n;
	return 0;
}

int tt_srtp_unprotect(struct tt_srtp *s, uint8_t *buf, size_t *len, bool rtcp)
{
	if (!s || !buf || !len || *len > 0x7fff0000u)
		return -EINVAL;
	/* libsrtp reads the fixed header before checking the length on some paths. */
	if (*len < (rtcp ? 8u : 12u))
		return -EBADMSG;
	int n = (int)*len;
	srtp_err_status_t st = rtcp ? srtp_unprotect_rtcp(s->rx, buf, &n)
				    : srtp_unprotect(s->rx, buf, &n);
	if (st != srtp_err_status_ok)
		return srtp_err(st);
	*len = (size_t)n;
	return 0;
}
