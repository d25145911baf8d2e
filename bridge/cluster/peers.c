/* peers.c: the other live nodes of the cluster and their public URLs, least loaded first,
 * read once per heartbeat (one script over the node set) and kept here, so that an answer
 * that names them (GET /api/cluster, which a browser reads to know where to go when its node
 * dies) never waits for Redis. The same script removes the members whose entry has expired
 * (nodes that died without a clean stop), so the set read by others (the Kamailio front
 * door's least-loaded choice) holds only live nodes, give or take one heartbeat. */
#define TT_LOG_DOMAIN "cluster"
#include "cluster_priv.h"

#include <string.h>
#include <tutti/log.h>

#define PEERS_MAX 16   /* a browser needs a few places to try, not the whole cluster */

static const char PEERS[] =
	"local out = {} "
	"for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do "
	"  if redis.call('EXISTS', ARGV[1] .. id) == 0 then redis.call('ZREM', KEYS[1], id) "
	"  elseif id ~= ARGV[2] and #out < 2 * tonumber(ARGV[3]) then "
	"    local u = redis.call('HGET', ARGV[1] .. id, 'public_url') "
	"    if u and u ~= '' then out[#out + 1] = id out[#out + 1] = u end "
	"  end "
	"end "
	"return out";

static void on_peers(redisAsyncContext *ac, void *r, void *priv)
{
	(void)ac;
	(void)priv;
	struct tt_cluster *cl = ac->data;
	redisReply *reply = r;
	if (!reply || cl->freeing)
		return;
	if (reply->type == REDIS_REPLY_ERROR) {
		tt_warn("redis: reading the other nodes: %s", reply->str);
		return;
	}
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements % 2)
		return;
	g_ptr_array_set_size(cl->peers, 0);
	for (size_t i = 0; i < reply->elements; i++) {
		const redisReply *e = reply->element[i];
		if (e->type != REDIS_REPLY_STRING) {
			g_ptr_array_set_size(cl->peers, 0);
			return;
		}
		g_ptr_array_add(cl->peers, g_strndup(e->str, e->len));
	}
}

void tt__cluster_read_peers(struct tt_cluster *cl)
{
	if (!cl->up)
		return;
	char *zkey = tt__cluster_key(cl, "nodes", NULL);
	char *nodes = g_strdup_printf("%snode:", cl->prefix);
	char max[8];
	g_snprintf(max, sizeof max, "%d", PEERS_MAX);
	const char *argv[] = { "EVAL", PEERS, "1", zkey, nodes, cl->node, max };
	redisAsyncCommandArgv(cl->ac, on_peers, NULL, G_N_ELEMENTS(argv), argv, NULL);
	g_free(zkey);
	g_free(nodes);
}

const char *const *tt__cluster_peers(const struct tt_cluster *cl, unsigned *n)
{
	*n = cl ? cl->peers->len / 2 : 0;
	return cl ? (const char *const *)cl->peers->pdata : NULL;
}

const char *tt__cluster_node(const struct tt_cluster *cl)
{
	return cl ? cl->node : NULL;
}
