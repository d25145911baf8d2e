/* tls.c: reloading the certificate of sofia-sip's TLS listener (sips:) on SIGHUP.
 *
 * sofia-sip 1.12.11 (Debian 12) reads <tls_cert_dir>/agent.pem once, into an SSL_CTX it
 * creates in nua_create() and keeps private: no getter, no reload call (upstream added
 * nua_reload_tls() in 1.13.18; docs/deploy.md). Each TLS connection it accepts or opens
 * later is an SSL_new() on that context, and OpenSSL copies the context's certificate
 * into a connection when it is created. So loading new files into that context (as the
 * HTTPS reload does with lws's) makes new connections present the new certificate while
 * the connections already up, and the calls on them, keep theirs.
 *
 * We find the context through OpenSSL's public ex_data API, not through sofia's structs:
 * an ex_data index on SSL_CTX whose "new" callback OpenSSL calls for every SSL_CTX created
 * in the process. While nua_create() runs on the core thread (a thread-local flag; other
 * threads' contexts, lws's, are not ours) the callback records each new context; one that
 * sofia frees again before nua_create() returns is dropped by the "free" callback. Then a
 * context is kept (with a reference of ours) only if it holds exactly the certificate that
 * agent.pem holds, i.e. sofia loaded agent.pem into it; we load the file into it once more
 * then, with its chain (sofia loads the first certificate only). Fails safe: with no such context
 * (another sofia version that creates its contexts elsewhere, a file that changed during
 * the start) nothing is ever loaded into anything, and a reload that finds agent.pem
 * changed says that SIP TLS needs a restart.
 *
 * Core thread only, except the two OpenSSL callbacks (any thread; they touch only the
 * calling thread's capture list). */
#define TT_LOG_DOMAIN "sip"
#include "sip.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <string.h>
#include <time.h>

#include <tutti/certfiles.h>
#include <tutti/errno.h>
#include <tutti/log.h>

static _Thread_local GPtrArray *capturing;   /* SSL_CTX * made during nua_create() */

static void ctx_new(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
		    void *argp)
{
	(void)ptr, (void)ad, (void)idx, (void)argl, (void)argp;
	if (capturing && parent)
		g_ptr_array_add(capturing, parent);
}

static void ctx_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
		     void *argp)
{
	(void)ptr, (void)ad, (void)idx, (void)argl, (void)argp;
	if (capturing && parent)
		g_ptr_array_remove(capturing, parent);
}

void tt__sip_tls_capture_begin(struct sipgw *gw)
{
	static gsize registered;
	(void)gw;
	if (g_once_init_enter(&registered)) {
		/* the index is never used for data: it exists for its callbacks, for the
		 * life of the process (OpenSSL has no way to unregister one anyway) */
		int idx = CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_SSL_CTX, 0, NULL, ctx_new, NULL,
						  ctx_free);
		if (idx < 0)
			tt_warn("sips: OpenSSL refused an SSL_CTX ex_data index: the SIP TLS "
				"certificate will not be reloaded on SIGHUP");
		g_once_init_leave(&registered, 1);
	}
	capturing = g_ptr_array_new();
}

/* The first certificate of a PEM file (agent.pem: the certificate, then its key), or NULL. */
static X509 *first_cert(const char *path)
{
	BIO *b = BIO_new_file(path, "r");
	if (!b)
		return NULL;
	X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	ERR_clear_error();
	return x;
}

void tt__sip_tls_capture_end(struct sipgw *gw, const char *cert_dir)
{
	GPtrArray *made = capturing;
	capturing = NULL;
	if (!made)
		return;
	if (!cert_dir || !*cert_dir || !gw->nua) {
		g_ptr_array_free(made, TRUE);
		return;
	}
	gw->tls_agent = g_build_filename(cert_dir, "agent.pem", NULL);
	gw->tls_ctxs = g_ptr_array_new_with_free_func((GDestroyNotify)SSL_CTX_free);
	X509 *want = first_cert(gw->tls_agent);
	for (unsigned i = 0; want && i < made->len; i++) {
		SSL_CTX *ctx = made->pdata[i];
		X509 *have = SSL_CTX_get0_certificate(ctx);
		if (have && X509_cmp(have, want) == 0 && SSL_CTX_up_ref(ctx) == 1)
			g_ptr_array_add(gw->tls_ctxs, ctx);
	}
	gw->tls_loaded = want;   /* what a reload without a context compares with */
	if (gw->tls_ctxs->len == 0)
		tt_warn("sips: sofia-sip's TLS context holding %s was not found (%u made at "
			"start): a new certificate there needs a restart of tutti",
			gw->tls_agent, made->len);
	else
		tt_debug("sips: %u TLS context(s) of sofia-sip found for reloading",
			 gw->tls_ctxs->len);
	/* loaded once more, by us: sofia loads only the first certificate of agent.pem, and
	 * a certbot fullchain.pem's intermediates must reach clients from the start, as after
	 * a reload */
	struct tt_certinfo ci;
	char *err = NULL;
	for (unsigned i = 0; i < gw->tls_ctxs->len; i++)
		if (tt_certfiles_use(gw->tls_ctxs->pdata[i], gw->tls_agent, gw->tls_agent, &ci,
				     &err)) {
			tt_error("sips: %s; serving the certificate sofia-sip loaded", err);
			g_clear_pointer(&err, g_free);
		}
	if (tt_certfiles_check(gw->tls_agent, gw->tls_agent, &ci, NULL) == 0)
		tt_certinfo_log(TT_LOG_DOMAIN, "sips: certificate", gw->tls_agent, &ci);
	g_ptr_array_free(made, TRUE);
}

int tt__sip_tls_reload(struct sipgw *gw)
{
	if (!gw->tls_agent)
		return 0;   /* no sips: listener */
	/* read again even when nothing seems to have changed: an ACME client renews in place */
	struct tt_certinfo ci;
	char *err = NULL;
	int rc = tt_certfiles_check(gw->tls_agent, gw->tls_agent, &ci, &err);
	if (rc) {
		tt_error("reload: [sip] tls_cert_dir: %s; SIP TLS keeps the certificate it had",
			 err);
		g_free(err);
		return rc;
	}
	if (gw->tls_ctxs->len == 0) {
		X509 *now = first_cert(gw->tls_agent);
		bool changed = !now || !gw->tls_loaded || X509_cmp(now, (X509 *)gw->tls_loaded) != 0;
		X509_free(now);
		if (changed)
			tt_warn("reload: SIP TLS certificate %s changed on disk: restart needed for "
				"SIP TLS (sofia-sip's TLS context was not found at start)",
				gw->tls_agent);
		return changed ? -EPERM : 0;
	}
	for (unsigned i = 0; i < gw->tls_ctxs->len; i++) {
		rc = tt_certfiles_use(gw->tls_ctxs->pdata[i], gw->tls_agent, gw->tls_agent, &ci,
				      &err);
		if (rc) {
			tt_error("reload: [sip] tls_cert_dir: %s; SIP TLS keeps the certificate it "
				 "had", err);
			g_free(err);
			return rc;
		}
	}
	tt_certinfo_log(TT_LOG_DOMAIN, "sips: reloaded certificate", gw->tls_agent, &ci);
	return 0;
}

void tt__sip_tls_free(struct sipgw *gw)
{
	if (gw->tls_ctxs)
		g_ptr_array_free(gw->tls_ctxs, TRUE);
	gw->tls_ctxs = NULL;
	X509_free((X509 *)gw->tls_loaded);
	gw->tls_loaded = NULL;
	g_free(gw->tls_agent);
	gw->tls_agent = NULL;
}
