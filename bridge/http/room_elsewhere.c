/* room_elsewhere.c: an API call about one room that this node does not have, on a node of a
 * cluster. The room may be at home on another node: the directory is asked first, and a
 * room at home there is a 307 to the same path on that node (307 keeps the method and the
 * body, so a PATCH or DELETE is sent again as it was). Any other answer (no home, the home is
 * this node, Redis down or lost meanwhile) runs the call here as if nothing had been asked:
 * a 404 for a room that nobody has, or the room if it came while the directory answered.
 * Core thread only. */
#define TT_LOG_DOMAIN "http"
#include "http.h"

#include <string.h>

#include "room/room.h"

struct elsewhere {
	struct tt_http_pending *pd;
	tt_http_route_h fn;
	char *method, *path, *body, *peer, *auth;
	size_t body_len;
	char *params[TT_HTTP_MAX_PARAMS];
};

static void elsewhere_free(struct elsewhere *e)
{
	g_free(e->method);
	g_free(e->path);
	g_free(e->body);
	g_free(e->peer);
	g_free(e->auth);
	for (unsigned i = 0; i < TT_HTTP_MAX_PARAMS; i++)
		g_free(e->params[i]);
	g_free(e);
}

static void on_home(struct tt_core *core, void *arg, struct tt_http_resp *resp)
{
	struct elsewhere *e = arg;
	void *conn = tt__http_pending_conn(e->pd);
	if (resp->status == 307 || !conn) {
		tt__http_finish(e->pd, resp);
		elsewhere_free(e);
		return;
	}
	bool deferred = false;
	struct tt_http_req req = {
		.method = e->method, .path = e->path, .body = e->body, .body_len = e->body_len,
		.peer = e->peer, .authorization = e->auth, .conn = conn, .deferred = &deferred,
	};
	for (unsigned i = 0; i < TT_HTTP_MAX_PARAMS; i++)
		req.params[i] = e->params[i];
	struct tt_http_resp here = { .status = 200 };
	e->fn(core, &req, &here);
	if (deferred)
		tt__http_pending_forget(e->pd);   /* the handler's own pending answers */
	else
		tt__http_finish(e->pd, &here);
	elsewhere_free(e);
}

bool tt__http_room_elsewhere(struct tt_core *core, const struct tt_http_req *req,
			     tt_http_route_h fn)
{
	const char *room = req->params[0];
	if (!core->cluster || !room || tt__room_find(core, room) || !tt__room_name_valid(room))
		return false;
	struct elsewhere *e = g_new0(struct elsewhere, 1);
	if (!tt__http_cluster_redirect(core, room, req->path, on_home, e)) {
		g_free(e);
		return false;   /* nothing to ask (Redis down): answered here, now */
	}
	e->fn = fn;
	e->method = g_strdup(req->method);
	e->path = g_strdup(req->path);
	e->body = req->body ? g_memdup2(req->body, req->body_len + 1) : NULL;
	e->body_len = req->body_len;
	e->peer = g_strdup(req->peer);
	e->auth = g_strdup(req->authorization);
	for (unsigned i = 0; i < TT_HTTP_MAX_PARAMS; i++)
		e->params[i] = g_strdup(req->params[i]);
	e->pd = tt__http_defer(req);
	return true;
}
