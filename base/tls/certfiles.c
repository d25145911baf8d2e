/* certfiles.c: check and load a server's certificate and key files (tutti/certfiles.h).
 *
 * The files are read once into memory and everything is checked there before a live
 * context is touched, so a renewal that rewrites them while we read cannot leave a server
 * with a certificate and a key that do not match. */
#include <tutti/certfiles.h>
#include <tutti/log.h>

#include <errno.h>
#include <glib.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

struct pair {
	X509 *cert;
	STACK_OF(X509) *chain;
	EVP_PKEY *key;
};

static void pair_clear(struct pair *p)
{
	X509_free(p->cert);
	sk_X509_pop_free(p->chain, X509_free);
	EVP_PKEY_free(p->key);
	memset(p, 0, sizeof *p);
}

static int fail(char **errp, int rc, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static int fail(char **errp, int rc, const char *fmt, ...)
{
	ERR_clear_error();
	if (errp) {
		va_list ap;
		va_start(ap, fmt);
		*errp = g_strdup_vprintf(fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* A daemon has nobody to type a passphrase: OpenSSL's default callback would read the
 * terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag;
	*(bool *)u = true;
	return -1;
}

static BIO *slurp(const char *path, const char *what, char **errp, int *rc)
{
	gchar *data = NULL;
	gsize len = 0;
	GError *ge = NULL;
	*rc = 0;
	if (!path || !*path) {
		*rc = fail(errp, -EINVAL, "no %s file given", what);
		return NULL;
	}
	if (!g_file_get_contents(path, &data, &len, &ge)) {
		*rc = fail(errp, -ENOENT, "%s %s: cannot read: %s", what, path, ge->message);
		g_error_free(ge);
		return NULL;
	}
	BIO *b = BIO_new(BIO_s_mem());
	if (!b || BIO_write(b, data, (int)len) != (int)len) {
		BIO_free(b);
		b = NULL;
		*rc = fail(errp, -ENOMEM, "%s %s: out of memory", what, path);
	}
	g_free(data);
	return b;
}

static int read_pair(struct pair *p, const char *cert, const char *key, char **errp)
{
	int rc;
	memset(p, 0, sizeof *p);
	BIO *b = slurp(cert, "certificate", errp, &rc);
	if (!b)
		return rc;
	p->cert = PEM_read_bio_X509_AUX(b, NULL, NULL, NULL);
	if (!p->cert) {
		BIO_free(b);
		return fail(errp, -EINVAL, "certificate %s: no PEM certificate in it", cert);
	}
	p->chain = sk_X509_new_null();
	X509 *ca;
	while ((ca = PEM_read_bio_X509(b, NULL, NULL, NULL)))
		sk_X509_push(p->chain, ca);
	ERR_clear_error();   /* the end of the file reads as an error */
	BIO_free(b);

	b = slurp(key, "key", errp, &rc);
	if (!b) {
		pair_clear(p);
		return rc;
	}
	bool asked = false;
	p->key = PEM_read_bio_PrivateKey(b, NULL, no_passphrase, &asked);
	BIO_free(b);
	if (!p->key) {
		pair_clear(p);
		return fail(errp, -EINVAL, asked ? "key %s is encrypted: give it without a passphrase "
			    "(readable only by tutti's user)" : "key %s: no PEM private key in it", key);
	}
	if (X509_check_private_key(p->cert, p->key) != 1) {
		pair_clear(p);
		return fail(errp, -EINVAL, "key %s is not the key of certificate %s", key, cert);
	}
	return 0;
}

static void describe(const struct pair *p, struct tt_certinfo *info)
{
	if (!info)
		return;
	memset(info, 0, sizeof *info);
	X509_NAME_oneline(X509_get_subject_name(p->cert), info->subject, sizeof info->subject);
	struct tm tm;
	if (ASN1_TIME_to_tm(X509_get0_notAfter(p->cert), &tm) == 1)
		info->not_after = (int64_t)timegm(&tm);
}

int tt_certfiles_check(const char *cert, const char *key, struct tt_certinfo *info,
		       char **errp)
{
	struct pair p;
	int rc = read_pair(&p, cert, key, errp);
	if (rc)
		return rc;
	describe(&p, info);
	pair_clear(&p);
	return 0;
}

int tt_certfiles_use(void *ssl_ctx, const char *cert, const char *key, struct tt_certinfo *info,
		     char **errp)
{
	SSL_CTX *ctx = ssl_ctx;
	if (!ctx)
		return fail(errp, -EINVAL, "no TLS server to load %s into", cert ? cert : "(null)");
	struct pair p;
	int rc = read_pair(&p, cert, key, errp);
	if (rc)
		return rc;
	/* the certificate first: OpenSSL drops the old key if it does not match it, then
	 * the key that does; the chain replaces the old one as use_certificate_chain_file
	 * (what lws loaded at start) does */
	if (SSL_CTX_use_certificate(ctx, p.cert) != 1 || SSL_CTX_use_PrivateKey(ctx, p.key) != 1 ||
	    SSL_CTX_clear_chain_certs(ctx) != 1) {
		pair_clear(&p);
		return fail(errp, -EINVAL, "OpenSSL refused certificate %s with key %s", cert, key);
	}
	for (int i = 0; i < sk_X509_num(p.chain); i++)
		if (SSL_CTX_add1_chain_cert(ctx, sk_X509_value(p.chain, i)) != 1) {
			pair_clear(&p);
			return fail(errp, -EINVAL, "certificate %s: OpenSSL refused its chain", cert);
		}
	describe(&p, info);
	pair_clear(&p);
	return 0;
}

void tt_certinfo_log(const char *domain, const char *what, const char *path,
		     const struct tt_certinfo *ci)
{
	char when[32] = "?";
	time_t t = (time_t)ci->not_after;
	struct tm tm;
	if (t && gmtime_r(&t, &tm))
		strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", &tm);
	double days = t ? difftime(t, time(NULL)) / 86400.0 : 0;
	if (t && days < 14)
		tt_log_write(domain, TT_LOG_WARN, "%s %s (%s) expires %s, in %.1f days", what, path,
			     ci->subject, when, days);
	else
		tt_log_write(domain, TT_LOG_INFO, "%s %s (%s), valid until %s", what, path,
			     ci->subject, when);
}
