/* dtls.c: DTLS-SRTP with OpenSSL: our certificate, the handshake over a callback "socket"
 * (a custom BIO that hands every record flight to the ICE agent as one datagram), the peer
 * certificate checked against the signalled fingerprint, and SRTP keys exported
 * (RFC 5764 4.2). */
#define TT_LOG_DOMAIN "dtls"
#include "dtls.h"

#include <errno.h>
#include <glib.h>
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <string.h>

#include "tutti/log.h"

#define DTLS_MTU 1200           /* stays under any path MTU, with ICE/TURN overhead */
#define HANDSHAKE_TIMEOUT_US (20 * G_USEC_PER_SEC)

struct tt_dtls_cert {
	gint ref;
	EVP_PKEY *key;
	X509 *x509;
	SSL_CTX *ctx;
	char fp[TT_DTLS_FP_MAX];
};

struct tt_dtls {
	SSL *ssl;
	BIO *rbio;                  /* memory BIO we write received datagrams into */
	tt_dtls_send_h send_h;
	void *arg;
	bool active, started, done, failed;
	char remote_fp[TT_DTLS_FP_MAX];
	const char *suite;
	int64_t started_us;
};

/* ---- the write BIO: each write is one datagram out ---- */

static int out_write(BIO *b, const char *buf, int len)
{
	struct tt_dtls *d = BIO_get_data(b);
	if (d && len > 0)
		d->send_h(d->arg, (const uint8_t *)buf, (size_t)len);
	return len;
}

static long out_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	case BIO_CTRL_DGRAM_QUERY_MTU:
	case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
		return DTLS_MTU;
	case BIO_CTRL_WPENDING:
	case BIO_CTRL_PENDING:
		return 0;
	default:
		return 0;
	}
}

static int out_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static gpointer make_method(gpointer unused)
{
	BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "tt ice out");
	if (m) {
		BIO_meth_set_write(m, out_write);
		BIO_meth_set_ctrl(m, out_ctrl);
		BIO_meth_set_create(m, out_create);
	}
	return m;
}

static BIO_METHOD *method(void)
{
	static GOnce once = G_ONCE_INIT;
	return g_once(&once, make_method, NULL);
}

/* ---- certificates ---- */

static int fingerprint_of(X509 *x, char *out, size_t cap)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	if (!X509_digest(x, EVP_sha256(), md, &n) || n != 32 || cap < 8 + 32 * 3)
		return -EIO;
	size_t o = (size_t)g_snprintf(out, cap, "sha-256 ");
	for (unsigned i = 0; i < n; i++)
		o += (size_t)g_snprintf(out + o, cap - o, i ? ":%02X" : "%02X", md[i]);
	return 0;
}

/* Every peer certificate is accepted by OpenSSL: WebRTC certificates are self-signed, and
 * what authenticates them is the fingerprint, which we check after the handshake. */
static int verify_any(int ok, X509_STORE_CTX *ctx)
{
	return 1;
}

static int cert_finish(struct tt_dtls_cert *c)
{
	c->ctx = SSL_CTX_new(DTLS_method());
	if (!c->ctx)
		return -ENOMEM;
	if (SSL_CTX_use_certificate(c->ctx, c->x509) != 1 ||
	    SSL_CTX_use_PrivateKey(c->ctx, c->key) != 1 || SSL_CTX_check_private_key(c->ctx) != 1)
		return -EINVAL;
	SSL_CTX_set_min_proto_version(c->ctx, DTLS1_2_VERSION);
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_any);
	/* SSL_CTX_set_tlsext_use_srtp returns 0 on success. GCM first, but this order decides
	 * only when we are the DTLS server: the server picks by its own order, so as the
	 * client (our answer to a browser's actpass) we get the browser's choice, which for
	 * Chrome is AES_CM_128_HMAC_SHA1_80 (docs/webrtc-protocol.md). */
	if (SSL_CTX_set_tlsext_use_srtp(c->ctx, "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80"))
		return -EIO;
	SSL_CTX_set_read_ahead(c->ctx, 1);
	return fingerprint_of(c->x509, c->fp, sizeof c->fp);
}

int tt_dtls_cert_generate(struct tt_dtls_cert **cp)
{
	struct tt_dtls_cert *c = g_new0(struct tt_dtls_cert, 1);
	int err = -EIO;
	c->ref = 1;
	c->key = EVP_EC_gen("P-256");
	c->x509 = X509_new();
	if (!c->key || !c->x509)
		goto out;
	X509_set_version(c->x509, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(c->x509), (long)(g_random_int() & 0x7fffffff));
	X509_gmtime_adj(X509_getm_notBefore(c->x509), -24 * 3600);
	X509_gmtime_adj(X509_getm_notAfter(c->x509), 30L * 24 * 3600);
	X509_NAME *name = X509_get_subject_name(c->x509);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"tutti", -1,
				   -1, 0);
	X509_set_issuer_name(c->x509, name);
	if (X509_set_pubkey(c->x509, c->key) != 1 || !X509_sign(c->x509, c->key, EVP_sha256()))
		goto out;
	err = cert_finish(c);
out:
	if (err) {
		tt_error("cannot make a DTLS certificate: %s",
			 ERR_reason_error_string(ERR_get_error()));
		tt_dtls_cert_unref(c);
		return err;
	}
	*cp = c;
	return 0;
}

int tt_dtls_cert_load(struct tt_dtls_cert **cp, const char *cert_file, const char *key_file)
{
	FILE *f = fopen(cert_file, "r");
	if (!f)
		return -ENOENT;
	struct tt_dtls_cert *c = g_new0(struct tt_dtls_cert, 1);
	c->ref = 1;
	c->x509 = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	f = fopen(key_file && *key_file ? key_file : cert_file, "r");
	if (f) {
		c->key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
	}
	int err = c->x509 && c->key ? cert_finish(c) : -EINVAL;
	if (err) {
		tt_dtls_cert_unref(c);
		return err;
	}
	*cp = c;
	return 0;
}

struct tt_dtls_cert *tt_dtls_cert_ref(struct tt_dtls_cert *c)
{
	if (c)
		g_atomic_int_inc(&c->ref);
	return c;
}

struct tt_dtls_cert *tt_dtls_cert_unref(struct tt_dtls_cert *c)
{
	if (c && g_atomic_int_dec_and_test(&c->ref)) {
		SSL_CTX_free(c->ctx);
		X509_free(c->x509);
		EVP_PKEY_free(c->key);
		g_free(c);
	}
	return NULL;
}

const char *tt_dtls_cert_fingerprint(const struct tt_dtls_cert *c)
{
	return c ? c->fp : "";
}

int tt_dtls_fingerprint_check(const char *fp)
{
	if (!fp)
		return -EINVAL;
	if (g_ascii_strncasecmp(fp, "sha-256 ", 8))
		return strchr(fp, ' ') ? -ENOTSUP : -EINVAL;
	const char *h = fp + 8;
	if (strlen(h) != 32 * 3 - 1)
		return -EINVAL;
	for (int i = 0; i < 32 * 3 - 1; i++) {
		if (i % 3 == 2 ? h[i] != ':' : !g_ascii_isxdigit(h[i]))
			return -EINVAL;
	}
	return 0;
}

/* ---- one handshake ---- */

int tt__dtls_alloc(struct tt_dtls **dp, const struct tt_dtls_cert *cert, bool active,
		   const char *remote_fp, tt_dtls_send_h send_h, void *arg)
{
	if (!dp || !cert || !send_h || tt_dtls_fingerprint_check(remote_fp))
		return -EINVAL;
	BIO_METHOD *m = method();
	if (!m)
		return -ENOMEM;
	struct tt_dtls *d = g_new0(struct tt_dtls, 1);
	d->send_h = send_h;
	d->arg = arg;
	d->active = active;
	g_strlcpy(d->remote_fp, remote_fp, sizeof d->remote_fp);
	d->ssl = SSL_new(cert->ctx);
	d->rbio = BIO_new(BIO_s_mem());
	BIO *w = BIO_new(m);
	if (!d->ssl || !d->rbio || !w) {
		BIO_free(w);
		BIO_free(d->rbio);
		SSL_free(d->ssl);
		g_free(d);
		return -ENOMEM;
	}
	BIO_set_mem_eof_return(d->rbio, -1);
	BIO_set_data(w, d);
	SSL_set_bio(d->ssl, d->rbio, w);   /* the SSL owns both BIOs from here */
	SSL_set_options(d->ssl, SSL_OP_NO_QUERY_MTU);
	SSL_set_mtu(d->ssl, DTLS_MTU);
	DTLS_set_link_mtu(d->ssl, DTLS_MTU);
	if (active)
		SSL_set_connect_state(d->ssl);
	else
		SSL_set_accept_state(d->ssl);
	*dp = d;
	return 0;
}

void tt__dtls_free(struct tt_dtls *d)
{
	if (!d)
		return;
	SSL_free(d->ssl);
	g_free(d);
}

/* Drain errors from OpenSSL's thread-local queue so they do not leak into another
 * session on this thread. */
static void clear_errors(void)
{
	ERR_clear_error();
}

static int export_keys(struct tt_dtls *d, struct tt_srtp **srtp)
{
	SRTP_PROTECTION_PROFILE *prof = SSL_get_selected_srtp_profile(d->ssl);
	enum tt_srtp_suite suite;
	size_t klen = 16, slen;
	if (!prof)
		return -EPROTO;
	if (prof->id == SRTP_AEAD_AES_128_GCM) {
		suite = TT_SRTP_AEAD_AES_128_GCM;
		slen = 12;
		d->suite = "AEAD_AES_128_GCM";
	} else if (prof->id == SRTP_AES128_CM_SHA1_80) {
		suite = TT_SRTP_AES_CM_128_HMAC_SHA1_80;
		slen = 14;
		d->suite = "AES_CM_128_HMAC_SHA1_80";
	} else {
		return -ENOTSUP;
	}
	uint8_t km[2 * (16 + 14)];
	static const char label[] = "EXTRACTOR-dtls_srtp";
	if (SSL_export_keying_material(d->ssl, km, 2 * (klen + slen), label, sizeof label - 1,
				       NULL, 0, 0) != 1)
		return -EPROTO;
	/* RFC 5764 4.2: client key, server key, client salt, server salt. */
	uint8_t client[TT_SRTP_MAX_KEY_LEN], server[TT_SRTP_MAX_KEY_LEN];
	memcpy(client, km, klen);
	memcpy(server, km + klen, klen);
	memcpy(client + klen, km + 2 * klen, slen);
	memcpy(server + klen, km + 2 * klen + slen, slen);
	int err = d->active ? tt_srtp_alloc(srtp, suite, client, server)
			    : tt_srtp_alloc(srtp, suite, server, client);
	OPENSSL_cleanse(km, sizeof km);
	OPENSSL_cleanse(client, sizeof client);
	OPENSSL_cleanse(server, sizeof server);
	return err;
}

static int check_peer(struct tt_dtls *d)
{
	X509 *peer = SSL_get1_peer_certificate(d->ssl);
	char fp[TT_DTLS_FP_MAX];
	int err = -EPERM;
	if (peer && fingerprint_of(peer, fp, sizeof fp) == 0 &&
	    !g_ascii_strcasecmp(fp + 8, d->remote_fp + 8))
		err = 0;
	X509_free(peer);
	return err;
}

static int step(struct tt_dtls *d, struct tt_srtp **srtp)
{
	int rc = SSL_do_handshake(d->ssl);
	if (rc == 1) {
		d->done = true;
		int err = check_peer(d);
		if (!err)
			err = export_keys(d, srtp);
		if (err) {
			d->failed = true;
			tt_info("DTLS refused: %s", err == -EPERM ? "peer certificate does not match "
				"the signalled fingerprint" : "no usable SRTP profile");
			return err;
		}
		tt_debug("DTLS done (%s, %s)", d->active ? "client" : "server", d->suite);
		return 1;
	}
	int e = SSL_get_error(d->ssl, rc);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return 0;
	d->failed = true;
	tt_info("DTLS handshake failed: %s", ERR_reason_error_string(ERR_peek_error()));
	clear_errors();
	return -EPROTO;
}

int tt__dtls_start(struct tt_dtls *d)
{
	if (d->started)
		return 0;
	d->started = true;
	d->started_us = g_get_monotonic_time();
	if (!d->active)
		return 0;
	struct tt_srtp *unused = NULL;
	int rc = step(d, &unused);
	return rc < 0 ? rc : 0;
}

int tt__dtls_input(struct tt_dtls *d, const uint8_t *buf, size_t len, struct tt_srtp **srtp)
{
	if (d->failed)
		return -EPROTO;
	if (!tt__dtls_is_record(buf, len) || len > 16384)
		return 0;
	if (!d->started) {
		d->started = true;
		d->started_us = g_get_monotonic_time();
	}
	BIO_write(d->rbio, buf, (int)len);
	if (!d->done)
		return step(d, srtp);
	/* After the handshake: alerts (close_notify) or retransmitted Finished; read and drop. */
	uint8_t junk[2048];
	int n = SSL_read(d->ssl, junk, sizeof junk);
	if (n <= 0 && SSL_get_error(d->ssl, n) == SSL_ERROR_ZERO_RETURN) {
		d->failed = true;
		return -ECONNRESET;
	}
	clear_errors();
	return 0;
}

int tt__dtls_tick(struct tt_dtls *d)
{
	if (!d->started || d->done || d->failed)
		return 0;
	if (g_get_monotonic_time() - d->started_us > HANDSHAKE_TIMEOUT_US) {
		d->failed = true;
		return -ETIMEDOUT;
	}
	if (DTLSv1_handle_timeout(d->ssl) < 0) {
		d->failed = true;
		clear_errors();
		return -ETIMEDOUT;
	}
	return 0;
}

bool tt__dtls_done(const struct tt_dtls *d)
{
	return d && d->done && !d->failed;
}

const char *tt__dtls_suite(const struct tt_dtls *d)
{
	return d ? d->suite : NULL;
}
