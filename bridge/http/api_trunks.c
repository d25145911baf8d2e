/* api_trunks.c: the hub's routes of a cascaded room (cluster/cascade.h), which leaves call
 * with the admin credential: POST /api/rooms/R/trunks makes the hub's end of a leaf's
 * trunk, DELETE /api/rooms/R/trunks/NODE ends it; GET /api/rooms/R/trunks lists this
 * node's trunk ends of R (either role). A bad request is a 4xx naming the field, and
 * changes nothing. */
#define TT_LOG_DOMAIN "http"
#include "http.h"

#include <tutti/srtp.h>

#include "cluster/cascade.h"
#include "room/room.h"

static void accepted(void *arg, unsigned status, const char *msg, const char *id,
		     const char *local, const char *key)
{
	struct tt_http_pending *pd = arg;
	struct tt_http_resp r = { 0 };
	if (status != 201) {
		tt__http_error(&r, status, NULL, "cannot make the trunk: %s", msg);
	} else {
		r.status = 201;
		r.json = json_pack("{s:s, s:s, s:{s:s, s:s}}", "id", id, "local", local, "srtp",
				   "suite", tt_srtp_suite_name(TT_SRTP_AES_CM_128_HMAC_SHA1_80),
				   "key", key);
	}
	tt__http_finish(pd, &r);
}

void tt__api_trunk_post(struct tt_core *core, const struct tt_http_req *req,
			struct tt_http_resp *r)
{
	struct tt_trunk_req tr;
	const char *field = NULL, *why = NULL;
	if (tt__trunk_req_parse(req->body, req->body_len, &tr, &field, &why)) {
		tt__http_error(r, 400, field, "%s", why);
		return;
	}
	if (!tt__room_name_valid(req->params[0])) {
		tt__http_error(r, 400, "room", "room names are 1-64 of A-Z a-z 0-9 . _ -");
		return;
	}
	/* deferred first: the answer may come before accept returns (it never does today:
	 * the leg is made on the worker), and a refusal below answers it at once */
	struct tt_http_pending *pd = tt__http_defer(req);
	const char *msg = NULL;
	unsigned status = tt__cascade_accept(core, req->params[0], &tr, accepted, pd, &msg);
	if (status) {
		struct tt_http_resp e = { 0 };
		tt__http_error(&e, status, status == 404 ? "room" : NULL, "%s", msg);
		tt__http_finish(pd, &e);
	}
}

void tt__api_trunk_delete(struct tt_core *core, const struct tt_http_req *req,
			  struct tt_http_resp *r)
{
	if (tt__cascade_drop(core, req->params[0], req->params[1])) {
		tt__http_error(r, 404, "node", "no trunk from node %s in room %s", req->params[1],
			       req->params[0]);
		return;
	}
	r->json = json_pack("{s:s, s:s}", "room", req->params[0], "ended", req->params[1]);
}

void tt__api_trunk_list(struct tt_core *core, const struct tt_http_req *req,
			struct tt_http_resp *r)
{
	r->json = json_pack("{s:s, s:o}", "room", req->params[0], "trunks",
			    tt__cascade_list(core, req->params[0]));
}
