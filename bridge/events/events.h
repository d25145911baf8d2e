/* events.h: the operators' view of every room, as a stream of JSON events with sequence
 * numbers (GET /api/events, a WebSocket, admin only) and signed webhooks. The core calls
 * these two on the core thread for every roster event and meeting event it delivers to
 * gateways, after the gateways; events/ numbers them, keeps a bounded history for clients
 * that reconnect, and sends them on. Nothing here may call back into rooms. */
#ifndef TT_EVENTS_H
#define TT_EVENTS_H

#include <tutti/core.h>

#include "core/core_types.h"

void tt__events_roster(struct tt_core *core, const struct tt_roster_event *ev);
void tt__events_meeting(struct tt_core *core, const struct tt_meeting_event *ev);

#endif
