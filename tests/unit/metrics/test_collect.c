/* test_collect.c: GET /metrics's collector in-process (bridge/metrics/metrics.c) on a real
 * core: participants by gateway and codec, leg counters summed and kept when a participant
 * leaves (a _total never goes down), label sets that stay at 0, a gateway's own table with
 * every row type (groups, bools, doubles, signed, strings left out), and no WebSocket
 * section without an HTTP server. */
#include "tt_test.h"

#include <glib.h>
#include <string.h>
#include <tutti/gateway.h>
#include <tutti/stats.h>

#include "core/core_priv.h"
#include "../core/core_fixture.h"
#include "metrics/metrics.h"
#include "participant/participant.h"

struct cnt_stats {
	uint64_t pings;
	uint32_t peers;
	char mood[8];
	bool ok;
	double load;
	int32_t delta;
	int64_t since_us;
};

#define ROW(m, ty, grp, name, fl) \
	TT_STAT_FIELD(struct cnt_stats, m, ty, grp, name, fl, "a \"quoted\" help")
static const struct tt_stat_field cnt_fields[] = {
	ROW(pings, U64, NULL, "pings", TT_STAT_COUNTER),
	ROW(peers, U32, "now", "peers", 0),
	ROW(mood, STR, "now", "mood", 0),
	ROW(ok, BOOL, NULL, "ok", 0),
	ROW(load, DOUBLE, NULL, "load", 0),
	ROW(delta, I32, NULL, "delta", 0),
	ROW(since_us, I64, NULL, "since_us", 0),
	{ 0 },
};

static const struct tt_core_api *api;

static int c_start(struct tt_gw_handle *h, const struct tt_core_api *a,
		   const struct tt_conf *conf, void **statep)
{
	api = a;
	*statep = NULL;
	return 0;
}
static void c_stop(void *s) { (void)s; }
static void c_free(void *s) { (void)s; }
static void c_hang_up(void *s, struct tt_participant *p, const char *why)
{
	api->participant_leave(api->participant_ref(p), 0);
}
static void c_stats(void *s, void *out)
{
	struct cnt_stats *st = out;
	st->pings = 7;
	st->peers = 2;
	g_strlcpy(st->mood, "calm", sizeof st->mood);
	st->ok = true;
	st->load = 0.5;
	st->delta = -3;
	st->since_us = 1500000;
}

/* Labelled instances: one label value needing the exposition's escapes, one plain. */
struct link_stats {
	bool up;
	uint64_t drops;
	char why[16];
	int64_t age_ms;
};
static const struct tt_stat_field link_fields[] = {
	TT_STAT_FIELD(struct link_stats, up, BOOL, NULL, "link_up", 0, "up now"),
	TT_STAT_FIELD(struct link_stats, drops, U64, NULL, "drops", TT_STAT_COUNTER, "drops"),
	TT_STAT_FIELD(struct link_stats, why, STR, NULL, "why", 0, "a string"),
	TT_STAT_FIELD(struct link_stats, age_ms, I64, NULL, "age_ms", 0, "age"),
	{ 0 },
};
static unsigned n_links = 2;
static void c_instances(void *s, tt_gw_instance_h fn, void *arg)
{
	struct link_stats a = { .up = true, .drops = 1, .why = "ok", .age_ms = 2500 };
	struct link_stats b = { .up = false, .drops = 4, .why = "refused" };
	if (n_links > 0)
		fn(arg, "libera", &a);
	if (n_links > 1)
		fn(arg, "odd \"net\"\\\n", &b);
}

static const struct tt_gateway gw_cnt = {
	.api_version = TT_GATEWAY_API_VERSION, .name = "cnt", .network = "web",
	.start = c_start, .stop = c_stop, .free = c_free, .hang_up = c_hang_up,
	.stat_fields = cnt_fields, .stats_size = sizeof(struct cnt_stats), .stats = c_stats,
	.instance_label = "network", .instance_stat_fields = link_fields,
	.instance_stats_size = sizeof(struct link_stats), .instances = c_instances,
};

static bool has(const GString *s, const char *line)
{
	char *l = g_strdup_printf("\n%s\n", line);
	bool found = strstr(s->str, l) != NULL;
	g_free(l);
	return found;
}

#define HAS(s, line) TT_ASSERT_MSG(has(s, line), "no line '%s' in:\n%s", line, (s)->str)

/* What a worker's report leaves on a participant (room_events.c). */
static void fake_leg(struct tt_participant *p, const char *codec, uint64_t pkts, bool talking)
{
	if (!p->media)
		p->media = g_new0(struct tt_leg_stats, 1);
	g_strlcpy(p->media->codec, codec, sizeof p->media->codec);
	p->media->transport.pkts_in = pkts;
	p->media->transport.bytes_in = pkts * 100;
	p->media->mixer.talking = talking;
}

TT_TEST(metrics_sum_keep_and_gateway_tables)
{
	static const struct tt_gateway *const table[] = { &gw_cnt, NULL };
	struct tt_core *core = tt_test_core_make(table, "[rooms]\non_demand = true\n");
	struct tt_gw_handle *h = NULL;
	for (unsigned i = 0; i < core->n_gws; i++)
		if (!strcmp(core->gws[i].gw->name, "cnt"))
			h = &core->gws[i];
	TT_ASSERT(h != NULL);
	struct tt_participant *a = NULL, *b = NULL, *t = NULL;
	struct tt_join j = { .room = "r1", .name = "a", .caps = TT_CAP_TEXT };
	TT_ASSERT_INT_EQ(api->participant_join(h, &j, &a), 0);
	j.name = "b";
	TT_ASSERT_INT_EQ(api->participant_join(h, &j, &b), 0);
	j.name = "t";
	TT_ASSERT_INT_EQ(api->participant_join(h, &j, &t), 0);
	fake_leg(a, "pcmu", 10, true);
	fake_leg(b, "pcmu", 5, false);

	GString *s = tt__metrics_render(core);
	HAS(s, "tutti_rooms 1");
	HAS(s, "tutti_participants{gateway=\"cnt\",codec=\"pcmu\"} 2");
	HAS(s, "tutti_participants{gateway=\"cnt\",codec=\"none\"} 1");
	HAS(s, "# TYPE tutti_leg_packets_in_total counter");
	HAS(s, "tutti_leg_packets_in_total{gateway=\"cnt\",codec=\"pcmu\"} 15");
	HAS(s, "tutti_leg_bytes_in_total{gateway=\"cnt\",codec=\"pcmu\"} 1500");
	HAS(s, "tutti_leg_talking{gateway=\"cnt\",codec=\"pcmu\"} 1");
	TT_ASSERT(!strstr(s->str, "tutti_leg_packets_in_total{gateway=\"cnt\",codec=\"none\"}"));
	HAS(s, "tutti_joins_total{gateway=\"cnt\"} 3");
	/* the gateway's own table: every numeric row, groups in the name, units in seconds */
	HAS(s, "# HELP tutti_gateway_cnt_pings_total a \"quoted\" help");
	HAS(s, "tutti_gateway_cnt_pings_total 7");
	HAS(s, "tutti_gateway_cnt_now_peers 2");
	HAS(s, "tutti_gateway_cnt_ok 1");
	HAS(s, "tutti_gateway_cnt_load 0.5");
	HAS(s, "tutti_gateway_cnt_delta -3");
	HAS(s, "tutti_gateway_cnt_since_seconds 1.5");
	HAS(s, "tutti_gateway_up{gateway=\"cnt\"} 1");
	/* labelled instances: a family per numeric row, a sample per instance, escaped */
	HAS(s, "# TYPE tutti_gateway_cnt_link_up gauge");
	HAS(s, "tutti_gateway_cnt_link_up{network=\"libera\"} 1");
	HAS(s, "tutti_gateway_cnt_link_up{network=\"odd \\\"net\\\"\\\\\\n\"} 0");
	HAS(s, "# TYPE tutti_gateway_cnt_drops_total counter");
	HAS(s, "tutti_gateway_cnt_drops_total{network=\"libera\"} 1");
	HAS(s, "tutti_gateway_cnt_age_seconds{network=\"libera\"} 2.5");
	TT_ASSERT(!strstr(s->str, "_why"));
	TT_ASSERT(!strstr(s->str, "mood"));            /* strings are no metrics */
	TT_ASSERT(!strstr(s->str, "tutti_websocket"));  /* no HTTP server, no hub */
	TT_ASSERT(strstr(s->str, "process_open_fds ") != NULL);
	g_string_free(s, TRUE);

	/* a leaves: its counters stay in the pcmu sum, the gauges drop */
	api->participant_leave(a, 0);
	s = tt__metrics_render(core);
	HAS(s, "tutti_participants{gateway=\"cnt\",codec=\"pcmu\"} 1");
	HAS(s, "tutti_leg_packets_in_total{gateway=\"cnt\",codec=\"pcmu\"} 15");
	HAS(s, "tutti_leg_talking{gateway=\"cnt\",codec=\"pcmu\"} 0");
	HAS(s, "tutti_leaves_total{gateway=\"cnt\"} 1");
	g_string_free(s, TRUE);

	/* everyone gone, the room with them: the label sets stay, at 0, and so do counters */
	api->participant_leave(b, 0);
	api->participant_leave(t, 0);
	s = tt__metrics_render(core);
	HAS(s, "tutti_rooms 0");
	HAS(s, "tutti_participants{gateway=\"cnt\",codec=\"pcmu\"} 0");
	HAS(s, "tutti_participants{gateway=\"cnt\",codec=\"none\"} 0");
	HAS(s, "tutti_leg_packets_in_total{gateway=\"cnt\",codec=\"pcmu\"} 15");
	HAS(s, "tutti_leaves_total{gateway=\"cnt\"} 3");
	g_string_free(s, TRUE);
	/* no instance now: the families stay, empty (the same names whatever is configured) */
	n_links = 0;
	s = tt__metrics_render(core);
	HAS(s, "# TYPE tutti_gateway_cnt_link_up gauge");
	TT_ASSERT(!strstr(s->str, "tutti_gateway_cnt_link_up{"));
	g_string_free(s, TRUE);
	n_links = 2;
	tt__core_shutdown(core);
	tt__core_free(core);
}
