/* ws.h: WebSocket endpoints on the HTTP server, for gateways (core.h ws_register). The core
 * knows paths and limits, never what a gateway speaks over them. Core thread only. */
#ifndef TT_WS_H
#define TT_WS_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <tutti/core.h>

struct tt_ws_hub;

struct tt_ws_hub *tt__ws_hub_new(void);
void tt__ws_hub_free(struct tt_ws_hub *hub);

/* Called from the lws "http" protocol callback for the WebSocket reasons; `slot` is a
 * pointer in the connection's per-session data that ws.c owns. Returns what the lws
 * callback must return. */
int tt__ws_callback(struct tt_ws_hub *hub, struct lws *wsi, enum lws_callback_reasons reason,
		    struct tt_ws **slot, void *in, size_t len);
bool tt__ws_is_ws_reason(enum lws_callback_reasons reason);

/* core.h entries */
int tt__ws_register(struct tt_ws_hub *hub, struct tt_gw_handle *gw, const char *path,
		    const struct tt_ws_ops *ops, void *arg);
int tt__ws_send(struct tt_ws *ws, const char *text, size_t len);
void tt__ws_close(struct tt_ws *ws, unsigned code, const char *reason);
const char *tt__ws_peer(const struct tt_ws *ws);

#endif
