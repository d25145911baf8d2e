/* rtp.c: the built-in "rtp" gateway: participants the admin API made. Core thread. */
/* the domain it logged under inside the HTTP module: [bridge] log_level filters name it */
#define TT_LOG_DOMAIN "http"
#include "rtp.h"

#include <tutti/errno.h>
#include <tutti/log.h>

#include "registry.h"

struct rtp_stats {
	uint32_t participants;
	uint64_t joined, media_failed;
};

struct tt__rtp_gw {
	struct tt_gw_handle *h;
	const struct tt_core_api *api;
	GHashTable *parts;   /* struct tt_participant * (our reference) -> itself */
	struct rtp_stats st;
};

static int rtp_start(struct tt_gw_handle *h, const struct tt_core_api *api,
		     const struct tt_conf *conf, void **statep)
{
	struct tt__rtp_gw *g = g_new0(struct tt__rtp_gw, 1);
	g->h = h;
	g->api = api;
	g->parts = g_hash_table_new(g_direct_hash, g_direct_equal);
	*statep = g;
	return 0;
}

static void leave(struct tt__rtp_gw *g, struct tt_participant *p, int reason)
{
	if (g_hash_table_remove(g->parts, p))
		g->api->participant_leave(p, reason);
}

static void rtp_stop(void *state)
{
	struct tt__rtp_gw *g = state;
	GHashTableIter it;
	gpointer k;
	g_hash_table_iter_init(&it, g->parts);
	while (g_hash_table_iter_next(&it, &k, NULL)) {
		g_hash_table_iter_steal(&it);
		g->api->participant_leave(k, -ESHUTDOWN);
	}
}

static void rtp_free(void *state)
{
	struct tt__rtp_gw *g = state;
	rtp_stop(g);
	g_hash_table_destroy(g->parts);
	g_free(g);
}

static void rtp_hang_up(void *state, struct tt_participant *p, const char *why)
{
	struct tt__rtp_gw *g = state;
	/* nobody to say goodbye to on plain RTP but the RTCP BYE the transport sends */
	tt_info("%s hung up: %s", g->api->participant_id(p), why);
	leave(g, p, 0);
}

static void rtp_stats(void *state, void *out)
{
	struct tt__rtp_gw *g = state;
	struct rtp_stats *st = out;
	*st = g->st;
	st->participants = g_hash_table_size(g->parts);
}

#define ROW(member, ty, name, fl, help) \
	TT_STAT_FIELD(struct rtp_stats, member, ty, NULL, name, fl, help)
static const struct tt_stat_field rtp_stat_fields[] = {
	ROW(participants, U32, "participants", 0, "plain RTP participants now"),
	ROW(joined, U64, "joined", TT_STAT_COUNTER, "participants the API made"),
	ROW(media_failed, U64, "media_failed", TT_STAT_COUNTER,
	    "of those, left because their media could not be set up"),
	{ 0 },
};

const struct tt_gateway tt__gateway_rtp = {
	.api_version = TT_GATEWAY_API_VERSION,
	.name = "rtp",
	.network = "rtp",
	.start = rtp_start,
	.stop = rtp_stop,
	.free = rtp_free,
	.hang_up = rtp_hang_up,
	.stat_fields = rtp_stat_fields,
	.stats_size = sizeof(struct rtp_stats),
	.stats = rtp_stats,
};

struct tt__rtp_gw *tt__rtp_gw_get(struct tt_core *core)
{
	return tt__gateway_state(core, &tt__gateway_rtp);
}

int tt__rtp_gw_join(struct tt__rtp_gw *g, const struct tt_join *j, struct tt_participant **pp)
{
	struct tt_participant *p = NULL;
	int rc = g->api->participant_join(g->h, j, &p);
	if (rc)
		return rc;
	g_hash_table_add(g->parts, p);
	g->st.joined++;
	*pp = p;
	return 0;
}

int tt__rtp_gw_attach(struct tt__rtp_gw *g, struct tt_participant *p,
		      const struct tt_audio_leg *leg, tt_audio_attached_h cb, void *arg)
{
	return g->api->audio_attach(p, leg, cb, arg);
}

void tt__rtp_gw_drop(struct tt__rtp_gw *g, struct tt_participant *p, int reason)
{
	if (g_hash_table_contains(g->parts, p))
		g->st.media_failed++;
	leave(g, p, reason);
}
