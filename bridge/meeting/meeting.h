/* meeting.h: running a meeting, on the core thread: the moderator's actions (core.h
 * moderate), the rules on what a participant may do to itself while a moderator or a
 * recording holds it (self_state), the room as gateways show it (room_info) and the ways
 * into a room (doors). Every action is checked here once, so every network's moderator has
 * the same powers; what each network shows of it is its gateway's on_meeting. */
#ifndef TT_MEETING_H
#define TT_MEETING_H

#include <tutti/core.h>

#include "core/core_types.h"

struct tt_room;

/* core.h moderate, with actor NULL for the admin API (name "admin", no right checked). */
int tt__meeting_moderate(struct tt_core *core, const char *room,
			 struct tt_participant *actor, enum tt_mod_action a,
			 struct tt_participant *target, const char *reason);
/* As moderate's RECORD_START, with options (the admin API's "tracks"). actor may be NULL. */
int tt__meeting_record_start(struct tt_room *room, struct tt_participant *actor, bool tracks);
/* The meeting ends (moderate END, or DELETE /api/rooms): everyone is told, the recording
 * stops. The caller hangs everyone up afterwards. actor NULL: the admin API. */
void tt__meeting_ended(struct tt_room *room, struct tt_participant *actor, const char *why);
/* A recording stopped by itself (record/: disk full or too slow): room->rec is cleared and
 * everyone is told, by the bridge. `room` is checked to still exist by name. */
void tt__meeting_recording_stopped(struct tt_core *core, const char *room, const char *why);
/* A gateway changes p's own state (core.h participant_set_state): -EPERM where a
 * moderator's mute or a declined recording holds it, else tt__room_set_state. */
int tt__meeting_self_state(struct tt_participant *p, unsigned bits, bool on);
int tt__meeting_room_info(struct tt_core *core, const char *room, struct tt_room_info *out);
int tt__meeting_doors(struct tt_core *core, const char *room, tt_door_h fn, void *arg);
/* Tell every present gateway (on_meeting) and the event stream. */
void tt__meeting_emit(struct tt_room *room, const struct tt_meeting_event *ev);
/* Action names for logs and JSON ("mute", "record_start"...); "none" for unknown ones. */
const char *tt__mod_action_name(enum tt_mod_action a);
enum tt_mod_action tt__mod_action_parse(const char *name);

#endif
