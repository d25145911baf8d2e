/* rtp.h: the built-in "rtp" gateway, which owns the plain RTP participants made through the
 * admin API (POST /api/rooms/ROOM/participants), so that the core's rules (roster, hang-up,
 * shutdown) apply to them as to any gateway's. It is a gateway like the others: it calls
 * the core only through its tt_core_api, and its state lives in its handle (no global);
 * the HTTP handlers find it through the core. Core thread only. */
#ifndef TT_GATEWAY_RTP_H
#define TT_GATEWAY_RTP_H

#include "core/core_types.h"

extern const struct tt_gateway tt__gateway_rtp;

struct tt__rtp_gw;

/* The running gateway, or NULL ([rtp] enabled = false, or stopped at shutdown). Borrowed
 * until the gateway stops: look it up again in a later callback. */
struct tt__rtp_gw *tt__rtp_gw_get(struct tt_core *core);
/* participant_join for the API; the gateway keeps the reference (*pp is borrowed from it).
 * Errors as participant_join. */
int tt__rtp_gw_join(struct tt__rtp_gw *g, const struct tt_join *j, struct tt_participant **pp);
/* audio_attach for p (core.h). */
int tt__rtp_gw_attach(struct tt__rtp_gw *g, struct tt_participant *p,
		      const struct tt_audio_leg *leg, tt_audio_attached_h cb, void *arg);
/* p's media could not be set up: it leaves with `reason` and is counted as failed. */
void tt__rtp_gw_drop(struct tt__rtp_gw *g, struct tt_participant *p, int reason);

#endif
