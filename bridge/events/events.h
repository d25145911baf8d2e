/* events.h: the operators' view of every room, as a stream of JSON events with sequence
 * numbers (GET /api/events, a WebSocket, admin only) and signed webhooks. The core calls
 * tt__events_roster and tt__events_meeting on the core thread for every roster event and
 * meeting event it delivers to gateways, after the gateways; events/ numbers them, keeps a
 * bounded history for clients that reconnect, and sends them on. Nothing here may call back
 * into rooms. The core owns the tt_events (core->events), made after the HTTP server (its
 * endpoint lives there) and freed before it. Core thread only. */
#ifndef TT_EVENTS_H
#define TT_EVENTS_H

#include <tutti/core.h>

#include "core/core_types.h"

void tt__events_roster(struct tt_core *core, const struct tt_roster_event *ev);
void tt__events_meeting(struct tt_core *core, const struct tt_meeting_event *ev);

/* The history, the /api/events endpoint (when the core has an HTTP server) and the webhook
 * sender. 0, or a negative errno (the endpoint could not be registered). */
int tt__events_alloc(struct tt_events **ep, struct tt_core *core);
struct tt_events *tt__events_free(struct tt_events *ev);

#endif
