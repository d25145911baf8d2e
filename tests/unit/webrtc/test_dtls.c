/* test_dtls.c: the DTLS-SRTP handshake alone, over an in-memory "network" the test controls:
 * a lost flight is retransmitted by the timer, both sides export matching SRTP keys (what
 * one protects the other unprotects), and records after the handshake change nothing. */
#include <errno.h>
#include <glib.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
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

/* ---- which SRTP profile: the DTLS server's choice ---- */

/* A peer on raw OpenSSL whose use_srtp list is Chrome's order (WebRTC puts
 * AES_CM_128_HMAC_SHA1_80 before the GCM suites: shorter packets). OpenSSL, like Chrome's
 * BoringSSL, picks by the server's own order, so the DTLS role decides the suite. */
struct ossl_peer {
	SSL_CTX *ctx;
	SSL *ssl;
	BIO *rd, *wr;
	char fp[128];
};

static int peer_verify_any(int ok, X509_STORE_CTX *x)
{
	return 1;
}

static void peer_init(struct ossl_peer *p, bool client, const char *profiles)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, key);
	X509_NAME *n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"peer", -1, -1,
				   0);
	X509_set_issuer_name(x, n);
	X509_sign(x, key, EVP_sha256());
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	X509_digest(x, EVP_sha256(), md, &len);
	size_t o = (size_t)g_snprintf(p->fp, sizeof p->fp, "sha-256 ");
	for (unsigned i = 0; i < len; i++)
		o += (size_t)g_snprintf(p->fp + o, sizeof p->fp - o, i ? ":%02X" : "%02X", md[i]);
	p->ctx = SSL_CTX_new(DTLS_method());
	SSL_CTX_use_certificate(p->ctx, x);
	SSL_CTX_use_PrivateKey(p->ctx, key);
	SSL_CTX_set_verify(p->ctx, SSL_VERIFY_PEER, peer_verify_any);
	TT_ASSERT_INT_EQ(SSL_CTX_set_tlsext_use_srtp(p->ctx, profiles), 0);
	X509_free(x);
	EVP_PKEY_free(key);
	p->ssl = SSL_new(p->ctx);
	p->rd = BIO_new(BIO_s_mem());
	p->wr = BIO_new(BIO_s_mem());
	BIO_set_mem_eof_return(p->rd, -1);
	SSL_set_bio(p->ssl, p->rd, p->wr);
	SSL_set_options(p->ssl, SSL_OP_NO_QUERY_MTU);
	SSL_set_mtu(p->ssl, 1200);
	if (client)
		SSL_set_connect_state(p->ssl);
	else
		SSL_set_accept_state(p->ssl);
}

/* What the peer wrote, as one datagram to us. */
static int peer_flush(struct ossl_peer *p, struct tt_dtls *to, struct tt_srtp **srtp,
		      bool *done)
{
	uint8_t buf[8192];
	int n = BIO_read(p->wr, buf, sizeof buf);
	if (n <= 0)
		return 0;
	int r = tt__dtls_input(to, buf, (size_t)n, srtp);
	if (r == 1)
		*done = true;
	return r < 0 ? r : 0;
}

/* Our datagrams, one at a time, to the peer. */
static void peer_feed(struct ossl_peer *p, struct wire *w)
{
	GBytes *b;
	while ((b = g_queue_pop_head(&w->q))) {
		gsize n;
		const uint8_t *d = g_bytes_get_data(b, &n);
		BIO_write(p->rd, d, (int)n);
		SSL_do_handshake(p->ssl);
		g_bytes_unref(b);
	}
}

static const char *suite_against(bool we_are_client, const char *peer_profiles,
				 char *peer_choice, size_t cap)
{
	struct tt_dtls_cert *c = NULL;
	TT_ASSERT_INT_EQ(tt_dtls_cert_generate(&c), 0);
	struct ossl_peer p;
	memset(&p, 0, sizeof p);
	peer_init(&p, !we_are_client, peer_profiles);
	struct wire w = { 0 };
	g_queue_init(&w.q);
	struct tt_dtls *d = NULL;
	TT_ASSERT_INT_EQ(tt__dtls_alloc(&d, c, we_are_client, p.fp, out, &w), 0);
	TT_ASSERT_INT_EQ(tt__dtls_start(d), 0);
	if (!we_are_client)
		SSL_do_handshake(p.ssl);   /* the ClientHello */
	struct tt_srtp *s = NULL;
	bool done = false;
	for (int i = 0; i < 200 && !(done && SSL_is_init_finished(p.ssl)); i++) {
		peer_feed(&p, &w);
		TT_ASSERT_INT_EQ(peer_flush(&p, d, &s, &done), 0);
		TT_ASSERT_INT_EQ(tt__dtls_tick(d), 0);
		g_usleep(1000);
	}
	TT_ASSERT_MSG(done && SSL_is_init_finished(p.ssl), "handshake with OpenSSL incomplete");
	const SRTP_PROTECTION_PROFILE *prof = SSL_get_selected_srtp_profile(p.ssl);
	g_strlcpy(peer_choice, prof ? prof->name : "", cap);
	static char ours[64];
	g_strlcpy(ours, tt__dtls_suite(d), sizeof ours);
	drain(&w);
	tt_srtp_free(s);
	tt__dtls_free(d);
	tt_dtls_cert_unref(c);
	SSL_free(p.ssl);
	SSL_CTX_free(p.ctx);
	return ours;
}

TT_TEST(dtls_srtp_profile_is_the_servers_choice)
{
	const char *chrome = "SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_128_GCM";
	char theirs[64];
	/* we answer a browser's actpass with active: we are the client, the browser chooses */
	TT_ASSERT_STR_EQ(suite_against(true, chrome, theirs, sizeof theirs),
			 "AES_CM_128_HMAC_SHA1_80");
	TT_ASSERT_STR_EQ(theirs, "SRTP_AES128_CM_SHA1_80");
	/* when we are the server (the offer said active), our order wins: GCM */
	TT_ASSERT_STR_EQ(suite_against(false, chrome, theirs, sizeof theirs), "AEAD_AES_128_GCM");
	TT_ASSERT_STR_EQ(theirs, "SRTP_AEAD_AES_128_GCM");
	/* a server that prefers GCM gives GCM to us as the client */
	TT_ASSERT_STR_EQ(suite_against(true, "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80", theirs,
				       sizeof theirs), "AEAD_AES_128_GCM");
}
