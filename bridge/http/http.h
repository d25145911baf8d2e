/* http.h: the HTTP(S) server on libwebsockets, on the core loop (lws's GLib event library).
 * Serves web/ and the JSON API. Core thread only. */
#ifndef TT_HTTP_H
#define TT_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include "core/core_types.h"

struct tt_http;

int tt__http_alloc(struct tt_http **hp, struct tt_core *core);
struct tt_http *tt__http_free(struct tt_http *h);
/* SIGHUP: the HTTPS certificate and key read again from next's [http] tls_cert/tls_key
 * (also when the paths did not change) and used for new connections; those up keep theirs.
 * 0, or an error logged and the old certificate kept. Switching between HTTP and HTTPS
 * needs a restart (-EPERM, logged). */
int tt__http_reload(struct tt_http *h, const struct tt_conf *next);
/* The peer's numeric address for logs and the admin check, prefixed "proxied:" when the
 * request carries a reverse proxy's header (Forwarded, X-Forwarded-For, X-Real-IP): such
 * a request is never taken for a loopback one. */
struct lws;
void tt__http_peer(struct lws *wsi, char *buf, size_t len);
bool tt__http_proxied(struct lws *wsi);
/* The WebSocket endpoints (ws.h) of this server; NULL for NULL. */
struct tt_ws_hub *tt__http_ws_hub(struct tt_http *h);

/* A request as the router sees it; all borrowed for the handler call. */
#define TT_HTTP_MAX_PARAMS 4
struct tt_http_req {
	const char *method;              /* "GET", "POST", "PUT", "DELETE" */
	const char *path;                /* decoded path, no query */
	const char *params[TT_HTTP_MAX_PARAMS];  /* {captures} in route order */
	const char *body;                /* NUL-terminated; NULL when none */
	size_t body_len;
	const char *peer;                /* numeric address */
	const char *authorization;       /* header value or NULL */
	void *conn;                      /* the connection, for tt__http_defer */
	bool *deferred;                  /* set by tt__http_defer */
};

struct tt_http_resp {
	unsigned status;
	json_t *json;                    /* owned: the response body */
	GString *text;                   /* owned: a text/plain body instead (GET /metrics) */
	const char *type;                /* static: text's media type; NULL: Prometheus text */
	char *location;                  /* owned: a Location header (a 307 to another node) */
};

typedef void (*tt_http_route_h)(struct tt_core *core, const struct tt_http_req *req,
				struct tt_http_resp *resp);

/* A response that a handler completes later (after a media worker answered). Inside the
 * handler: pd = tt__http_defer(req) and leave resp empty; later, on the core thread,
 * tt__http_finish(pd, &resp) sends it (or drops it if the client went away) and frees pd. */
struct tt_http_pending;
struct tt_http_pending *tt__http_defer(const struct tt_http_req *req);
void tt__http_finish(struct tt_http_pending *pd, struct tt_http_resp *resp);
/* For a deferred call run again later (room_elsewhere.c): the connection to put in
 * req->conn, or NULL when the client went away meanwhile (then tt__http_finish frees pd). */
void *tt__http_pending_conn(const struct tt_http_pending *pd);
/* Frees pd without answering: the call run again deferred anew, and its own pending
 * answers. */
void tt__http_pending_forget(struct tt_http_pending *pd);

/* router.c: match and run a route; 404/405/401/403 answered there. Returns false when no
 * API route matched the path (the caller then serves files). */
bool tt__http_route(struct tt_core *core, const struct tt_http_req *req,
		    struct tt_http_resp *resp);
/* Admin rights: 0 when `given` (the bearer token, NULL: none) matches http.admin_token
 * (compared in constant time), or no token is set and peer is loopback; else the status to
 * refuse with, 401 (token set) or 403 (no token set, not loopback). */
unsigned tt__http_admin_denied(struct tt_core *core, const char *given, const char *peer);
/* Fill resp with {"error": msg, "field": field} and status. */
void tt__http_error(struct tt_http_resp *resp, unsigned status, const char *field,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* events/stream.c: GET /api/events without the WebSocket upgrade (426, saying how). */
void tt__api_events_plain(struct tt_core *core, const struct tt_http_req *req,
			  struct tt_http_resp *r);

/* Where a room lives when this node is one of a cluster (cluster/cluster.h). A room that
 * has no home here and another node's home: true, and `done(core, arg, resp)` runs later
 * with a 307 to `url` + `suffix` (a JSON body naming the home node). When the directory
 * cannot say (no [cluster], Redis down, no home, home here): `done` runs later with an empty
 * resp, or (false) is not called at all and the caller answers locally now. */
typedef void (*tt_http_home_h)(struct tt_core *core, void *arg, struct tt_http_resp *resp);
bool tt__http_cluster_redirect(struct tt_core *core, const char *room, const char *suffix,
			       tt_http_home_h done, void *arg);

/* room_elsewhere.c: true when the call (a route acting on room params[0]) was deferred
 * because this node does not have the room and the directory is asked where it lives: a
 * 307 to its home, or `fn` run here later with a copy of req. False: run it now. */
bool tt__http_room_elsewhere(struct tt_core *core, const struct tt_http_req *req,
			     tt_http_route_h fn);

/* api_cluster.c */
void tt__api_cluster(struct tt_core *core, const struct tt_http_req *req, struct tt_http_resp *r);

/* api_rooms.c */
void tt__api_health(struct tt_core *core, const struct tt_http_req *req, struct tt_http_resp *r);
void tt__api_rooms_list(struct tt_core *core, const struct tt_http_req *req,
			struct tt_http_resp *r);
void tt__api_room_get(struct tt_core *core, const struct tt_http_req *req,
		      struct tt_http_resp *r);
json_t *tt__api_participant_json(const struct tt_participant *p);
/* Every registered gateway: name, network, running, and its own statistics if it has any
 * (tt_gateway.stats). */
void tt__api_gateways(struct tt_core *core, const struct tt_http_req *req,
		      struct tt_http_resp *r);

/* GET /metrics (metrics/metrics.h), behind the admin check when http.metrics_token. */
void tt__api_metrics(struct tt_core *core, const struct tt_http_req *req,
		     struct tt_http_resp *r);

/* api_admin.c: rooms and plain RTP participants (admin) */
void tt__api_room_put(struct tt_core *core, const struct tt_http_req *req,
		      struct tt_http_resp *r);
void tt__api_room_delete(struct tt_core *core, const struct tt_http_req *req,
			 struct tt_http_resp *r);
void tt__api_part_post(struct tt_core *core, const struct tt_http_req *req,
		       struct tt_http_resp *r);
/* api_trunks.c: a cascaded room's trunks (cluster/cascade.h) */
void tt__api_trunk_post(struct tt_core *core, const struct tt_http_req *req,
			struct tt_http_resp *r);
void tt__api_trunk_delete(struct tt_core *core, const struct tt_http_req *req,
			  struct tt_http_resp *r);
void tt__api_trunk_list(struct tt_core *core, const struct tt_http_req *req,
			struct tt_http_resp *r);
void tt__api_part_get(struct tt_core *core, const struct tt_http_req *req,
		      struct tt_http_resp *r);
void tt__api_part_patch(struct tt_core *core, const struct tt_http_req *req,
			struct tt_http_resp *r);
void tt__api_part_delete(struct tt_core *core, const struct tt_http_req *req,
			 struct tt_http_resp *r);

/* The admin handlers' body checks (api_admin.c): the body as a JSON object (an empty body is
 * {} when optional), and no keys but `allowed` (NULL-terminated); on failure r has the 400
 * naming the problem and NULL / false is returned. */
json_t *tt__api_body_object(const struct tt_http_req *req, struct tt_http_resp *r,
			    bool optional);
bool tt__api_only_keys(json_t *o, const char *const *allowed, struct tt_http_resp *r);

/* api_meeting.c: meetings (admin): PATCH a room, its recording */
void tt__api_room_patch(struct tt_core *core, const struct tt_http_req *req,
			struct tt_http_resp *r);
void tt__api_recording_get(struct tt_core *core, const struct tt_http_req *req,
			   struct tt_http_resp *r);
void tt__api_recording_post(struct tt_core *core, const struct tt_http_req *req,
			    struct tt_http_resp *r);
/* The HTTP status for a meeting/ error (-EPERM 403, -ENOTSUP 501 ...). */
unsigned tt__api_meeting_status(int rc);

#endif
