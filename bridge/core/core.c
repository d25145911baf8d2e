/* core.c: the core object: config, workers, HTTP, gateways, signals, reload, shutdown. */
#define TT_LOG_DOMAIN "core"
#include "core_priv.h"

#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <tutti/errno.h>
#include <tutti/log.h>

#include "cluster/cluster.h"
#include "gateway/trunk.h"
#include "gateway/rtp.h"
#include "events/events.h"
#include "record/recorder.h"
#include "http/http.h"
#include "metrics/metrics.h"
#include "notify/notify.h"
#include "participant/participant.h"
#include "room/room.h"

#define TICK_MS 20

static GThread *core_thread;

bool tt__on_core_thread(void)
{
	return core_thread == NULL || g_thread_self() == core_thread;
}

static void on_worker_stats(void *arg, const struct tt_worker_stats *st)
{
	struct tt_core *core = arg;
	if (st->index < core->n_wstats) {
		struct tt_worker_stats *prev = &core->wstats[st->index];
		if (st->late > prev->late || st->skipped > prev->skipped)
			tt_warn("media worker %u: %" G_GUINT64_FORMAT " late and %" G_GUINT64_FORMAT
				" skipped ticks so far (max %" G_GINT64_FORMAT " us late)",
				st->index, st->late, st->skipped, st->max_late_us);
		*prev = *st;
	}
}

/* Every gateway with a plain section gets an implicit `enabled` row, so the core can leave
 * a gateway off without knowing anything about it. */
static struct tt_conf_key *enabled_rows(const struct tt_gateway *const *gws)
{
	unsigned n = 0;
	for (const struct tt_gateway *const *g = gws; *g; g++)
		n++;
	struct tt_conf_key *rows = g_new0(struct tt_conf_key, n + 1);
	unsigned k = 0;
	for (const struct tt_gateway *const *g = gws; *g; g++) {
		bool has = false;
		for (const struct tt_conf_key *r = (*g)->conf_keys; r && r->key; r++)
			if (!strcmp(r->section, (*g)->name) && !strcmp(r->key, "enabled"))
				has = true;
		if (has)
			continue;
		rows[k++] = (struct tt_conf_key){
			.section = (*g)->name, .key = "enabled", .type = TT_CONF_BOOL,
			.def = "true", .help = "Run this gateway.",
		};
	}
	return rows;
}

static struct tt_conf_key *implicit_rows;  /* lives as long as the schema */
static int build_schema(struct tt_conf_schema **sp, const struct tt_gateway *const *gws);

/* The gateways the core brings itself (the admin API's plain RTP participants), then the
 * build's table. Returns a new NULL-terminated array. */
static const struct tt_gateway **all_gateways(const struct tt_gateway *const *gws)
{
	unsigned n = 0;
	while (gws && gws[n])
		n++;
	const struct tt_gateway **all = g_new0(const struct tt_gateway *, n + 3);
	all[0] = &tt__gateway_rtp;
	all[1] = &tt__gateway_trunk;
	for (unsigned i = 0; i < n; i++)
		all[i + 2] = gws[i];
	return all;
}

int tt__core_build_schema(struct tt_conf_schema **sp, const struct tt_gateway *const *in)
{
	const struct tt_gateway **gws = all_gateways(in);
	int rc = build_schema(sp, gws);
	g_free(gws);
	return rc;
}

static int build_schema(struct tt_conf_schema **sp, const struct tt_gateway *const *gws)
{
	struct tt_conf_schema *s;
	int rc = tt__conf_schema_alloc(&s);
	if (rc)
		return rc;
	rc = tt__conf_schema_add(s, tt__core_conf_keys, "core");
	if (rc) {
		tt__conf_schema_free(s);
		return rc;
	}
	for (const struct tt_gateway *const *g = gws; *g; g++) {
		char *why = NULL;
		rc = tt__gateway_check(*g, &why);
		if (rc) {
			fprintf(stderr, "tutti: refusing gateway: %s\n", why);
			g_free(why);
			tt__conf_schema_free(s);
			return rc;
		}
		rc = tt__conf_schema_add(s, (*g)->conf_keys, (*g)->name);
		if (rc) {
			tt__conf_schema_free(s);
			return rc;
		}
	}
	if (!implicit_rows)
		implicit_rows = enabled_rows(gws);
	rc = tt__conf_schema_add(s, implicit_rows, "core");
	if (rc) {
		tt__conf_schema_free(s);
		return rc;
	}
	*sp = s;
	return 0;
}

int tt__core_alloc(struct tt_core **cp, const struct tt_gateway *const *table,
		   const char *config_path, const char *log_override)
{
	struct tt_core *core = g_new0(struct tt_core, 1);
	const struct tt_gateway **gws = all_gateways(table);
	char *errors = NULL, *lerr = NULL;
	int rc;
	core_thread = g_thread_self();
	core->rooms = g_hash_table_new(g_str_hash, g_str_equal);
	core->metrics = tt__metrics_new();
	rc = build_schema(&core->schema, gws);
	if (rc)
		goto out;
	rc = tt__conf_load(&core->conf, core->schema, config_path, &errors);
	if (rc) {
		fputs(errors, stderr);
		goto out;
	}
	rc = tt_log_set_levels(log_override ? log_override
					    : tt_conf_str(core->conf, "bridge", "log_level"),
			       &lerr);
	if (rc) {
		fprintf(stderr, "%s: log level: %s\n",
			log_override ? "--log-level" : "bridge.log_level", lerr);
		goto out;
	}
	unsigned ngw = 0;
	for (const struct tt_gateway *const *g = gws; *g; g++)
		ngw++;
	core->gws = g_new0(struct tt_gw_handle, ngw);
	core->n_gws = ngw;
	for (unsigned i = 0; i < ngw; i++) {
		core->gws[i].gw = gws[i];
		core->gws[i].core = core;
		core->gws[i].enabled = tt_conf_bool(core->conf, gws[i]->name, "enabled");
	}
	core->loop = g_main_loop_new(NULL, FALSE);
	rc = tt_mq_alloc(&core->mq, NULL, core);
	if (rc)
		goto out;
	rc = tt_workers_alloc(&core->workers, (unsigned)tt_conf_int(core->conf, "bridge", "workers"),
			      TICK_MS, core->mq, on_worker_stats, core);
	if (rc)
		goto out;
	core->n_wstats = tt_workers_count(core->workers);
	core->wstats = g_new0(struct tt_worker_stats, core->n_wstats);
	if (tt_conf_bool(core->conf, "http", "enabled")) {
		rc = tt__http_alloc(&core->http, core);
		if (rc)
			goto out;
	}
	rc = tt__events_alloc(&core->events, core);   /* its endpoint is on the server */
	if (rc)
		goto out;
out:
	g_free(gws);
	g_free(errors);
	g_free(lerr);
	if (rc) {
		tt__core_free(core);
		return rc;
	}
	*cp = core;
	return 0;
}

int tt__core_start(struct tt_core *core)
{
	tt__record_init(core);
	/* before the gateways, so that rooms they open (configured IRC channels) are claimed */
	int crc = tt__cluster_start(&core->cluster, core);
	if (crc) {
		if (crc == -ENOTSUP)
			tt_error("[cluster] redis: this tutti was built without hiredis "
				 "(libhiredis-dev); it runs as a single node only");
		return crc;
	}
	for (unsigned i = 0; i < core->n_gws; i++) {
		struct tt_gw_handle *h = &core->gws[i];
		if (!h->enabled) {
			tt_info("gateway %s disabled by config", h->gw->name);
			continue;
		}
		/* what --check-config refuses, the start refuses too, said the same way; the
		 * gateways need not check it again */
		char *errors = NULL;
		int rc = h->gw->check_config ? h->gw->check_config(core->conf, &errors) : 0;
		if (rc) {
			char **lines = g_strsplit(errors ? errors : "", "\n", -1);
			for (char **l = lines; *l; l++)
				if (**l)
					tt_error("%s", *l);
			g_strfreev(lines);
		}
		g_free(errors);
		if (!rc)
			rc = h->gw->start(h, &tt__core_api, core->conf, &h->state);
		if (rc) {
			tt_error_kv(TT_KV("event", "gateway_failed", "gateway", h->gw->name),
				    "gateway %s failed to start: %s", h->gw->name, tt_strerror(rc));
			return rc;
		}
		h->started = true;
		tt_info_kv(TT_KV("event", "gateway_started", "gateway", h->gw->name),
			   "gateway %s started", h->gw->name);
	}
	return 0;
}

static gboolean on_hup(gpointer data)
{
	/* a refused reload still ends in READY=1: the old configuration keeps running */
	tt__notify_send("RELOADING=1");
	tt__core_reload(data);
	tt__notify_send("READY=1");
	return G_SOURCE_CONTINUE;
}

int tt__core_run(struct tt_core *core)
{
	/* SIGINT/SIGTERM go to the watch thread (signals.c), so a stuck loop still stops */
	if (tt__signals_start(core->loop,
			      (int)tt_conf_int(core->conf, "bridge", "shutdown_grace_ms")))
		return -EMFILE;
	guint s3 = g_unix_signal_add(SIGHUP, on_hup, core);
	signal(SIGPIPE, SIG_IGN);
	/* gateways started and HTTP listens (both before the loop runs): ready */
	struct tt_notify *nt = tt__notify_start(core->workers);
	g_main_loop_run(core->loop);
	nt = tt__notify_free(nt);
	g_source_remove(s3);
	return core->exit_code;
}

static bool all_stopped(struct tt_core *core)
{
	for (unsigned i = 0; i < core->n_gws; i++) {
		struct tt_gw_handle *h = &core->gws[i];
		if (h->started && h->gw->stopped && !h->gw->stopped(h->state))
			return false;
	}
	return true;
}

void tt__core_shutdown(struct tt_core *core)
{
	if (core->stopping || !core->conf)
		return;  /* already done, or the core never got as far as a configuration */
	core->stopping = true;
	tt__notify_send("STOPPING=1");
	/* this node's directory entry and room homes go now (within the grace period), so
	 * other nodes take its rooms at once rather than after the ttl */
	tt__cluster_leave(core->cluster);
	/* ask every gateway to hang up politely, then give them the grace period */
	for (unsigned i = 0; i < core->n_gws; i++) {
		struct tt_gw_handle *h = &core->gws[i];
		if (h->started)
			h->gw->stop(h->state);
	}
	/* the grace period runs from the signal, as the watch thread's deadline does */
	gint64 start = tt__signals_received_us();
	if (!start)
		start = g_get_monotonic_time();
	gint64 deadline = start + tt_conf_int(core->conf, "bridge", "shutdown_grace_ms") * 1000;
	while ((!all_stopped(core) || !tt__cluster_left(core->cluster)) &&
	       g_get_monotonic_time() < deadline) {
		if (!g_main_context_iteration(NULL, FALSE))
			g_usleep(2000);
	}
	if (!all_stopped(core))
		tt_warn("gateways did not finish hanging up within the grace period");
	/* before the gateways go: what still waits for the directory is answered now, while
	 * the gateways and HTTP that wait are there (joins are refused from here on) */
	core->cluster = tt__cluster_free(core->cluster);
	for (unsigned i = 0; i < core->n_gws; i++) {
		struct tt_gw_handle *h = &core->gws[i];
		if (h->started) {
			h->gw->free(h->state);
			h->started = false;
			h->state = NULL;
		}
	}
}

int tt__core_reload(struct tt_core *core)
{
	struct tt_conf *next = NULL;
	char *errors = NULL, *names = NULL, *lerr = NULL;
	int rc = tt__conf_load(&next, core->schema, tt_conf_path(core->conf)[0] == '(' ? NULL :
						   tt_conf_path(core->conf), &errors);
	if (rc) {
		tt_error("reload refused, the running configuration stays:\n%s", errors);
		g_free(errors);
		return rc;
	}
	if (tt__conf_diff_static(core->conf, next, &names) > 0)
		tt_warn("reload: these keys need a restart and were not applied: %s", names);
	g_free(names);
	if (tt_log_set_levels(tt_conf_str(next, "bridge", "log_level"), &lerr)) {
		tt_error("reload: bridge.log_level: %s (kept the old levels)", lerr);
		g_free(lerr);
	}
	struct tt_conf *old = core->conf;
	core->conf = next;
	tt__signals_set_grace((int)tt_conf_int(next, "bridge", "shutdown_grace_ms"));
	tt__rooms_apply_conf(core);
	for (unsigned i = 0; i < core->n_gws; i++) {
		struct tt_gw_handle *h = &core->gws[i];
		if (h->started && h->gw->reload && h->gw->reload(h->state, next))
			tt_warn("gateway %s kept part of its old configuration", h->gw->name);
	}
	tt__http_reload(core->http, next);   /* logs what it could not apply */
	tt__conf_free(old);
	tt_info_kv(TT_KV("event", "reloaded"), "configuration reloaded");
	return 0;
}

struct tt_core *tt__core_free(struct tt_core *core)
{
	if (!core)
		return NULL;
	tt__core_shutdown(core);
	core->cluster = tt__cluster_free(core->cluster);   /* when shutdown did not run */
	core->events = tt__events_free(core->events);   /* before the server it serves on */
	core->http = tt__http_free(core->http);
	tt__rooms_free(core);
	core->workers = tt_workers_free(core->workers);
	tt__record_fini(core);   /* the workers gave every recorder its end */
	core->mq = tt_mq_free(core->mq);
	g_hash_table_destroy(core->rooms);
	g_free(core->gws);
	g_free(core->wstats);
	core->metrics = tt__metrics_free(core->metrics);
	tt__conf_free(core->conf);
	tt__conf_schema_free(core->schema);
	if (core->loop)
		g_main_loop_unref(core->loop);
	g_free(core);
	core_thread = NULL;
	tt__signals_stop();  /* everything is freed: the deadline has nothing left to guard */
	return NULL;
}
