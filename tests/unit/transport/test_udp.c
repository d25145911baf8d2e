/* test_udp.c: the UDP transport on 127.0.0.1, driven on its own GMainContext: latching,
 * RTP bleed, symmetric RTP, SRTP, inactivity, batching and RTCP stats. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tt_test.h"
#include "tutti/rtcp.h"
#include "tutti/sdes.h"
#include "tutti/srtp.h"
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
