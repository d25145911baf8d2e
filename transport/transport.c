/* transport.c: the generic half of every media transport: SRTP, send queue, stats, RTCP
 * reports, inactivity and closure. Implementations (udp.c, later ICE) only move bytes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define TT_LOG_DOMAIN "transport"
#include "tutti/errno.h"
#include "tutti/log.h"
#include "tutti/rtcp.h"
#include "tutti/srtp.h"
#include "transport_impl.h"
#include "tutti/reactor.h"

/* One slot holds the largest packet we send (a UDP payload within a 1500-byte MTU) plus
 * the SRTP trailer, so protection is always in place and never allocates. */
#define SLOT_PAYLOAD 1500
#define SLOT_SIZE (SLOT_PAYLOAD + TT_SRTP_MAX_TRAILER)
#define HOUSEKEEP_MS 200

struct tt_transport {
	/* What every packet in or out touches comes first, in the first two cache lines: a
	 * worker walks hundreds of transports a tick and each line is a likely cache miss. */
	bool closed;
	bool have_remote_ssrc;
	uint8_t level_id;
	bool sent_rtp;              /* sender info for SR */
	int dtmf_pt;
	uint32_t clock_rate;
	uint32_t remote_ssrc;
	struct tt_srtp *srtp;
	tt_transport_recv_h recv_h;
	void *arg;
	const struct tt_transport_ops *ops;
	void *impl;
	struct tt_transport_out *queue;
	uint8_t *slots;             /* queue[i].data is slots + i * SLOT_SIZE */
	unsigned qcap, qlen;
	uint32_t tx_ssrc, tx_ts, tx_pkts, tx_octets;
	int64_t tx_at_us;
	struct tt_transport_stats st;
	struct tt_rtp_rxstats rx;
	struct tt_dtmf_rx dtmf;

	GMainContext *ctx;
	GSource *timer;                 /* housekeeping without a reactor */
	struct tt_reactor *reactor;
	struct tt_reactor_entry *every; /* housekeeping with one */
	tt_transport_close_h close_h;
	unsigned inactivity_ms;
	unsigned rtcp_interval_ms;
	uint32_t last_sr_mid;       /* LSR to echo, and when it arrived */
	int64_t last_sr_at_us;
	int64_t next_rtcp_us;
	int64_t alive_since_us;     /* start, or last set_remote */
	int close_reason;           /* pending closure, reported from the timer */
	char cname[TT_RTCP_CNAME_MAX + 1];
};

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int queue_packet(struct tt_transport *t, const uint8_t *pkt, size_t len, bool is_rtcp)
{
	if (len > SLOT_PAYLOAD)
		return -EMSGSIZE;
	if (t->qlen == t->qcap) {
		tt_transport_flush(t);
		if (t->qlen == t->qcap) {
			t->st.send_errors++;
			return -ENOBUFS;
		}
	}
	struct tt_transport_out *o = &t->queue[t->qlen];
	memcpy(o->data, pkt, len);
	size_t n = len;
	if (t->srtp) {
		int err = tt_srtp_protect(t->srtp, o->data, &n, SLOT_SIZE, is_rtcp);
		if (err) {
			t->st.send_errors++;
			return err;
		}
	}
	o->len = n;
	t->qlen++;
	if (is_rtcp)
		t->st.rtcp_out++;
	return 0;
}

int tt_transport_send(struct tt_transport *t, const uint8_t *pkt, size_t len, bool is_rtcp)
{
	if (!t || !pkt || len < (is_rtcp ? 8u : (size_t)TT_RTP_HDR_LEN))
		return -EINVAL;
	int err = queue_packet(t, pkt, len, is_rtcp);
	if (err || is_rtcp)
		return err;
	/* Learn the sender side for our SR without parsing more than the fixed header. */
	t->sent_rtp = true;
	t->tx_ssrc = rd32(pkt + 8);
	t->tx_ts = rd32(pkt + 4);
	t->tx_at_us = g_get_monotonic_time();
	t->tx_pkts++;
	t->tx_octets += (uint32_t)(len - TT_RTP_HDR_LEN);
	return 0;
}

int tt_transport_flush(struct tt_transport *t)
{
	if (!t || t->qlen == 0)
		return 0;
	int n = t->ops->send_batch(t->impl, t->queue, t->qlen);
	unsigned sent = n > 0 ? (unsigned)n : 0;
	for (unsigned i = 0; i < sent; i++)
		t->st.bytes_out += t->queue[i].len;
	t->st.pkts_out += sent;
	t->st.send_errors += t->qlen - sent;
	t->qlen = 0;
	return n;
}

static void handle_rtcp(struct tt_transport *t, const struct tt_rtcp_info *info, int64_t now)
{
	if (info->has_sr) {
		t->last_sr_mid = tt_ntp_mid32(info->ntp);
		t->last_sr_at_us = now;
	}
	for (unsigned i = 0; i < info->n_rb; i++) {
		const struct tt_rtcp_rb *rb = &info->rb[i];
		if (!t->sent_rtp || rb->ssrc != t->tx_ssrc)
			continue;
		t->st.peer_fraction_lost = rb->fraction;
		t->st.peer_lost = rb->lost;
		t->st.peer_jitter = rb->jitter;
		/* RTT ends when the report arrived, not when we got to it (a shared port reads
		 * at tick starts): back-date the wall clock by the wait */
		int64_t waited = g_get_monotonic_time() - now;
		uint64_t at = tt_ntp_now() - (waited > 0 ? ((uint64_t)waited << 32) / 1000000u : 0);
		int64_t rtt = tt_rtcp_rtt_us(rb, at);
		if (rtt >= 0)
			t->st.rtt_us = rtt;
	}
	if (info->bye && !t->close_reason)
		t->close_reason = -ECONNRESET;
}

int tt__transport_input(struct tt_transport *t, uint8_t *buf, size_t len)
{
	return tt__transport_input_at(t, buf, len, g_get_monotonic_time());
}

int tt__transport_input_at(struct tt_transport *t, uint8_t *buf, size_t len, int64_t now)
{
	struct tt_transport_pkt p;

	if (t->closed)
		return -ESHUTDOWN;
	if (len < 8 || (buf[0] >> 6) != 2) {
		t->st.malformed++;
		return -EINVAL;
	}
	bool rtcp = tt_rtp_is_rtcp(buf, len);
	if (t->srtp) {
		int err = tt_srtp_unprotect(t->srtp, buf, &len, rtcp);
		if (err) {
			t->st.srtp_fail++;
			return err;
		}
	}
	memset(&p, 0, sizeof p);
	p.data = buf;
	p.len = len;
	p.is_rtcp = rtcp;
	p.arrival_us = now;
	if (rtcp) {
		struct tt_rtcp_info info;
		if (tt_rtcp_parse(&info, buf, len)) {
			t->st.malformed++;
			return -EINVAL;
		}
		if (t->have_remote_ssrc && info.ssrc != t->remote_ssrc) {
			t->st.bleed_dropped++;
			return -EPERM;
		}
		handle_rtcp(t, &info, now);
		t->st.rtcp_in++;
	} else {
		if (tt_rtp_parse(&p.rtp, buf, len)) {
			t->st.malformed++;
			return -EINVAL;
		}
		if (t->have_remote_ssrc && p.rtp.ssrc != t->remote_ssrc) {
			t->st.bleed_dropped++;
			return -EPERM;
		}
		uint32_t arrival = (uint32_t)((uint64_t)now * t->clock_rate / 1000000u);
		tt_rtp_rxstats_update(&t->rx, p.rtp.ssrc, p.rtp.seq, p.rtp.ts, arrival);
		if (t->dtmf_pt >= 0 && p.rtp.pt == t->dtmf_pt) {
			p.is_dtmf = true;
			char d;
			if (tt_dtmf_rx_input(&t->dtmf, &p.rtp, &d) == 1)
				p.dtmf_digit = d;
		} else if (t->level_id &&
			   tt_rtp_audio_level(&p.rtp, t->level_id, &p.vad, &p.level) == 0) {
			p.has_level = true;
		}
	}
	t->st.pkts_in++;
	t->st.bytes_in += len;
	t->st.last_rx_us = now;
	if (t->recv_h)
		t->recv_h(t->arg, &p);
	return 0;
}

/* The first two lines: what every packet in or out touches (the struct's order). */
static void prefetch_head(const struct tt_transport *t)
{
	__builtin_prefetch(t, 1);
	__builtin_prefetch((const char *)t + 64, 1);
}

void tt__transport_prefetch(const struct tt_transport *t)
{
	/* the fields input_at reads and writes: the head, the stats and rx stats */
	prefetch_head(t);
	__builtin_prefetch(&t->st.malformed, 1);
	__builtin_prefetch(&t->rx.jitter_q4, 1);
}

void tt_transport_prefetch_send(const struct tt_transport *t, int level)
{
	if (level < 3) {
		if (t->ops->prefetch_send)
			t->ops->prefetch_send(t->impl, level);
		return;
	}
	prefetch_head(t);
	/* the queue entry and the first lines of the slot this send will write */
	if (t->queue && t->qlen < t->qcap) {
		const uint8_t *slot = t->slots + (size_t)t->qlen * SLOT_SIZE;
		__builtin_prefetch(t->queue + t->qlen, 1);
		__builtin_prefetch(slot, 1);
		__builtin_prefetch(slot + 64, 1);
		__builtin_prefetch(slot + 128, 1);
	}
}

void tt__transport_prefetch_user(const struct tt_transport *t)
{
	__builtin_prefetch(t->arg, 1);
}

void tt__transport_count_bleed(struct tt_transport *t)
{
	t->st.bleed_dropped++;
}

void tt__transport_count_unsent(struct tt_transport *t, size_t len)
{
	if (t->st.pkts_out)
		t->st.pkts_out--;
	t->st.bytes_out -= len <= t->st.bytes_out ? len : t->st.bytes_out;
	t->st.send_errors++;
}

void tt__transport_fail(struct tt_transport *t, int reason)
{
	if (!t->close_reason)
		t->close_reason = reason < 0 ? reason : -EIO;
}

static int build_report(struct tt_transport *t, uint8_t *buf, size_t cap, bool bye)
{
	struct tt_rtcp_report r;
	int64_t now = g_get_monotonic_time();

	memset(&r, 0, sizeof r);
	/* Without anything sent yet we still need an SSRC for RR: use the one we will send,
	 * or a fixed random one made once. */
	if (!t->sent_rtp && !t->tx_ssrc)
		t->tx_ssrc = g_random_int();
	r.ssrc = t->tx_ssrc;
	r.cname = t->cname;
	r.bye = bye;
	if (t->sent_rtp) {
		r.sender = true;
		r.ntp = tt_ntp_now();
		r.rtp_ts = t->tx_ts + (uint32_t)((uint64_t)(now - t->tx_at_us) * t->clock_rate /
						  1000000u);
		r.pkt_count = t->tx_pkts;
		r.octet_count = t->tx_octets;
	}
	if (t->rx.init && !t->rx.probation) {
		tt_rtp_rxstats_block(&t->rx, &r.rb[0]);
		if (t->last_sr_at_us) {
			r.rb[0].lsr = t->last_sr_mid;
			r.rb[0].dlsr = (uint32_t)((uint64_t)(now - t->last_sr_at_us) * 65536u /
						  1000000u);
		}
		r.n_rb = 1;
	}
	return tt_rtcp_build(buf, cap, &r);
}

static void send_report(struct tt_transport *t, bool bye)
{
	uint8_t buf[512];
	int n = build_report(t, buf, sizeof buf, bye);
	if (n > 0 && queue_packet(t, buf, (size_t)n, true) == 0)
		tt_transport_flush(t);
}

/* Housekeeping off the media tick: pending closure, inactivity, periodic RTCP. */
static gboolean on_timer(gpointer data);

static void on_housekeep(void *data)
{
	on_timer(data);
}

struct tt_reactor *tt__transport_reactor(const struct tt_transport *t)
{
	return t->reactor;
}

static gboolean on_timer(gpointer data)
{
	struct tt_transport *t = data;
	int64_t now = g_get_monotonic_time();

	if (t->closed)
		return G_SOURCE_CONTINUE;
	if (!t->close_reason && t->inactivity_ms) {
		int64_t since = t->st.last_rx_us > t->alive_since_us ? t->st.last_rx_us
								     : t->alive_since_us;
		if (now - since > (int64_t)t->inactivity_ms * 1000)
			t->close_reason = -ETIMEDOUT;
	}
	if (t->close_reason) {
		t->closed = true;
		tt_debug("%s transport closes: %s", t->ops->kind, tt_strerror(t->close_reason));
		/* May free t: nothing touches t afterwards. */
		if (t->close_h)
			t->close_h(t->arg, t->close_reason);
		return G_SOURCE_CONTINUE;
	}
	if (t->rtcp_interval_ms && now >= t->next_rtcp_us) {
		send_report(t, false);
		/* RFC 3550 6.3.5: randomise to [0.5, 1.5] x the interval against synchronisation. */
		t->next_rtcp_us = now + (int64_t)t->rtcp_interval_ms * 1000 *
			(500 + (int64_t)g_random_int_range(0, 1000)) / 1000;
	}
	return G_SOURCE_CONTINUE;
}

int tt__transport_alloc(struct tt_transport **tp, const struct tt_transport_cfg *cfg,
			const struct tt_transport_ops *ops, void *impl)
{
	struct tt_transport *t = NULL;
	int err = -EINVAL;

	if (!tp || !cfg || !cfg->ctx || !ops || !ops->send_batch || !ops->destroy)
		return -EINVAL;
	if (cfg->cname && strlen(cfg->cname) > TT_RTCP_CNAME_MAX)
		return -EINVAL;
	t = calloc(1, sizeof *t);
	if (!t)
		return -ENOMEM;
	t->ops = ops;
	t->impl = impl;
	t->recv_h = cfg->recv_h;
	t->close_h = cfg->close_h;
	t->arg = cfg->arg;
	t->clock_rate = cfg->clock_rate ? cfg->clock_rate : 48000;
	t->dtmf_pt = cfg->dtmf_pt >= 0 && cfg->dtmf_pt < 128 ? cfg->dtmf_pt : -1;
	t->level_id = cfg->audio_level_ext_id;
	t->have_remote_ssrc = cfg->have_remote_ssrc;
	t->remote_ssrc = cfg->remote_ssrc;
	t->inactivity_ms = cfg->inactivity_ms;
	t->rtcp_interval_ms = cfg->rtcp_interval_ms;
	g_strlcpy(t->cname, cfg->cname ? cfg->cname : "tutti", sizeof t->cname);
	t->qcap = cfg->send_queue ? cfg->send_queue : 32;
	t->slots = malloc((size_t)t->qcap * SLOT_SIZE);
	t->queue = calloc(t->qcap, sizeof *t->queue);
	err = -ENOMEM;
	if (!t->slots || !t->queue)
		goto out;
	for (unsigned i = 0; i < t->qcap; i++)
		t->queue[i].data = t->slots + (size_t)i * SLOT_SIZE;
	t->st.peer_fraction_lost = -1;
	t->st.rtt_us = -1;
	t->alive_since_us = g_get_monotonic_time();
	t->next_rtcp_us = t->alive_since_us + (int64_t)t->rtcp_interval_ms * 500;
	t->ctx = g_main_context_ref(cfg->ctx);
	t->reactor = cfg->reactor;
	if (t->reactor) {
		t->every = tt_reactor_every(t->reactor, on_housekeep, t);
	} else {
		t->timer = g_timeout_source_new(HOUSEKEEP_MS);
		g_source_set_can_recurse(t->timer, TRUE);  /* see udp.c: no poll-list churn */
		g_source_set_callback(t->timer, on_timer, t, NULL);
		g_source_attach(t->timer, t->ctx);
	}
	*tp = t;
	t = NULL;
	err = 0;
out:
	if (t) {
		free(t->slots);
		free(t->queue);
		free(t);
	}
	return err;
}

void tt_transport_set_srtp(struct tt_transport *t, struct tt_srtp *s)
{
	if (!t)
		return;
	tt_srtp_free(t->srtp);
	t->srtp = s;
}

int tt_transport_set_remote(struct tt_transport *t, const struct sockaddr *sa, socklen_t len)
{
	if (!t || !sa || !t->ops->set_remote)
		return -EINVAL;
	int err = t->ops->set_remote(t->impl, sa, len);
	if (!err)
		t->alive_since_us = g_get_monotonic_time();
	return err;
}

void tt_transport_set_payload(struct tt_transport *t, uint32_t clock_rate, int dtmf_pt)
{
	if (!t)
		return;
	t->clock_rate = clock_rate ? clock_rate : 48000;
	t->dtmf_pt = dtmf_pt >= 0 && dtmf_pt < 128 ? dtmf_pt : -1;
}

void tt_transport_set_inactivity(struct tt_transport *t, unsigned ms)
{
	if (!t)
		return;
	t->inactivity_ms = ms;
	/* The new limit counts from the change: a call resumed after a long silent hold gets
	 * the whole limit to start sending again. */
	t->alive_since_us = g_get_monotonic_time();
}

int tt_transport_local(struct tt_transport *t, struct sockaddr_storage *ss, socklen_t *len)
{
	if (!t || !ss || !len || !t->ops->local)
		return -EINVAL;
	return t->ops->local(t->impl, ss, len);
}

void tt_transport_stats(struct tt_transport *t, struct tt_transport_stats *st)
{
	*st = t->st;
	st->rx_lost = tt_rtp_rxstats_lost(&t->rx);
	st->rx_jitter = tt_rtp_rxstats_jitter(&t->rx);
}

void tt__transport_set_latched(struct tt_transport *t, bool on)
{
	t->st.latched = on;
}

const char *tt_transport_kind(const struct tt_transport *t)
{
	return t ? t->ops->kind : "?";
}

struct tt_transport *tt_transport_free(struct tt_transport *t)
{
	if (!t)
		return NULL;
	if (t->rtcp_interval_ms && !t->closed)
		send_report(t, true);
	tt_transport_flush(t);
	t->ops->destroy(t->impl);
	if (t->timer) {
		g_source_destroy(t->timer);
		g_source_unref(t->timer);
	}
	tt_reactor_remove(t->reactor, t->every);
	g_main_context_unref(t->ctx);
	tt_srtp_free(t->srtp);
	free(t->slots);
	free(t->queue);
	free(t);
	return NULL;
}
