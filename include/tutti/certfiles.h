/* certfiles.h: a TLS server's certificate and key files, as an operator gives them (HTTPS's
 * [http] tls_cert and tls_key, SIP's agent.pem holding both).
 *
 * Why: the libraries that serve TLS (libwebsockets, sofia-sip) load these files themselves
 * and, when one is unreadable or the key is not the certificate's, say only that they could
 * not start ("cannot create context"), or print to stderr. Checking first gives the
 * operator a line naming the file and the fault, at --check-config and at start. And
 * neither library can change its certificate while running; tt_certfiles_use() loads a
 * checked pair into the server's live SSL_CTX, which is all a reload needs: OpenSSL copies
 * the certificate into each connection when it is created, so handshakes from then on
 * present the new one and connections already up keep theirs.
 *
 * Threading: any thread, but tt_certfiles_use() only on the thread that runs the server
 * whose SSL_CTX it changes (a handshake must not read it half changed). Strings returned
 * through errp are new (g_free). */
#ifndef TUTTI_CERTFILES_H
#define TUTTI_CERTFILES_H

#include <stdint.h>

struct tt_certinfo {
	char subject[256];     /* one line, e.g. "CN=bridge.example.org" */
	int64_t not_after;     /* Unix time the certificate expires */
};

/* Check that `cert` (PEM, the certificate then any chain) and `key` (PEM; may be the same
 * file) can be read and belong together. 0 and *info filled (info may be NULL), or
 * -ENOENT (a file cannot be read) or -EINVAL (not PEM of that kind, an encrypted key, or a
 * key that is not the certificate's), with *errp (may be NULL) saying which file and why. */
int tt_certfiles_check(const char *cert, const char *key, struct tt_certinfo *info,
		       char **errp);

/* Check the pair as above, then load it into `ssl_ctx` (an OpenSSL
 * SSL_CTX *, typed void * so that users need no OpenSSL headers). On any error ssl_ctx is
 * untouched. */
int tt_certfiles_use(void *ssl_ctx, const char *cert, const char *key, struct tt_certinfo *info,
		     char **errp);

/* What an operator wants to see of a certificate being served, logged in `domain`: whose,
 * and until when, as a warning when that is under 14 days away (nothing else tells before
 * clients refuse it). "WHAT PATH (SUBJECT), valid until 2027-01-06 23:49 UTC". */
void tt_certinfo_log(const char *domain, const char *what, const char *path,
		     const struct tt_certinfo *ci);

#endif
