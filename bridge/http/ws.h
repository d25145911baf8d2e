/* ws.h: WebSocket endpoints on the HTTP server, for gateways (core.h ws_register). The core
 * knows paths and limits, never what a gateway speaks over them. Core thread only. */
#ifndef TT_WS_H
#define TT_WS_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <tutti/core.h>
#include <tutti/stats.h>

struct tt_ws_hub;

/* Every endpoint's connections together (an endpoint may come and go; these stay), for
 * GET /metrics through tt__ws_stat_fields. */
struct tt__ws_stats {
	uint32_t open;              /* connections now */
	uint64_t opened;            /* upgrades an endpoint accepted */
	uint64_t closed;            /* connections gone, for any reason */
	uint64_t not_reading;       /* of those, dropped: the peer left our bytes untaken */
	uint64_t flood;             /* of those, dropped: past the endpoint's message rate */
};
extern const struct tt_stat_field tt__ws_stat_fields[];
/* The hub's counters (NULL hub: NULL); valid until the hub is freed. */
const struct tt__ws_stats *tt__ws_hub_stats(const struct tt_ws_hub *hub);

struct tt_ws_hub *tt__ws_hub_new(void);
void tt__ws_hub_free(struct tt_ws_hub *hub);

/* Called from the lws "http" protocol callback for the WebSocket reasons; `slot` is a
 * pointer in the connection's per-session data that ws.c owns. Returns what the lws
 * callback must return. */
int tt__ws_callback(struct tt_ws_hub *hub, struct lws *wsi, enum lws_callback_reasons reason,
		    struct tt_ws **slot, void *in, size_t len);
bool tt__ws_is_ws_reason(enum lws_callback_reasons reason);

/* The queue of ws is empty again (every byte given to the socket), for a core endpoint
 * that paces what it queues. Core thread. */
typedef void (*tt__ws_drained_h)(void *conn, struct tt_ws *ws);

/* An endpoint of the core itself (GET /api/events): like ws_register without a gateway,
 * under /api too; ops NULL unregisters it and closes its connections without calling back.
 * The endpoint checks who may connect itself, in ops->open. */
int tt__ws_register_core(struct tt_ws_hub *hub, const char *path, const struct tt_ws_ops *ops,
			 void *arg, tt__ws_drained_h drained);
/* Payload bytes queued for ws and not yet written to its socket. */
size_t tt__ws_queued(const struct tt_ws *ws);
/* For ops->open (the upgrade request is still there): a header, copied into buf, and its
 * length or -1; a query argument's value ("since" of ?since=5), or NULL when absent. */
int tt__ws_header(struct tt_ws *ws, enum lws_token_indexes h, char *buf, size_t len);
const char *tt__ws_query(struct tt_ws *ws, const char *name, char *buf, size_t len);

/* core.h entries */
int tt__ws_register(struct tt_ws_hub *hub, struct tt_gw_handle *gw, const char *path,
		    const struct tt_ws_ops *ops, void *arg);
int tt__ws_send(struct tt_ws *ws, const char *text, size_t len);
void tt__ws_close(struct tt_ws *ws, unsigned code, const char *reason);
const char *tt__ws_peer(const struct tt_ws *ws);

#endif
