/* trunk.c: the built-in "trunk" gateway (trunk.h). Core thread. */
#define TT_LOG_DOMAIN "cluster"
#include "trunk.h"

#include <tutti/errno.h>
#include <tutti/log.h>

#include "cluster/cascade.h"
#include "participant/participant.h"
#include "registry.h"
#include "room/room.h"

struct trunk_stats {
	uint32_t trunks;
	uint64_t opened, ended;
};

struct tt__trunk_gw {
	struct tt_gw_handle *h;
	const struct tt_core_api *api;
	GHashTable *parts;   /* struct tt_participant * (our reference) -> itself */
	struct trunk_stats st;
};

static int trunk_start(struct tt_gw_handle *h, const struct tt_core_api *api,
		       const struct tt_conf *conf, void **statep)
{
	(void)conf;
	struct tt__trunk_gw *g = g_new0(struct tt__trunk_gw, 1);
	g->h = h;
	g->api = api;
	g->parts = g_hash_table_new(g_direct_hash, g_direct_equal);
	*statep = g;
	return 0;
}

static void trunk_stop(void *state)
{
	struct tt__trunk_gw *g = state;
	GHashTableIter it;
	gpointer k;
	g_hash_table_iter_init(&it, g->parts);
	while (g_hash_table_iter_next(&it, &k, NULL)) {
		g_hash_table_iter_steal(&it);
		tt__cascade_gone(g->h->core, k);
		g->st.ended++;
		g->api->participant_leave(k, -ESHUTDOWN);
	}
}

static void trunk_free(void *state)
{
	struct tt__trunk_gw *g = state;
	trunk_stop(g);
	g_hash_table_destroy(g->parts);
	g_free(g);
}

/* The core hangs a trunk up when its media ended (the far node went quiet: the inactivity
 * timeout) or its room ends: cascade.c forgets it (a leaf asks again on its next
 * heartbeat while it still has participants). */
static void trunk_hang_up(void *state, struct tt_participant *p, const char *why)
{
	struct tt__trunk_gw *g = state;
	if (!g_hash_table_remove(g->parts, p))
		return;
	tt_info("trunk %s in %s ended: %s", g->api->participant_id(p), p->room_name, why);
	tt__cascade_gone(g->h->core, p);
	g->st.ended++;
	g->api->participant_leave(p, 0);
}

static void trunk_stats(void *state, void *out)
{
	struct tt__trunk_gw *g = state;
	struct trunk_stats *st = out;
	*st = g->st;
	st->trunks = g_hash_table_size(g->parts);
}

#define ROW(member, ty, name, fl, help) \
	TT_STAT_FIELD(struct trunk_stats, member, ty, NULL, name, fl, help)
static const struct tt_stat_field trunk_stat_fields[] = {
	ROW(trunks, U32, "trunks", 0, "trunk ends to other nodes now (cascaded rooms)"),
	ROW(opened, U64, "opened", TT_STAT_COUNTER, "trunk ends made"),
	ROW(ended, U64, "ended", TT_STAT_COUNTER, "trunk ends gone"),
	{ 0 },
};

const struct tt_gateway tt__gateway_trunk = {
	.api_version = TT_GATEWAY_API_VERSION,
	.name = "trunk",
	.network = "trunk",
	.start = trunk_start,
	.stop = trunk_stop,
	.free = trunk_free,
	.hang_up = trunk_hang_up,
	.stat_fields = trunk_stat_fields,
	.stats_size = sizeof(struct trunk_stats),
	.stats = trunk_stats,
};

struct tt__trunk_gw *tt__trunk_gw_get(struct tt_core *core)
{
	return tt__gateway_state(core, &tt__gateway_trunk);
}

int tt__trunk_gw_join(struct tt__trunk_gw *g, const char *room, const char *name, bool hold,
		      struct tt_participant **pp)
{
	struct tt_join j = { .room = room, .name = name, .caps = TT_CAP_AUDIO };
	struct tt_participant *p = NULL;
	int rc = tt__room_trunk_join(g->h, &j, hold, &p);
	if (rc)
		return rc;
	g_hash_table_add(g->parts, p);
	g->st.opened++;
	*pp = p;
	return 0;
}

void tt__trunk_gw_leave(struct tt__trunk_gw *g, struct tt_participant *p, int reason)
{
	if (g_hash_table_remove(g->parts, p)) {
		g->st.ended++;
		g->api->participant_leave(p, reason);
	}
}
