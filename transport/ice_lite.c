/* ice_lite.c: the ICE-lite transport (RFC 8445 2.5): a WebRTC peer on the worker's shared
 * UDP port (udp_mux.c), which answers its connectivity checks (stun_lite.c), learns its
 * address from them and demultiplexes DTLS and SRTP by that address: the same batched
 * receive and send as plain RTP, no agent, no GSource per packet. We never send checks;
 * the peer (a full agent, always controlling) does, and its checks are our consent
 * (RFC 7675): none from the chosen address for CONSENT_US ends the transport. */
#define _GNU_SOURCE    /* udp_priv.h: struct mmsghdr */
#define TT_LOG_DOMAIN "ice"
#include <errno.h>
#include <string.h>

#include "dtls.h"
#include "ice_lite.h"
#include "stun_lite.h"
#include "tutti/log.h"
#include "tutti/srtp.h"

#define HANDSHAKE_TIMER_MS 50     /* DTLS retransmission while the handshake runs */
#define IDLE_TIMER_MS 1000        /* consent only, once it is done */
#define CONSENT_US (30 * G_USEC_PER_SEC)
#define UFRAG_LEN 8
#define PWD_LEN 24                /* RFC 8839: at least 22 ice-chars (128 bits) */

struct tt__lite {
	struct tt_transport *t;
	struct tt_ice *wrap;
	struct tt_udp_mux *mux;
	struct tt__mux_member *mm;
	GMainContext *ctx;
	GSource *timer;
	unsigned timer_ms;
	const struct tt_dtls_cert *cert;   /* the policy's; wrap holds the policy */
	struct tt_dtls *dtls;
	bool consent;
	bool have_remote, has_addr, connected, dtls_done, failed;
	int64_t last_check_us;             /* of a valid check from the chosen address */
	struct sockaddr_storage addr;      /* the chosen address */
	char ufrag[UFRAG_LEN + 1], pwd[PWD_LEN + 1];
	char peer_ufrag[TT_ICE_UFRAG_MAX + 1];
	char remote[64];
};

static void fail(struct tt__lite *l, int reason)
{
	if (l->failed)
		return;
	l->failed = true;
	tt__transport_fail(l->t, reason);
}

/* ---- transport ops ---- */

static int lite_send_batch(void *impl, const struct tt_transport_out *out, unsigned n)
{
	struct tt__lite *l = impl;
	/* Nothing leaves before SRTP is on: plain RTP must never reach the wire. */
	if (!l->dtls_done || l->failed || !l->has_addr)
		return 0;
	return tt__udp_mux_send(l->mux, l->mm, out, n);
}

static int lite_local(void *impl, struct sockaddr_storage *ss, socklen_t *len)
{
	struct tt__lite *l = impl;
	tt__udp_mux_local(l->mux, ss, len);
	return 0;
}

static void lite_destroy(void *impl)
{
	struct tt__lite *l = impl;
	if (l->timer) {
		g_source_destroy(l->timer);
		g_source_unref(l->timer);
	}
	if (l->mm)
		tt__udp_mux_leave(l->mux, l->mm);
	tt__dtls_free(l->dtls);
	tt__ice_wrap_free(l->wrap);
	g_main_context_unref(l->ctx);
	g_free(l);
}

static const struct tt_transport_ops lite_ops = {
	.kind = "ice",
	.send_batch = lite_send_batch,
	.local = lite_local,
	.destroy = lite_destroy,
};

/* ---- timer: DTLS retransmission, consent ---- */

static gboolean on_timer(gpointer arg);

static void set_timer(struct tt__lite *l, unsigned ms)
{
	if (l->timer && l->timer_ms == ms)
		return;
	if (l->timer) {
		g_source_destroy(l->timer);
		g_source_unref(l->timer);
	}
	l->timer = g_timeout_source_new(ms);
	l->timer_ms = ms;
	g_source_set_callback(l->timer, on_timer, l, NULL);
	g_source_attach(l->timer, l->ctx);
}

static gboolean on_timer(gpointer arg)
{
	struct tt__lite *l = arg;
	if (l->failed)
		return G_SOURCE_CONTINUE;
	if (l->dtls && l->connected && !l->dtls_done) {
		int rc = tt__dtls_tick(l->dtls);
		if (rc < 0) {
			fail(l, rc);
			return G_SOURCE_CONTINUE;
		}
	}
	/* No check in time, from the start or since the last: the peer is gone, or never
	 * came (RFC 7675; a browser checks every 5 s or so, more often while it starts). */
	if (l->consent && g_get_monotonic_time() - l->last_check_us > CONSENT_US) {
		tt_debug("ICE-lite: %s", l->connected ? "consent lost" : "no check came");
		fail(l, -ETIMEDOUT);
	}
	return G_SOURCE_CONTINUE;
}

/* ---- DTLS over the shared port ---- */

static void dtls_out(void *arg, const uint8_t *buf, size_t len)
{
	struct tt__lite *l = arg;
	if (!l->has_addr)
		return;
	struct tt_transport_out o = { .data = (uint8_t *)buf, .len = len };
	tt__udp_mux_send(l->mux, l->mm, &o, 1);   /* copied: buf is the handshake's */
}

static void start_dtls(struct tt__lite *l)
{
	if (!l->dtls || !l->connected || l->failed)
		return;
	int rc = tt__dtls_start(l->dtls);
	if (rc < 0)
		fail(l, rc);
}

/* ---- what the mux hands us ---- */

struct tt_transport *tt__lite_transport(const struct tt__lite *l)
{
	return l->t;
}

void tt__lite_credentials(const struct tt__lite *l, const char **our_pwd,
			  const char **peer_ufrag)
{
	*our_pwd = l->pwd;
	*peer_ufrag = l->have_remote ? l->peer_ufrag : NULL;
}

void tt__lite_checked(struct tt__lite *l, const struct sockaddr_storage *from,
		      socklen_t from_len, bool use_candidate)
{
	if (l->failed)
		return;
	bool same = l->has_addr && tt__sockaddr_same(from, &l->addr);
	/* The first valid check gives the address; later, a nominated pair moves it (the
	 * peer chose another of its candidates). Another member's address stays theirs. */
	if (!same && (!l->has_addr || use_candidate)) {
		if (tt__udp_mux_rekey(l->mux, l->mm, from, from_len))
			return;
		memset(&l->addr, 0, sizeof l->addr);
		memcpy(&l->addr, from, from_len);
		l->has_addr = true;
		tt_sockaddr_format(l->remote, sizeof l->remote, (const struct sockaddr *)from);
		same = true;
	}
	if (!same)
		return;
	l->last_check_us = g_get_monotonic_time();
	if (!l->connected) {
		l->connected = true;
		tt__transport_set_latched(l->t, true);
		start_dtls(l);
	}
}

void tt__lite_input(struct tt__lite *l, uint8_t *buf, size_t len, int64_t at)
{
	if (l->failed)
		return;
	switch (tt__demux_classify(buf, len)) {
	case TT_DEMUX_DTLS: {
		if (!l->dtls || !l->connected)
			break;
		struct tt_srtp *srtp = NULL;
		int rc = tt__dtls_input(l->dtls, buf, len, &srtp);
		if (rc == 1) {
			tt_transport_set_srtp(l->t, srtp);
			l->dtls_done = true;
			set_timer(l, IDLE_TIMER_MS);
		} else if (rc < 0) {
			fail(l, rc);
		}
		return;
	}
	case TT_DEMUX_MEDIA:
		if (l->dtls_done) {
			tt__transport_input_at(l->t, buf, len, at);
			return;
		}
		break;
	default:
		break;
	}
	tt__transport_count_bleed(l->t);   /* media before keys, or not ours to read */
}

/* ---- ice.c's side ---- */

static void random_chars(char *s, size_t n)
{
	static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	for (size_t i = 0; i < n; i++)
		s[i] = set[g_random_int_range(0, (gint32)sizeof set - 1)];
	s[n] = '\0';
}

int tt__lite_alloc(struct tt__lite **lp, struct tt_transport **tp,
		   const struct tt_transport_cfg *cfg, struct tt_udp_mux *mux,
		   const struct tt_dtls_cert *cert, bool consent, struct tt_ice *wrap)
{
	struct tt__lite *l = g_new0(struct tt__lite, 1);
	l->mux = mux;
	l->cert = cert;
	l->consent = consent;
	l->ctx = g_main_context_ref(cfg->ctx);
	random_chars(l->pwd, PWD_LEN);
	int rc = -EEXIST;
	for (int tries = 0; tries < 8 && rc == -EEXIST; tries++) {
		random_chars(l->ufrag, UFRAG_LEN);
		rc = tt__udp_mux_join_lite(mux, l, l->ufrag, &l->mm);
	}
	if (!rc)
		rc = tt__transport_alloc(&l->t, cfg, &lite_ops, l);
	if (rc) {
		if (l->mm)
			tt__udp_mux_leave(mux, l->mm);
		g_main_context_unref(l->ctx);
		g_free(l);
		return rc;
	}
	l->wrap = wrap;     /* from here on lite_destroy frees it */
	l->last_check_us = g_get_monotonic_time();   /* the peer has CONSENT_US to start */
	set_timer(l, HANDSHAKE_TIMER_MS);
	*lp = l;
	*tp = l->t;
	return 0;
}

const char *tt__lite_ufrag(const struct tt__lite *l)
{
	return l->ufrag;
}

const char *tt__lite_pwd(const struct tt__lite *l)
{
	return l->pwd;
}

int tt__lite_set_remote(struct tt__lite *l, const char *ufrag, const char *fp,
			enum tt_dtls_setup setup)
{
	if (l->have_remote)
		return -EALREADY;
	int err = tt__dtls_alloc(&l->dtls, l->cert, setup == TT_DTLS_ACTIVE, fp, dtls_out, l);
	if (err)
		return err;
	g_strlcpy(l->peer_ufrag, ufrag, sizeof l->peer_ufrag);
	l->have_remote = true;
	start_dtls(l);      /* a check cannot have come before: none is answered without it */
	return 0;
}

void tt__lite_info(const struct tt__lite *l, struct tt_ice_info *info)
{
	memset(info, 0, sizeof *info);
	info->connected = l->connected;
	info->dtls_done = l->dtls_done;
	info->dtls_failed = l->failed && l->dtls && !l->dtls_done;
	info->srtp_suite = l->dtls_done ? tt__dtls_suite(l->dtls) : NULL;
	info->lite = true;
	g_strlcpy(info->remote, l->remote, sizeof info->remote);
}
