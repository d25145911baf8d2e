/* cluster_redirect.c: HTTP's question to the room directory (cluster/): is this room at home
 * on another node, and at which URL. Core thread only. */
#define TT_LOG_DOMAIN "http"
#include "http.h"

#include <string.h>
#include <tutti/log.h>

#include "cluster/cluster.h"

struct wait {
	struct tt_core *core;
	char *room, *suffix;
	tt_http_home_h done;
	void *arg;
};

static void on_home(void *arg, const char *node, const char *url, bool self)
{
	struct wait *w = arg;
	struct tt_http_resp resp = { 0 };
	if (node && !self && url && *url) {
		size_t n = strlen(url);
		while (n && url[n - 1] == '/')
			n--;
		char *to = g_strdup_printf("%.*s%s", (int)n, url, w->suffix);
		resp.status = 307;
		resp.json = json_pack("{s:s, s:s, s:s, s:s}", "error",
				      "this room is at home on another node", "room", w->room,
				      "home", node, "url", to);
		resp.location = to;
		tt__cluster_redirected(w->core->cluster);
		tt_debug("room %s: sent to node %s (%s)", w->room, node, to);
	} else if (node && !self) {
		tt_warn("room %s: its home %s has no public_url; served here", w->room, node);
	}
	w->done(w->core, w->arg, &resp);
	g_free(w->room);
	g_free(w->suffix);
	g_free(w);
}

bool tt__http_cluster_redirect(struct tt_core *core, const char *room, const char *suffix,
			       tt_http_home_h done, void *arg)
{
	struct wait *w = g_new0(struct wait, 1);
	w->core = core;
	w->room = g_strdup(room);
	w->suffix = g_strdup(suffix);
	w->done = done;
	w->arg = arg;
	if (tt__cluster_lookup(core->cluster, room, on_home, w))
		return true;
	g_free(w->room);
	g_free(w->suffix);
	g_free(w);
	return false;
}
