/* registry.h: the core's side of the gateway table. The core calls into a gateway through
 * these (not through its descriptor) wherever a gateway that stopped must not be called:
 * each checks that the handle runs. Core thread only. */
#ifndef TT_GATEWAY_REGISTRY_H
#define TT_GATEWAY_REGISTRY_H

#include "core/core_priv.h"

/* h->gw->hang_up, if h runs. */
void tt__gateway_hang_up(struct tt_gw_handle *h, struct tt_participant *p, const char *why);
/* h->gw->on_dtmf, if h runs and has one. */
void tt__gateway_dtmf(struct tt_gw_handle *h, struct tt_participant *p, char digit);

#endif
