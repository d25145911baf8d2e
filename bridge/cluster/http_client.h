/* http_client.h: the few HTTP requests one node makes to another's admin API (a trunk's
 * set-up and tear-down, cascade.h), with libsoup 3 on the core loop: a timeout of its own,
 * redirects not followed, no proxy. [cluster] api_url allows http:// only for now; libsoup
 * would speak https:// as it is (with glib-networking), untested so far.
 *
 * Threading: core thread (the default main context). */
#ifndef TT_CLUSTER_HTTP_CLIENT_H
#define TT_CLUSTER_HTTP_CLIENT_H

#include <stddef.h>

/* status 0: no answer (msg says why); body is the answer's body (NUL-terminated, borrowed
 * for the call). Runs exactly once, later, on the core thread. */
typedef void (*tt_http_client_h)(void *arg, unsigned status, const char *body, size_t len,
				 const char *msg);

/* method to base_url + path ("http://host:port" + "/api/..."), with `token` as the bearer
 * (NULL or "": none) and `body` (NULL: none) as application/json. */
void tt__http_client_request(const char *method, const char *base_url, const char *path,
			     const char *token, const char *body, tt_http_client_h cb, void *arg);

#endif
