/* events_none.c: placeholder until the event stream lands: events go nowhere. */
#include "events/events.h"

void tt__events_roster(struct tt_core *core, const struct tt_roster_event *ev)
{
	(void)core;
	(void)ev;
}

void tt__events_meeting(struct tt_core *core, const struct tt_meeting_event *ev)
{
	(void)core;
	(void)ev;
}
