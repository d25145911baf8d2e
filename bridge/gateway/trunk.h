/* trunk.h: the built-in "trunk" gateway: the hidden participants that hold the trunks
 * between nodes of a cascaded room (cluster/cascade.h), one per trunk end. It owns their
 * references and the core's rules (hang-up, shutdown) reach them as any gateway's; what a
 * trunk is, and when one is made or ended, is cascade.c's. Core thread only. */
#ifndef TT_GATEWAY_TRUNK_H
#define TT_GATEWAY_TRUNK_H

#include "core/core_types.h"

extern const struct tt_gateway tt__gateway_trunk;

struct tt__trunk_gw;

/* The running gateway, or NULL ([trunk] enabled = false, or stopped). Borrowed. */
struct tt__trunk_gw *tt__trunk_gw_get(struct tt_core *core);
/* A hidden participant named `name` in `room` (which must exist), on hold while `hold`.
 * The gateway keeps the reference; *pp is borrowed from it. Errors as
 * tt__room_trunk_join. */
int tt__trunk_gw_join(struct tt__trunk_gw *g, const char *room, const char *name, bool hold,
		      struct tt_participant **pp);
/* p leaves (cascade.c ended its trunk); no callback into cascade.c. */
void tt__trunk_gw_leave(struct tt__trunk_gw *g, struct tt_participant *p, int reason);

#endif
