/* core_priv.h: the core's life cycle (build, run, reload, shut down, free), its signal
 * thread and its configuration schema: for core/, main/ and the tests that build a core.
 * Every other bridge module needs only the types, in core_types.h.
 * Core-thread only unless a declaration says otherwise. */
#ifndef TT_CORE_PRIV_H
#define TT_CORE_PRIV_H

#include <glib.h>
#include <stdbool.h>
#include <tutti/conf.h>

#include "conf/loader.h"
#include "core/core_types.h"

/* conf_keys.c: the core's own configuration rows, terminated by key == NULL. */
extern const struct tt_conf_key tt__core_conf_keys[];

/* core.c */
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

#endif
