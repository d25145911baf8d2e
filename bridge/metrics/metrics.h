/* metrics.h: GET /metrics, the Prometheus view of the same statistics tables the JSON API
 * renders (tutti/stats.h): one table row is one metric, never a copy per output.
 *
 * Legs are summed by gateway and codec (never a per-participant label); rooms' mixers are
 * summed over rooms; workers and gateways are labelled by worker and gateway. Counters of
 * legs and rooms that are gone are kept here (their last report, up to a second old) so
 * that a `_total` only grows while the process lives.
 *
 * Core thread only: every function reads or writes core state. */
#ifndef TT_METRICS_H
#define TT_METRICS_H

#include <glib.h>
#include <tutti/stats.h>

#include "core/core_types.h"

struct tt_metrics;

struct tt_metrics *tt__metrics_new(void);
struct tt_metrics *tt__metrics_free(struct tt_metrics *m);

/* A leg's last statistics, as it goes (its participant left or its audio was removed):
 * its counters join those of gateway/codec that are gone. */
void tt__metrics_leg_gone(struct tt_metrics *m, const char *gateway,
			  const struct tt_leg_stats *st);
/* A room's mixer's last statistics, as the room ends. */
void tt__metrics_room_gone(struct tt_metrics *m, const struct tt_mixer_room_stats *st);
/* One observation of a leg's interarrival jitter (each report, about once a second, of a
 * leg that received packets since its last). */
void tt__metrics_jitter(struct tt_metrics *m, double jitter_ms);
/* A participant of `gateway` joined (or was admitted from the PIN lobby) / left. */
void tt__metrics_joined(struct tt_metrics *m, const char *gateway);
void tt__metrics_left(struct tt_metrics *m, const char *gateway);

/* The whole exposition, a new string (g_string_free it). */
GString *tt__metrics_render(struct tt_core *core);

/* process.c: the standard process_* metrics from /proc/self, as the Go and Python clients
 * write them (cpu, memory, fds, start time). Any thread. */
void tt__metrics_process(GString *out);

#endif
