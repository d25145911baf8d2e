/* cluster.c: the connection to Redis on the core loop (connect, lose, reconnect with
 * backoff) and this node's entry in the directory, refreshed by a heartbeat every ttl/3. */
#define TT_LOG_DOMAIN "cluster"
#include "cluster_priv.h"

#include <hiredis/adapters/glib.h>
#include <stdio.h>
#include <string.h>
#include <tutti/conf.h>
#include <tutti/errno.h>
#include <tutti/log.h>

#include "core/core_types.h"
#include "room/room.h"

#define BACKOFF_MIN_MS 200
#define BACKOFF_MAX_MS 5000
/* A connect to an address that drops packets would wait for the kernel's TCP timeout (two
 * minutes and more) before the backoff starts; Redis on a LAN answers in milliseconds. */
#define CONNECT_TIMEOUT_MIN_MS 2000

static void connect_now(struct tt_cluster *cl);

char *tt__cluster_key(struct tt_cluster *cl, const char *kind, const char *name)
{
	return name ? g_strdup_printf("%s%s:%s", cl->prefix, kind, name)
		    : g_strdup_printf("%s%s", cl->prefix, kind);
}

static const char *where(struct tt_cluster *cl, char *buf, size_t len)
{
	if (cl->unix_path)
		return cl->host;
	g_snprintf(buf, len, "%s:%d", cl->host, cl->port);
	return buf;
}

/* hiredis frees the context right after its connect (failed) or disconnect callback, and
 * then runs its GLib cleanup on our source: the source is destroyed later, never under it. */
static void drop_source(struct tt_cluster *cl)
{
	if (cl->dead_src) {
		g_source_destroy(cl->dead_src);
		g_source_unref(cl->dead_src);
	}
	cl->dead_src = cl->src;
	cl->src = NULL;
}

static void cancel_connect_timer(struct tt_cluster *cl)
{
	if (cl->connect_timer)
		g_source_remove(cl->connect_timer);
	cl->connect_timer = 0;
}

static gboolean on_retry(gpointer data)
{
	struct tt_cluster *cl = data;
	cl->retry_timer = 0;
	connect_now(cl);
	return G_SOURCE_REMOVE;
}

/* Lost or never made: serve locally (rooms need no directory to work), say so once per
 * outage, and try again after a doubling pause. */
static void lost(struct tt_cluster *cl, const char *why)
{
	char buf[300];
	cancel_connect_timer(cl);
	cl->up = false;
	cl->ac = NULL;
	drop_source(cl);
	if (cl->leaving)
		return;   /* the leave's disconnect, or a failure during it: done either way */
	if (!cl->down_logged) {
		tt_warn("redis at %s: %s; every room is served locally until it is back",
			where(cl, buf, sizeof buf), why ? why : "unreachable");
		cl->down_logged = true;
	}
	cl->backoff_ms = cl->backoff_ms ? MIN(cl->backoff_ms * 2, BACKOFF_MAX_MS)
					: BACKOFF_MIN_MS;
	if (!cl->retry_timer)
		cl->retry_timer = g_timeout_add(cl->backoff_ms, on_retry, cl);
}

void tt__cluster_on_reply_warn(redisAsyncContext *ac, void *r, void *priv)
{
	(void)ac;
	redisReply *reply = r;
	if (reply && reply->type == REDIS_REPLY_ERROR)
		tt_warn("redis: %s%s%s", priv ? (const char *)priv : "", priv ? ": " : "",
			reply->str);
}

/* The node's entry and a claim-or-renew for each of its rooms, queued together. */
static void heartbeat(struct tt_cluster *cl)
{
	if (!cl->up)
		return;
	struct tt_core *core = cl->core;
	unsigned parts = 0, rooms = 0;
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, core->rooms);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		struct tt_room *r = v;
		if (r->hidden)
			continue;
		rooms++;
		parts += tt__room_visible_parts(r);   /* trunks are not load of their own */
	}
	char *key = tt__cluster_key(cl, "node", cl->node);
	char *zkey = tt__cluster_key(cl, "nodes", NULL);
	char np[16], nr[16], st[24], ttl[16];
	g_snprintf(np, sizeof np, "%u", parts);
	g_snprintf(nr, sizeof nr, "%u", rooms);
	g_snprintf(st, sizeof st, "%" G_GINT64_FORMAT, cl->started);
	g_snprintf(ttl, sizeof ttl, "%d", cl->ttl_s);
	const char *hset[] = { "HSET", key, "public_url", cl->public_url, "sip_uri", cl->sip_uri,
			       "participants", np, "rooms", nr, "started", st, "api_url", cl->api_url,
			       "version", TT_VERSION };
	redisAsyncCommandArgv(cl->ac, tt__cluster_on_reply_warn, NULL, G_N_ELEMENTS(hset), hset, NULL);
	const char *exp[] = { "EXPIRE", key, ttl };
	redisAsyncCommandArgv(cl->ac, tt__cluster_on_reply_warn, NULL, 3, exp, NULL);
	/* load = participants; readers skip members whose node key has expired */
	const char *zadd[] = { "ZADD", zkey, np, cl->node };
	redisAsyncCommandArgv(cl->ac, tt__cluster_on_reply_warn, NULL, 4, zadd, NULL);
	g_free(key);
	g_free(zkey);
	g_hash_table_iter_init(&it, core->rooms);
	while (g_hash_table_iter_next(&it, &k, &v))
		if (!((struct tt_room *)v)->hidden)
			tt__cluster_claim(cl, ((struct tt_room *)v)->name);
	tt__cluster_read_peers(cl);
	tt__cluster_roster_heartbeat(cl);
}

static gboolean on_heartbeat(gpointer data)
{
	heartbeat(data);
	return G_SOURCE_CONTINUE;
}

/* Connected (and logged in when AUTH is configured): the node registers and claims. */
static void became_up(struct tt_cluster *cl)
{
	char buf[300];
	cl->up = true;
	cl->auth_logged = false;
	cl->backoff_ms = 0;
	cl->down_logged = false;
	if (cl->ever_up)
		cl->st.reconnects++;
	tt_info("redis at %s: connected as node %s%s", where(cl, buf, sizeof buf), cl->node,
		cl->ever_up ? "; registering again and claiming this node's rooms" : "");
	cl->ever_up = true;
	heartbeat(cl);
	/* rosters: what other nodes have in our rooms, asked again if the channels were up
	 * first; ours, told again (publications and answers were lost while we were away) */
	GHashTableIter it;
	gpointer room;
	g_hash_table_iter_init(&it, cl->homes);
	while (g_hash_table_iter_next(&it, &room, NULL)) {
		if (cl->sub_up)
			tt__cluster_roster_hello(cl, room);
		tt__cluster_roster_announce(cl, room);
	}
}

/* A refused AUTH is a configuration error, said as such (once until a login succeeds: the
 * retries go on with the backoff, so a password fixed in Redis is picked up). */
static void on_auth(redisAsyncContext *ac, void *r, void *priv)
{
	struct tt_cluster *cl = ac->data;
	redisReply *reply = r;
	char buf[300];
	(void)priv;
	if (cl->freeing || cl->leaving || !reply)
		return;   /* freed, leaving, or the connection went: on_disconnect says so */
	if (reply->type == REDIS_REPLY_ERROR) {
		if (!cl->auth_logged)
			tt_error("redis at %s: AUTH%s%s refused: %s (check [cluster] redis_user "
				 "and redis_password); retrying", where(cl, buf, sizeof buf),
				 *cl->user ? " as " : "", cl->user, reply->str);
		cl->auth_logged = true;
		cl->down_logged = true;   /* the retries' disconnects are this same outage */
		redisAsyncDisconnect(ac);
		return;
	}
	became_up(cl);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
	struct tt_cluster *cl = ac->data;
	if (cl->freeing)
		return;
	if (status != REDIS_OK) {
		lost(cl, ac->errstr);
		return;
	}
	cancel_connect_timer(cl);
	if (cl->leaving)
		return;   /* connected too late: tt__cluster_left does not wait for it */
	if (!*cl->password) {
		became_up(cl);
		return;
	}
	/* commands wait for the answer: sent before it, a refused login would make every one
	 * of them an error of its own */
	tt__cluster_auth(cl, cl->ac, on_auth);
}

void tt__cluster_auth(struct tt_cluster *cl, redisAsyncContext *ac, redisCallbackFn *cb)
{
	const char *argv[] = { "AUTH", cl->user, cl->password };
	if (*cl->user)
		redisAsyncCommandArgv(ac, cb, NULL, 3, argv, NULL);
	else
		redisAsyncCommandArgv(ac, cb, NULL, 2, (const char *[]){ "AUTH", cl->password },
				      NULL);
}

redisAsyncContext *tt__cluster_dial(struct tt_cluster *cl, GSource **src,
				    redisConnectCallback *on_up, redisDisconnectCallback *on_down,
				    char *why, size_t len)
{
	redisAsyncContext *ac = cl->unix_path ? redisAsyncConnectUnix(cl->host)
					      : redisAsyncConnect(cl->host, cl->port);
	if (!ac) {
		g_strlcpy(why, "out of memory", len);
		return NULL;
	}
	if (ac->err) {
		g_strlcpy(why, ac->errstr, len);
		redisAsyncFree(ac);
		return NULL;
	}
	ac->data = cl;
	*src = redis_source_new(ac);
	g_source_attach(*src, NULL);
	redisAsyncSetConnectCallback(ac, on_up);
	redisAsyncSetDisconnectCallback(ac, on_down);
	return ac;
}

static gboolean on_connect_timeout(gpointer data)
{
	struct tt_cluster *cl = data;
	char why[64];
	cl->connect_timer = 0;
	if (!cl->ac || cl->up)
		return G_SOURCE_REMOVE;
	/* not connected yet, so hiredis calls neither callback from the free */
	redisAsyncContext *ac = cl->ac;
	cl->ac = NULL;
	redisAsyncFree(ac);
	g_snprintf(why, sizeof why, "no connection after %u ms", cl->connect_timeout_ms);
	lost(cl, why);
	return G_SOURCE_REMOVE;
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
	struct tt_cluster *cl = ac->data;
	(void)status;
	if (cl->freeing)
		return;
	lost(cl, ac->errstr[0] ? ac->errstr : "connection closed");
}

static void connect_now(struct tt_cluster *cl)
{
	char why[200];
	cl->ac = tt__cluster_dial(cl, &cl->src, on_connect, on_disconnect, why, sizeof why);
	if (!cl->ac) {
		lost(cl, why);
		return;
	}
	cancel_connect_timer(cl);
	cl->connect_timer = g_timeout_add(cl->connect_timeout_ms, on_connect_timeout, cl);
}

int tt__cluster_start(struct tt_cluster **clp, struct tt_core *core)
{
	const struct tt_conf *c = core->conf;
	const char *redis = tt_conf_str(c, "cluster", "redis");
	*clp = NULL;
	if (!redis || !*redis)
		return 0;
	char *why = NULL;
	if (tt__cluster_check_conf(c, &why)) {
		tt_error("%s", why);
		g_free(why);
		return -EINVAL;
	}
	struct tt_cluster *cl = g_new0(struct tt_cluster, 1);
	const char *err;
	tt__cluster_parse_address(redis, &cl->host, &cl->port, &cl->unix_path, &err);
	cl->core = core;
	const char *node = tt_conf_str(c, "cluster", "node");
	cl->node = g_strdup(node && *node ? node : g_get_host_name());
	const char *url = tt_conf_str(c, "cluster", "public_url");
	cl->public_url = g_strdup(url ? url : "");
	const char *sip = tt_conf_str(c, "cluster", "sip_uri");
	cl->sip_uri = g_strdup(sip ? sip : "");
	cl->prefix = g_strdup(tt_conf_str(c, "cluster", "key_prefix"));
	const char *user = tt_conf_str(c, "cluster", "redis_user");
	cl->user = g_strdup(user ? user : "");
	const char *pw = tt_conf_str(c, "cluster", "redis_password");
	cl->password = g_strdup(pw ? pw : "");
	cl->ttl_s = (int)tt_conf_int(c, "cluster", "ttl_s");
	cl->connect_timeout_ms = MAX(CONNECT_TIMEOUT_MIN_MS, (unsigned)cl->ttl_s * 1000 / 3);
	cl->started = g_get_real_time() / G_USEC_PER_SEC;
	cl->homes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	cl->peers = g_ptr_array_new_with_free_func(g_free);
	const char *api = tt_conf_str(c, "cluster", "api_url");
	cl->api_url = g_strdup(api ? api : "");
	const char *tok = tt_conf_str(c, "http", "admin_token");
	cl->token = g_strdup(tok ? tok : "");
	cl->trunk_bitrate = (unsigned)tt_conf_int(c, "cluster", "trunk_bitrate");
	cl->trunks = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	cl->quiet = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	cl->remote = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					   (GDestroyNotify)g_hash_table_destroy);
	cl->st.configured = true;
	/* a third of the expiry: two heartbeats may be lost before the entries go */
	cl->hb_timer = g_timeout_add((guint)cl->ttl_s * 1000 / 3, on_heartbeat, cl);
	if (!url || !*url)
		tt_warn("[cluster] public_url is not set: other nodes cannot send browsers here");
	connect_now(cl);
	tt__cluster_bus_start(cl);
	*clp = cl;
	return 0;
}

void tt__cluster_leave(struct tt_cluster *cl)
{
	if (!cl || cl->leaving)
		return;
	cl->leaving = true;
	if (cl->hb_timer)
		g_source_remove(cl->hb_timer);
	if (cl->retry_timer)
		g_source_remove(cl->retry_timer);
	cl->hb_timer = cl->retry_timer = 0;
	cancel_connect_timer(cl);
	tt__cluster_bus_leave(cl);
	if (!cl->up)
		return;
	GHashTableIter it;
	gpointer room;
	g_hash_table_iter_init(&it, cl->homes);
	while (g_hash_table_iter_next(&it, &room, NULL))
		tt__cluster_release(cl, room);
	g_hash_table_remove_all(cl->homes);
	char *key = tt__cluster_key(cl, "node", cl->node);
	char *zkey = tt__cluster_key(cl, "nodes", NULL);
	const char *del[] = { "DEL", key };
	redisAsyncCommandArgv(cl->ac, tt__cluster_on_reply_warn, NULL, 2, del, NULL);
	const char *zrem[] = { "ZREM", zkey, cl->node };
	redisAsyncCommandArgv(cl->ac, tt__cluster_on_reply_warn, NULL, 3, zrem, NULL);
	g_free(key);
	g_free(zkey);
	/* the replies come, then hiredis closes and calls on_disconnect (lost: no retry) */
	redisAsyncDisconnect(cl->ac);
	tt_info("leaving the directory: node %s's entry and rooms released", cl->node);
}

bool tt__cluster_left(const struct tt_cluster *cl)
{
	return !cl || !cl->leaving || !cl->up;
}

struct tt_cluster *tt__cluster_free(struct tt_cluster *cl)
{
	if (!cl)
		return NULL;
	if (cl->hb_timer)
		g_source_remove(cl->hb_timer);
	if (cl->retry_timer)
		g_source_remove(cl->retry_timer);
	cl->hb_timer = cl->retry_timer = 0;
	cancel_connect_timer(cl);
	cl->freeing = true;   /* no callback of either connection acts from here */
	if (cl->ac) {
		/* pending callbacks run now with no reply; no reconnect from here */
		redisAsyncContext *ac = cl->ac;
		cl->ac = NULL;
		cl->up = false;
		redisAsyncFree(ac);
		drop_source(cl);
	}
	drop_source(cl);   /* the one kept from before */
	tt__cascade_free(cl);
	g_hash_table_destroy(cl->trunks);
	g_hash_table_destroy(cl->quiet);
	g_free(cl->api_url);
	g_free(cl->token);
	tt__cluster_bus_free(cl);
	g_hash_table_destroy(cl->homes);
	g_hash_table_destroy(cl->remote);
	g_ptr_array_unref(cl->peers);
	g_free(cl->host);
	g_free(cl->node);
	g_free(cl->public_url);
	g_free(cl->sip_uri);
	g_free(cl->prefix);
	g_free(cl->user);
	if (cl->password)
		memset(cl->password, 0, strlen(cl->password));
	g_free(cl->password);
	g_free(cl);
	return NULL;
}

void tt__cluster_redirected(struct tt_cluster *cl)
{
	if (cl)
		cl->st.redirects++;
}

struct tt_cluster_stats tt__cluster_stats(const struct tt_cluster *cl)
{
	if (!cl)
		return (struct tt_cluster_stats){ 0 };
	struct tt_cluster_stats s = cl->st;
	s.up = cl->up;
	return s;
}
