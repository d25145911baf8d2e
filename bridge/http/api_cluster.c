/* api_cluster.c: GET /api/cluster, what a browser needs to survive its node: this node's id
 * and the other live nodes' public URLs, least loaded first (web/app.js reconnects to them
 * when this node is gone). Public: the URLs are where browsers are sent anyway. Answered
 * from what the last heartbeat read, never waiting for Redis. Core thread only. */
#define TT_LOG_DOMAIN "http"
#include "http.h"

#include "cluster/cluster.h"

void tt__api_cluster(struct tt_core *core, const struct tt_http_req *req,
		     struct tt_http_resp *r)
{
	(void)req;
	unsigned n;
	const char *const *p = tt__cluster_peers(core->cluster, &n);
	const char *node = tt__cluster_node(core->cluster);
	json_t *peers = json_array();
	for (unsigned i = 0; i < n; i++)
		json_array_append_new(peers, json_pack("{s:s, s:s}", "node", p[2 * i], "url",
						       p[2 * i + 1]));
	struct tt_cluster_stats st = tt__cluster_stats(core->cluster);
	r->json = json_pack("{s:o, s:b, s:o}", "node", node ? json_string(node) : json_null(),
			    "redis_up", st.up, "peers", peers);
}
