/* http_client.c: the few HTTP requests one node makes to another's admin API, with libsoup
 * 3 (Debian's libsoup-3.0) on the core loop: answers with Content-Length or chunked,
 * redirects not followed, one session per request, a timeout of its own, and no proxy
 * (nodes talk to each other directly, whatever http_proxy says). Written by hand before,
 * it is libsoup now because libsoup is in the process anyway (libnice -> gupnp 1.6). */
#define TT_LOG_DOMAIN "cluster"
#include "http_client.h"

#include <libsoup/soup.h>
#include <string.h>

#define TIMEOUT_S 5

struct req {
	SoupSession *session;
	SoupMessage *msg;
	tt_http_client_h cb;
	void *arg;
};

static void on_done(GObject *src, GAsyncResult *res, gpointer data)
{
	struct req *r = data;
	GError *err = NULL;
	GBytes *bytes = soup_session_send_and_read_finish(SOUP_SESSION(src), res, &err);
	if (!bytes) {
		r->cb(r->arg, 0, "", 0, err ? err->message : "no answer");
	} else {
		gsize len = 0;
		const char *data_ = g_bytes_get_data(bytes, &len);
		char *body = g_strndup(data_ ? data_ : "", len);   /* NUL-terminated for readers */
		r->cb(r->arg, soup_message_get_status(r->msg), body, len, NULL);
		g_free(body);
		g_bytes_unref(bytes);
	}
	g_clear_error(&err);
	g_object_unref(r->msg);
	g_object_unref(r->session);
	g_free(r);
}

static gboolean fail_later(gpointer data)
{
	struct req *r = data;
	r->cb(r->arg, 0, "", 0, "not a valid URL");
	g_free(r);
	return G_SOURCE_REMOVE;
}

void tt__http_client_request(const char *method, const char *base_url, const char *path,
			     const char *token, const char *body, tt_http_client_h cb, void *arg)
{
	struct req *r = g_new0(struct req, 1);
	r->cb = cb;
	r->arg = arg;
	char *url = g_strconcat(base_url, path, NULL);
	r->msg = soup_message_new(method, url);
	g_free(url);
	if (!r->msg) {   /* the callback always runs later, never inside the call */
		g_idle_add(fail_later, r);
		return;
	}
	soup_message_add_flags(r->msg, SOUP_MESSAGE_NO_REDIRECT);
	SoupMessageHeaders *h = soup_message_get_request_headers(r->msg);
	if (token && *token) {
		char *auth = g_strconcat("Bearer ", token, NULL);
		soup_message_headers_replace(h, "Authorization", auth);
		g_free(auth);
	}
	if (body) {
		GBytes *b = g_bytes_new(body, strlen(body));
		soup_message_set_request_body_from_bytes(r->msg, "application/json", b);
		g_bytes_unref(b);
	}
	r->session = soup_session_new_with_options("timeout", TIMEOUT_S, "proxy-resolver", NULL,
						   "user-agent", "tutti-node", NULL);
	soup_session_send_and_read_async(r->session, r->msg, G_PRIORITY_DEFAULT, NULL, on_done, r);
}
