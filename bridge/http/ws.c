/* ws.c: WebSocket endpoints on the lws server. Messages are reassembled from fragments up to
 * the endpoint's size limit, rate-limited with a token bucket per connection, and handed to
 * the gateway whole. Sends are queued and each WRITEABLE callback writes as much as the
 * socket takes.
 *
 * "Not reading" is measured in bytes and time, never in messages: a burst of small events
 * (a join/leave storm) is not a slow reader, and a peer that reads is never dropped for it.
 * The queue only holds what the kernel has not taken (we write until the socket is choked),
 * so its oldest message's age is how long the peer has left our bytes untaken. A peer is
 * dropped with 1008 "not reading" when that age passes max_stall_ms, or when the queue
 * passes max_backlog_bytes (memory: a fast producer must not grow it without bound).
 *
 * Closing: we stop reading the peer (a flooder's pending input is not parsed, logged or
 * answered), write what is queued, and only hand the close to lws once the kernel has sent
 * it all (TIOCOUTQ 0) or max_stall_ms has passed. lws 4.1 then writes the Close frame and
 * close()s with the flooder's input unread, which makes the kernel send a reset that
 * throws away whatever it had not transmitted yet: without the wait the peer lost our
 * queued replies and the Close frame, and saw 1006 instead of the 1008 we sent. */
#define TT_LOG_DOMAIN "http"
#include "ws.h"
#include "http.h"

#include <errno.h>
#include <glib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <tutti/log.h>

#include "core/core_types.h"

#define DEF_MAX_MSG 16384
#define DEF_RATE 20
#define DEF_BACKLOG (1u << 20)
#define DEF_STALL_MS 10000u
#define MAX_STRIKES 100     /* dropped messages in a row before we hang up on a flood */
#define WRITE_BUDGET (256u * 1024)   /* bytes per WRITEABLE, then others get their turn */
#define DRAIN_POLL_MS 20    /* closing: how often we look whether the kernel sent it all */

/* One queued message, with room for lws's frame header in front (no copy at write). */
struct out_msg {
	gint64 at;                  /* monotonic time it was queued */
	size_t len;
	unsigned char buf[];        /* LWS_PRE + len */
};

struct endpoint {
	struct tt_ws_hub *hub;
	char *path;
	struct tt_gw_handle *gw;    /* NULL: an endpoint of the core itself (/api/events) */
	const struct tt_ws_ops *ops;
	void *arg;
	tt__ws_drained_h drained;   /* core endpoints: the queue is empty again */
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
	GQueue out;                 /* struct out_msg *, oldest first */
	size_t out_bytes;           /* payload bytes in out */
	size_t max_backlog;         /* limits, copied at open (the endpoint may go first) */
	unsigned stall_ms;
	guint stall_timer;          /* armed while out is not empty, or while draining */
	guint drain_timer;          /* closing: next look at the kernel's send queue */
	double tokens;
	gint64 tokens_at;
	unsigned strikes;
	bool closing;
	bool drain;                 /* closing: wait for the kernel to send what it holds */
	gint64 closing_at;
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

static int ep_set(struct tt_ws_hub *hub, struct tt_gw_handle *gw, const char *path,
		  const struct tt_ws_ops *ops, void *arg, tt__ws_drained_h drained)
{
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
	ep->drained = drained;
	g_ptr_array_add(hub->eps, ep);
	tt_info("WebSocket endpoint %s for %s", path, gw ? gw->gw->name : "the core");
	return 0;
}

int tt__ws_register(struct tt_ws_hub *hub, struct tt_gw_handle *gw, const char *path,
		    const struct tt_ws_ops *ops, void *arg)
{
	if (!hub)
		return -ENODEV;
	/* /api is the core's: a gateway must not shadow an admin route */
	if (!gw || !path || path[0] != '/' || strlen(path) > 200 || !strncmp(path, "/api", 4))
		return -EINVAL;
	return ep_set(hub, gw, path, ops, arg, NULL);
}

int tt__ws_register_core(struct tt_ws_hub *hub, const char *path, const struct tt_ws_ops *ops,
			 void *arg, tt__ws_drained_h drained)
{
	if (!hub)
		return -ENODEV;
	if (!path || path[0] != '/' || strlen(path) > 200)
		return -EINVAL;
	return ep_set(hub, NULL, path, ops, arg, drained);
}

static bool ep_usable(const struct endpoint *ep)
{
	return ep && (!ep->gw || ep->gw->started);
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
		/* once per connection: tt__ws_close stops reading, so nothing more is delivered */
		tt_info("WebSocket %s from %s: flood, closing", ep->path, ws->peer);
		tt__ws_close(ws, 1008, "rate limit");
	} else if (ep_usable(ep)) {
		ep->ops->message(ws->conn, ws, err ? NULL : ws->rx->str, err ? 0 : ws->rx->len, err);
	}
	g_string_truncate(ws->rx, 0);
	ws->rx_too_big = ws->rx_binary = false;
}

static void drop_queue(struct tt_ws *ws)
{
	struct out_msg *m;
	while ((m = g_queue_pop_head(&ws->out)))
		g_free(m);
	ws->out_bytes = 0;
}

static void ws_free(struct tt_ws *ws)
{
	if (ws->stall_timer)
		g_source_remove(ws->stall_timer);
	if (ws->drain_timer)
		g_source_remove(ws->drain_timer);
	drop_queue(ws);
	if (ws->rx)
		g_string_free(ws->rx, TRUE);
	g_free(ws);
}

static void begin_close(struct tt_ws *ws, unsigned code, const char *reason, bool drain)
{
	ws->closing = true;
	ws->drain = drain;
	ws->closing_at = g_get_monotonic_time();
	ws->close_code = code ? code : 1000;
	g_strlcpy(ws->close_reason, reason ? reason : "", sizeof ws->close_reason);
	/* Nothing the peer sends now is delivered: stop reading it, so a flooder's backlog
	 * costs nothing (lws keeps what it has read, unparsed). */
	lws_rx_flow_control(ws->wsi, 0);
	lws_callback_on_writable(ws->wsi);
}

/* The peer leaves our bytes untaken: drop what is queued and close with 1008 at once (no
 * drain: it took nothing for max_stall_ms already). Logged once per connection. */
static void not_reading(struct tt_ws *ws, const char *why)
{
	if (ws->closing && !ws->drain)
		return;
	tt_info("WebSocket %s from %s: not reading (%s; %zu bytes queued), closing",
		ws->ep ? ws->ep->path : "", ws->peer, why, ws->out_bytes);
	drop_queue(ws);
	begin_close(ws, 1008, "not reading", false);
}

static gboolean on_stall_timer(gpointer arg);

/* (Re)arm the stall timer for the oldest queued message, or for the closing deadline. */
static void arm_stall(struct tt_ws *ws)
{
	if (ws->stall_timer)
		return;
	gint64 since = ws->closing ? ws->closing_at : 0;
	struct out_msg *head = g_queue_peek_head(&ws->out);
	if (head && (!since || head->at < since))
		since = head->at;
	if (!since)
		return;
	gint64 due = since + (gint64)ws->stall_ms * 1000 - g_get_monotonic_time();
	ws->stall_timer = g_timeout_add(due > 0 ? (guint)((due + 999) / 1000) : 0,
					on_stall_timer, ws);
}

static gboolean on_stall_timer(gpointer arg)
{
	struct tt_ws *ws = arg;
	ws->stall_timer = 0;
	gint64 now = g_get_monotonic_time(), limit = (gint64)ws->stall_ms * 1000;
	struct out_msg *head = g_queue_peek_head(&ws->out);
	if (head && now - head->at >= limit)
		not_reading(ws, "a message waited too long");
	else if (ws->closing && now - ws->closing_at >= limit)
		lws_callback_on_writable(ws->wsi);   /* the close goes ahead without the drain */
	else
		arm_stall(ws);
	return G_SOURCE_REMOVE;
}

static gboolean on_drain_timer(gpointer arg)
{
	struct tt_ws *ws = arg;
	ws->drain_timer = 0;
	lws_callback_on_writable(ws->wsi);
	return G_SOURCE_REMOVE;
}

/* Bytes the kernel holds for the peer, not yet acknowledged; 0 when it cannot tell. */
static int kernel_unsent(struct tt_ws *ws)
{
	int n = 0;
	lws_sockfd_type fd = lws_get_socket_fd(ws->wsi);
	if (fd < 0 || ioctl(fd, TIOCOUTQ, &n) < 0)
		return 0;
	return n;
}

/* SERVER_WRITEABLE: write until the socket is choked (lws_send_pipe_choked also says so
 * while lws holds the tail of a partial write) or this turn's budget is spent. */
static int on_writeable(struct tt_ws *ws)
{
	size_t written = 0;
	struct out_msg *m;
	while (written < WRITE_BUDGET && (m = g_queue_peek_head(&ws->out)) &&
	       !lws_send_pipe_choked(ws->wsi)) {
		if (lws_write(ws->wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_TEXT) < 0)
			return -1;
		written += m->len;
		ws->out_bytes -= m->len;
		g_free(g_queue_pop_head(&ws->out));
	}
	if (!g_queue_is_empty(&ws->out)) {
		lws_callback_on_writable(ws->wsi);
		return 0;
	}
	if (ws->stall_timer && !ws->closing) {   /* all taken: nothing is stalled */
		g_source_remove(ws->stall_timer);
		ws->stall_timer = 0;
	}
	if (!ws->closing) {
		/* a producer that paces itself by what the peer takes (the event stream's
		 * replay) queues its next part now */
		if (ws->ep && ws->ep->drained && ep_usable(ws->ep))
			ws->ep->drained(ws->conn, ws);
		return 0;
	}
	if (ws->drain && kernel_unsent(ws) > 0 &&
	    g_get_monotonic_time() - ws->closing_at < (gint64)ws->stall_ms * 1000) {
		if (!ws->drain_timer)   /* POLLOUT would fire at once: poll, do not spin */
			ws->drain_timer = g_timeout_add(DRAIN_POLL_MS, on_drain_timer, ws);
		arm_stall(ws);
		return 0;
	}
	lws_close_reason(ws->wsi, (enum lws_close_status)ws->close_code,
			 (unsigned char *)ws->close_reason, strlen(ws->close_reason));
	return -1;
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
		ws->max_backlog = ep->ops->max_backlog_bytes ? ep->ops->max_backlog_bytes
							     : DEF_BACKLOG;
		ws->stall_ms = ep->ops->max_stall_ms ? ep->ops->max_stall_ms : DEF_STALL_MS;
		tt__http_peer(wsi, ws->peer, sizeof ws->peer);
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
		if (ws && ws->closing)
			return 0;   /* what lws had read before we stopped reading: ignored */
		if (!ws || !ws->ep)
			return -1;
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
		return ws ? on_writeable(ws) : 0;
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
	if (ws->out_bytes && ws->out_bytes + len > ws->max_backlog) {   /* one always fits */
		/* the peer does not take what we write: queueing more cannot help it */
		not_reading(ws, "backlog over the limit");
		return -ENOBUFS;
	}
	struct out_msg *m = g_malloc(sizeof *m + LWS_PRE + len);
	m->at = g_get_monotonic_time();
	m->len = len;
	memcpy(m->buf + LWS_PRE, text, len);
	g_queue_push_tail(&ws->out, m);
	ws->out_bytes += len;
	arm_stall(ws);
	lws_callback_on_writable(ws->wsi);
	return 0;
}

void tt__ws_close(struct tt_ws *ws, unsigned code, const char *reason)
{
	if (!ws || ws->closing)
		return;
	begin_close(ws, code, reason, true);
	arm_stall(ws);   /* bounds the wait for the queue and the kernel to drain */
}

const char *tt__ws_peer(const struct tt_ws *ws)
{
	return ws ? ws->peer : "";
}

size_t tt__ws_queued(const struct tt_ws *ws)
{
	return ws ? ws->out_bytes : 0;
}

int tt__ws_header(struct tt_ws *ws, enum lws_token_indexes h, char *buf, size_t len)
{
	if (!ws || !ws->wsi || !len)
		return -1;
	return lws_hdr_copy(ws->wsi, buf, (int)len, h);
}

const char *tt__ws_query(struct tt_ws *ws, const char *name, char *buf, size_t len)
{
	char key[64];
	if (!ws || !ws->wsi || !len)
		return NULL;
	g_snprintf(key, sizeof key, "%s=", name);
	return lws_get_urlarg_by_name(ws->wsi, key, buf, (int)len);
}
