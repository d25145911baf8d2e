/* webhook.c: every event POSTed to [events] webhook_url, signed, in order, in batches.
 *
 * One request at a time, so the receiver sees the events in order: a batch of up to
 * webhook_batch events from the head of the queue, as {"boot": B, "dropped": D, "events":
 * [...]}, with X-Tutti-Signature: sha256=HEX(HMAC-SHA256(webhook_secret, body)). A 2xx answer
 * delivers it; anything else (no connection, another status, no answer within
 * webhook_timeout_ms) sends the same batch again after a pause that starts at
 * webhook_retry_ms and doubles up to 60 s. The queue holds at most webhook_queue events:
 * when it is full the oldest go, counted in "dropped" and in the log.
 *
 * GIO's asynchronous sockets on the core loop, never a blocking call: the core thread runs
 * every room's signalling, and a receiver that hangs must cost it nothing. GIO is already
 * linked (GLib), where lws's client would share the server's context and its per-connection
 * callbacks, and libcurl is not among our dependencies. HMAC: GLib's g_compute_hmac_for_data
 * (OpenSSL 3 deprecates the one-shot HMAC()). http:// only. */
#define TT_LOG_DOMAIN "events"
#include <gio/gio.h>
#include <string.h>
#include <tutti/conf.h>
#include <tutti/log.h>

#include "events/events_priv.h"

#define BACKOFF_MAX_MS 60000u

static unsigned attempts_live;   /* core thread: requests GIO has not finished with */

/* One request in flight. It outlives the webhook if freed meanwhile (w NULL): GIO's
 * callbacks still come, and find nothing to do but free it. */
struct attempt {
	struct tt_webhook *w;
	GCancellable *cancel;
	GSocketConnection *conn;
	char *req;
	size_t req_len;
	char buf[512];
	size_t got;
	guint timeout;
};

struct tt_webhook {
	struct tt_events *evs;
	GQueue q;                /* struct tt_ev *, oldest first, waiting */
	GPtrArray *batch;        /* struct tt_ev *: the batch in flight or to retry */
	GSocketClient *client;
	struct attempt *att;     /* in flight, or NULL */
	guint retry_timer;
	unsigned backoff_ms;     /* the next pause; 0 after a success */
	uint64_t dropped;        /* events the full queue lost, in all */
	uint64_t dropped_told;   /* ... of which the log has told */
	uint64_t delivered, failures;
	char *bad_url;           /* the URL last refused, logged once */
};

char *tt__webhook_signature(const char *secret, const char *body, size_t len)
{
	char *hex = g_compute_hmac_for_data(G_CHECKSUM_SHA256, (const guchar *)secret,
					    strlen(secret), (const guchar *)body, len);
	char *sig = g_strconcat("sha256=", hex, NULL);
	g_free(hex);
	return sig;
}

static const struct tt_conf *conf(struct tt_webhook *w)
{
	return w->evs->core->conf;
}

static const char *url(struct tt_webhook *w)
{
	const char *u = tt_conf_str(conf(w), "events", "webhook_url");
	return u && *u ? u : NULL;
}

/* http://host[:port][/path]: 0 and the parts (owned by the caller), or -EINVAL. */
static int split_url(const char *u, char **host, int *port, char **path)
{
	GUri *uri = g_uri_parse(u, G_URI_FLAGS_NONE, NULL);
	if (!uri || g_strcmp0(g_uri_get_scheme(uri), "http") || !g_uri_get_host(uri) ||
	    !*g_uri_get_host(uri) || g_uri_get_userinfo(uri)) {
		if (uri)
			g_uri_unref(uri);
		return -EINVAL;
	}
	*host = g_strdup(g_uri_get_host(uri));
	*port = g_uri_get_port(uri) > 0 ? g_uri_get_port(uri) : 80;
	const char *p = g_uri_get_path(uri), *q = g_uri_get_query(uri);
	*path = g_strconcat(p && *p ? p : "/", q ? "?" : "", q ? q : "", NULL);
	g_uri_unref(uri);
	return 0;
}

static void kick(struct tt_webhook *w);

static void attempt_free(struct attempt *a)
{
	if (a->timeout)
		g_source_remove(a->timeout);
	if (a->conn) {
		g_io_stream_close(G_IO_STREAM(a->conn), NULL, NULL);
		g_object_unref(a->conn);
	}
	g_object_unref(a->cancel);
	g_free(a->req);
	g_free(a);
	attempts_live--;
}

static gboolean on_retry(gpointer arg)
{
	struct tt_webhook *w = arg;
	w->retry_timer = 0;
	kick(w);
	return G_SOURCE_REMOVE;
}

/* The attempt ended: status is the HTTP status, or 0 with `why` when there was none. */
static void finish(struct attempt *a, unsigned status, const char *why)
{
	struct tt_webhook *w = a->w;
	if (!w) {   /* the webhook is gone (shutdown): only the attempt is left to free */
		attempt_free(a);
		return;
	}
	w->att = NULL;
	attempt_free(a);
	if (status >= 200 && status < 300) {
		w->delivered += w->batch->len;
		g_ptr_array_set_size(w->batch, 0);
		w->backoff_ms = 0;
		kick(w);
		return;
	}
	w->failures++;
	unsigned first = (unsigned)tt_conf_int(conf(w), "events", "webhook_retry_ms");
	w->backoff_ms = w->backoff_ms ? MIN(w->backoff_ms * 2, BACKOFF_MAX_MS) : first;
	char st[32];
	g_snprintf(st, sizeof st, "status %u", status);
	tt_warn("webhook: %u events not delivered (%s); again in %u ms", w->batch->len,
		status ? st : why, w->backoff_ms);
	w->retry_timer = g_timeout_add(w->backoff_ms, on_retry, w);
}

static void fail(struct attempt *a, GError *err)
{
	char *why = g_strdup(err ? err->message : "closed");
	if (err && g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		g_free(why), why = g_strdup("no answer in time");
	if (err)
		g_error_free(err);
	finish(a, 0, why);
	g_free(why);
}

static void on_read(GObject *src, GAsyncResult *res, gpointer arg)
{
	struct attempt *a = arg;
	GError *err = NULL;
	gssize n = g_input_stream_read_finish(G_INPUT_STREAM(src), res, &err);
	if (n <= 0) {
		fail(a, err);
		return;
	}
	a->got += (size_t)n;
	a->buf[a->got] = '\0';
	char *eol = strstr(a->buf, "\r\n");
	if (!eol && a->got < sizeof a->buf - 1) {   /* the status line is not whole yet */
		g_input_stream_read_async(G_INPUT_STREAM(src), a->buf + a->got,
					  sizeof a->buf - 1 - a->got, G_PRIORITY_DEFAULT, a->cancel,
					  on_read, a);
		return;
	}
	unsigned status = 0;
	if (!g_str_has_prefix(a->buf, "HTTP/1.") || sscanf(a->buf + 8, " %3u", &status) != 1)
		finish(a, 0, "not an HTTP answer");
	else
		finish(a, status, NULL);
}

static void on_written(GObject *src, GAsyncResult *res, gpointer arg)
{
	struct attempt *a = arg;
	GError *err = NULL;
	if (!g_output_stream_write_all_finish(G_OUTPUT_STREAM(src), res, NULL, &err)) {
		fail(a, err);
		return;
	}
	GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(a->conn));
	g_input_stream_read_async(in, a->buf, sizeof a->buf - 1, G_PRIORITY_DEFAULT, a->cancel,
				  on_read, a);
}

static void on_connected(GObject *src, GAsyncResult *res, gpointer arg)
{
	struct attempt *a = arg;
	GError *err = NULL;
	a->conn = g_socket_client_connect_to_host_finish(G_SOCKET_CLIENT(src), res, &err);
	if (!a->conn) {
		fail(a, err);
		return;
	}
	GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(a->conn));
	g_output_stream_write_all_async(out, a->req, a->req_len, G_PRIORITY_DEFAULT, a->cancel,
					on_written, a);
}

static gboolean on_timeout(gpointer arg)
{
	struct attempt *a = arg;
	a->timeout = 0;
	g_cancellable_cancel(a->cancel);   /* the pending callback fails with CANCELLED */
	return G_SOURCE_REMOVE;
}

static char *build_request(struct tt_webhook *w, const char *host, int port, const char *path,
			   size_t *lenp)
{
	GString *body = g_string_new(NULL);
	g_string_append_printf(body, "{\"boot\":\"%s\",\"dropped\":%" G_GUINT64_FORMAT
			       ",\"events\":[", w->evs->boot, w->dropped);
	for (guint i = 0; i < w->batch->len; i++) {
		struct tt_ev *e = g_ptr_array_index(w->batch, i);
		if (i)
			g_string_append_c(body, ',');
		g_string_append_len(body, e->json, (gssize)e->len);
	}
	g_string_append(body, "]}");
	GString *req = g_string_new(NULL);
	g_string_append_printf(req, "POST %s HTTP/1.1\r\nHost: %s:%d\r\n"
			       "User-Agent: tutti/" TT_VERSION "\r\n"
			       "Content-Type: application/json\r\nContent-Length: %zu\r\n"
			       "Connection: close\r\n", path, host, port, body->len);
	const char *secret = tt_conf_str(conf(w), "events", "webhook_secret");
	if (secret && *secret) {
		char *sig = tt__webhook_signature(secret, body->str, body->len);
		g_string_append_printf(req, "X-Tutti-Signature: %s\r\n", sig);
		g_free(sig);
	}
	g_string_append(req, "\r\n");
	g_string_append_len(req, body->str, (gssize)body->len);
	g_string_free(body, TRUE);
	*lenp = req->len;
	return g_string_free(req, FALSE);
}

/* Send the next batch if nothing is in flight or waiting for its retry. */
static void kick(struct tt_webhook *w)
{
	const char *u = url(w);
	if (w->att || w->retry_timer || !u || (!w->batch->len && g_queue_is_empty(&w->q)))
		return;
	char *host, *path;
	int port;
	if (split_url(u, &host, &port, &path)) {
		if (g_strcmp0(w->bad_url, u)) {   /* a reload may have brought it: say it once */
			tt_error("events.webhook_url %s: not an http://host[:port]/path URL; "
				 "events wait in the queue", u);
			g_free(w->bad_url);
			w->bad_url = g_strdup(u);
		}
		return;
	}
	guint batch = (guint)tt_conf_int(conf(w), "events", "webhook_batch");
	while (w->batch->len < batch && !g_queue_is_empty(&w->q))
		g_ptr_array_add(w->batch, g_queue_pop_head(&w->q));
	struct attempt *a = g_new0(struct attempt, 1);
	attempts_live++;
	a->w = w;
	a->cancel = g_cancellable_new();
	a->req = build_request(w, host, port, path, &a->req_len);
	a->timeout = g_timeout_add((guint)tt_conf_int(conf(w), "events", "webhook_timeout_ms"),
				   on_timeout, a);
	w->att = a;
	g_socket_client_connect_to_host_async(w->client, host, (guint16)port, a->cancel,
					      on_connected, a);
	g_free(host);
	g_free(path);
}

void tt__webhook_push(struct tt_webhook *w, struct tt_ev *e)
{
	if (!url(w))
		return;
	size_t max = (size_t)tt_conf_int(conf(w), "events", "webhook_queue");
	g_queue_push_tail(&w->q, tt__ev_ref(e));
	while (g_queue_get_length(&w->q) > max) {
		tt__ev_unref(g_queue_pop_head(&w->q));
		w->dropped++;
	}
	/* a receiver that is down for long loses events all the time: tell it at most
	 * once per power of two, not once per event */
	if (w->dropped > w->dropped_told && (w->dropped & (w->dropped - 1)) == 0) {
		tt_warn("webhook: queue full (%zu events), %" G_GUINT64_FORMAT
			" oldest dropped so far", max, w->dropped);
		w->dropped_told = w->dropped;
	}
	kick(w);
}

struct tt_webhook *tt__webhook_new(struct tt_events *evs)
{
	struct tt_webhook *w = g_new0(struct tt_webhook, 1);
	w->evs = evs;
	g_queue_init(&w->q);
	w->batch = g_ptr_array_new_with_free_func((GDestroyNotify)tt__ev_unref);
	w->client = g_socket_client_new();
	return w;
}

int tt__webhook_check_url(const char *u)
{
	char *host, *path;
	int port;
	if (!u || !*u)
		return 0;
	if (split_url(u, &host, &port, &path))
		return -EINVAL;
	g_free(host);
	g_free(path);
	return 0;
}

void tt__webhook_free(struct tt_webhook *w)
{
	if (!w)
		return;
	if (w->att) {
		/* let GIO finish the cancelled request on this loop, so that nothing of it
		 * outlives the process's last free; bounded, it is only a cancellation */
		struct attempt *a = w->att;
		a->w = NULL;
		g_cancellable_cancel(a->cancel);
		w->att = NULL;
		gint64 until = g_get_monotonic_time() + G_USEC_PER_SEC;
		while (attempts_live && g_get_monotonic_time() < until)
			if (!g_main_context_iteration(NULL, FALSE))
				g_usleep(1000);
	}
	if (w->retry_timer)
		g_source_remove(w->retry_timer);
	if (w->delivered || w->failures || w->dropped)
		tt_info("webhook: %" G_GUINT64_FORMAT " events delivered, %" G_GUINT64_FORMAT
			" failed attempts, %" G_GUINT64_FORMAT " dropped, %u left", w->delivered,
			w->failures, w->dropped, g_queue_get_length(&w->q) + w->batch->len);
	g_queue_clear_full(&w->q, (GDestroyNotify)tt__ev_unref);
	g_ptr_array_free(w->batch, TRUE);
	g_object_unref(w->client);
	g_free(w->bad_url);
	g_free(w);
}
