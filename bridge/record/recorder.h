/* recorder.h: the core's recording module as a whole: made when the core starts (the
 * notice prompt, retention), freed after the media workers stopped (it waits for every
 * recorder thread), and the roster facts a running recording keeps for its manifest.
 * Core thread. */
#ifndef TT_RECORD_RECORDER_H
#define TT_RECORD_RECORDER_H

#include <stdint.h>
#include <tutti/core.h>

#include "core/core_types.h"

struct tt_room;

void tt__record_init(struct tt_core *core);
void tt__record_fini(struct tt_core *core);
/* Bytes in the files of every recording this process made (running, finishing, done), and
 * in *running how many run now: for GET /metrics. */
uint64_t tt__record_bytes(struct tt_core *core, unsigned *running);
/* Every roster event of a room (room.c tt__room_emit) while it records. */
void tt__record_note(struct tt_room *room, const struct tt_roster_event *ev);

#endif
