/* test_ice.c: two ICE+DTLS-SRTP transports on 127.0.0.1 in one process, on one
 * GMainContext: candidates trickled between them, ICE completes, DTLS completes with the
 * fingerprints checked, SRTP-protected RTP flows both ways; a wrong fingerprint is refused;
 * a peer that vanishes is dropped by consent freshness. */
#include <arpa/inet.h>
#include <errno.h>
#include <glib-unix.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <string.h>
#include <unistd.h>

#include "tt_test.h"
#include "tutti/ice.h"
#include "tutti/rtp.h"
#include "tutti/transport.h"

struct peer {
	struct tt_transport *t;
	struct tt_ice *ice;
	struct peer *other;
	int rx, rtcp_rx, closed;
	int close_reason;
	bool gathered;
	uint16_t last_seq;
};

static void on_cand(void *arg, const char *cand)
{
	struct peer *p = arg;
	if (!cand) {
		p->gathered = true;
		if (p->other && p->other->ice)
			tt_ice_add_candidate(p->other->ice, NULL);
		return;
	}
	TT_ASSERT(g_str_has_prefix(cand, "candidate:"));
	if (p->other && p->other->ice)
		TT_ASSERT_INT_EQ(tt_ice_add_candidate(p->other->ice, cand), 0);
}

static void on_rx(void *arg, const struct tt_transport_pkt *pkt)
{
	struct peer *p = arg;
	if (pkt->is_rtcp) {
		p->rtcp_rx++;
		return;
	}
	p->rx++;
	p->last_seq = pkt->rtp.seq;
}

static void on_close(void *arg, int reason)
{
	struct peer *p = arg;
	p->closed++;
	p->close_reason = reason;
}

static void pump_until(GMainContext *ctx, bool (*done)(void *), void *arg, int ms)
{
	gint64 end = g_get_monotonic_time() + (gint64)ms * 1000;
	while (!done(arg) && g_get_monotonic_time() < end) {
		if (!g_main_context_iteration(ctx, FALSE))
			g_usleep(2000);
	}
}

static struct tt_ice_policy *make_policy(bool consent)
{
	struct tt_dtls_cert *cert = NULL;
	TT_ASSERT_INT_EQ(tt_dtls_cert_generate(&cert), 0);
	const char *fp = tt_dtls_cert_fingerprint(cert);
	TT_ASSERT(g_str_has_prefix(fp, "sha-256 ") && strlen(fp) == 8 + 95);
	TT_ASSERT_INT_EQ(tt_dtls_fingerprint_check(fp), 0);
	struct tt_ice_settings s = { .allow_loopback = true, .consent_freshness = consent,
				     .cert = cert };
	struct tt_ice_policy *pol = NULL;
	TT_ASSERT_INT_EQ(tt_ice_policy_alloc(&pol, &s), 0);
	tt_dtls_cert_unref(cert);
	return pol;
}

static void make_peer(struct peer *p, GMainContext *ctx, struct tt_ice_policy *pol,
		      bool controlling, unsigned inactivity_ms)
{
	unsigned rtcp = 500;
	if (inactivity_ms == 1)   /* 1: the consent test, no inactivity limit and no RTCP */
		inactivity_ms = 0, rtcp = 0;
	struct tt_transport_cfg cfg = { .ctx = ctx, .recv_h = on_rx, .close_h = on_close,
					.arg = p, .clock_rate = 48000, .dtmf_pt = -1,
					.inactivity_ms = inactivity_ms,
					.rtcp_interval_ms = rtcp };
	struct tt_ice_cfg icfg = { .policy = pol, .controlling = controlling, .cand_h = on_cand,
				   .cand_arg = p };
	TT_ASSERT_INT_EQ(tt_transport_ice_alloc(&p->t, &p->ice, &cfg, &icfg), 0);
	TT_ASSERT(strlen(tt_ice_ufrag(p->ice)) >= 4 && strlen(tt_ice_pwd(p->ice)) >= 22);
}

static bool both_done(void *arg)
{
	struct peer *p = arg;
	struct tt_ice_info a, b;
	tt_ice_info(p[0].ice, &a);
	tt_ice_info(p[1].ice, &b);
	return (a.dtls_done && b.dtls_done) || p[0].closed || p[1].closed;
}

static bool one_closed(void *arg)
{
	struct peer *p = arg;
	return p[0].closed || p[1].closed;
}

static bool got_rtp(void *arg)
{
	struct peer *p = arg;
	return p[0].rx >= 5 && p[1].rx >= 5 && p[0].rtcp_rx > 0 && p[1].rtcp_rx > 0;
}

static void send_rtp(struct peer *p, uint16_t seq)
{
	uint8_t buf[64];
	struct tt_rtp_hdr h = { .pt = 111, .seq = seq, .ts = seq * 960u, .ssrc = 0x1234 };
	int n = tt_rtp_write(buf, sizeof buf, &h);
	TT_ASSERT(n > 0);
	memset(buf + n, 0x55, 20);
	TT_ASSERT_INT_EQ(tt_transport_send(p->t, buf, (size_t)n + 20, false), 0);
	tt_transport_flush(p->t);
}

/* pair: [0] controlling + DTLS client, [1] controlled + DTLS server, as a browser offer
 * answered by the bridge would be (roles swapped does not matter to the transport). */
static void connect_pair(struct peer *p, GMainContext *ctx, struct tt_ice_policy *pa,
			 struct tt_ice_policy *pb, const char *fp_of_b_for_a, bool consent,
			 unsigned inactivity_ms)
{
	p[0].other = &p[1];
	p[1].other = &p[0];
	make_peer(&p[0], ctx, pa, true, inactivity_ms);
	make_peer(&p[1], ctx, pb, false, inactivity_ms);
	const char *fpa = tt_dtls_cert_fingerprint(tt_ice_policy_cert(pa));
	const char *fpb = fp_of_b_for_a ? fp_of_b_for_a
					: tt_dtls_cert_fingerprint(tt_ice_policy_cert(pb));
	TT_ASSERT_INT_EQ(tt_ice_set_remote(p[0].ice, tt_ice_ufrag(p[1].ice),
					   tt_ice_pwd(p[1].ice), fpb, TT_DTLS_ACTIVE), 0);
	TT_ASSERT_INT_EQ(tt_ice_set_remote(p[1].ice, tt_ice_ufrag(p[0].ice),
					   tt_ice_pwd(p[0].ice), fpa, TT_DTLS_PASSIVE), 0);
	TT_ASSERT_INT_EQ(tt_ice_set_remote(p[1].ice, tt_ice_ufrag(p[0].ice),
					   tt_ice_pwd(p[0].ice), fpa, TT_DTLS_PASSIVE), -EALREADY);
	(void)consent;
}

TT_TEST(ice_dtls_srtp_loopback_both_ways)
{
	GMainContext *ctx = g_main_context_new();
	struct tt_ice_policy *pa = make_policy(false), *pb = make_policy(false);
	struct peer p[2];
	memset(p, 0, sizeof p);
	connect_pair(p, ctx, pa, pb, NULL, false, 0);
	pump_until(ctx, both_done, p, 10000);
	struct tt_ice_info a, b;
	tt_ice_info(p[0].ice, &a);
	tt_ice_info(p[1].ice, &b);
	TT_ASSERT_MSG(a.connected && b.connected, "ICE did not connect");
	TT_ASSERT_MSG(a.dtls_done && b.dtls_done, "DTLS not done (closed %d/%d)", p[0].closed,
		      p[1].closed);
	TT_ASSERT_STR_EQ(a.srtp_suite, "AEAD_AES_128_GCM");
	TT_ASSERT_STR_EQ(b.srtp_suite, "AEAD_AES_128_GCM");
	TT_ASSERT(g_str_has_prefix(a.remote, "127.0.0.1:"));
	for (uint16_t s = 1; s <= 10; s++) {
		send_rtp(&p[0], s);
		send_rtp(&p[1], (uint16_t)(100 + s));
	}
	pump_until(ctx, got_rtp, p, 5000);
	TT_ASSERT_MSG(p[0].rx >= 5 && p[1].rx >= 5, "rtp rx %d %d", p[0].rx, p[1].rx);
	TT_ASSERT(p[0].rtcp_rx > 0 && p[1].rtcp_rx > 0);
	TT_ASSERT_INT_EQ(p[1].last_seq, 10);
	TT_ASSERT_INT_EQ(p[0].last_seq, 110);
	struct tt_transport_stats st;
	tt_transport_stats(p[1].t, &st);
	TT_ASSERT_INT_EQ(st.srtp_fail, 0);
	TT_ASSERT(st.latched);
	TT_ASSERT_STR_EQ(tt_transport_kind(p[0].t), "ice");
	TT_ASSERT_INT_EQ(p[0].closed + p[1].closed, 0);
	tt_transport_free(p[0].t);
	tt_transport_free(p[1].t);
	tt_ice_policy_unref(pa);
	tt_ice_policy_unref(pb);
	g_main_context_unref(ctx);
}

/* A reload's policy (new TURN secret) is a whole copy: the old one is dropped before any
 * leg uses the new, which keeps the certificate (the same fingerprint) and still connects. */
TT_TEST(ice_policy_with_turn_secret_stands_alone)
{
	struct tt_ice_policy *old = make_policy(false), *pa = NULL, *none = NULL;
	char *fp = g_strdup(tt_dtls_cert_fingerprint(tt_ice_policy_cert(old)));
	TT_ASSERT_INT_EQ(tt_ice_policy_with_turn_secret(&none, NULL, "s", 60), -EINVAL);
	TT_ASSERT(none == NULL);
	TT_ASSERT_INT_EQ(tt_ice_policy_with_turn_secret(&pa, old, "new-secret", 600), 0);
	tt_ice_policy_unref(old);
	TT_ASSERT_STR_EQ(tt_dtls_cert_fingerprint(tt_ice_policy_cert(pa)), fp);
	GMainContext *ctx = g_main_context_new();
	struct tt_ice_policy *pb = make_policy(false);
	struct peer p[2];
	memset(p, 0, sizeof p);
	connect_pair(p, ctx, pa, pb, NULL, false, 0);
	pump_until(ctx, both_done, p, 10000);
	struct tt_ice_info a, b;
	tt_ice_info(p[0].ice, &a);
	tt_ice_info(p[1].ice, &b);
	TT_ASSERT_MSG(a.dtls_done && b.dtls_done, "DTLS not done (closed %d/%d)", p[0].closed,
		      p[1].closed);
	tt_transport_free(p[0].t);
	tt_transport_free(p[1].t);
	tt_ice_policy_unref(pa);
	tt_ice_policy_unref(pb);
	g_main_context_unref(ctx);
	g_free(fp);
}

TT_TEST(ice_dtls_fingerprint_mismatch_refused)
{
	GMainContext *ctx = g_main_context_new();
	struct tt_ice_policy *pa = make_policy(false), *pb = make_policy(false);
	struct tt_ice_policy *other = make_policy(false);
	struct peer p[2];
	memset(p, 0, sizeof p);
	/* a is told a fingerprint that is not b's certificate */
	connect_pair(p, ctx, pa, pb, tt_dtls_cert_fingerprint(tt_ice_policy_cert(other)), false,
		     0);
	pump_until(ctx, one_closed, p, 10000);
	TT_ASSERT_MSG(p[0].closed == 1, "a was not closed");
	TT_ASSERT_INT_EQ(p[0].close_reason, -EPERM);
	struct tt_ice_info a;
	tt_ice_info(p[0].ice, &a);
	TT_ASSERT(!a.dtls_done);
	/* nothing protected ever left a: b received no media */
	send_rtp(&p[0], 1);
	for (int i = 0; i < 50; i++)
		g_main_context_iteration(ctx, FALSE);
	TT_ASSERT_INT_EQ(p[1].rx, 0);
	tt_transport_free(p[0].t);
	tt_transport_free(p[1].t);
	tt_ice_policy_unref(pa);
	tt_ice_policy_unref(pb);
	tt_ice_policy_unref(other);
	g_main_context_unref(ctx);
}

TT_TEST(ice_bad_remote_values_refused)
{
	GMainContext *ctx = g_main_context_new();
	struct tt_ice_policy *pa = make_policy(false);
	struct peer p[2];
	memset(p, 0, sizeof p);
	p[0].other = &p[1];
	make_peer(&p[0], ctx, pa, false, 0);
	const char *fp = tt_dtls_cert_fingerprint(tt_ice_policy_cert(pa));
	const char *pwd = "abcdefghijklmnopqrstuvwxyz";
	TT_ASSERT_INT_EQ(tt_ice_set_remote(p[0].ice, "ab", pwd, fp, TT_DTLS_ACTIVE), -EINVAL);
	TT_ASSERT_INT_EQ(tt_ice_set_remote(p[0].ice, "abcd", "short", fp, TT_DTLS_ACTIVE),
			 -EINVAL);
	TT_ASSERT_INT_EQ(tt_ice_set_remote(p[0].ice, "ab d", pwd, fp, TT_DTLS_ACTIVE), -EINVAL);
	TT_ASSERT_INT_EQ(tt_ice_set_remote(p[0].ice, "abcd", pwd, "sha-256 00", TT_DTLS_ACTIVE),
			 -EINVAL);
	TT_ASSERT_INT_EQ(tt_dtls_fingerprint_check("sha-1 00:11"), -ENOTSUP);
	TT_ASSERT_INT_EQ(tt_ice_add_candidate(p[0].ice, "garbage"), -EINVAL);
	TT_ASSERT_INT_EQ(tt_ice_add_candidate(p[0].ice, "candidate:1 1 UDP"), -EINVAL);
	TT_ASSERT_INT_EQ(tt_ice_add_candidate(p[0].ice,
		"candidate:1 1 udp 2122260223 1b2e.local 5000 typ host"), 0);  /* ignored */
	TT_ASSERT_INT_EQ(tt_ice_add_candidate(p[0].ice,
		"candidate:1 2 udp 2122260223 127.0.0.1 5000 typ host"), 0);   /* ignored */
	TT_ASSERT_INT_EQ(tt_ice_add_candidate(p[0].ice,
		"candidate:1 1 udp 2122260223 notanip 5000 typ host"), -EINVAL);
	TT_ASSERT_INT_EQ(tt_ice_set_remote(p[0].ice, "abcd", pwd, fp, TT_DTLS_ACTIVE), 0);
	tt_transport_free(p[0].t);
	tt_ice_policy_unref(pa);
	g_main_context_unref(ctx);
}

/* Candidate lines are checked without a transport (the core does it before posting to the
 * worker): RFC 8839's grammar where libnice's parser is lenient, libnice for the rest. */
TT_TEST(ice_candidate_lines_checked)
{
	static const char *const usable[] = {
		"candidate:842163049 1 udp 1677729535 198.51.100.7 46154 typ srflx raddr "
		"10.0.0.17 rport 46154 generation 0 ufrag EEtu network-cost 999",
		"a=candidate:0 1 UDP 2122252543 192.0.2.5 54321 typ host",
		"candidate:1 1 udp 2122260223 2001:db8::1 5000 typ host",
		"candidate:a+/Z 1 udp 1 127.0.0.1 0 typ relay raddr 0.0.0.0 rport 0",
	};
	static const char *const ignored[] = {
		"candidate:1 1 udp 2122260223 1b2e-44.local 5000 typ host",
		"candidate:1 2 udp 2122260223 127.0.0.1 5000 typ host",
		"candidate:3 1 tcp 1518280447 192.0.2.5 9 typ host tcptype active generation 0",
		"candidate:3 1 TCP 1518280447 192.0.2.5 9 typ host",   /* libnice: a critical */
	};
	static const char *const garbage[] = {
		"", "garbage", "candidate:garbage", "candidate:", "candidate:1 1 UDP",
		"candidate:1 1 udp 1 127.0.0.1 9 typ",             /* no type */
		"candidate:1 1 udp 1 127.0.0.1 9 type host",
		"candidate:1 1 udp 1 notanip 5000 typ host",
		"candidate:1 x udp 1 127.0.0.1 9 typ host",        /* libnice: component 0 */
		"candidate:1 0 udp 1 127.0.0.1 9 typ host",
		"candidate:1 257 udp 1 127.0.0.1 9 typ host",
		"candidate:1 1 udp -1 127.0.0.1 9 typ host",
		"candidate:1 1 udp 4294967296 127.0.0.1 9 typ host",
		"candidate:1 1 udp 1 127.0.0.1 65536 typ host",     /* libnice: wraps to 0 */
		"candidate:1 1 udp 1 127.0.0.1 +9 typ host",
		"candidate:1 1 udp 1 127.0.0.1 9x typ host",      /* libnice: port 9 */
		"candidate:1 1 udp 1 1 9 typ host",               /* libnice: 0.0.0.1 */
		"candidate:1 1 udp 99999999999 127.0.0.1 9 typ host",   /* libnice: wraps */
		"candidate:1 1 udp 1 127.0.0.1 9 typ host generation",   /* odd extension */
		"candidate:1 1 udp 1 127.0.0.1 9 typ host raddr nowhere rport 9",
		"candidate:1 1 udp 1 127.0.0.1 9 typ host raddr 10.0.0.1 rport 70000",
		"candidate:1  1 udp 1 127.0.0.1 9 typ host",       /* two spaces */
		"candidate:f\xc3 1 udp 1 127.0.0.1 9 typ host",
		"candidate:123456789012345678901234567890123 1 udp 1 127.0.0.1 9 typ host",
		"candidate:1 1 udp 1 127.0.0.1 9 typ host\r\na=evil",
		"candidate:1 1 udp 1 e\x01.local 9 typ host",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(usable); i++)
		TT_ASSERT_MSG(tt_ice_candidate_check(usable[i]) == 1, "%s", usable[i]);
	for (size_t i = 0; i < G_N_ELEMENTS(ignored); i++)
		TT_ASSERT_MSG(tt_ice_candidate_check(ignored[i]) == 0, "%s", ignored[i]);
	for (size_t i = 0; i < G_N_ELEMENTS(garbage); i++)
		TT_ASSERT_MSG(tt_ice_candidate_check(garbage[i]) == -EINVAL, "%s", garbage[i]);
	TT_ASSERT_INT_EQ(tt_ice_candidate_check(NULL), -EINVAL);
	GString *lng = g_string_new("candidate:1 1 udp 1 127.0.0.1 9 typ host");
	while (lng->len <= 512)
		g_string_append(lng, " x y");
	TT_ASSERT_INT_EQ(tt_ice_candidate_check(lng->str), -EINVAL);
	g_string_free(lng, TRUE);
}

/* RFC 7675: after the peer vanishes, consent expires (libnice: 30 s) and the transport
 * closes by itself, with media inactivity off so that only consent can end it. */
TT_TEST(ice_consent_lost_when_peer_vanishes)
{
	GMainContext *ctx = g_main_context_new();
	struct tt_ice_policy *pa = make_policy(true), *pb = make_policy(true);
	struct peer p[2];
	memset(p, 0, sizeof p);
	connect_pair(p, ctx, pa, pb, NULL, true, 1);
	pump_until(ctx, both_done, p, 10000);
	struct tt_ice_info a;
	tt_ice_info(p[0].ice, &a);
	TT_ASSERT(a.dtls_done);
	p[0].other = NULL;
	p[1].t = tt_transport_free(p[1].t);   /* b vanishes without a word */
	p[1].ice = NULL;
	gint64 t0 = g_get_monotonic_time();
	pump_until(ctx, one_closed, p, 45000);
	TT_ASSERT_MSG(p[0].closed == 1, "a still open after %lld ms",
		      (long long)(g_get_monotonic_time() - t0) / 1000);
	TT_ASSERT_INT_EQ(p[0].close_reason, -ETIMEDOUT);
	tt_transport_free(p[0].t);
	tt_ice_policy_unref(pa);
	tt_ice_policy_unref(pb);
	g_main_context_unref(ctx);
}

/* A configured certificate: PEM files made here with OpenSSL; its fingerprint is the one
 * OpenSSL computes; missing and garbage files are refused. */
TT_TEST(dtls_cert_load_from_pem)
{
	char dir[] = "/tmp/tt-cert-XXXXXX";
	TT_ASSERT(g_mkdtemp(dir) != NULL);
	char *cf = g_build_filename(dir, "cert.pem", NULL);
	char *kf = g_build_filename(dir, "key.pem", NULL);
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	TT_ASSERT(key && x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	TT_ASSERT(X509_sign(x, key, EVP_sha256()) > 0);
	FILE *f = fopen(cf, "w");
	PEM_write_X509(f, x);
	fclose(f);
	f = fopen(kf, "w");
	PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	unsigned char md[32];
	unsigned n = 0;
	X509_digest(x, EVP_sha256(), md, &n);
	char want[TT_DTLS_FP_MAX] = "sha-256 ";
	for (unsigned i = 0; i < n; i++)
		g_snprintf(want + strlen(want), sizeof want - strlen(want), i ? ":%02X" : "%02X",
			   md[i]);

	struct tt_dtls_cert *c = NULL;
	TT_ASSERT_INT_EQ(tt_dtls_cert_load(&c, cf, kf), 0);
	TT_ASSERT_STR_EQ(tt_dtls_cert_fingerprint(c), want);
	tt_dtls_cert_unref(c);
	struct tt_dtls_cert *none = NULL;
	TT_ASSERT_INT_EQ(tt_dtls_cert_load(&none, "/nonexistent/cert.pem", NULL), -ENOENT);
	TT_ASSERT_INT_EQ(tt_dtls_cert_load(&none, kf, kf), -EINVAL);   /* a key is no cert */
	TT_ASSERT(none == NULL);
	X509_free(x);
	EVP_PKEY_free(key);
	unlink(cf);
	unlink(kf);
	rmdir(dir);
	g_free(cf);
	g_free(kf);
}

/* ---- a STUN server stand-in: answers every Binding request with a fixed mapped address,
 * so a server-reflexive candidate appears even on loopback. ---- */

struct stun_srv {
	int fd;
	int requests;
};

static gboolean on_stun(gint fd, GIOCondition cond, gpointer arg)
{
	struct stun_srv *s = arg;
	uint8_t b[1500];
	struct sockaddr_in from;
	socklen_t fl = sizeof from;
	ssize_t n = recvfrom(fd, b, sizeof b, 0, (struct sockaddr *)&from, &fl);
	if (n < 20 || b[0] != 0x00 || b[1] != 0x01)
		return G_SOURCE_CONTINUE;
	s->requests++;
	/* RFC 5389 requests carry the magic cookie and get XOR-MAPPED-ADDRESS; libnice's
	 * gathering sends RFC 3489 ones (a random cookie field), which get MAPPED-ADDRESS. */
	static const uint8_t cookie[4] = { 0x21, 0x12, 0xa4, 0x42 };
	bool x = !memcmp(b + 4, cookie, 4);
	uint8_t r[32] = { 0x01, 0x01, 0x00, 12 };
	memcpy(r + 4, b + 4, 16);                 /* cookie + transaction id */
	r[20] = 0x00, r[21] = x ? 0x20 : 0x01, r[22] = 0, r[23] = 8;
	r[24] = 0, r[25] = 1;                     /* IPv4 */
	uint16_t port = x ? 5555 ^ 0x2112 : 5555;
	r[26] = (uint8_t)(port >> 8), r[27] = (uint8_t)port;
	const uint8_t ip[4] = { 203, 0, 113, 7 };
	for (int i = 0; i < 4; i++)
		r[28 + i] = x ? ip[i] ^ cookie[i] : ip[i];
	sendto(fd, r, sizeof r, 0, (struct sockaddr *)&from, fl);
	return G_SOURCE_CONTINUE;
}

struct cands {
	GPtrArray *lines;
	bool done;
};

static void collect(void *arg, const char *cand)
{
	struct cands *c = arg;
	if (cand)
		g_ptr_array_add(c->lines, g_strdup(cand));
	else
		c->done = true;
}

static bool gathered(void *arg)
{
	return ((struct cands *)arg)->done;
}

TT_TEST(ice_stun_server_gives_srflx_candidate)
{
	/* libnice asks STUN servers only from non-loopback host candidates, and Linux does not
	 * route from such an address to 127.0.0.1: both ends use the first other address */
	char ip[INET_ADDRSTRLEN] = "";
	struct ifaddrs *ifs = NULL;
	getifaddrs(&ifs);
	for (struct ifaddrs *i = ifs; i && !ip[0]; i = i->ifa_next)
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET && !(i->ifa_flags & IFF_LOOPBACK))
			inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, ip,
				  sizeof ip);
	freeifaddrs(ifs);
	if (!ip[0])
		tt_test_skip("no non-loopback IPv4 interface");
	GMainContext *ctx = g_main_context_new();
	struct stun_srv srv = { .fd = socket(AF_INET, SOCK_DGRAM, 0) };
	struct sockaddr_in sa = { .sin_family = AF_INET };
	inet_pton(AF_INET, ip, &sa.sin_addr);
	socklen_t sl = sizeof sa;
	TT_ASSERT(bind(srv.fd, (struct sockaddr *)&sa, sl) == 0);
	getsockname(srv.fd, (struct sockaddr *)&sa, &sl);
	GSource *src = g_unix_fd_source_new(srv.fd, G_IO_IN);
	g_source_set_callback(src, (GSourceFunc)(void (*)(void))on_stun, &srv, NULL);
	g_source_attach(src, ctx);

	struct tt_dtls_cert *cert = NULL;
	TT_ASSERT_INT_EQ(tt_dtls_cert_generate(&cert), 0);
	struct tt_ice_settings s = { .addresses = ip, .stun_server = ip,
				     .stun_port = ntohs(sa.sin_port), .cert = cert };
	struct tt_ice_policy *pol = NULL;
	TT_ASSERT_INT_EQ(tt_ice_policy_alloc(&pol, &s), 0);
	tt_dtls_cert_unref(cert);
	struct cands c = { .lines = g_ptr_array_new_with_free_func(g_free) };
	struct tt_transport_cfg cfg = { .ctx = ctx, .dtmf_pt = -1, .clock_rate = 48000 };
	struct tt_ice_cfg icfg = { .policy = pol, .cand_h = collect, .cand_arg = &c };
	struct tt_transport *t = NULL;
	struct tt_ice *ice = NULL;
	TT_ASSERT_INT_EQ(tt_transport_ice_alloc(&t, &ice, &cfg, &icfg), 0);
	pump_until(ctx, gathered, &c, 5000);
	TT_ASSERT_MSG(c.done, "gathering did not finish");
	bool host = false, srflx = false;
	for (guint i = 0; i < c.lines->len; i++) {
		const char *l = g_ptr_array_index(c.lines, i);
		host |= strstr(l, ip) && strstr(l, "typ host");
		srflx |= strstr(l, " 203.0.113.7 5555 typ srflx") != NULL;
	}
	TT_ASSERT_MSG(host && srflx, "host %d srflx %d (%u candidates, %d STUN requests)", host,
		      srflx, c.lines->len, srv.requests);
	tt_transport_free(t);
	tt_ice_policy_unref(pol);
	g_ptr_array_free(c.lines, TRUE);
	g_source_destroy(src);
	g_source_unref(src);
	close(srv.fd);
	g_main_context_unref(ctx);
}
