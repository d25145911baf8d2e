/* router.c: the API route table, path captures and admin authorisation.
 * Routes are data: adding the admin write endpoints later is adding rows. */
#define TT_LOG_DOMAIN "http"
#include "http.h"

#include <stdarg.h>
#include <string.h>
#include <tutti/log.h>

#include "metrics/metrics.h"

struct route {
	const char *method;
	const char *pattern;   /* "/api/rooms/{}": {} matches one non-empty segment */
	bool admin;            /* needs the bearer token, or loopback when none is set */
	tt_http_route_h fn;
	/* acts on one existing room ({} first): a room this node does not have may be at home
	 * on another node, which answers instead (room_elsewhere.c). Not for POST participants:
	 * an RTP participant added here joins the room here (the cascade, docs/scale-out.md). */
	bool elsewhere;
};

static const struct route routes[] = {
	{ "GET", "/metrics", false, tt__api_metrics, false },
	{ "GET", "/api/health", false, tt__api_health, false },
	{ "GET", "/api/gateways", false, tt__api_gateways, false },
	{ "GET", "/api/cluster", false, tt__api_cluster, false },
	{ "GET", "/api/events", true, tt__api_events_plain, false },
	{ "GET", "/api/rooms", false, tt__api_rooms_list, false },
	{ "GET", "/api/rooms/{}", false, tt__api_room_get, true },
	{ "PUT", "/api/rooms/{}", true, tt__api_room_put, true },
	{ "PATCH", "/api/rooms/{}", true, tt__api_room_patch, true },
	{ "DELETE", "/api/rooms/{}", true, tt__api_room_delete, true },
	{ "GET", "/api/rooms/{}/recording", true, tt__api_recording_get, true },
	{ "POST", "/api/rooms/{}/recording", true, tt__api_recording_post, true },
	{ "POST", "/api/rooms/{}/participants", true, tt__api_part_post, false },
	{ "GET", "/api/rooms/{}/participants/{}", false, tt__api_part_get, true },
	{ "PATCH", "/api/rooms/{}/participants/{}", true, tt__api_part_patch, true },
	{ "DELETE", "/api/rooms/{}/participants/{}", true, tt__api_part_delete, true },
	{ "GET", "/api/rooms/{}/trunks", false, tt__api_trunk_list, false },
	{ "POST", "/api/rooms/{}/trunks", true, tt__api_trunk_post, false },
	{ "DELETE", "/api/rooms/{}/trunks/{}", true, tt__api_trunk_delete, false },
};

void tt__http_error(struct tt_http_resp *resp, unsigned status, const char *field,
		    const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *raw = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	/* the path is decoded (%FF): jansson refuses a string that is not UTF-8, and the
	 * answer would lose its "error" */
	char *msg = g_utf8_make_valid(raw, -1);
	g_free(raw);
	if (resp->json)
		json_decref(resp->json);
	resp->status = status;
	resp->json = json_pack("{s:s}", "error", msg);
	if (field)
		json_object_set_new(resp->json, "field", json_string(field));
	g_free(msg);
}

/* Match path against pattern; captures point into `buf` (a copy of path). */
static bool match(const char *pattern, const char *path, char *buf, size_t bufsz,
		  const char **params)
{
	g_strlcpy(buf, path, bufsz);
	char *p = buf;
	const char *q = pattern;
	int n = 0;
	while (*q) {
		if (q[0] == '{' && q[1] == '}') {
			char *end = strchr(p, '/');
			size_t len = end ? (size_t)(end - p) : strlen(p);
			if (len == 0 || n >= TT_HTTP_MAX_PARAMS)
				return false;
			params[n++] = p;
			p += len;
			q += 2;
			if (*p == '/' && *q == '/') {
				*p++ = '\0';
				q++;
			} else if (*p == '\0' && *q == '\0') {
				return true;
			} else if (*p != *q) {
				return false;
			} else {
				*p = '\0';
			}
			continue;
		}
		if (*p != *q)
			return false;
		p++;
		q++;
	}
	return *p == '\0';
}

static bool loopback(const char *peer)
{
	return peer && (!strcmp(peer, "127.0.0.1") || !strcmp(peer, "::1") ||
			!strncmp(peer, "127.", 4) || !strcmp(peer, "::ffff:127.0.0.1"));
}

/* Constant-time comparison: the token must not leak through response timing. */
static bool token_ok(const char *given, const char *token)
{
	if (!given)
		return false;
	size_t a = strlen(given), b = strlen(token);
	unsigned char diff = (unsigned char)(a != b);
	for (size_t i = 0; i < b; i++)
		diff |= (unsigned char)(given[i % (a ? a : 1)] ^ token[i]);
	return diff == 0;
}

unsigned tt__http_admin_denied(struct tt_core *core, const char *given, const char *peer)
{
	const char *token = tt_conf_str(core->conf, "http", "admin_token");
	if (token && *token)
		return token_ok(given, token) ? 0 : 401;
	return loopback(peer) ? 0 : 403;
}

void tt__api_metrics(struct tt_core *core, const struct tt_http_req *req,
		     struct tt_http_resp *r)
{
	if (tt_conf_bool(core->conf, "http", "metrics_token")) {
		const char *auth = req->authorization;
		unsigned denied = tt__http_admin_denied(
			core, auth && !strncmp(auth, "Bearer ", 7) ? auth + 7 : NULL, req->peer);
		if (denied) {
			tt__http_error(r, denied, NULL, denied == 401
				       ? "a valid bearer token is required ([http] metrics_token)"
				       : "metrics only from loopback ([http] metrics_token)");
			return;
		}
	}
	r->text = tt__metrics_render(core);
}

bool tt__http_route(struct tt_core *core, const struct tt_http_req *in,
		    struct tt_http_resp *resp)
{
	char buf[1024];
	struct tt_http_req req = *in;
	bool path_matched = false;
	if (strncmp(in->path, "/api/", 5) != 0 && strcmp(in->path, "/api") != 0 &&
	    strcmp(in->path, "/metrics") != 0)
		return false;
	for (size_t i = 0; i < G_N_ELEMENTS(routes); i++) {
		const struct route *r = &routes[i];
		memset(req.params, 0, sizeof req.params);
		if (!match(r->pattern, in->path, buf, sizeof buf, req.params))
			continue;
		path_matched = true;
		if (strcmp(r->method, in->method) != 0)
			continue;
		if (r->admin) {
			const char *auth = in->authorization;
			unsigned denied = tt__http_admin_denied(
				core, auth && !strncmp(auth, "Bearer ", 7) ? auth + 7 : NULL,
				in->peer);
			if (denied) {
				tt__http_error(resp, denied, NULL, denied == 401
					       ? "a valid bearer token is required"
					       : "admin calls only from loopback, not through a "
					       "proxy, unless [http] admin_token is set");
				return true;
			}
		}
		if (r->elsewhere && tt__http_room_elsewhere(core, &req, r->fn))
			return true;   /* deferred: the directory answers first */
		resp->status = 200;
		r->fn(core, &req, resp);
		return true;
	}
	if (path_matched)
		tt__http_error(resp, 405, NULL, "method %s not allowed here", in->method);
	else
		tt__http_error(resp, 404, NULL, "no such endpoint");
	return true;
}
