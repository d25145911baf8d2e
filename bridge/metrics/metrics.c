/* metrics.c: the /metrics exposition, rendered from the statistics tables (stats.h) the
 * JSON API uses: a row flagged TT_STAT_COUNTER becomes a `_total` counter, one flagged
 * TT_STAT_SUM a gauge summed over legs or rooms; other rows are per object (a level, a
 * depth) and stay in the JSON API. The cost is one pass over participants and rooms plus
 * one line per (row, label set): no per-participant series exist. */
#include "metrics.h"

#include <stddef.h>

#include <string.h>
#include <tutti/gateway.h>

#include "expo.h"
#include "cluster/cluster.h"
#include "gateway/registry.h"
#include "http/http.h"
#include "http/ws.h"
#include "participant/participant.h"
#include "record/recorder.h"
#include "room/room.h"
#include "stats/stats.h"

#define SUMMED (TT_STAT_COUNTER | TT_STAT_SUM)

/* Interarrival jitter, in ms: a phone on a good LAN is under 5, a bad Wi-Fi over 50. */
#define JITTER_BUCKETS 9
static const double jitter_bounds_ms[JITTER_BUCKETS] = { 1, 2, 5, 10, 20, 30, 50, 100, 200 };

/* One label set of legs: a gateway and a codec ("none" for text participants, "unknown"
 * for audio before its first report). vals[] is indexed like tt_leg_stat_fields. */
struct leg_group {
	char gateway[32];
	char codec[16];
	unsigned parts;
	double vals[];
};

struct tt_metrics {
	unsigned n_leg_fields, n_room_fields;
	GHashTable *legs_gone;       /* "gateway/codec" -> struct leg_group * */
	double *rooms_gone;          /* indexed like tt_mixer_room_stat_fields */
	uint64_t jitter[JITTER_BUCKETS + 1];
	double jitter_sum_ms;
	GHashTable *joins, *leaves;  /* gateway name -> uint64_t * */
};

static unsigned count_rows(const struct tt_stat_field *f)
{
	unsigned n = 0;
	while (f[n].name)
		n++;
	return n;
}

struct tt_metrics *tt__metrics_new(void)
{
	struct tt_metrics *m = g_new0(struct tt_metrics, 1);
	m->n_leg_fields = count_rows(tt_leg_stat_fields);
	m->n_room_fields = count_rows(tt_mixer_room_stat_fields);
	m->legs_gone = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	m->rooms_gone = g_new0(double, m->n_room_fields);
	m->joins = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	m->leaves = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	return m;
}

struct tt_metrics *tt__metrics_free(struct tt_metrics *m)
{
	if (!m)
		return NULL;
	g_hash_table_destroy(m->legs_gone);
	g_hash_table_destroy(m->joins);
	g_hash_table_destroy(m->leaves);
	g_free(m->rooms_gone);
	g_free(m);
	return NULL;
}

static struct leg_group *group_get(GHashTable *t, unsigned nf, const char *gw,
				   const char *codec)
{
	char *key = g_strdup_printf("%s/%s", gw, codec);
	struct leg_group *g = g_hash_table_lookup(t, key);
	if (g) {
		g_free(key);
		return g;
	}
	g = g_malloc0(sizeof *g + nf * sizeof(double));
	g_strlcpy(g->gateway, gw, sizeof g->gateway);
	g_strlcpy(g->codec, codec, sizeof g->codec);
	g_hash_table_insert(t, key, g);
	return g;
}

/* Adds the rows with any of `flags` of struct s into vals. */
static void add_rows(const struct tt_stat_field *fields, unsigned flags, double *vals,
		     const void *s)
{
	for (unsigned i = 0; fields[i].name; i++) {
		double v;
		if ((fields[i].flags & flags) && tt__stats_value(&fields[i], s, &v))
			vals[i] += v;
	}
}

void tt__metrics_leg_gone(struct tt_metrics *m, const char *gateway,
			  const struct tt_leg_stats *st)
{
	if (!m || !st)
		return;
	struct leg_group *g = group_get(m->legs_gone, m->n_leg_fields, gateway,
					st->codec[0] ? st->codec : "unknown");
	/* only counters: a gauge of a leg that is gone is nothing now */
	add_rows(tt_leg_stat_fields, TT_STAT_COUNTER, g->vals, st);
}

void tt__metrics_room_gone(struct tt_metrics *m, const struct tt_mixer_room_stats *st)
{
	if (m && st)
		add_rows(tt_mixer_room_stat_fields, TT_STAT_COUNTER, m->rooms_gone, st);
}

void tt__metrics_jitter(struct tt_metrics *m, double jitter_ms)
{
	if (!m)
		return;
	unsigned i = 0;
	while (i < JITTER_BUCKETS && jitter_ms > jitter_bounds_ms[i])
		i++;
	m->jitter[i]++;
	m->jitter_sum_ms += jitter_ms;
}

static void bump(GHashTable *t, const char *gw)
{
	uint64_t *n = g_hash_table_lookup(t, gw);
	if (!n) {
		n = g_new0(uint64_t, 1);
		g_hash_table_insert(t, g_strdup(gw), n);
	}
	(*n)++;
}

void tt__metrics_joined(struct tt_metrics *m, const char *gateway)
{
	if (m)
		bump(m->joins, gateway);
}

void tt__metrics_left(struct tt_metrics *m, const char *gateway)
{
	if (m)
		bump(m->leaves, gateway);
}

/* ---- rendering ---- */

static gint by_key(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of t, sorted: series come out in a stable order, which diffs and tests like. */
static GPtrArray *sorted_keys(GHashTable *t)
{
	GPtrArray *a = g_ptr_array_new();
	GHashTableIter it;
	gpointer k;
	g_hash_table_iter_init(&it, t);
	while (g_hash_table_iter_next(&it, &k, NULL))
		g_ptr_array_add(a, k);
	g_ptr_array_sort(a, by_key);
	return a;
}

static char *help_of(const struct tt_stat_field *f, const char *how)
{
	return g_strdup_printf("%s%s%s", f->help ? f->help : f->name, how ? " " : "",
			       how ? how : "");
}

/* Every participant in a visible room, by gateway and codec, on top of the legs gone. */
static GHashTable *leg_groups(struct tt_core *core, struct tt_metrics *m)
{
	GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, m->legs_gone);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		const struct leg_group *gone = v;
		struct leg_group *g = group_get(t, m->n_leg_fields, gone->gateway, gone->codec);
		for (unsigned i = 0; i < m->n_leg_fields; i++)
			g->vals[i] += gone->vals[i];
	}
	g_hash_table_iter_init(&it, core->rooms);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		const struct tt_room *room = v;
		if (room->hidden)
			continue;
		for (guint i = 0; i < room->parts->len; i++) {
			const struct tt_participant *p = g_ptr_array_index(room->parts, i);
			if (p->lobby)
				continue;
			const char *codec = p->media && p->media->codec[0] ? p->media->codec :
					    (p->caps & TT_CAP_AUDIO) ? "unknown" : "none";
			struct leg_group *g = group_get(t, m->n_leg_fields, p->gw->gw->name, codec);
			g->parts++;
			if (p->media)
				add_rows(tt_leg_stat_fields, SUMMED, g->vals, p->media);
			/* a label set seen once stays (at 0 when its participants left): a series
			 * that vanishes reads as "no data", not as "nobody"; gateways x codecs
			 * bound it */
			group_get(m->legs_gone, m->n_leg_fields, g->gateway, g->codec);
		}
	}
	return t;
}

static void render_legs(GString *out, struct tt_core *core, struct tt_metrics *m)
{
	GHashTable *t = leg_groups(core, m);
	GPtrArray *keys = sorted_keys(t);
	tt__expo_family(out, "tutti_participants", TT_EXPO_GAUGE,
			"Participants in rooms (not in a PIN lobby), by gateway and codec.");
	for (guint j = 0; j < keys->len; j++) {
		const struct leg_group *g = g_hash_table_lookup(t, g_ptr_array_index(keys, j));
		const char *labels[] = { "gateway", g->gateway, "codec", g->codec, NULL };
		tt__expo_sample(out, "tutti_participants", labels, g->parts);
	}
	for (unsigned i = 0; i < m->n_leg_fields; i++) {
		const struct tt_stat_field *f = &tt_leg_stat_fields[i];
		if (!(f->flags & SUMMED) || f->type == TT_STAT_STR)
			continue;
		bool counter = f->flags & TT_STAT_COUNTER;
		char name[128];
		double scale;
		tt__expo_name(name, sizeof name, "tutti_leg_", f->group, f->name, counter, &scale);
		char *help = help_of(f, counter ? "(summed over audio legs, those gone included)"
					       : "(legs now)");
		tt__expo_family(out, name, counter ? TT_EXPO_COUNTER : TT_EXPO_GAUGE, help);
		g_free(help);
		for (guint j = 0; j < keys->len; j++) {
			const struct leg_group *g = g_hash_table_lookup(t, g_ptr_array_index(keys, j));
			const char *labels[] = { "gateway", g->gateway, "codec", g->codec, NULL };
			if (strcmp(g->codec, "none") != 0)   /* text participants have no leg */
				tt__expo_sample(out, name, labels, g->vals[i] * scale);
		}
	}
	g_ptr_array_free(keys, TRUE);
	g_hash_table_destroy(t);
	tt__expo_family(out, "tutti_leg_jitter_seconds", TT_EXPO_HISTOGRAM,
			"Interarrival jitter of what legs receive, one observation per leg and "
			"report (about a second) when the leg received since its last one.");
	tt__expo_histogram(out, "tutti_leg_jitter_seconds", NULL, jitter_bounds_ms, m->jitter,
			   JITTER_BUCKETS, 1e-3, m->jitter_sum_ms * 1e-3);
}

/* Every registered gateway, 0 until its first: a series that appears late breaks rate(). */
static void render_per_gateway(GString *out, struct tt_core *core, GHashTable *t,
			       const char *name, const char *help)
{
	tt__expo_family(out, name, TT_EXPO_COUNTER, help);
	for (unsigned i = 0; i < core->n_gws; i++) {
		const char *gw = core->gws[i].gw->name;
		const uint64_t *n = g_hash_table_lookup(t, gw);
		const char *labels[] = { "gateway", gw, NULL };
		tt__expo_sample(out, name, labels, n ? (double)*n : 0);
	}
}

static void render_rooms(GString *out, struct tt_core *core, struct tt_metrics *m)
{
	tt__expo_family(out, "tutti_rooms", TT_EXPO_GAUGE, "Rooms open now.");
	tt__expo_sample(out, "tutti_rooms", NULL, tt__rooms_visible(core));
	double *vals = g_new(double, m->n_room_fields);
	memcpy(vals, m->rooms_gone, m->n_room_fields * sizeof *vals);
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, core->rooms);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		const struct tt_room *room = v;
		if (room->has_mixer_stats)
			add_rows(tt_mixer_room_stat_fields, SUMMED, vals, &room->mixer_stats);
	}
	for (unsigned i = 0; i < m->n_room_fields; i++) {
		const struct tt_stat_field *f = &tt_mixer_room_stat_fields[i];
		if (!(f->flags & SUMMED) || f->type == TT_STAT_STR)
			continue;
		bool counter = f->flags & TT_STAT_COUNTER;
		char name[128];
		double scale;
		tt__expo_name(name, sizeof name, "tutti_mixer_", NULL, f->name, counter, &scale);
		char *help = help_of(f, counter ? "(every room, those ended included)"
					       : "(summed over rooms)");
		tt__expo_family(out, name, counter ? TT_EXPO_COUNTER : TT_EXPO_GAUGE, help);
		g_free(help);
		tt__expo_sample(out, name, NULL, vals[i] * scale);
	}
	g_free(vals);
}

/* One family per numeric row of `fields`, one sample per worker. */
static void render_worker_rows(GString *out, struct tt_core *core,
			       const struct tt_stat_field *fields, const char *group)
{
	for (const struct tt_stat_field *f = fields; f->name; f++) {
		if (f->type == TT_STAT_STR || !strcmp(f->name, "index"))
			continue;
		bool counter = f->flags & TT_STAT_COUNTER;
		char name[128];
		double scale;
		tt__expo_name(name, sizeof name, "tutti_worker_", group, f->name, counter, &scale);
		tt__expo_family(out, name, counter ? TT_EXPO_COUNTER : TT_EXPO_GAUGE, f->help);
		for (unsigned w = 0; w < core->n_wstats; w++) {
			double val = 0;
			char idx[16];
			snprintf(idx, sizeof idx, "%u", w);
			const char *labels[] = { "worker", idx, NULL };
			tt__stats_value(f, &core->wstats[w], &val);
			tt__expo_sample(out, name, labels, val * scale);
		}
	}
}

static void render_workers(GString *out, struct tt_core *core)
{
	render_worker_rows(out, core, tt__worker_stat_fields, NULL);
	render_worker_rows(out, core, tt__worker_port_stat_fields, "shared_port");
	double bounds[TT_WORKER_TICK_BUCKETS];
	for (unsigned i = 0; i < TT_WORKER_TICK_BUCKETS; i++)
		bounds[i] = tt__worker_tick_bounds_us[i];
	tt__expo_family(out, "tutti_worker_tick_duration_seconds", TT_EXPO_HISTOGRAM,
			"How long a tick took: every room's mix and the send (the period is "
			"20 ms).");
	for (unsigned w = 0; w < core->n_wstats; w++) {
		const struct tt_worker_stats *s = &core->wstats[w];
		char idx[16];
		snprintf(idx, sizeof idx, "%u", w);
		const char *labels[] = { "worker", idx, NULL };
		tt__expo_histogram(out, "tutti_worker_tick_duration_seconds", labels, bounds,
				   s->tick_us_counts, TT_WORKER_TICK_BUCKETS, 1e-6,
				   (double)s->tick_ns_sum * 1e-9);
	}
}

static void render_object(GString *out, const char *prefix, const struct tt_stat_field *fields,
			  const void *s);

/* A table row's family: its name (into name[160]), HELP and TYPE; *scale to base units. */
static void row_family(GString *out, const char *prefix, const struct tt_stat_field *f,
		       char *name, double *scale)
{
	bool counter = f->flags & TT_STAT_COUNTER;
	tt__expo_name(name, 160, prefix, f->group, f->name, counter, scale);
	tt__expo_family(out, name, counter ? TT_EXPO_COUNTER : TT_EXPO_GAUGE, f->help);
}

/* A gateway's labelled instances (tt_gateway.instances): one family per numeric row, one
 * sample per instance, labelled {LABEL="value"}. A gateway with none now still gets the
 * families (HELP and TYPE): the names stay the same whatever is configured. */
static void render_instances(GString *out, const char *prefix, struct tt_gw_handle *h)
{
	struct tt__gw_instances *in = tt__gateway_instances(h);
	if (!in)
		return;
	for (const struct tt_stat_field *f = h->gw->instance_stat_fields; f->name; f++) {
		if (f->type == TT_STAT_STR)
			continue;
		char name[160];
		double scale;
		row_family(out, prefix, f, name, &scale);
		for (guint i = 0; i < in->labels->len; i++) {
			double val = 0;
			const char *labels[] = { h->gw->instance_label, in->labels->pdata[i], NULL };
			tt__stats_value(f, in->stats->pdata[i], &val);
			tt__expo_sample(out, name, labels, val * scale);
		}
	}
	tt__gw_instances_free(in);
}

/* Each gateway's own table (tt_gateway.stat_fields): tutti_gateway_NAME_[GROUP_]FIELD; then
 * its labelled instances' table, the same names with {LABEL="value"}. */
static void render_gateways(GString *out, struct tt_core *core)
{
	tt__expo_family(out, "tutti_gateway_up", TT_EXPO_GAUGE,
			"1 when the gateway is running, 0 when it is disabled or stopped.");
	for (unsigned i = 0; i < core->n_gws; i++) {
		const char *labels[] = { "gateway", core->gws[i].gw->name, NULL };
		tt__expo_sample(out, "tutti_gateway_up", labels, core->gws[i].started);
	}
	for (unsigned i = 0; i < core->n_gws; i++) {
		struct tt_gw_handle *h = &core->gws[i];
		char prefix[64];
		snprintf(prefix, sizeof prefix, "tutti_gateway_%s_", h->gw->name);
		void *st = tt__gateway_stats(h);
		if (st)
			render_object(out, prefix, h->gw->stat_fields, st);
		g_free(st);
		render_instances(out, prefix, h);
	}
}

/* One object, no labels: every numeric row of its table. */
static void render_object(GString *out, const char *prefix, const struct tt_stat_field *fields,
			  const void *s)
{
	for (const struct tt_stat_field *f = fields; f->name; f++) {
		double val;
		if (!tt__stats_value(f, s, &val))
			continue;
		char name[160];
		double scale;
		row_family(out, prefix, f, name, &scale);
		tt__expo_sample(out, name, NULL, val * scale);
	}
}

/* Only on a node of a cluster ([cluster] redis set): a single node has no directory. */
static void render_cluster(GString *out, struct tt_core *core)
{
	struct tt_cluster_stats st = tt__cluster_stats(core->cluster);
	if (!st.configured)
		return;
	static const struct {
		const char *name, *help;
		enum tt__expo_type type;
		size_t off;
	} rows[] = {
		{ "tutti_cluster_claims_total", "Rooms this node became the home of in the directory.",
		  TT_EXPO_COUNTER, offsetof(struct tt_cluster_stats, claims) },
		{ "tutti_cluster_redirects_total", "Browsers and admin calls sent to a room's home "
		  "on another node (HTTP 307).", TT_EXPO_COUNTER,
		  offsetof(struct tt_cluster_stats, redirects) },
		{ "tutti_cluster_splits_total", "Rooms found homed on another node while they had "
		  "participants here.", TT_EXPO_COUNTER, offsetof(struct tt_cluster_stats, splits) },
		{ "tutti_cluster_reconnects_total", "Connections to Redis made again after one "
		  "was lost.", TT_EXPO_COUNTER, offsetof(struct tt_cluster_stats, reconnects) },
		{ "tutti_cluster_text_out_total", "Text lines posted here and published to the "
		  "other nodes.", TT_EXPO_COUNTER, offsetof(struct tt_cluster_stats, bus_out) },
		{ "tutti_cluster_text_in_total", "Text lines from other nodes delivered here.",
		  TT_EXPO_COUNTER, offsetof(struct tt_cluster_stats, bus_in) },
		{ "tutti_cluster_bus_malformed_total", "Malformed messages on a room's channel, "
		  "ignored.", TT_EXPO_COUNTER, offsetof(struct tt_cluster_stats, bus_bad) },
		{ "tutti_cluster_roster_out_total", "Roster events of local participants published "
		  "to the other nodes.", TT_EXPO_COUNTER,
		  offsetof(struct tt_cluster_stats, roster_out) },
		{ "tutti_cluster_roster_in_total", "Roster events of other nodes' members applied "
		  "here.", TT_EXPO_COUNTER, offsetof(struct tt_cluster_stats, roster_in) },
	};
	tt__expo_family(out, "tutti_cluster_redis_up", TT_EXPO_GAUGE,
			"1 while this node is connected to the directory's Redis.");
	tt__expo_sample(out, "tutti_cluster_redis_up", NULL, st.up ? 1 : 0);
	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		tt__expo_family(out, rows[i].name, rows[i].type, rows[i].help);
		tt__expo_sample(out, rows[i].name, NULL,
				(double)*(const uint64_t *)((const char *)&st + rows[i].off));
	}
}

GString *tt__metrics_render(struct tt_core *core)
{
	GString *out = g_string_sized_new(16384);
	struct tt_metrics *m = core->metrics;
	const char *build[] = { "version", TT_VERSION, NULL };
	tt__expo_family(out, "tutti_build_info", TT_EXPO_GAUGE,
			"Always 1; the version of this tutti in a label.");
	tt__expo_sample(out, "tutti_build_info", build, 1);
	render_rooms(out, core, m);
	render_legs(out, core, m);
	render_per_gateway(out, core, m->joins, "tutti_joins_total",
			   "Participants that joined a room (or were admitted from its PIN lobby).");
	render_per_gateway(out, core, m->leaves, "tutti_leaves_total",
			   "Participants that left a room after joining it.");
	render_workers(out, core);
	render_gateways(out, core);
	unsigned running = 0;
	uint64_t rec_bytes = tt__record_bytes(core, &running);
	tt__expo_family(out, "tutti_recordings", TT_EXPO_GAUGE, "Rooms recording now.");
	tt__expo_sample(out, "tutti_recordings", NULL, running);
	tt__expo_family(out, "tutti_recording_bytes_total", TT_EXPO_COUNTER,
			"Bytes in the files of every recording (running, finishing and done; "
			"deletions by retention are not subtracted).");
	tt__expo_sample(out, "tutti_recording_bytes_total", NULL, (double)rec_bytes);
	const struct tt__ws_stats *ws = tt__ws_hub_stats(tt__http_ws_hub(core->http));
	if (ws)
		render_object(out, "tutti_websocket_", tt__ws_stat_fields, ws);
	render_cluster(out, core);
	tt__metrics_process(out);
	return out;
}
