/* test_dtls.c: the DTLS-SRTP handshake alone, over an in-memory "network" the test controls:
 * a lost flight is retransmitted by the timer, both sides export matching SRTP keys (what
 * one protects the other unprotects), and records after the handshake change nothing. */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "dtls.h"
#include "tt_test.h"
#include "tutti/rtp.h"

#define MAXQ 64

struct wire {
	GQueue q;              /* GBytes * in flight towards the other side */
	int sent, dropped;
	int drop_first;        /* drop this many datagrams first */
};

static void out(void *arg, const uint8_t *buf, size_t len)
{
	struct wire *w = arg;
	w->sent++;
	if (w->dropped < w->drop_first) {
		w->dropped++;
		return;
	}
	g_queue_push_tail(&w->q, g_bytes_new(buf, len));
}

static int deliver(struct wire *w, struct tt_dtls *to, struct tt_srtp **srtp, bool *done)
{
	GBytes *b;
	int rc = 0;
	while ((b = g_queue_pop_head(&w->q))) {
		gsize n;
		const uint8_t *d = g_bytes_get_data(b, &n);
		int r = tt__dtls_input(to, d, n, srtp);
		if (r == 1)
			*done = true;
		else if (r < 0)
			rc = r;
		g_bytes_unref(b);
	}
	return rc;
}

static void drain(struct wire *w)
{
	GBytes *b;
	while ((b = g_queue_pop_head(&w->q)))
		g_bytes_unref(b);
}

TT_TEST(dtls_lost_flight_retransmitted_and_keys_match)
{
	struct tt_dtls_cert *ca = NULL, *cb = NULL;
	TT_ASSERT_INT_EQ(tt_dtls_cert_generate(&ca), 0);
	TT_ASSERT_INT_EQ(tt_dtls_cert_generate(&cb), 0);
	struct wire to_b = { .drop_first = 1 }, to_a = { .drop_first = 0 };
	g_queue_init(&to_b.q);
	g_queue_init(&to_a.q);
	struct tt_dtls *a = NULL, *b = NULL;
	TT_ASSERT_INT_EQ(tt__dtls_alloc(&a, ca, true, tt_dtls_cert_fingerprint(cb), out, &to_b), 0);
	TT_ASSERT_INT_EQ(tt__dtls_alloc(&b, cb, false, tt_dtls_cert_fingerprint(ca), out, &to_a), 0);
	TT_ASSERT_INT_EQ(tt__dtls_start(b), 0);
	TT_ASSERT_INT_EQ(tt__dtls_start(a), 0);
	TT_ASSERT_INT_EQ(to_b.dropped, 1);   /* the ClientHello is lost */
	struct tt_srtp *sa = NULL, *sb = NULL;
	bool da = false, db = false;
	gint64 t0 = g_get_monotonic_time();
	while (!(da && db) && g_get_monotonic_time() - t0 < 5 * G_USEC_PER_SEC) {
		TT_ASSERT_INT_EQ(deliver(&to_b, b, &sb, &db), 0);
		TT_ASSERT_INT_EQ(deliver(&to_a, a, &sa, &da), 0);
		TT_ASSERT_INT_EQ(tt__dtls_tick(a), 0);
		TT_ASSERT_INT_EQ(tt__dtls_tick(b), 0);
		g_usleep(10000);
	}
	TT_ASSERT_MSG(da && db, "handshake incomplete after the loss (a %d b %d)", da, db);
	TT_ASSERT(to_b.sent >= 3);           /* the hello went twice, then the rest */
	TT_ASSERT(tt__dtls_done(a) && tt__dtls_done(b));
	TT_ASSERT_STR_EQ(tt__dtls_suite(a), "AEAD_AES_128_GCM");
	TT_ASSERT_STR_EQ(tt__dtls_suite(b), "AEAD_AES_128_GCM");

	/* what a protects, b unprotects, and the other way round */
	for (int dir = 0; dir < 2; dir++) {
		uint8_t pkt[200];
		struct tt_rtp_hdr h = { .pt = 111, .seq = 7, .ts = 960, .ssrc = 0xabc0 + dir };
		int n = tt_rtp_write(pkt, sizeof pkt, &h);
		memset(pkt + n, 0x42, 40);
		size_t len = (size_t)n + 40;
		TT_ASSERT_INT_EQ(tt_srtp_protect(dir ? sb : sa, pkt, &len, sizeof pkt, false), 0);
		TT_ASSERT(len > (size_t)n + 40);
		TT_ASSERT_INT_EQ(tt_srtp_unprotect(dir ? sa : sb, pkt, &len, false), 0);
		TT_ASSERT_INT_EQ(len, n + 40);
		TT_ASSERT(pkt[n] == 0x42 && pkt[n + 39] == 0x42);
	}
	/* records after the handshake (a retransmitted Finished, junk) change nothing */
	uint8_t junk[20] = { 22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 9, 0, 5, 1, 2, 3, 4, 5 };
	struct tt_srtp *none = NULL;
	TT_ASSERT(tt__dtls_input(b, junk, sizeof junk, &none) >= 0);
	TT_ASSERT(none == NULL && tt__dtls_done(b));
	drain(&to_a);
	drain(&to_b);
	tt_srtp_free(sa);
	tt_srtp_free(sb);
	tt__dtls_free(a);
	tt__dtls_free(b);
	tt_dtls_cert_unref(ca);
	tt_dtls_cert_unref(cb);
}

TT_TEST(dtls_garbage_never_completes)
{
	struct tt_dtls_cert *c = NULL;
	TT_ASSERT_INT_EQ(tt_dtls_cert_generate(&c), 0);
	struct wire w = { 0 };
	g_queue_init(&w.q);
	struct tt_dtls *d = NULL;
	TT_ASSERT_INT_EQ(tt__dtls_alloc(&d, c, false, "sha-256 nope", out, &w), -EINVAL);
	TT_ASSERT_INT_EQ(tt__dtls_alloc(&d, c, false, tt_dtls_cert_fingerprint(c), out, &w), 0);
	struct tt_srtp *s = NULL;
	uint8_t buf[300];
	GRand *r = g_rand_new_with_seed(42);
	int failed = 0;
	for (int i = 0; i < 200; i++) {
		size_t n = (size_t)g_rand_int_range(r, 0, sizeof buf);
		for (size_t k = 0; k < n; k++)
			buf[k] = (uint8_t)g_rand_int(r);
		if (n)
			buf[0] = (uint8_t)g_rand_int_range(r, 20, 64);   /* looks like DTLS */
		int rc = tt__dtls_input(d, buf, n, &s);
		TT_ASSERT(rc != 1);
		failed += rc < 0;
	}
	TT_ASSERT(s == NULL && !tt__dtls_done(d));
	g_rand_free(r);
	drain(&w);
	tt__dtls_free(d);
	tt_dtls_cert_unref(c);
	(void)failed;
}
