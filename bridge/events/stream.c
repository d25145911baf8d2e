/* stream.c: GET /api/events, a WebSocket for operators (admin only). Each client is a
 * cursor into the history: it is sent the events after the one it last saw, in order, and
 * never more than PUMP_BYTES ahead of what its socket took (the hub's drained callback asks
 * for the next part), so a replay of the whole history or a join storm costs a bounded
 * queue per client. A client that reads too slowly is dropped by the hub (bytes and time,
 * ws.c); one that falls behind the history is told so with a "gap" message.
 *
 * Who may connect: the admin token, from the Authorization header (Bearer), a `token` query
 * parameter, or a first message {"token": ...} (a browser's WebSocket cannot set headers);
 * without a configured token, loopback only, as the other admin routes. Refusals close with
 * 1008 and a reason. */
#define TT_LOG_DOMAIN "events"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <tutti/log.h>

#include "events/events_priv.h"
#include "http/http.h"
#include "http/ws.h"

#define PATH "/api/events"
#define PUMP_BYTES (256u * 1024)   /* queued per client before we wait for the socket */
#define AUTH_WAIT_MS 10000         /* for the first message, when no token came with it */
#define MAX_ROOM 256

struct client {
	struct tt_ev_stream *s;
	struct tt_ws *ws;
	char peer[64];
	bool started;                  /* authorised and sent its hello */
	uint64_t next;                 /* the next seq to send */
	char *room;                    /* only this room's events, or NULL */
	guint auth_timer;
};

struct tt_ev_stream {
	struct tt_events *evs;
	struct tt_ws_hub *hub;
	GList *clients;                /* started or not */
};

static void send_json(struct client *c, json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (s)
		tt__ws_send(c->ws, s, strlen(s));
	free(s);
}

/* Send what the client has not seen, up to the pump budget. */
static void pump(struct client *c)
{
	struct tt_events *evs = c->s->evs;
	while (c->started && c->next <= evs->seq && tt__ws_queued(c->ws) < PUMP_BYTES) {
		struct tt_ev *e = tt__ev_ring_get(&evs->hist, c->next);
		if (!e) {   /* it fell out of the history before the client took it */
			uint64_t first = tt__ev_ring_first(&evs->hist);
			tt_info("event stream client %s fell behind: %" G_GUINT64_FORMAT
				" events lost", c->peer, first - c->next);
			send_json(c, json_pack("{s:s, s:I, s:I, s:s}", "type", "gap", "next",
					       (json_int_t)first, "missed",
					       (json_int_t)(first - c->next), "reason",
					       "fell behind the history"));
			c->next = first;
			continue;
		}
		c->next++;
		if (c->room && strcmp(c->room, e->room) != 0)
			continue;
		if (tt__ws_send(c->ws, e->json, e->len) < 0)
			return;   /* closing: the hub said why */
	}
}

void tt__ev_stream_push(struct tt_ev_stream *s)
{
	for (GList *l = s->clients; l; l = l->next)
		pump(l->data);
}

static void on_drained(void *conn, struct tt_ws *ws)
{
	(void)ws;
	pump(conn);
}

static void refuse(struct client *c, const char *why)
{
	tt_info("event stream client %s refused: %s", c->peer, why);
	tt__ws_close(c->ws, 1008, why);
}

/* since: the last seq the client saw (from a previous connection); -1: none, live only. */
static void start(struct client *c, long long since, const char *room)
{
	struct tt_events *evs = c->s->evs;
	uint64_t first = tt__ev_ring_first(&evs->hist), last = evs->seq;
	if (!first)
		first = last + 1;   /* nothing kept yet */
	c->started = true;
	if (c->auth_timer) {
		g_source_remove(c->auth_timer);
		c->auth_timer = 0;
	}
	c->room = room && *room ? g_strdup(room) : NULL;
	send_json(c, json_pack("{s:s, s:s, s:I, s:I, s:I, s:o}", "type", "hello", "boot",
			       evs->boot, "seq", (json_int_t)last, "first", (json_int_t)first,
			       "history", (json_int_t)evs->hist.cap, "room",
			       c->room ? json_string(c->room) : json_null()));
	if (since < 0) {
		c->next = last + 1;
	} else if ((uint64_t)since > last) {
		/* numbers this bridge never gave: it restarted since (see "boot") */
		send_json(c, json_pack("{s:s, s:I, s:I, s:n, s:s}", "type", "gap", "since",
				       (json_int_t)since, "next", (json_int_t)first, "missed",
				       "reason", "since is after the last event: the bridge "
				       "restarted"));
		c->next = first;
	} else if ((uint64_t)since + 1 < first) {
		send_json(c, json_pack("{s:s, s:I, s:I, s:I, s:s}", "type", "gap", "since",
				       (json_int_t)since, "next", (json_int_t)first, "missed",
				       (json_int_t)(first - (uint64_t)since - 1), "reason",
				       "older than the history"));
		c->next = first;
	} else {
		c->next = (uint64_t)since + 1;
	}
	tt_debug("event stream client %s from %" G_GUINT64_FORMAT "%s%s", c->peer, c->next,
		 c->room ? " for room " : "", c->room ? c->room : "");
	pump(c);
}

/* "12" -> 12; -1 absent; -2 not a number */
static long long parse_since(const char *v)
{
	if (!v)
		return -1;
	char *end;
	errno = 0;
	long long n = strtoll(v, &end, 10);
	if (!*v || *end || errno || n < 0)
		return -2;
	return n;
}

static gboolean on_auth_timeout(gpointer arg)
{
	struct client *c = arg;
	c->auth_timer = 0;
	refuse(c, "no token");
	return G_SOURCE_REMOVE;
}

static int ev_open(void *arg, struct tt_ws *ws, void **connp)
{
	struct tt_ev_stream *s = arg;
	struct client *c = g_new0(struct client, 1);
	c->s = s;
	c->ws = ws;
	g_strlcpy(c->peer, tt__ws_peer(ws), sizeof c->peer);
	s->clients = g_list_prepend(s->clients, c);
	*connp = c;

	char auth[512], tok[300], since_s[32], room[MAX_ROOM + 1];
	const char *given = NULL;
	if (tt__ws_header(ws, WSI_TOKEN_HTTP_AUTHORIZATION, auth, sizeof auth) > 0)
		given = strncmp(auth, "Bearer ", 7) ? "" : auth + 7;   /* "": wrong on purpose */
	else
		given = tt__ws_query(ws, "token", tok, sizeof tok);
	const char *since_v = tt__ws_query(ws, "since", since_s, sizeof since_s);
	const char *room_v = tt__ws_query(ws, "room", room, sizeof room);
	long long since = parse_since(since_v);
	if (since == -2) {
		send_json(c, json_pack("{s:s, s:s}", "type", "error", "error",
				       "since must be a non-negative integer"));
		refuse(c, "bad since");
		return 0;
	}
	unsigned denied = tt__http_admin_denied(s->evs->core, given, c->peer);
	if (!denied) {
		start(c, since, room_v);
	} else if (given || denied == 403) {
		refuse(c, denied == 403 ? "admin only from loopback" : "unauthorized");
	} else {
		/* no token with the request: it may come as the first message */
		c->auth_timer = g_timeout_add(AUTH_WAIT_MS, on_auth_timeout, c);
	}
	return 0;
}

/* The first message of a client that sent no token with the request:
 * {"token": T, "since": N, "room": R} (since and room optional). Later messages are
 * answered with an error and change nothing. */
static void ev_message(void *conn, struct tt_ws *ws, const char *text, size_t len, int err)
{
	(void)ws;
	struct client *c = conn;
	if (c->started || err) {
		send_json(c, json_pack("{s:s, s:s}", "type", "error", "error", err
				       ? "message dropped (too long, binary or too many)"
				       : "nothing to say after the start; reconnect with since"));
		return;
	}
	json_error_t je;
	json_t *o = json_loadb(text, len, 0, &je);
	json_t *tok = o ? json_object_get(o, "token") : NULL;
	json_t *since = o ? json_object_get(o, "since") : NULL;
	json_t *room = o ? json_object_get(o, "room") : NULL;
	if (!json_is_object(o) || !json_is_string(tok) ||
	    (since && !(json_is_integer(since) && json_integer_value(since) >= 0)) ||
	    (room && !json_is_string(room))) {
		send_json(c, json_pack("{s:s, s:s}", "type", "error", "error",
				       "expected {\"token\": string, \"since\": integer, "
				       "\"room\": string}"));
		refuse(c, "bad first message");
	} else if (tt__http_admin_denied(c->s->evs->core, json_string_value(tok), c->peer)) {
		refuse(c, "unauthorized");
	} else {
		start(c, since ? (long long)json_integer_value(since) : -1,
		      room ? json_string_value(room) : NULL);
	}
	json_decref(o);
}

static void client_free(struct client *c)
{
	if (c->auth_timer)
		g_source_remove(c->auth_timer);
	g_free(c->room);
	g_free(c);
}

static void ev_close(void *conn, struct tt_ws *ws)
{
	(void)ws;
	struct client *c = conn;
	c->s->clients = g_list_remove(c->s->clients, c);
	client_free(c);
}

void tt__api_events_plain(struct tt_core *core, const struct tt_http_req *req,
			  struct tt_http_resp *r)
{
	(void)core;
	(void)req;
	tt__http_error(r, 426, NULL, "GET /api/events is a WebSocket: connect with an "
		       "Upgrade: websocket request (docs/meetings.md)");
}

static const struct tt_ws_ops ops = {
	.open = ev_open,
	.message = ev_message,
	.close = ev_close,
	.max_message = 4096,
	.max_rate = 5,
	/* a reader gets PUMP_BYTES at a time; more than that queued would be a bug */
	.max_backlog_bytes = 4 * PUMP_BYTES,
	.max_stall_ms = 10000,
};

int tt__ev_stream_alloc(struct tt_ev_stream **sp, struct tt_events *evs)
{
	struct tt_ev_stream *s = g_new0(struct tt_ev_stream, 1);
	s->evs = evs;
	s->hub = tt__http_ws_hub(evs->core->http);
	int rc = tt__ws_register_core(s->hub, PATH, &ops, s, on_drained);
	if (rc) {
		tt_error("cannot serve %s: %s", PATH, g_strerror(-rc));
		g_free(s);
		return rc;
	}
	*sp = s;
	return 0;
}

void tt__ev_stream_free(struct tt_ev_stream *s)
{
	if (!s)
		return;
	/* closes every connection without calling back: their state is ours to free */
	tt__ws_register_core(s->hub, PATH, NULL, NULL, NULL);
	g_list_free_full(s->clients, (GDestroyNotify)client_free);
	g_free(s);
}
