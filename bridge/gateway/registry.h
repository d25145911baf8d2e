/* registry.h: the core's side of the gateway table. The core calls into a gateway through
 * these (not through its descriptor) wherever a gateway that stopped must not be called:
 * each checks that the handle runs. Core thread only. */
#ifndef TT_GATEWAY_REGISTRY_H
#define TT_GATEWAY_REGISTRY_H

#include "core/core_types.h"

/* The state of the running handle of `gw`, or NULL (not registered, disabled, stopped). */
void *tt__gateway_state(struct tt_core *core, const struct tt_gateway *gw);
/* h->gw->hang_up, if h runs. */
void tt__gateway_hang_up(struct tt_gw_handle *h, struct tt_participant *p, const char *why);
/* h->gw->on_dtmf, if h runs and has one. */
void tt__gateway_dtmf(struct tt_gw_handle *h, struct tt_participant *p, char digit);
/* The gateway's statistics (tt_gateway.stats), or NULL when it has none or does not run:
 * a new zeroed buffer of stats_size bytes (and a NUL) filled by the gateway; g_free it. */
void *tt__gateway_stats(struct tt_gw_handle *h);

/* A gateway's labelled instances (tt_gateway.instances), copied in the order it gave
 * them: labels[i] names stats[i], a zeroed buffer of `size` bytes (and a NUL). */
struct tt__gw_instances {
	size_t size;
	GPtrArray *labels;   /* char * */
	GPtrArray *stats;    /* void * */
};
/* NULL when h has none or does not run; else a new set for tt__gw_instances_free. */
struct tt__gw_instances *tt__gateway_instances(struct tt_gw_handle *h);
/* Always NULL. */
struct tt__gw_instances *tt__gw_instances_free(struct tt__gw_instances *in);

#endif
