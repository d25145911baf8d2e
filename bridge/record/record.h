/* record.h: a room's recording, as the core sees it. The core thread starts and stops it and
 * asks for its state; how it is made (the worker's tap of the mix and of each participant's
 * packets, the recorder thread and its files) is record/'s own business.
 *
 * Threading: every call here is core-thread only. Ownership: the recording belongs to its
 * room (room->rec) from start until it stops; a recording that stops by itself (disk full,
 * disk too slow) tells the core through meeting/ (tt__meeting_recording_stopped), which
 * clears room->rec. */
#ifndef TT_RECORD_H
#define TT_RECORD_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct tt_room;
struct tt_recording;

struct tt_record_opts {
	bool tracks;          /* one track per participant, beside the room's mix */
};

/* Start recording `room` (room->rec is set on success). 0, -ENOTSUP ([recording] enabled
 * is false, or this build cannot record), -EALREADY (one runs), -EIO / -ENOSPC / -EACCES
 * (its files could not be made). */
int tt__record_start(struct tt_room *room, const struct tt_record_opts *opts);
/* Stop the running recording, if any (its files are finished by the recorder thread);
 * `why` goes to the manifest and the log. 0, or -EALREADY (none runs). */
int tt__record_stop(struct tt_room *room, const char *why);
/* The running recording's id (borrowed while it runs) and its start (g_get_real_time). */
const char *tt__record_id(const struct tt_recording *rec);
int64_t tt__record_since(const struct tt_recording *rec);
/* The recording for the admin API (POST/GET /api/rooms/R/recording): a new object with at
 * least "id", "started" (ISO 8601), "tracks" (bool) and "files": [{"path", "kind": "mix" |
 * "track" | "manifest", "participant" (tracks), "bytes"}]. NULL only on ENOMEM. */
json_t *tt__record_json(const struct tt_recording *rec);

#endif
