/* test_udp.c: the UDP transport on 127.0.0.1, driven on its own GMainContext: latching,
 * RTP bleed, symmetric RTP, SRTP, inactivity, batching and RTCP stats; the shared worker
 * port (demultiplexing, bleed by SSRC, fallbacks, held batches). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tt_test.h"
#include "tutti/rtcp.h"
#include "tutti/sdes.h"
#include "tutti/srtp.h"
#include "tutti/reactor.h"
#include "tutti/transport.h"

struct rec {
	int rtp, rtcp, closed, close_reason;
	uint8_t level;
	bool has_level;
	char digit;
	bool dtmf_seen;
};

static void on_recv(void *arg, const struct tt_transport_pkt *p)
{
	struct rec *r = arg;
	if (p->is_rtcp) {
		r->rtcp++;
		return;
	}
	r->rtp++;
	if (p->has_level) {
		r->has_level = true;
		r->level = p->level;
	}
	if (p->is_dtmf)
		r->dtmf_seen = true;
	if (p->dtmf_digit)
		r->digit = p->dtmf_digit;
}

static void on_close(void *arg, int reason)
{
	struct rec *r = arg;
	r->closed++;
	r->close_reason = reason;
}

static int sender(struct sockaddr_in *addr)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	TT_ASSERT(fd >= 0);
	TT_ASSERT(bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
	socklen_t l = sizeof *addr;
	getsockname(fd, (struct sockaddr *)addr, &l);
	return fd;
}

static size_t rtp_pkt(uint8_t *buf, uint32_t ssrc, uint16_t seq, int level)
{
	uint8_t lv = (uint8_t)(0x80 | level), ext[8];
	struct tt_rtp_ext_elem e = {1, 1, &lv};
	struct tt_rtp_hdr h = {.pt = 111, .seq = seq, .ts = seq * 960u, .ssrc = ssrc};
	if (level >= 0) {
		h.has_ext = true;
		h.ext_len = (size_t)tt_rtp_ext_build(ext, sizeof ext, &h.ext_profile, &e, 1);
		h.ext = ext;
	}
	int n = tt_rtp_write(buf, 128, &h);
	memset(buf + n, 0x55, 20);
	return (size_t)n + 20;
}

static bool tt__test_same_port(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	return ((const struct sockaddr_in *)a)->sin_port == ((const struct sockaddr_in *)b)->sin_port;
}

static void send_to(int fd, const struct sockaddr_storage *to, const uint8_t *p, size_t n)
{
	TT_ASSERT(sendto(fd, p, n, 0, (const struct sockaddr *)to,
			 sizeof(struct sockaddr_in)) == (ssize_t)n);
}

/* Run the context until *counter reaches want, or ms pass. */
static void pump(GMainContext *ctx, const int *counter, int want, int ms)
{
	gint64 end = g_get_monotonic_time() + ms * 1000;
	while (g_get_monotonic_time() < end && (!counter || *counter < want))
		g_main_context_iteration(ctx, FALSE), g_usleep(1000);
}

struct fixture {
	GMainContext *ctx;
	struct tt_transport *t;
	struct rec rec;
	struct sockaddr_storage local;
	int a, b;
	struct sockaddr_in aa, ba;
};

static void setup(struct fixture *f, bool latch, bool signal_a, const uint32_t *ssrc)
{
	memset(f, 0, sizeof *f);
	f->ctx = g_main_context_new();
	f->a = sender(&f->aa);
	f->b = sender(&f->ba);
	struct tt_transport_cfg cfg = {
		.ctx = f->ctx, .recv_h = on_recv, .close_h = on_close, .arg = &f->rec,
		.clock_rate = 48000, .dtmf_pt = 101, .audio_level_ext_id = 1,
		.have_remote_ssrc = ssrc != NULL, .remote_ssrc = ssrc ? *ssrc : 0,
	};
	struct tt_udp_cfg ucfg = {.bind_addr = "127.0.0.1", .port_min = 41000,
				  .port_max = 41999, .latch = latch};
	if (signal_a) {
		memcpy(&ucfg.remote, &f->aa, sizeof f->aa);
		ucfg.remote_len = sizeof f->aa;
	}
	TT_ASSERT_INT_EQ(tt_transport_udp_alloc(&f->t, &cfg, &ucfg), 0);
	socklen_t l;
	TT_ASSERT_INT_EQ(tt_transport_local(f->t, &f->local, &l), 0);
	uint16_t port = ntohs(((struct sockaddr_in *)&f->local)->sin_port);
	TT_ASSERT(port >= 41000 && port <= 41999 && port % 2 == 0);
}

static void teardown(struct fixture *f)
{
	f->t = tt_transport_free(f->t);
	close(f->a);
	close(f->b);
	g_main_context_unref(f->ctx);
}

TT_TEST(udp_latch_then_bleed_dropped)
{
	struct fixture f;
	struct tt_transport_stats st;
	uint8_t p[256];
	setup(&f, true, false, NULL);

	send_to(f.a, &f.local, p, rtp_pkt(p, 1111, 1, 33));
	pump(f.ctx, &f.rec.rtp, 1, 2000);
	TT_ASSERT_INT_EQ(f.rec.rtp, 1);
	TT_ASSERT(f.rec.has_level);
	TT_ASSERT_INT_EQ(f.rec.level, 33);
	tt_transport_stats(f.t, &st);
	TT_ASSERT(st.latched);

	/* A second address, even with the right SSRC and next sequence number: dropped. */
	for (int i = 0; i < 3; i++)
		send_to(f.b, &f.local, p, rtp_pkt(p, 1111, (uint16_t)(2 + i), 0));
	send_to(f.a, &f.local, p, rtp_pkt(p, 1111, 5, 10));
	pump(f.ctx, &f.rec.rtp, 2, 2000);
	TT_ASSERT_INT_EQ(f.rec.rtp, 2);
	TT_ASSERT_INT_EQ(f.rec.level, 10);
	tt_transport_stats(f.t, &st);
	TT_ASSERT_INT_EQ(st.bleed_dropped, 3);
	TT_ASSERT_INT_EQ(st.pkts_in, 2);

	/* Symmetric RTP: what we send goes to A, from the port A sends to. */
	for (int i = 0; i < 5; i++)
		TT_ASSERT_INT_EQ(tt_transport_send(f.t, p, rtp_pkt(p, 2222, (uint16_t)i, -1),
						   false), 0);
	TT_ASSERT_INT_EQ(tt_transport_flush(f.t), 5);
	struct sockaddr_in from;
	socklen_t fl = sizeof from;
	int got = 0;
	gint64 end = g_get_monotonic_time() + 2000000;
	while (got < 5 && g_get_monotonic_time() < end) {
		ssize_t n = recvfrom(f.a, p, sizeof p, 0, (struct sockaddr *)&from, &fl);
		if (n > 0) {
			got++;
			TT_ASSERT(from.sin_port == ((struct sockaddr_in *)&f.local)->sin_port);
		} else {
			g_usleep(1000);
		}
	}
	TT_ASSERT_INT_EQ(got, 5);
	TT_ASSERT(recv(f.b, p, sizeof p, 0) < 0);
	tt_transport_stats(f.t, &st);
	TT_ASSERT_INT_EQ(st.pkts_out, 5);

	/* Signalling moves the peer to B: now B is heard. */
	TT_ASSERT_INT_EQ(tt_transport_set_remote(f.t, (struct sockaddr *)&f.ba,
						 sizeof f.ba), 0);
	send_to(f.b, &f.local, p, rtp_pkt(p, 1111, 6, 0));
	pump(f.ctx, &f.rec.rtp, 3, 2000);
	TT_ASSERT_INT_EQ(f.rec.rtp, 3);
	teardown(&f);
}

TT_TEST(udp_no_latch_signalled_only)
{
	struct fixture f;
	struct tt_transport_stats st;
	uint8_t p[256];
	setup(&f, false, true, NULL);
	send_to(f.b, &f.local, p, rtp_pkt(p, 1, 1, 0));
	send_to(f.a, &f.local, p, rtp_pkt(p, 1, 2, 0));
	pump(f.ctx, &f.rec.rtp, 1, 2000);
	pump(f.ctx, NULL, 0, 30);
	TT_ASSERT_INT_EQ(f.rec.rtp, 1);
	tt_transport_stats(f.t, &st);
	TT_ASSERT_INT_EQ(st.bleed_dropped, 1);
	teardown(&f);
}

TT_TEST(udp_latch_only_expected_ssrc)
{
	struct fixture f;
	struct tt_transport_stats st;
	uint8_t p[256];
	uint32_t want = 4242;
	setup(&f, true, false, &want);
	/* B races in first with a wrong SSRC: not latched, counted. */
	send_to(f.b, &f.local, p, rtp_pkt(p, 9999, 1, 0));
	pump(f.ctx, NULL, 0, 50);
	send_to(f.a, &f.local, p, rtp_pkt(p, want, 1, 0));
	pump(f.ctx, &f.rec.rtp, 1, 2000);
	send_to(f.b, &f.local, p, rtp_pkt(p, want, 2, 0));
	pump(f.ctx, NULL, 0, 50);
	TT_ASSERT_INT_EQ(f.rec.rtp, 1);
	tt_transport_stats(f.t, &st);
	TT_ASSERT_INT_EQ(st.bleed_dropped, 2);
	TT_ASSERT(st.latched);
	teardown(&f);
}

TT_TEST(udp_srtp_auth_before_latch)
{
	struct fixture f;
	struct tt_transport_stats st;
	uint8_t p[512];
	struct tt_sdes_crypto ours, theirs;
	setup(&f, true, false, NULL);
	tt_sdes_generate(&ours, 1, TT_SRTP_AES_CM_128_HMAC_SHA1_80);
	tt_sdes_generate(&theirs, 1, TT_SRTP_AES_CM_128_HMAC_SHA1_80);
	struct tt_srtp *s = NULL, *peer = NULL, *eve = NULL;
	TT_ASSERT_INT_EQ(tt_srtp_alloc(&s, ours.suite, ours.key, theirs.key), 0);
	TT_ASSERT_INT_EQ(tt_srtp_alloc(&peer, ours.suite, theirs.key, ours.key), 0);
	TT_ASSERT_INT_EQ(tt_srtp_alloc(&eve, ours.suite, ours.key, ours.key), 0);
	tt_transport_set_srtp(f.t, s);

	/* B has no key: its packet fails authentication and does not latch. */
	size_t n = rtp_pkt(p, 7, 1, 0);
	TT_ASSERT_INT_EQ(tt_srtp_protect(eve, p, &n, sizeof p, false), 0);
	send_to(f.b, &f.local, p, n);
	pump(f.ctx, NULL, 0, 50);
	n = rtp_pkt(p, 7, 1, 20);
	TT_ASSERT_INT_EQ(tt_srtp_protect(peer, p, &n, sizeof p, false), 0);
	send_to(f.a, &f.local, p, n);
	send_to(f.a, &f.local, p, n);    /* replay */
	pump(f.ctx, &f.rec.rtp, 1, 2000);
	pump(f.ctx, NULL, 0, 30);
	TT_ASSERT_INT_EQ(f.rec.rtp, 1);
	TT_ASSERT_INT_EQ(f.rec.level, 20);
	tt_transport_stats(f.t, &st);
	TT_ASSERT_INT_EQ(st.srtp_fail, 2);
	TT_ASSERT(st.latched);

	/* And what we send, A can decrypt. */
	TT_ASSERT_INT_EQ(tt_transport_send(f.t, p, rtp_pkt(p, 5, 1, -1), false), 0);
	TT_ASSERT_INT_EQ(tt_transport_flush(f.t), 1);
	ssize_t r = -1;
	for (int i = 0; i < 2000 && r < 0; i++) {
		r = recv(f.a, p, sizeof p, 0);
		if (r < 0)
			g_usleep(1000);
	}
	TT_ASSERT(r > 0);
	n = (size_t)r;
	TT_ASSERT_INT_EQ(tt_srtp_unprotect(peer, p, &n, false), 0);
	TT_ASSERT_INT_EQ(n, rtp_pkt(p + 256, 5, 1, -1));
	tt_srtp_free(peer);
	tt_srtp_free(eve);
	teardown(&f);
}

/* The fixture with a transport that ends after ms without input. */
static void setup_inactive(struct fixture *f, unsigned ms)
{
	setup(f, true, false, NULL);
	tt_transport_free(f->t);
	struct tt_transport_cfg cfg = {.ctx = f->ctx, .recv_h = on_recv, .close_h = on_close,
				       .arg = &f->rec, .inactivity_ms = ms};
	struct tt_udp_cfg ucfg = {.bind_addr = "127.0.0.1", .port_min = 41000,
				  .port_max = 41999, .latch = true};
	TT_ASSERT_INT_EQ(tt_transport_udp_alloc(&f->t, &cfg, &ucfg), 0);
}

TT_TEST(udp_dtmf_not_audio_and_inactivity)
{
	struct fixture f;
	uint8_t p[256];
	setup(&f, true, false, NULL);
	struct tt_rtp_hdr h = {.pt = 101, .seq = 1, .ts = 100, .ssrc = 3};
	int hl = tt_rtp_write(p, sizeof p, &h);
	p[hl] = 11;
	p[hl + 1] = 0x80 | 10;
	p[hl + 2] = 0;
	p[hl + 3] = 200;
	send_to(f.a, &f.local, p, (size_t)hl + 4);
	pump(f.ctx, &f.rec.rtp, 1, 2000);
	TT_ASSERT(f.rec.dtmf_seen);
	TT_ASSERT_INT_EQ(f.rec.digit, '#');
	teardown(&f);

	/* Inactivity: a short timeout ends the transport once. */
	setup_inactive(&f, 300);
	pump(f.ctx, &f.rec.closed, 1, 3000);
	pump(f.ctx, NULL, 0, 500);
	TT_ASSERT_INT_EQ(f.rec.closed, 1);
	TT_ASSERT_INT_EQ(f.rec.close_reason, -ETIMEDOUT);
	teardown(&f);
}

/* A peer on hold may send nothing: signalling lifts the limit, and a limit set again counts
 * from that moment, not from the last packet long ago. */
TT_TEST(udp_inactivity_changed_by_signalling)
{
	struct fixture f;
	setup_inactive(&f, 300);
	tt_transport_set_inactivity(f.t, 0);
	pump(f.ctx, &f.rec.closed, 1, 900);
	TT_ASSERT_INT_EQ(f.rec.closed, 0);
	int64_t t0 = g_get_monotonic_time();
	tt_transport_set_inactivity(f.t, 400);
	pump(f.ctx, &f.rec.closed, 1, 3000);
	int64_t took_ms = (g_get_monotonic_time() - t0) / 1000;
	TT_ASSERT_INT_EQ(f.rec.closed, 1);
	TT_ASSERT_INT_EQ(f.rec.close_reason, -ETIMEDOUT);
	TT_ASSERT(took_ms >= 380);  /* counted from the change, not from the start */
	teardown(&f);
}

TT_TEST(udp_port_range_exhausted)
{
	GMainContext *ctx = g_main_context_new();
	struct tt_transport_cfg cfg = {.ctx = ctx};
	struct tt_udp_cfg ucfg = {.bind_addr = "127.0.0.1", .port_min = 42000, .port_max = 42003};
	struct tt_transport *t[3] = {NULL, NULL, NULL};
	TT_ASSERT_INT_EQ(tt_transport_udp_alloc(&t[0], &cfg, &ucfg), 0);
	TT_ASSERT_INT_EQ(tt_transport_udp_alloc(&t[1], &cfg, &ucfg), 0);
	TT_ASSERT_INT_EQ(tt_transport_udp_alloc(&t[2], &cfg, &ucfg), -EADDRINUSE);
	TT_ASSERT(t[2] == NULL);
	for (int i = 0; i < 2; i++)
		t[i] = tt_transport_free(t[i]);
	g_main_context_unref(ctx);
}

/* Two transports talk to each other with RTCP on: each learns RTT and the other's view. */
TT_TEST(udp_rtcp_stats_between_two)
{
	GMainContext *ctx = g_main_context_new();
	struct rec ra = {0}, rb = {0};
	struct tt_transport_cfg ca = {.ctx = ctx, .recv_h = on_recv, .arg = &ra,
				      .clock_rate = 48000, .rtcp_interval_ms = 100, .cname = "a"};
	struct tt_transport_cfg cb = ca;
	cb.arg = &rb;
	cb.cname = "b";
	struct tt_udp_cfg u = {.bind_addr = "127.0.0.1", .port_min = 43000, .port_max = 43999,
			       .latch = true};
	struct tt_transport *a = NULL, *b = NULL;
	TT_ASSERT_INT_EQ(tt_transport_udp_alloc(&a, &ca, &u), 0);
	struct sockaddr_storage la, lb;
	socklen_t l;
	tt_transport_local(a, &la, &l);
	memcpy(&u.remote, &la, l);
	u.remote_len = l;
	TT_ASSERT_INT_EQ(tt_transport_udp_alloc(&b, &cb, &u), 0);
	tt_transport_local(b, &lb, &l);
	tt_transport_set_remote(a, (struct sockaddr *)&lb, l);
	uint8_t p[256];
	/* 60 packets each way, 10 ms apart, a drops every 10th of its own. */
	for (int i = 0; i < 60; i++) {
		if (i % 10 != 5)
			tt_transport_send(a, p, rtp_pkt(p, 100, (uint16_t)i, -1), false);
		tt_transport_send(b, p, rtp_pkt(p, 200, (uint16_t)i, -1), false);
		tt_transport_flush(a);
		tt_transport_flush(b);
		pump(ctx, NULL, 0, 10);
	}
	pump(ctx, NULL, 0, 400);
	struct tt_transport_stats sa, sb;
	tt_transport_stats(a, &sa);
	tt_transport_stats(b, &sb);
	TT_ASSERT(ra.rtcp > 0 && rb.rtcp > 0);
	TT_ASSERT_INT_EQ(sb.rx_lost, 6);          /* b measured a's six gaps */
	TT_ASSERT_MSG(sa.peer_lost == 6, "peer_lost %d", sa.peer_lost);   /* b told a */
	TT_ASSERT_MSG(sa.rtt_us >= 0 && sa.rtt_us < 100000, "rtt %lld", (long long)sa.rtt_us);
	TT_ASSERT(sb.rtt_us >= 0);
	a = tt_transport_free(a);
	b = tt_transport_free(b);
	g_main_context_unref(ctx);
}

TT_TEST(sockaddr_parse_format)
{
	struct sockaddr_storage ss;
	socklen_t l = 0;
	char buf[64];
	TT_ASSERT_INT_EQ(tt_sockaddr_parse(&ss, &l, "127.0.0.1:40000"), 0);
	TT_ASSERT_INT_EQ(l, sizeof(struct sockaddr_in));
	TT_ASSERT(tt_sockaddr_format(buf, sizeof buf, (struct sockaddr *)&ss) > 0);
	TT_ASSERT_STR_EQ(buf, "127.0.0.1:40000");
	TT_ASSERT_INT_EQ(tt_sockaddr_parse(&ss, &l, "[::1]:5004"), 0);
	TT_ASSERT_INT_EQ(l, sizeof(struct sockaddr_in6));
	tt_sockaddr_format(buf, sizeof buf, (struct sockaddr *)&ss);
	TT_ASSERT_STR_EQ(buf, "[::1]:5004");
	TT_ASSERT_INT_EQ(tt_sockaddr_format(buf, 5, (struct sockaddr *)&ss), -ENOSPC);
	static const char *bad[] = {"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0",
				    "127.0.0.1:65536", "127.0.0.1:12a", "::1:5004", "[::1]5004",
				    "[127.0.0.1]:5", "host.example:5004", "1.2.3.4:+80"};
	l = 77;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		TT_ASSERT_MSG(tt_sockaddr_parse(&ss, &l, bad[i]) == -EINVAL, "%s", bad[i]);
	TT_ASSERT_INT_EQ(l, 77);
}

/* ---- the shared worker port (tt_udp_mux) ---- */

struct mux_fixture {
	GMainContext *ctx;
	struct tt_udp_mux *mux;
	struct tt_transport *t[2];
	struct rec rec[2];
	int peer[2], stranger;
	struct sockaddr_in pa[2], sa;
	struct sockaddr_storage local;
};

static int mux_member(struct mux_fixture *f, struct tt_transport **tp, struct rec *r,
		      const struct sockaddr_in *remote, bool latch)
{
	struct tt_transport_cfg cfg = {
		.ctx = f->ctx, .recv_h = on_recv, .close_h = on_close, .arg = r,
		.clock_rate = 48000, .dtmf_pt = -1, .audio_level_ext_id = 1,
	};
	struct tt_udp_cfg ucfg = {.bind_addr = "127.0.0.1", .port_min = 42000,
				  .port_max = 42999, .latch = latch, .mux = f->mux};
	memcpy(&ucfg.remote, remote, sizeof *remote);
	ucfg.remote_len = sizeof *remote;
	return tt_transport_udp_alloc(tp, &cfg, &ucfg);
}

static void mux_setup(struct mux_fixture *f)
{
	memset(f, 0, sizeof *f);
	f->ctx = g_main_context_new();
	TT_ASSERT_INT_EQ(tt_udp_mux_alloc(&f->mux, f->ctx, NULL, false, "127.0.0.1", 42000,
					  42999), 0);
	socklen_t l;
	TT_ASSERT_INT_EQ(tt_udp_mux_local(f->mux, &f->local, &l), 0);
	for (int i = 0; i < 2; i++) {
		f->peer[i] = sender(&f->pa[i]);
		TT_ASSERT_INT_EQ(mux_member(f, &f->t[i], &f->rec[i], &f->pa[i], false), 0);
	}
	f->stranger = sender(&f->sa);
}

static void mux_teardown(struct mux_fixture *f)
{
	for (int i = 0; i < 2; i++) {
		f->t[i] = tt_transport_free(f->t[i]);
		close(f->peer[i]);
	}
	close(f->stranger);
	struct tt_udp_mux_stats ms;
	tt_udp_mux_stats(f->mux, &ms);
	TT_ASSERT_INT_EQ(ms.members, 0);
	f->mux = tt_udp_mux_free(f->mux);
	g_main_context_unref(f->ctx);
}

/* Datagrams waiting on fd, each checked to come from the shared port. */
static int drain_from(int fd, const struct sockaddr_storage *want_from, uint32_t *last_ssrc)
{
	uint8_t p[512];
	struct sockaddr_in from;
	socklen_t fl = sizeof from;
	int got = 0;
	ssize_t n;
	while ((n = recvfrom(fd, p, sizeof p, MSG_DONTWAIT, (struct sockaddr *)&from, &fl)) > 0) {
		TT_ASSERT(from.sin_port == ((const struct sockaddr_in *)want_from)->sin_port);
		if (last_ssrc && n >= 12)
			*last_ssrc = (uint32_t)p[8] << 24 | (uint32_t)p[9] << 16 |
				     (uint32_t)p[10] << 8 | p[11];
		got++;
	}
	return got;
}

TT_TEST(udp_mux_members_share_a_port_and_hear_only_their_peer)
{
	struct mux_fixture f;
	struct tt_transport_stats st;
	struct tt_udp_mux_stats ms;
	uint8_t p[256];
	mux_setup(&f);
	struct sockaddr_storage l0, l1;
	socklen_t len;
	tt_transport_local(f.t[0], &l0, &len);
	tt_transport_local(f.t[1], &l1, &len);
	TT_ASSERT(tt__test_same_port(&l0, &f.local) && tt__test_same_port(&l1, &f.local));

	send_to(f.peer[0], &f.local, p, rtp_pkt(p, 100, 1, 20));
	send_to(f.peer[1], &f.local, p, rtp_pkt(p, 200, 1, 40));
	send_to(f.peer[1], &f.local, p, rtp_pkt(p, 200, 2, 41));
	pump(f.ctx, &f.rec[1].rtp, 2, 2000);
	pump(f.ctx, &f.rec[0].rtp, 1, 2000);
	TT_ASSERT_INT_EQ(f.rec[0].rtp, 1);
	TT_ASSERT_INT_EQ(f.rec[0].level, 20);
	TT_ASSERT_INT_EQ(f.rec[1].rtp, 2);
	TT_ASSERT_INT_EQ(f.rec[1].level, 41);

	/* Each member's sends reach its own peer only, from the shared port. */
	for (int i = 0; i < 2; i++)
		for (int k = 0; k < 3; k++)
			TT_ASSERT_INT_EQ(tt_transport_send(f.t[i], p,
				rtp_pkt(p, 1000u + (unsigned)i, (uint16_t)k, -1), false), 0);
	TT_ASSERT_INT_EQ(tt_transport_flush(f.t[0]), 3);
	TT_ASSERT_INT_EQ(tt_transport_flush(f.t[1]), 3);
	g_usleep(20000);
	uint32_t s0 = 0, s1 = 0;
	TT_ASSERT_INT_EQ(drain_from(f.peer[0], &f.local, &s0), 3);
	TT_ASSERT_INT_EQ(drain_from(f.peer[1], &f.local, &s1), 3);
	TT_ASSERT_INT_EQ(s0, 1000);
	TT_ASSERT_INT_EQ(s1, 1001);
	tt_transport_stats(f.t[0], &st);
	TT_ASSERT_INT_EQ(st.pkts_out, 3);
	tt_udp_mux_stats(f.mux, &ms);
	TT_ASSERT_INT_EQ(ms.members, 2);
	TT_ASSERT_INT_EQ(ms.pkts_in, 3);
	TT_ASSERT_INT_EQ(ms.pkts_out, 6);
	TT_ASSERT_INT_EQ(ms.foreign_dropped, 0);
	mux_teardown(&f);
}

TT_TEST(udp_mux_foreign_address_dropped_and_blamed_by_ssrc)
{
	struct mux_fixture f;
	struct tt_transport_stats st0, st1;
	struct tt_udp_mux_stats ms;
	uint8_t p[256];
	mux_setup(&f);
	send_to(f.peer[0], &f.local, p, rtp_pkt(p, 100, 1, 0));
	pump(f.ctx, &f.rec[0].rtp, 1, 2000);
	/* A stranger injects member 0's stream (its SSRC), then a stream nobody has. */
	for (int i = 0; i < 4; i++)
		send_to(f.stranger, &f.local, p, rtp_pkt(p, 100, (uint16_t)(2 + i), 0));
	send_to(f.stranger, &f.local, p, rtp_pkt(p, 777, 1, 0));
	send_to(f.stranger, &f.local, (const uint8_t *)"junk", 4);
	send_to(f.peer[0], &f.local, p, rtp_pkt(p, 100, 6, 0));
	pump(f.ctx, &f.rec[0].rtp, 2, 2000);
	pump(f.ctx, NULL, 0, 30);
	TT_ASSERT_INT_EQ(f.rec[0].rtp, 2);
	TT_ASSERT_INT_EQ(f.rec[1].rtp, 0);
	tt_transport_stats(f.t[0], &st0);
	tt_transport_stats(f.t[1], &st1);
	TT_ASSERT_INT_EQ(st0.bleed_dropped, 4);
	TT_ASSERT_INT_EQ(st1.bleed_dropped, 0);
	tt_udp_mux_stats(f.mux, &ms);
	TT_ASSERT_INT_EQ(ms.foreign_dropped, 6);
	mux_teardown(&f);
}

TT_TEST(udp_mux_who_cannot_share_gets_a_port_of_its_own)
{
	struct mux_fixture f;
	struct tt_transport *dup = NULL, *nat = NULL;
	struct rec r = {0};
	struct sockaddr_storage ld, ln;
	socklen_t len;
	mux_setup(&f);
	/* the same remote as member 0: the shared port could not tell them apart */
	TT_ASSERT_INT_EQ(mux_member(&f, &dup, &r, &f.pa[0], false), 0);
	/* a latching one (NAT) needs a port where any source may be its */
	TT_ASSERT_INT_EQ(mux_member(&f, &nat, &r, &f.sa, true), 0);
	tt_transport_local(dup, &ld, &len);
	tt_transport_local(nat, &ln, &len);
	TT_ASSERT(!tt__test_same_port(&ld, &f.local));
	TT_ASSERT(!tt__test_same_port(&ln, &f.local));
	TT_ASSERT(!tt__test_same_port(&ld, &ln));
	struct tt_udp_mux_stats ms;
	tt_udp_mux_stats(f.mux, &ms);
	TT_ASSERT_INT_EQ(ms.members, 2);
	/* moving member 1 onto member 0's address is refused and changes nothing */
	TT_ASSERT_INT_EQ(tt_transport_set_remote(f.t[1], (struct sockaddr *)&f.pa[0],
						 sizeof f.pa[0]), -EADDRINUSE);
	uint8_t p[256];
	send_to(f.peer[1], &f.local, p, rtp_pkt(p, 200, 1, 0));
	pump(f.ctx, &f.rec[1].rtp, 1, 2000);
	TT_ASSERT_INT_EQ(f.rec[1].rtp, 1);
	/* moving it to the stranger's address: the stranger is heard, its old peer not */
	TT_ASSERT_INT_EQ(tt_transport_set_remote(f.t[1], (struct sockaddr *)&f.sa,
						 sizeof f.sa), 0);
	send_to(f.peer[1], &f.local, p, rtp_pkt(p, 200, 2, 0));
	send_to(f.stranger, &f.local, p, rtp_pkt(p, 300, 1, 0));
	pump(f.ctx, &f.rec[1].rtp, 2, 2000);
	pump(f.ctx, NULL, 0, 30);
	TT_ASSERT_INT_EQ(f.rec[1].rtp, 2);
	tt_udp_mux_stats(f.mux, &ms);
	TT_ASSERT_INT_EQ(ms.foreign_dropped, 1);
	tt_transport_free(dup);
	tt_transport_free(nat);
	mux_teardown(&f);
}

TT_TEST(udp_mux_hold_gathers_a_tick_and_survives_a_member_leaving)
{
	struct mux_fixture f;
	uint8_t p[256];
	mux_setup(&f);
	tt_udp_mux_hold(f.mux);
	for (int i = 0; i < 2; i++) {
		TT_ASSERT_INT_EQ(tt_transport_send(f.t[i], p, rtp_pkt(p, 5, 1, -1), false), 0);
		TT_ASSERT_INT_EQ(tt_transport_flush(f.t[i]), 1);
	}
	g_usleep(20000);
	TT_ASSERT_INT_EQ(drain_from(f.peer[0], &f.local, NULL), 0);  /* held */
	/* a member leaves while its packet is held: the packet still goes, nothing dangles */
	f.t[1] = tt_transport_free(f.t[1]);
	TT_ASSERT_INT_EQ(tt_udp_mux_flush(f.mux), 2);
	g_usleep(20000);
	TT_ASSERT_INT_EQ(drain_from(f.peer[0], &f.local, NULL), 1);
	TT_ASSERT_INT_EQ(drain_from(f.peer[1], &f.local, NULL), 1);
	/* more than one sendmmsg can take while holding: flushed early, none lost (when the
	 * peer's socket can hold them all: SO_RCVBUFFORCE needs root, as in CI) */
	int big = 8 * 1024 * 1024, have = 0;
	socklen_t hl = sizeof have;
	setsockopt(f.peer[0], SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
	getsockopt(f.peer[0], SOL_SOCKET, SO_RCVBUF, &have, &hl);
	tt_udp_mux_hold(f.mux);
	int sent = 0;
	for (int k = 0; k < 1100 / 25; k++) {
		for (int j = 0; j < 25; j++)
			TT_ASSERT_INT_EQ(tt_transport_send(f.t[0], p,
				rtp_pkt(p, 5, (uint16_t)(k * 25 + j), -1), false), 0);
		sent += tt_transport_flush(f.t[0]);
	}
	TT_ASSERT_INT_EQ(sent, 1100);
	tt_udp_mux_flush(f.mux);
	struct tt_transport_stats st;
	tt_transport_stats(f.t[0], &st);
	struct tt_udp_mux_stats ms;
	tt_udp_mux_stats(f.mux, &ms);
	TT_ASSERT_INT_EQ(ms.send_errors, 0);
	TT_ASSERT_INT_EQ(st.send_errors, 0);
	TT_ASSERT_INT_EQ(st.pkts_out, 1101);
	int got = 0;
	gint64 end = g_get_monotonic_time() + 2000000;
	while (got < 1100 && g_get_monotonic_time() < end) {
		got += drain_from(f.peer[0], &f.local, NULL);
		g_usleep(1000);
	}
	if (have >= big)
		TT_ASSERT_INT_EQ(got, 1100);
	else
		TT_ASSERT(got > 0);
	mux_teardown(&f);
}

/* Member 0's receive handler ends member 1, as a bridge may when a packet ends a call. */
struct ender {
	struct rec rec;
	struct tt_transport **victim;
};

static void on_recv_end_other(void *arg, const struct tt_transport_pkt *p)
{
	struct ender *e = arg;
	on_recv(&e->rec, p);
	*e->victim = tt_transport_free(*e->victim);
}

/* A receive batch's members are looked up before any datagram is delivered: a member that
 * leaves during the batch must not get the datagrams behind it (ASan sees a dangling one). */
TT_TEST(udp_mux_member_leaving_mid_batch_gets_nothing_more)
{
	struct mux_fixture f;
	uint8_t p[256];
	mux_setup(&f);
	struct ender e = {.victim = &f.t[1]};
	f.t[0] = tt_transport_free(f.t[0]);
	struct tt_transport_cfg cfg = {
		.ctx = f.ctx, .recv_h = on_recv_end_other, .close_h = on_close, .arg = &e,
		.clock_rate = 48000, .dtmf_pt = -1,
	};
	struct tt_udp_cfg ucfg = {.bind_addr = "127.0.0.1", .port_min = 42000,
				  .port_max = 42999, .mux = f.mux};
	memcpy(&ucfg.remote, &f.pa[0], sizeof f.pa[0]);
	ucfg.remote_len = sizeof f.pa[0];
	TT_ASSERT_INT_EQ(tt_transport_udp_alloc(&f.t[0], &cfg, &ucfg), 0);
	/* both datagrams wait in the socket, so one recvmmsg takes them together */
	send_to(f.peer[0], &f.local, p, rtp_pkt(p, 7, 1, -1));
	send_to(f.peer[1], &f.local, p, rtp_pkt(p, 8, 1, -1));
	g_usleep(20000);
	pump(f.ctx, &e.rec.rtp, 1, 500);
	pump(f.ctx, NULL, 0, 30);
	TT_ASSERT_INT_EQ(e.rec.rtp, 1);
	TT_ASSERT(f.t[1] == NULL);
	TT_ASSERT_INT_EQ(f.rec[1].rtp, 0);
	struct tt_udp_mux_stats ms;
	tt_udp_mux_stats(f.mux, &ms);
	TT_ASSERT_INT_EQ(ms.pkts_in, 2);
	TT_ASSERT_INT_EQ(ms.foreign_dropped, 1);   /* its address is nobody's any more */
	mux_teardown(&f);
}

/* A mux on a reactor that reads at tick starts, as a worker makes it; members and peers
 * are the test's. */
static struct tt_reactor *ticked_setup(struct mux_fixture *f)
{
	struct tt_reactor *r = NULL;
	memset(f, 0, sizeof *f);
	f->ctx = g_main_context_new();
	TT_ASSERT_INT_EQ(tt_reactor_alloc(&r, f->ctx, 200), 0);
	TT_ASSERT_INT_EQ(tt_udp_mux_alloc(&f->mux, f->ctx, r, true, "127.0.0.1", 42000, 42999), 0);
	socklen_t l;
	tt_udp_mux_local(f->mux, &f->local, &l);
	for (int i = 0; i < 2; i++)
		f->peer[i] = -1;
	return r;
}

static void ticked_teardown(struct mux_fixture *f, struct tt_reactor *r)
{
	for (int i = 0; i < 2; i++) {
		f->t[i] = tt_transport_free(f->t[i]);
		if (f->peer[i] >= 0)
			close(f->peer[i]);
	}
	f->mux = tt_udp_mux_free(f->mux);
	tt_reactor_free(r);
	g_main_context_unref(f->ctx);
}

TT_TEST(udp_mux_reads_at_tick_start_without_waking)
{
	struct mux_fixture f;
	struct tt_reactor *r = ticked_setup(&f);
	uint8_t p[256];
	f.peer[0] = sender(&f.pa[0]);
	TT_ASSERT_INT_EQ(mux_member(&f, &f.t[0], &f.rec[0], &f.pa[0], false), 0);
	struct tt_udp_mux_stats ms;
	tt_udp_mux_stats(f.mux, &ms);
	for (int i = 0; i < 3; i++)
		send_to(f.peer[0], &f.local, p, rtp_pkt(p, 100, (uint16_t)(1 + i), 0));
	pump(f.ctx, NULL, 0, 50);
	fprintf(stderr, "shared port: receive buffer %d bytes, reads at tick starts: %s\n",
		ms.rcvbuf, ms.reads_at_tick ? "yes" : "no (on arrival)");
	if (ms.reads_at_tick) {
		/* the socket buffer holds a tick for every member: nothing reads until a tick */
		TT_ASSERT_INT_EQ(f.rec[0].rtp, 0);
		tt_udp_mux_hold(f.mux);
		TT_ASSERT_INT_EQ(f.rec[0].rtp, 3);
		tt_udp_mux_flush(f.mux);
	} else {
		/* too small a buffer (no CAP_NET_ADMIN, low rmem_max): read on arrival */
		TT_ASSERT_INT_EQ(f.rec[0].rtp, 3);
	}
	struct tt_transport_stats st;
	tt_transport_stats(f.t[0], &st);
	TT_ASSERT_INT_EQ(st.pkts_in, 3);
	ticked_teardown(&f, r);
}

/* The socket bound to 127.0.0.1:port among our descriptors (the shared port's). */
static int fd_of_port(uint16_t port)
{
	for (int fd = 3; fd < 1024; fd++) {
		struct sockaddr_in a;
		socklen_t l = sizeof a;
		int type = 0;
		socklen_t tl = sizeof type;
		if (getsockname(fd, (struct sockaddr *)&a, &l) == 0 && a.sin_family == AF_INET &&
		    a.sin_port == htons(port) &&
		    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 && type == SOCK_DGRAM)
			return fd;
	}
	return -1;
}

TT_TEST(udp_mux_small_buffer_reads_on_arrival)
{
	struct mux_fixture f;
	struct tt_reactor *r = ticked_setup(&f);
	uint8_t p[256];
	/* what a worker without CAP_NET_ADMIN and a default rmem_max may get, and less */
	int fd = fd_of_port(ntohs(((struct sockaddr_in *)&f.local)->sin_port));
	TT_ASSERT(fd >= 0);
	int small = 2048;
	TT_ASSERT(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small) == 0);
	f.peer[0] = sender(&f.pa[0]);
	f.peer[1] = sender(&f.pa[1]);
	TT_ASSERT_INT_EQ(mux_member(&f, &f.t[0], &f.rec[0], &f.pa[0], false), 0);
	TT_ASSERT_INT_EQ(mux_member(&f, &f.t[1], &f.rec[1], &f.pa[1], false), 0);
	struct tt_udp_mux_stats ms;
	tt_udp_mux_stats(f.mux, &ms);
	TT_ASSERT(!ms.reads_at_tick);
	send_to(f.peer[0], &f.local, p, rtp_pkt(p, 100, 1, 0));
	pump(f.ctx, &f.rec[0].rtp, 1, 2000);
	TT_ASSERT_INT_EQ(f.rec[0].rtp, 1);     /* no tick: read on arrival */
	ticked_teardown(&f, r);
}
