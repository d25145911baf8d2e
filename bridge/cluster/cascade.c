/* cascade.c: the trunks of cascaded rooms on this node, both ends (cascade.h). A leaf
 * opens one trunk per room at home elsewhere while it has local participants there; a hub
 * accepts the leaves' trunks. Core thread only: Redis, the HTTP client and the core's
 * callbacks all run on the core loop. */
#define TT_LOG_DOMAIN "cluster"
#include "cascade.h"

#include <jansson.h>
#include <string.h>
#include <tutti/errno.h>
#include <tutti/log.h>
#include <tutti/sdes.h>
#include <tutti/srtp.h>
#include <tutti/transport.h>

#include "cluster_priv.h"
#include "core/core_types.h"
#include "gateway/trunk.h"
#include "http_client.h"
#include "participant/participant.h"
#include "room/room.h"

#define SUITE TT_SRTP_AES_CM_128_HMAC_SHA1_80
#define TRUNK_PT 111
#define TRUNK_LEVEL_EXT 1   /* RFC 6464 on both ends: each mixer selects the other's mix
			     * by its level, without decoding it */

enum stage { LOOKUP, ATTACH, ASK, UPDATE, UP };
static const char *const stage_names[] = { "lookup", "attach", "ask", "update", "up" };

struct trunk {
	int refs;                 /* the table's, and one per callback in flight */
	struct tt_cluster *cl;    /* NULL once gone */
	char *key, *room, *far;   /* far: the other node's id */
	bool leaf;                /* this node is the leaf (it asked) */
	enum stage st;
	bool gone;                /* out of the table: callbacks only unref */
	struct tt_participant *p; /* borrowed from the trunk gateway, NULL before the join */
	char *url;                /* leaf: the hub's api_url */
	tt_cascade_accept_h accept_cb;   /* hub: the pending answer to the leaf */
	void *accept_arg;
};

static struct trunk *ref(struct trunk *t)
{
	t->refs++;
	return t;
}

static void unref(struct trunk *t)
{
	if (--t->refs)
		return;
	g_free(t->key);
	g_free(t->room);
	g_free(t->far);
	g_free(t->url);
	g_free(t);
}

static char *leaf_key(const char *room)
{
	return g_strdup_printf("leaf\n%s", room);
}

static char *hub_key(const char *room, const char *node)
{
	return g_strdup_printf("hub\n%s\n%s", room, node);
}

static struct trunk *trunk_new(struct tt_cluster *cl, char *key, const char *room,
			       const char *far, bool leaf)
{
	struct trunk *t = g_new0(struct trunk, 1);
	t->refs = 1;
	t->cl = cl;
	t->key = key;
	t->room = g_strdup(room);
	t->far = g_strdup(far);
	t->leaf = leaf;
	g_hash_table_replace(cl->trunks, g_strdup(key), t);
	return t;
}

static void on_deleted(void *arg, unsigned status, const char *body, size_t len,
		       const char *msg)
{
	(void)body;
	(void)len;
	char *what = arg;
	if (status != 200 && status != 404)
		tt_info("%s: the hub did not answer the trunk's end (%s); its trunk ends by "
			"the inactivity timeout", what, msg ? msg : "an error");
	g_free(what);
}

static void tell_hub_gone(struct tt_cluster *cl, const struct trunk *t)
{
	char *path = g_strdup_printf("/api/rooms/%s/trunks/%s", t->room, cl->node);
	tt__http_client_request("DELETE", t->url, path, cl->token, NULL, on_deleted,
				g_strdup_printf("room %s", t->room));
	g_free(path);
}

/* Out of the table, its participant gone (unless the gateway already let go of it: p
 * NULL), and the hub told when this is a leaf that asked. */
static void teardown(struct trunk *t, bool tell_hub, const char *why)
{
	struct tt_cluster *cl = t->cl;
	if (t->gone)
		return;
	t->gone = true;
	if (t->accept_cb) {
		t->accept_cb(t->accept_arg, 503, "the trunk ended while it was being made", NULL,
			     NULL, NULL);
		t->accept_cb = NULL;
	}
	tt_info("room %s: trunk %s node %s ends (%s)", t->room, t->leaf ? "to hub" : "from leaf",
		t->far, why);
	if (tell_hub && t->leaf && t->url && t->st >= ASK)
		tell_hub_gone(cl, t);
	if (t->p) {
		struct tt__trunk_gw *g = tt__trunk_gw_get(cl->core);
		struct tt_participant *p = t->p;
		t->p = NULL;
		if (g)
			tt__trunk_gw_leave(g, p, 0);
	}
	t->cl = NULL;
	g_hash_table_remove(cl->trunks, t->key);   /* the table's reference */
	unref(t);
}

static struct tt_audio_leg trunk_leg(const struct tt_cluster *cl)
{
	return (struct tt_audio_leg){
		.kind = TT_LEG_UDP, .codec = "opus", .pt = TRUNK_PT, .ptime = 20,
		.bitrate = cl->trunk_bitrate, .dtmf_pt = -1, .udp.srtp_suite = SUITE,
		.audio_level_ext_id = TRUNK_LEVEL_EXT,
	};
}

/* ---- the leaf ---- */

static void leaf_updated(void *arg, struct tt_participant *p, const struct tt_audio_attached *res)
{
	struct trunk *t = arg;
	if (!t->gone) {
		if (res->err) {
			teardown(t, true, tt_strerror(res->err));
		} else {
			tt__room_set_state(p, TT_PS_HOLD, false);
			t->st = UP;
			tt_info_kv(TT_KV("event", "trunk_up", "room", t->room, "hub", t->far),
				   "room %s: trunk to hub %s up", t->room, t->far);
		}
	}
	unref(t);
}

static void leaf_answered(void *arg, unsigned status, const char *body, size_t len,
			  const char *msg)
{
	struct trunk *t = arg;
	if (t->gone)
		goto out;
	if (status != 201) {
		char why[300];
		g_snprintf(why, sizeof why, "the hub answered %u: %.200s", status,
			   msg ? msg : body);
		tt_warn("room %s: trunk to hub %s refused: %s", t->room, t->far, why);
		t->st = ATTACH;   /* nothing to undo at the hub */
		teardown(t, false, "refused");
		goto out;
	}
	json_t *o = json_loadb(body, len, 0, NULL);
	const char *local = json_string_value(json_object_get(o, "local"));
	const char *key = json_string_value(json_object_get(json_object_get(o, "srtp"), "key"));
	struct tt_audio_leg leg = trunk_leg(t->cl);
	if (!local || !key ||
	    tt_sockaddr_parse(&leg.udp.remote, &leg.udp.remote_len, local) != 0 ||
	    tt_sdes_key_decode(leg.udp.srtp_remote_key, SUITE, key, strlen(key)) != 0) {
		json_decref(o);
		teardown(t, true, "the hub's answer lacks a valid local address or key");
		goto out;
	}
	json_decref(o);
	t->st = UPDATE;
	if (tt__core_api.audio_update(t->p, &leg, leaf_updated, ref(t))) {
		unref(t);
		teardown(t, true, "cannot update the leg");
	}
out:
	unref(t);
}

static void leaf_attached(void *arg, struct tt_participant *p, const struct tt_audio_attached *res)
{
	struct trunk *t = arg;
	(void)p;
	if (t->gone)
		goto out;
	if (res->err) {
		teardown(t, false, tt_strerror(res->err));
		goto out;
	}
	char local[64] = "", key[64] = "";
	tt_sockaddr_format(local, sizeof local, (const struct sockaddr *)&res->udp.local);
	tt_sdes_key_encode(key, sizeof key, res->udp.srtp_local_key, res->udp.srtp_key_len);
	json_t *body = json_pack("{s:s, s:s, s:{s:s, s:s}}", "node", t->cl->node, "remote",
				 local, "srtp", "suite", tt_srtp_suite_name(SUITE), "key", key);
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	char *path = g_strdup_printf("/api/rooms/%s/trunks", t->room);
	t->st = ASK;
	tt__http_client_request("POST", t->url, path, t->cl->token, text, leaf_answered, ref(t));
	g_free(path);
	free(text);
out:
	unref(t);
}

static void leaf_got_url(void *arg, const char *url)
{
	struct trunk *t = arg;
	if (t->gone)
		goto out;
	if (!url || !g_str_has_prefix(url, "http://")) {
		/* a dead hub's entry expired before its room's home did, or it has no api_url:
		 * the next heartbeat asks again */
		teardown(t, false, "the hub publishes no api_url");
		goto out;
	}
	t->url = g_strdup(url);
	struct tt__trunk_gw *g = tt__trunk_gw_get(t->cl->core);
	char *name = g_strdup_printf("trunk:%s", t->far);
	int rc = g ? tt__trunk_gw_join(g, t->room, name, true, &t->p) : -ENODEV;
	g_free(name);
	if (rc) {
		teardown(t, false, tt_strerror(rc));
		goto out;
	}
	/* The far address is known only from the hub's answer, and the hub needs ours (and
	 * our key, which the leg makes) first: the leg starts on hold, with a placeholder
	 * remote on this node's loopback that nothing is sent to while on hold (a port per
	 * set-up, so that two in flight do not share one on the worker's port) */
	static unsigned placeholder;
	struct tt_audio_leg leg = trunk_leg(t->cl);
	char ph[32];
	g_snprintf(ph, sizeof ph, "127.0.0.1:%u", 1 + (placeholder++ % 1000));
	tt_sockaddr_parse(&leg.udp.remote, &leg.udp.remote_len, ph);
	t->st = ATTACH;
	if (tt__core_api.audio_attach(t->p, &leg, leaf_attached, ref(t))) {
		unref(t);
		teardown(t, false, "cannot attach the leg");
	}
out:
	unref(t);
}

void tt__cascade_home(struct tt_cluster *cl, const char *room, const char *owner)
{
	if (!cl->api_url[0] || cl->leaving)
		return;
	char *key = leaf_key(room);
	struct trunk *t = g_hash_table_lookup(cl->trunks, key);
	if (!strcmp(owner, cl->node)) {   /* home here (again): no trunk to anyone */
		g_free(key);
		if (t)
			teardown(t, true, "this node is the room's home now");
		return;
	}
	if (t && !strcmp(t->far, owner)) {
		g_free(key);
		return;
	}
	if (t)
		teardown(t, true, "the room has another home now");
	struct tt_room *r = tt__room_find(cl->core, room);
	if (!r || !tt__room_visible_parts(r)) {
		g_free(key);
		return;
	}
	t = trunk_new(cl, key, room, owner, true);
	tt_info("room %s: its home is node %s; opening a trunk to it", room, owner);
	if (!tt__cluster_node_url(cl, owner, leaf_got_url, ref(t))) {
		unref(t);
		teardown(t, false, "redis is down");
	}
}

void tt__cascade_room_busy(struct tt_cluster *cl, const char *room)
{
	const char *owner = cl ? g_hash_table_lookup(cl->homes, room) : NULL;
	if (owner)
		tt__cascade_home(cl, room, owner);
}

static gboolean on_quiet(gpointer data)
{
	struct tt_cluster *cl = data;
	cl->quiet_idle = 0;
	GHashTableIter it;
	gpointer room;
	g_hash_table_iter_init(&it, cl->quiet);
	while (g_hash_table_iter_next(&it, &room, NULL)) {
		struct tt_room *r = tt__room_find(cl->core, room);
		char *key = leaf_key(room);
		struct trunk *t = g_hash_table_lookup(cl->trunks, key);
		g_free(key);
		if (t && (!r || !tt__room_visible_parts(r)))
			teardown(t, true, "its last local participant left");
	}
	g_hash_table_remove_all(cl->quiet);
	return G_SOURCE_REMOVE;
}

void tt__cascade_room_quiet(struct tt_cluster *cl, const char *room)
{
	if (!cl || !cl->api_url[0])
		return;
	g_hash_table_add(cl->quiet, g_strdup(room));
	if (!cl->quiet_idle)
		cl->quiet_idle = g_idle_add(on_quiet, cl);
}

/* ---- the hub ---- */

static void hub_attached(void *arg, struct tt_participant *p, const struct tt_audio_attached *res)
{
	struct trunk *t = arg;
	tt_cascade_accept_h cb = t->accept_cb;
	void *cb_arg = t->accept_arg;
	t->accept_cb = NULL;
	if (t->gone || !cb)
		goto out;
	if (res->err) {
		cb(cb_arg, res->err == -EADDRINUSE ? 503 : 500, tt_strerror(res->err), NULL, NULL,
		   NULL);
		teardown(t, false, tt_strerror(res->err));
		goto out;
	}
	char local[64] = "", key[64] = "";
	tt_sockaddr_format(local, sizeof local, (const struct sockaddr *)&res->udp.local);
	tt_sdes_key_encode(key, sizeof key, res->udp.srtp_local_key, res->udp.srtp_key_len);
	t->st = UP;
	tt_info_kv(TT_KV("event", "trunk_up", "room", t->room, "leaf", t->far),
		   "room %s: trunk from leaf %s up", t->room, t->far);
	cb(cb_arg, 201, NULL, p->id, local, key);
out:
	unref(t);
}

unsigned tt__cascade_accept(struct tt_core *core, const char *room,
			    const struct tt_trunk_req *req, tt_cascade_accept_h cb, void *arg,
			    const char **msg)
{
	struct tt_cluster *cl = core->cluster;
	if (!cl || !cl->api_url[0]) {
		*msg = "this node does not cascade rooms ([cluster] redis and api_url)";
		return 404;
	}
	if (!strcmp(req->node, cl->node)) {
		*msg = "a node does not trunk to itself";
		return 400;
	}
	if (!tt__room_find(core, room)) {
		*msg = "no such room on this node";
		return 404;
	}
	struct tt__trunk_gw *g = tt__trunk_gw_get(core);
	if (!g) {
		*msg = "the trunk gateway is disabled ([trunk] enabled)";
		return 503;
	}
	char *key = hub_key(room, req->node);
	struct trunk *old = g_hash_table_lookup(cl->trunks, key);
	if (old)   /* the leaf asks again (it lost its end): the new one replaces it */
		teardown(old, false, "the leaf asked for a new one");
	if (!tt__room_find(core, room)) {   /* the old trunk was all the room had */
		g_free(key);
		*msg = "no such room on this node";
		return 404;
	}
	struct tt_participant *p = NULL;
	char *name = g_strdup_printf("trunk:%s", req->node);
	int rc = tt__trunk_gw_join(g, room, name, false, &p);
	g_free(name);
	if (rc) {
		g_free(key);
		*msg = tt_strerror(rc);
		return rc == -ENOENT ? 404 : rc == -ESHUTDOWN ? 503 : 500;
	}
	struct trunk *t = trunk_new(cl, key, room, req->node, false);
	t->p = p;
	t->st = ATTACH;
	t->accept_cb = cb;
	t->accept_arg = arg;
	struct tt_audio_leg leg = trunk_leg(cl);
	leg.udp.remote = req->remote;
	leg.udp.remote_len = req->remote_len;
	leg.udp.srtp_suite = req->suite;
	memcpy(leg.udp.srtp_remote_key, req->key, sizeof leg.udp.srtp_remote_key);
	if (tt__core_api.audio_attach(p, &leg, hub_attached, ref(t))) {
		unref(t);
		t->accept_cb = NULL;
		teardown(t, false, "cannot attach the leg");
		*msg = "cannot attach the trunk's leg";
		return 500;
	}
	return 0;
}

unsigned tt__cascade_drop(struct tt_core *core, const char *room, const char *node)
{
	struct tt_cluster *cl = core->cluster;
	if (!cl)
		return 404;
	char *key = hub_key(room, node);
	struct trunk *t = g_hash_table_lookup(cl->trunks, key);
	g_free(key);
	if (!t)
		return 404;
	teardown(t, false, "the leaf ended it");
	return 0;
}

json_t *tt__cascade_list(struct tt_core *core, const char *room)
{
	json_t *a = json_array();
	struct tt_cluster *cl = core->cluster;
	if (!cl)
		return a;
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, cl->trunks);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		struct trunk *t = v;
		if (strcmp(t->room, room))
			continue;
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s?}", "node", t->far,
			"role", t->leaf ? "leaf" : "hub", "state", stage_names[t->st],
			"participant", t->p ? t->p->id : NULL));
	}
	return a;
}

void tt__cascade_gone(struct tt_core *core, struct tt_participant *p)
{
	struct tt_cluster *cl = core->cluster;
	if (!cl)
		return;
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, cl->trunks);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		struct trunk *t = v;
		if (t->p == p) {
			t->p = NULL;   /* the gateway lets go of it itself */
			teardown(t, true, "its media or room ended");
			return;
		}
	}
}

void tt__cascade_free(struct tt_cluster *cl)
{
	if (cl->quiet_idle)
		g_source_remove(cl->quiet_idle);
	cl->quiet_idle = 0;
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, cl->trunks);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		struct trunk *t = v;
		g_hash_table_iter_remove(&it);   /* frees the key; t is unreffed below */
		t->gone = true;
		t->cl = NULL;
		if (t->accept_cb)
			t->accept_cb(t->accept_arg, 503, "shutting down", NULL, NULL, NULL);
		t->accept_cb = NULL;
		t->p = NULL;   /* the gateway's stop makes it leave */
		unref(t);
	}
}
