/* leg_udp.c: the UDP kind of leg (TT_LEG_UDP): plain RTP on a socket of the worker, or on
 * its shared port, optionally SDES-SRTP with our key made here. */
#define TT_LOG_DOMAIN "media"
#include "leg_kind.h"

#include <string.h>
#include <tutti/errno.h>
#include <tutti/sdes.h>
#include <tutti/srtp.h>

_Static_assert(TT_AUDIO_KEY_MAX >= TT_SRTP_MAX_KEY_LEN, "room for every suite's key");

struct udp_leg {
	int suite;                    /* SRTP suite while l->srtp, and our key: an update that
					 keeps the suite keeps the key the peer knows */
	uint8_t our_key[TT_SRTP_MAX_KEY_LEN];
	size_t our_key_len;
};

static int udp_check(const struct tt_audio_leg *al, bool update)
{
	const struct tt_audio_leg_udp *u = &al->udp;
	if (u->remote_len > sizeof u->remote)
		return -EINVAL;
	return u->srtp_suite >= -1 && u->srtp_suite < TT_SRTP_SUITE_COUNT ? 0 : -EINVAL;
}

/* SRTP with the peer's key from al and ours: a new one unless SRTP stays on with the same
 * suite. */
static int set_srtp(struct leg *l, const struct tt_audio_leg_udp *u,
		    struct tt_audio_attached_udp *res)
{
	struct udp_leg *ul = l->ks;
	if (u->srtp_suite < 0) {
		if (l->srtp)
			tt_transport_set_srtp(l->t, NULL);
		l->srtp = false;
		return 0;
	}
	if (!l->srtp || ul->suite != u->srtp_suite) {
		struct tt_sdes_crypto ours;
		int rc = tt_sdes_generate(&ours, 1, (enum tt_srtp_suite)u->srtp_suite);
		if (rc)
			return rc;
		memcpy(ul->our_key, ours.key, ours.key_len);
		ul->our_key_len = ours.key_len;
		ul->suite = u->srtp_suite;
	}
	struct tt_srtp *s = NULL;
	int rc = tt_srtp_alloc(&s, (enum tt_srtp_suite)u->srtp_suite, ul->our_key,
			       u->srtp_remote_key);
	if (rc)
		return rc;
	tt_transport_set_srtp(l->t, s);
	l->srtp = true;
	memcpy(res->srtp_local_key, ul->our_key, ul->our_key_len);
	res->srtp_key_len = ul->our_key_len;
	return 0;
}

static void describe(struct leg *l, const struct tt_audio_leg_udp *u,
		     struct tt_audio_attached_udp *res)
{
	res->local_len = sizeof res->local;
	if (tt_transport_local(l->t, &res->local, &res->local_len) == 0)
		tt_sockaddr_format(l->local, sizeof l->local, (struct sockaddr *)&res->local);
	else
		res->local_len = 0;
	if (u->remote_len)
		tt_sockaddr_format(l->remote, sizeof l->remote, (const struct sockaddr *)&u->remote);
}

static int udp_open(struct leg *l, const struct tt_transport_cfg *tc,
		    const struct tt_audio_leg *al, struct tt_audio_attached *res)
{
	const struct tt_audio_leg_udp *u = &al->udp;
	const struct tt_media_cfg *mc = &l->mp->m->cfg;
	struct tt_udp_cfg uc = {
		.bind_addr = mc->address,
		.port_min = (uint16_t)mc->port_min,
		.port_max = (uint16_t)mc->port_max,
		.remote = u->remote,
		.remote_len = u->remote_len,
		.latch = u->latch,
		.mux = mc->shared_port && !u->latch
			? tt_worker_udp_mux(l->mp->m->worker, mc->address, mc->port_min,
					    mc->port_max)
			: NULL,
	};
	int rc = tt_transport_udp_alloc(&l->t, tc, &uc);
	if (rc)
		return rc;
	l->ks = g_new0(struct udp_leg, 1);
	struct tt_audio_attached_udp r = { 0 };
	rc = set_srtp(l, u, &r);
	if (rc) {
		l->t = tt_transport_free(l->t);
		g_free(l->ks);
		l->ks = NULL;
		return rc;
	}
	describe(l, u, &r);
	res->udp = r;
	return 0;
}

static int udp_update(struct leg *l, const struct tt_audio_leg *al,
		      struct tt_audio_attached *res)
{
	const struct tt_audio_leg_udp *u = &al->udp;
	if (u->remote_len) {
		int rc = tt_transport_set_remote(l->t, (const struct sockaddr *)&u->remote,
						 u->remote_len);
		if (rc)
			return rc;
	}
	int rc = set_srtp(l, u, &res->udp);
	if (rc)
		return rc;
	describe(l, u, &res->udp);
	return 0;
}

static void udp_close(struct leg *l)
{
	g_free(l->ks);
	l->ks = NULL;
}

const struct tt__leg_kind_ops tt__leg_udp_ops = {
	.name = "udp",
	.check = udp_check,
	.open = udp_open,
	.update = udp_update,
	.close = udp_close,
};
