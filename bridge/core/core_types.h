/* core_types.h: the core's objects that every bridge module names (struct tt_core, the
 * gateway handle), without the core's life cycle (core_priv.h). Core-thread only unless a
 * field says otherwise. Gateways never see this header; they get const struct tt_core_api
 * (tutti/core.h). */
#ifndef TT_CORE_TYPES_H
#define TT_CORE_TYPES_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <tutti/core.h>
#include <tutti/gateway.h>

#include "loop/mq.h"
#include "loop/worker.h"

struct tt_cluster;
struct tt_conf_schema;
struct tt_events;
struct tt_http;
struct tt_metrics;
struct tt_room;

struct tt_gw_handle {
	const struct tt_gateway *gw;
	struct tt_core *core;
	void *state;
	bool started;
	bool enabled;
};

struct tt_core {
	struct tt_conf_schema *schema;
	struct tt_conf *conf;
	GMainLoop *loop;
	struct tt_mq *mq;                /* into the core loop, from workers */
	struct tt_workers *workers;
	struct tt_http *http;
	struct tt_events *events;        /* the operators' event stream (events/events.h) */
	GHashTable *rooms;               /* name -> struct tt_room * (owned) */
	struct tt_gw_handle *gws;        /* registered gateways, in table order */
	unsigned n_gws;
	uint64_t next_id;
	bool stopping;
	int exit_code;
	struct tt_worker_stats *wstats;  /* latest report per worker (by value) */
	unsigned n_wstats;
	struct tt_recorder *recorder;    /* record/recorder.h */
	struct tt_metrics *metrics;      /* what GET /metrics keeps of things gone (metrics/) */
	struct tt_cluster *cluster;      /* the Redis room directory (cluster/), NULL: one node */
};

extern const struct tt_core_api tt__core_api;

/* Debug aid: true on the core thread (or before the core exists). */
bool tt__on_core_thread(void);

/* gateway/registry.c: -EPROTO (bad version), -EINVAL (missing mandatory op or bad name). */
int tt__gateway_check(const struct tt_gateway *gw, char **why);

#endif
