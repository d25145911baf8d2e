/* directory.c: room homes in Redis. Each operation is one small Lua script (EVAL), so a
 * claim, a renewal or a release is atomic without WATCH round trips:
 * - claim-or-renew: the home key is set with NX semantics when free (this node claims it),
 *   its expiry renewed when it is ours, left alone when another node has it; this node joins
 *   the room's node set either way. One per live room per heartbeat: this is also how rooms
 *   are claimed again after Redis lost its data or the home node died.
 * - release: DEL only when the value is still ours (a node that lost its claim during an
 *   outage must not delete the new owner's).
 * - lookup: the home's id and its public_url in one round trip. */
#define TT_LOG_DOMAIN "cluster"
#include "cluster_priv.h"

#include <string.h>
#include <tutti/log.h>

static const char CLAIM[] =
	"local v = redis.call('GET', KEYS[1]) local c = 0 "
	"if not v then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) v = ARGV[1] c = 1 "
	"elseif v == ARGV[1] then redis.call('EXPIRE', KEYS[1], ARGV[2]) end "
	"redis.call('SADD', KEYS[2], ARGV[1]) redis.call('EXPIRE', KEYS[2], ARGV[2]) "
	"return {v, c}";
static const char RELEASE[] =
	"if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end "
	"redis.call('SREM', KEYS[2], ARGV[1]) return 0";
static const char LOOKUP[] =
	"local v = redis.call('GET', KEYS[1]) if not v then return {} end "
	"return {v, redis.call('HGET', ARGV[1] .. v, 'public_url') or ''}";

struct claim {
	struct tt_cluster *cl;
	char *room;
};

static void on_claim(redisAsyncContext *ac, void *r, void *priv)
{
	(void)ac;
	struct claim *c = priv;
	struct tt_cluster *cl = c->cl;
	redisReply *reply = r;
	if (!reply || cl->freeing)
		goto out;
	if (reply->type == REDIS_REPLY_ERROR) {
		tt_warn("redis: claiming room %s: %s", c->room, reply->str);
		goto out;
	}
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
	    reply->element[0]->type != REDIS_REPLY_STRING)
		goto out;
	const char *owner = reply->element[0]->str;
	bool claimed = reply->element[1]->type == REDIS_REPLY_INTEGER &&
		       reply->element[1]->integer == 1;
	/* only rooms still live here are tracked: a reply for one that ended meanwhile is
	 * old news (its release is queued behind the claim, and runs after it) */
	if (!g_hash_table_contains(cl->homes, c->room))
		goto out;
	const char *was = g_hash_table_lookup(cl->homes, c->room);
	if (claimed) {
		cl->st.claims++;
		tt_info("room %s: this node (%s) is its home", c->room, cl->node);
	} else if (cl->api_url[0]) {
		/* cascaded: no split, the trunk below joins the halves */
	} else if (strcmp(owner, cl->node) && (!was || strcmp(was, owner))) {
		/* the split rule: local participants stay here; new browsers go to the home */
		cl->st.splits++;
		tt_warn("room %s: its home is node %s, yet it has participants here too; they stay, "
			"new browsers are sent to %s", c->room, owner, owner);
	}
	g_hash_table_replace(cl->homes, g_strdup(c->room), g_strdup(owner));
	tt__cascade_home(cl, c->room, owner);
out:
	g_free(c->room);
	g_free(c);
}

void tt__cluster_claim(struct tt_cluster *cl, const char *room)
{
	if (!cl->up)
		return;
	char *key = tt__cluster_key(cl, "room", room);
	char *set = g_strdup_printf("%s:nodes", key);
	char ttl[16];
	g_snprintf(ttl, sizeof ttl, "%d", cl->ttl_s);
	const char *argv[] = { "EVAL", CLAIM, "2", key, set, cl->node, ttl };
	struct claim *c = g_new0(struct claim, 1);
	c->cl = cl;
	c->room = g_strdup(room);
	if (redisAsyncCommandArgv(cl->ac, on_claim, c, G_N_ELEMENTS(argv), argv, NULL)) {
		g_free(c->room);
		g_free(c);
	}
	g_free(key);
	g_free(set);
}

void tt__cluster_room_up(struct tt_cluster *cl, const char *room)
{
	if (!cl || !room || room[0] == '.')   /* '.': the hidden decoy lobby */
		return;
	if (!g_hash_table_contains(cl->homes, room))
		tt__cluster_bus_room(cl, room, true);
	g_hash_table_replace(cl->homes, g_strdup(room), NULL);
	tt__cluster_claim(cl, room);
}

void tt__cluster_room_down(struct tt_cluster *cl, const char *room)
{
	if (!cl || !room || !g_hash_table_remove(cl->homes, room))
		return;
	tt__cluster_bus_room(cl, room, false);
	tt__cluster_roster_room_down(cl, room);
	if (cl->up)
		tt__cluster_release(cl, room);   /* else its key expires by itself */
}

void tt__cluster_release(struct tt_cluster *cl, const char *room)
{
	char *key = tt__cluster_key(cl, "room", room);
	char *set = g_strdup_printf("%s:nodes", key);
	const char *argv[] = { "EVAL", RELEASE, "2", key, set, cl->node };
	redisAsyncCommandArgv(cl->ac, tt__cluster_on_reply_warn, (void *)"releasing a room", G_N_ELEMENTS(argv), argv, NULL);
	g_free(key);
	g_free(set);
}

struct lookup {
	struct tt_cluster *cl;
	tt_cluster_home_h cb;
	void *arg;
};

static void on_lookup(redisAsyncContext *ac, void *r, void *priv)
{
	(void)ac;
	struct lookup *l = priv;
	redisReply *reply = r;
	const char *node = NULL, *url = "";
	if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
	    reply->element[0]->type == REDIS_REPLY_STRING &&
	    reply->element[1]->type == REDIS_REPLY_STRING) {
		node = reply->element[0]->str;
		url = reply->element[1]->str;
	} else if (reply && reply->type == REDIS_REPLY_ERROR) {
		tt_warn("redis: looking a room up: %s", reply->str);
	}
	l->cb(l->arg, node, url, node && !strcmp(node, l->cl->node));
	g_free(l);
}

bool tt__cluster_lookup(struct tt_cluster *cl, const char *room, tt_cluster_home_h cb,
			void *arg)
{
	if (!cl || !cl->up || cl->leaving || !room)
		return false;
	char *key = tt__cluster_key(cl, "room", room);
	char *nodes = g_strdup_printf("%snode:", cl->prefix);
	const char *argv[] = { "EVAL", LOOKUP, "1", key, nodes };
	struct lookup *l = g_new0(struct lookup, 1);
	l->cl = cl;
	l->cb = cb;
	l->arg = arg;
	bool ok = redisAsyncCommandArgv(cl->ac, on_lookup, l, G_N_ELEMENTS(argv), argv, NULL) ==
		  REDIS_OK;
	if (!ok)
		g_free(l);
	g_free(key);
	g_free(nodes);
	return ok;
}

struct url_q {
	tt_cluster_url_h cb;
	void *arg;
};

static void on_url(redisAsyncContext *ac, void *r, void *priv)
{
	(void)ac;
	struct url_q *q = priv;
	redisReply *reply = r;
	q->cb(q->arg, reply && reply->type == REDIS_REPLY_STRING && reply->len ? reply->str
								 : NULL);
	g_free(q);
}

bool tt__cluster_node_url(struct tt_cluster *cl, const char *id, tt_cluster_url_h cb, void *arg)
{
	if (!cl->up || cl->leaving)
		return false;
	char *key = tt__cluster_key(cl, "node", id);
	const char *argv[] = { "HGET", key, "api_url" };
	struct url_q *q = g_new0(struct url_q, 1);
	q->cb = cb;
	q->arg = arg;
	bool ok = redisAsyncCommandArgv(cl->ac, on_url, q, 3, argv, NULL) == REDIS_OK;
	if (!ok)
		g_free(q);
	g_free(key);
	return ok;
}
