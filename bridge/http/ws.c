/* ws.c: WebSocket endpoints on the lws server. Messages are reassembled from fragments up to
 * the endpoint's size limit, rate-limited with a token bucket per connection, and handed to
 * the gateway whole; sends are queued and written one per WRITEABLE callback. */
#define TT_LOG_DOMAIN "http"
#include "ws.h"

#include <errno.h>
#include <glib.h>
#include <string.h>
#include <tutti/log.h>

#include "core/core_priv.h"

#define DEF_MAX_MSG 16384
#define DEF_RATE 20
#define DEF_QUEUE 256
#define MAX_STRIKES 100     /* dropped messages in a row before we hang up on a flood */

struct endpoint {
	struct tt_ws_hub *hub;
	char *path;
	struct tt_gw_handle *gw;
	const struct tt_ws_ops *ops;
	void *arg;
	GList *conns;               /* struct tt_ws * */
};

struct tt_ws_hub {
	GPtrArray *eps;             /* struct endpoint * */
};

struct tt_ws {
	struct lws *wsi;
	struct endpoint *ep;        /* NULL once detached (endpoint gone): no callbacks */
	void *conn;                 /* the gateway's state */
	char peer[64];
	GString *rx;
	bool rx_too_big, rx_binary;
	GQueue out;                 /* GString * */
	double tokens;
	gint64 tokens_at;
	unsigned strikes;
	bool closing;
	unsigned close_code;
	char close_reason[64];
};

struct tt_ws_hub *tt__ws_hub_new(void)
{
	struct tt_ws_hub *hub = g_new0(struct tt_ws_hub, 1);
	hub->eps = g_ptr_array_new();
	return hub;
}

static void ep_free(struct endpoint *ep)
{
	for (GList *l = ep->conns; l; l = l->next) {
		struct tt_ws *ws = l->data;
		ws->ep = NULL;
		tt__ws_close(ws, 1001, "going away");
	}
	g_list_free(ep->conns);
	g_free(ep->path);
	g_free(ep);
}

void tt__ws_hub_free(struct tt_ws_hub *hub)
{
	if (!hub)
		return;
	for (guint i = 0; i < hub->eps->len; i++)
		ep_free(g_ptr_array_index(hub->eps, i));
	g_ptr_array_free(hub->eps, TRUE);
	g_free(hub);
}

static struct endpoint *ep_find(struct tt_ws_hub *hub, const char *path)
{
	for (guint i = 0; i < hub->eps->len; i++) {
		struct endpoint *ep = g_ptr_array_index(hub->eps, i);
		if (!strcmp(ep->path, path))
			return ep;
	}
	return NULL;
}

int tt__ws_register(struct tt_ws_hub *hub, struct tt_gw_handle *gw, const char *path,
		    const struct tt_ws_ops *ops, void *arg)
{
	if (!hub)
		return -ENODEV;
	if (!gw || !path || path[0] != '/' || strlen(path) > 200 || !strncmp(path, "/api", 4))
		return -EINVAL;
	struct endpoint *ep = ep_find(hub, path);
	if (!ops) {
		if (!ep || ep->gw != gw)
			return -ENOENT;
		g_ptr_array_remove(hub->eps, ep);
		ep_free(ep);
		return 0;
	}
	if (ep)
		return -EEXIST;
	if (!ops->open || !ops->message || !ops->close)
		return -EINVAL;
	ep = g_new0(struct endpoint, 1);
	ep->hub = hub;
	ep->path = g_strdup(path);
	ep->gw = gw;
	ep->ops = ops;
	ep->arg = arg;
	g_ptr_array_add(hub->eps, ep);
	tt_info("WebSocket endpoint %s for gateway %s", path, gw->gw->name);
	return 0;
}

static bool ep_usable(const struct endpoint *ep)
{
	return ep && ep->gw->started;
}

static size_t max_msg(const struct endpoint *ep)
{
	return ep->ops->max_message ? ep->ops->max_message : DEF_MAX_MSG;
}

/* Token bucket: max_rate per second, bursts of twice that. */
static bool take_token(struct tt_ws *ws)
{
	unsigned rate = ws->ep->ops->max_rate ? ws->ep->ops->max_rate : DEF_RATE;
	gint64 now = g_get_monotonic_time();
	ws->tokens += (double)(now - ws->tokens_at) * rate / G_USEC_PER_SEC;
	ws->tokens_at = now;
	if (ws->tokens > 2.0 * rate)
		ws->tokens = 2.0 * rate;
	if (ws->tokens < 1.0)
		return false;
	ws->tokens -= 1.0;
	return true;
}

static void deliver(struct tt_ws *ws)
{
	struct endpoint *ep = ws->ep;
	int err = 0;
	if (ws->rx_binary)
		err = -EBADMSG;
	else if (ws->rx_too_big)
		err = -EMSGSIZE;
	else if (!take_token(ws))
		err = -EBUSY;
	ws->strikes = err ? ws->strikes + 1 : 0;
	if (ws->strikes > MAX_STRIKES) {
		tt_info("WebSocket %s from %s: flood, closing", ep->path, ws->peer);
		tt__ws_close(ws, 1008, "rate limit");
	} else if (!ws->closing && ep_usable(ep)) {
		ep->ops->message(ws->conn, ws, err ? NULL : ws->rx->str, err ? 0 : ws->rx->len, err);
	}
	g_string_truncate(ws->rx, 0);
	ws->rx_too_big = ws->rx_binary = false;
}

static void ws_free(struct tt_ws *ws)
{
	GString *s;
	while ((s = g_queue_pop_head(&ws->out)))
		g_string_free(s, TRUE);
	if (ws->rx)
		g_string_free(ws->rx, TRUE);
	g_free(ws);
}

static int write_one(struct tt_ws *ws)
{
	GString *s = g_queue_pop_head(&ws->out);
	if (s) {
		unsigned char *buf = g_malloc(LWS_PRE + s->len + 1);
		memcpy(buf + LWS_PRE, s->str, s->len);
		int n = lws_write(ws->wsi, buf + LWS_PRE, s->len, LWS_WRITE_TEXT);
		g_free(buf);
		g_string_free(s, TRUE);
		if (n < 0)
			return -1;
	}
	if (!g_queue_is_empty(&ws->out)) {
		lws_callback_on_writable(ws->wsi);
		return 0;
	}
	if (ws->closing) {
		lws_close_reason(ws->wsi, (enum lws_close_status)ws->close_code,
				 (unsigned char *)ws->close_reason, strlen(ws->close_reason));
		return -1;
	}
	return 0;
}

bool tt__ws_is_ws_reason(enum lws_callback_reasons reason)
{
	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
	case LWS_CALLBACK_ESTABLISHED:
	case LWS_CALLBACK_RECEIVE:
	case LWS_CALLBACK_SERVER_WRITEABLE:
	case LWS_CALLBACK_CLOSED:
		return true;
	default:
		return false;
	}
}

static struct endpoint *ep_of_wsi(struct tt_ws_hub *hub, struct lws *wsi)
{
	char uri[256];
	if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) <= 0)
		return NULL;
	return ep_find(hub, uri);
}

int tt__ws_callback(struct tt_ws_hub *hub, struct lws *wsi, enum lws_callback_reasons reason,
		    struct tt_ws **slot, void *in, size_t len)
{
	struct tt_ws *ws = slot ? *slot : NULL;
	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		return ep_usable(ep_of_wsi(hub, wsi)) ? 0 : -1;   /* unknown path: refused */
	case LWS_CALLBACK_ESTABLISHED: {
		struct endpoint *ep = ep_of_wsi(hub, wsi);
		if (!ep_usable(ep) || !slot)
			return -1;
		ws = g_new0(struct tt_ws, 1);
		ws->wsi = wsi;
		ws->ep = ep;
		ws->rx = g_string_new(NULL);
		g_queue_init(&ws->out);
		ws->tokens_at = g_get_monotonic_time();
		ws->tokens = 2.0 * (ep->ops->max_rate ? ep->ops->max_rate : DEF_RATE);
		lws_get_peer_simple(wsi, ws->peer, sizeof ws->peer);
		*slot = ws;
		ep->conns = g_list_prepend(ep->conns, ws);
		if (ep->ops->open(ep->arg, ws, &ws->conn)) {
			ep->conns = g_list_remove(ep->conns, ws);
			ws->ep = NULL;
			return -1;   /* CLOSED frees it */
		}
		tt_debug("WebSocket %s open from %s", ep->path, ws->peer);
		return 0;
	}
	case LWS_CALLBACK_RECEIVE:
		if (!ws || !ws->ep)
			return ws && ws->closing ? 0 : -1;
		if (lws_frame_is_binary(wsi))
			ws->rx_binary = true;
		if (!ws->rx_too_big && ws->rx->len + len > max_msg(ws->ep)) {
			ws->rx_too_big = true;
			g_string_truncate(ws->rx, 0);
		}
		if (!ws->rx_too_big && !ws->rx_binary)
			g_string_append_len(ws->rx, in, (gssize)len);
		if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi))
			deliver(ws);
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return ws ? write_one(ws) : 0;
	case LWS_CALLBACK_CLOSED:
		if (ws) {
			*slot = NULL;   /* slot is non-NULL whenever ws is */
			struct endpoint *ep = ws->ep;
			if (ep) {
				ep->conns = g_list_remove(ep->conns, ws);
				if (ep_usable(ep))
					ep->ops->close(ws->conn, ws);
			}
			ws_free(ws);
		}
		return 0;
	default:
		return 0;
	}
}

int tt__ws_send(struct tt_ws *ws, const char *text, size_t len)
{
	if (!ws || !text)
		return -EINVAL;
	if (ws->closing)
		return -ESHUTDOWN;
	unsigned cap = ws->ep && ws->ep->ops->max_queue ? ws->ep->ops->max_queue : DEF_QUEUE;
	if (g_queue_get_length(&ws->out) >= cap) {
		/* the peer does not read: it cannot be helped by queueing more */
		tt__ws_close(ws, 1008, "not reading");
		return -ENOBUFS;
	}
	g_queue_push_tail(&ws->out, g_string_new_len(text, (gssize)len));
	lws_callback_on_writable(ws->wsi);
	return 0;
}

void tt__ws_close(struct tt_ws *ws, unsigned code, const char *reason)
{
	if (!ws || ws->closing)
		return;
	ws->closing = true;
	ws->close_code = code ? code : 1000;
	g_strlcpy(ws->close_reason, reason ? reason : "", sizeof ws->close_reason);
	lws_callback_on_writable(ws->wsi);
}

const char *tt__ws_peer(const struct tt_ws *ws)
{
	return ws ? ws->peer : "";
}
