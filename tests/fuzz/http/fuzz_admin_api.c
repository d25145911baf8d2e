/* fuzz_admin_api.c: the HTTP API's router and handlers (router.c, api_rooms.c, api_admin.c)
 * over a real core (one worker, no HTTP server): paths, methods, bearer tokens, peers and
 * JSON bodies as lws would hand them over, in sequences so that created rooms and
 * participants are there for the requests that follow.
 *
 * Input: requests separated by a line "---". Each is HTTP-like:
 *   METHOD PATH          ("$0".."$9" in PATH: the id of the Nth participant joined below)
 *   Authorization: ...   (optional header lines, then an empty line)
 *   Peer: 192.0.2.1      (default 127.0.0.1)
 *   Token: 1             (this request sees [http] admin_token = s3cret and
 *                         metrics_token = true: GET /metrics then needs it too)
 *
 *   BODY                 (the rest, possibly empty)
 * The pseudo-method JOIN adds a participant of a fake gateway: PATH is the room, BODY the
 * display name (so PATCH/GET/DELETE of participants have subjects).
 *
 * Not reached: a POST that passes validation stops at 503 ([rtp] enabled = false), because
 * attaching media answers through lws (tt__http_defer) and needs a live connection. Every
 * check before that runs. */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tutti/core.h>
#include <tutti/gateway.h>
#include <tutti/log.h>

#include "conf/loader.h"
#include "core/core_priv.h"
#include "http/http.h"
#include "room/room.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_PARTS 10

static struct {
	struct tt_gw_handle *h;
	const struct tt_core_api *api;
	GPtrArray *held;   /* participants we joined and have not left */
} fake;

static struct tt_core *core;
static struct tt_conf *conf_open, *conf_token;
static bool verbose;

static int f_start(struct tt_gw_handle *h, const struct tt_core_api *api,
		   const struct tt_conf *conf, void **statep)
{
	fake.h = h;
	fake.api = api;
	fake.held = g_ptr_array_new();
	*statep = &fake;
	return 0;
}
static void f_stop(void *s) { (void)s; }
static void f_free(void *s) { g_ptr_array_free(fake.held, TRUE); }
static void f_hang_up(void *s, struct tt_participant *p, const char *why)
{
	if (g_ptr_array_remove(fake.held, p))
		fake.api->participant_leave(p, 0);
}

static const struct tt_gateway fake_gw = {
	.api_version = TT_GATEWAY_API_VERSION, .name = "fake", .network = "test",
	.start = f_start, .stop = f_stop, .free = f_free, .hang_up = f_hang_up,
};

static struct tt_conf *load_conf(const char *text)
{
	struct tt_conf *c = NULL;
	char *errors = NULL;
	if (tt__conf_load_data(&c, core->schema, "fuzz.conf", text, strlen(text), &errors))
		g_error("fuzz config: %s", errors);
	return c;
}

static void setup(void)
{
	static const char ini_fmt[] =
		"[bridge]\nworkers = 1\nlog_level = error\n[http]\nenabled = false\n%s"
		"[rtp]\nenabled = false\n"
		"[room.pinned]\npin = 1234\n[room.small]\nmax_participants = 2\n";
	char *ini = g_strdup_printf(ini_fmt, "");
	static const struct tt_gateway *const table[] = { &fake_gw, NULL };
	char *path = g_strdup("/tmp/tt-fuzz-api-XXXXXX");
	int fd = g_mkstemp(path);
	if (fd < 0 || write(fd, ini, strlen(ini)) != (ssize_t)strlen(ini))
		abort();
	close(fd);
	if (tt__core_alloc(&core, table, path, NULL) || tt__core_start(core))
		abort();
	g_unlink(path);
	g_free(path);
	conf_open = core->conf;
	/* the same with a token: admin calls then need it, from anywhere, and so does /metrics */
	char *with_token = g_strdup_printf(ini_fmt,
					   "admin_token = s3cret\nmetrics_token = true\n");
	conf_token = load_conf(with_token);
	g_free(with_token);
	g_free(ini);
}

/* "$N" -> the id of participant N (or left as is). */
static char *expand(const char *path)
{
	GString *s = g_string_new(NULL);
	for (const char *p = path; *p; p++) {
		if (p[0] == '$' && p[1] >= '0' && p[1] <= '9' &&
		    (guint)(p[1] - '0') < fake.held->len) {
			g_string_append(s, fake.api->participant_id(
				g_ptr_array_index(fake.held, p[1] - '0')));
			p++;
		} else {
			g_string_append_c(s, *p);
		}
	}
	return g_string_free(s, FALSE);
}

/* Everything a request could change, rooms sorted by name: README promises "a bad request
 * changes nothing". */
static gint by_name(gconstpointer a, gconstpointer b)
{
	return strcmp(((const struct tt_room *)a)->name, ((const struct tt_room *)b)->name);
}

static char *state_of(void)
{
	GList *rooms = g_list_sort(g_hash_table_get_values(core->rooms), by_name);
	GString *s = g_string_new(NULL);
	for (GList *l = rooms; l; l = l->next) {
		const struct tt_room *r = l->data;
		g_string_append_printf(s, "%s rate=%u speakers=%u max=%u locked=%d kept=%d api=%d"
				       " parts=%u;", r->name, r->rate, r->speakers,
				       r->max_participants, r->locked, r->configured, r->api_made,
				       r->parts->len);
		for (guint i = 0; i < r->parts->len; i++)
			g_string_append_printf(s, " %s:%u", fake.api->participant_id(
				r->parts->pdata[i]), fake.api->participant_state(r->parts->pdata[i]));
	}
	g_list_free(rooms);
	return g_string_free(s, FALSE);
}

static void check_resp(const struct tt_http_resp *r)
{
	/* GET /metrics answers text: whole lines, never with JSON beside it */
	if (r->text) {
		if (r->status != 200 || r->json || !r->text->len ||
		    r->text->str[r->text->len - 1] != '\n' || strlen(r->text->str) != r->text->len)
			__builtin_trap();
		return;
	}
	/* every other answer is a JSON object; errors say what went wrong */
	if (r->status < 200 || r->status > 599 || !json_is_object(r->json))
		__builtin_trap();
	if (r->status >= 400 && !json_is_string(json_object_get(r->json, "error")))
		__builtin_trap();
	char *text = json_dumps(r->json, JSON_COMPACT);
	if (!text)
		__builtin_trap();
	free(text);
}

static void run_one(const char *req_text, size_t len)
{
	char *copy = g_strndup(req_text, len);   /* stops at a NUL, like lws's strings */
	char *line_end = strchr(copy, '\n');
	char *rest = line_end ? line_end + 1 : copy + strlen(copy);
	if (line_end)
		*line_end = '\0';
	char *sp = strchr(copy, ' ');
	if (!sp) {
		g_free(copy);
		return;
	}
	*sp = '\0';
	/* lws knows these methods (http.c method_of) and keeps 511 bytes of the decoded path */
	static const char *const methods[] = { "GET", "POST", "PUT", "DELETE", "PATCH",
					       "OPTIONS", "HEAD", "JOIN", NULL };
	const char *method = "?";
	for (const char *const *m = methods; *m; m++)
		if (!strcmp(copy, *m))
			method = *m;
	char *path = expand(sp + 1);
	if (strlen(path) > 511)
		path[511] = '\0';
	const char *auth = NULL, *peer = "127.0.0.1";
	bool token = false;
	/* header lines up to an empty line (or none: the body follows the request line) */
	char *body = rest;
	if (strchr(rest, ':') && strstr(rest, "\n\n")) {
		char *hend = strstr(rest, "\n\n");
		*hend = '\0';
		body = hend + 2;
		for (char *h = rest; h && *h;) {
			char *nl = strchr(h, '\n');
			if (nl)
				*nl = '\0';
			if (!strncmp(h, "Authorization: ", 15))
				auth = h + 15;
			else if (!strncmp(h, "Peer: ", 6))
				peer = h + 6;
			else if (!strncmp(h, "Token: ", 7))
				token = h[7] == '1';
			h = nl ? nl + 1 : NULL;
		}
	}
	if (!strcmp(method, "JOIN")) {
		if (fake.held->len < MAX_PARTS) {
			struct tt_join j = { .room = path, .name = body,
					     .caps = TT_CAP_AUDIO | TT_CAP_TEXT };
			struct tt_participant *p = NULL;
			if (fake.api->participant_join(fake.h, &j, &p) == 0)
				g_ptr_array_add(fake.held, p);
		}
		g_free(path);
		g_free(copy);
		return;
	}
	bool deferred = false;
	struct tt_http_req req = {
		.method = method, .path = path, .body = *body ? body : NULL,
		.body_len = strlen(body), .peer = peer, .authorization = auth,
		.deferred = &deferred,
	};
	struct tt_http_resp resp = { 0 };
	core->conf = token ? conf_token : conf_open;
	char *before = state_of();
	if (tt__http_route(core, &req, &resp)) {
		check_resp(&resp);
		char *after = state_of();
		if (resp.status >= 400 && strcmp(before, after)) {
			fprintf(stderr, "%s %s -> %u changed\n  %s\nto\n  %s\n", method, path,
				resp.status, before, after);
			__builtin_trap();   /* an error answer, but something changed */
		}
		g_free(after);
		if (verbose) {   /* TT_FUZZ_VERBOSE=1: what each request got, to write seeds */
			char *text = json_dumps(resp.json, JSON_COMPACT);
			printf("%s %s -> %u %s\n", method, path, resp.status, text);
			free(text);
		}
	}
	else if (resp.json || !strncmp(path, "/api/", 5))
		__builtin_trap();   /* not an API path: untouched, for the file server */
	g_free(before);
	core->conf = conf_open;
	if (deferred)
		__builtin_trap();   /* only a valid POST with [rtp] on defers */
	json_decref(resp.json);
	if (resp.text)
		g_string_free(resp.text, TRUE);
	g_free(path);
	g_free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!core) {
		setup();
		verbose = getenv("TT_FUZZ_VERBOSE") != NULL;
	}
	if (size > 65536)
		return 0;
	const char *s = (const char *)data;
	const char *end = s + size;
	int n = 0;
	while (s < end && n++ < 64) {
		const char *sep = g_strstr_len(s, end - s, "\n---\n");
		size_t len = sep ? (size_t)(sep - s) : (size_t)(end - s);
		run_one(s, len);
		s += len + (sep ? 5 : 0);
	}
	/* back to nothing: everyone leaves, every room made here ends */
	while (fake.held->len)
		f_hang_up(&fake, g_ptr_array_index(fake.held, fake.held->len - 1), "done");
	GList *rooms = g_hash_table_get_values(core->rooms);
	for (GList *l = rooms; l; l = l->next)
		tt__room_end(l->data, "fuzz input done");
	g_list_free(rooms);
	for (int i = 0; i < 100 && g_main_context_iteration(NULL, FALSE); i++)
		;
	return 0;
}
