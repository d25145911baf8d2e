/* core_priv.h: the core's internal objects. Core-thread only unless a field says otherwise.
 * Gateways never see this header; they get const struct tt_core_api (core.h). */
#ifndef TT_CORE_PRIV_H
#define TT_CORE_PRIV_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <tutti/conf.h>
#include <tutti/core.h>
#include <tutti/gateway.h>

#include "conf/conf_priv.h"
#include "loop/mq.h"
#include "loop/worker.h"

struct tt_http;
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
	GHashTable *rooms;               /* name -> struct tt_room * (owned) */
	struct tt_gw_handle *gws;        /* registered gateways, in table order */
	unsigned n_gws;
	uint64_t next_id;
	bool stopping;
	int exit_code;
	struct tt_worker_stats *wstats;  /* latest report per worker (by value) */
	unsigned n_wstats;
};

/* core.c */
extern const struct tt_core_api tt__core_api;
/* Build the core: schema from the gateway table, config, workers, HTTP. Does not start
 * gateways. `gateways` is NULL-terminated. On error prints what is wrong to stderr. */
int tt__core_alloc(struct tt_core **cp, const struct tt_gateway *const *gateways,
		   const char *config_path, const char *log_override);
int tt__core_start(struct tt_core *core);         /* start gateways; then run the loop */
int tt__core_run(struct tt_core *core);           /* until SIGINT/SIGTERM; exit code */
void tt__core_shutdown(struct tt_core *core);     /* polite hang-up, stop gateways */
struct tt_core *tt__core_free(struct tt_core *core);
int tt__core_reload(struct tt_core *core);        /* SIGHUP */

/* signals.c: SIGINT/SIGTERM are read on a thread of their own, which quits the loop and,
 * when the process has not called tt__signals_stop() within the grace period plus this
 * margin after the signal, logs and _exit(0)s, whatever the core thread is doing. The
 * thread holds a reference to the loop and nothing of struct tt_core.
 * start (before the loop runs) and stop (when everything is freed): core thread;
 * set_grace and received_us (monotonic time of the first signal, 0: none): any thread. */
#define TT__SHUTDOWN_MARGIN_MS 500
int tt__signals_start(GMainLoop *loop, int grace_ms);
void tt__signals_set_grace(int grace_ms);
gint64 tt__signals_received_us(void);
void tt__signals_stop(void);

/* Schema = core rows + every gateway's rows (each gateway checked first). */
int tt__core_build_schema(struct tt_conf_schema **sp, const struct tt_gateway *const *gws);
/* Debug aid: true on the core thread (or before the core exists). */
bool tt__on_core_thread(void);

/* gateway/registry.c: -EPROTO (bad version), -EINVAL (missing mandatory op or bad name). */
int tt__gateway_check(const struct tt_gateway *gw, char **why);

#endif
