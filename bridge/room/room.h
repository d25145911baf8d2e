/* room.h: the room registry, on the core thread. A room has settings, participants (the room
 * holds one reference to each), watchers (gateways present without participants) and a media
 * side that lives on one media worker (media/media.h), reached only by messages; what the
 * media reports comes back through room_events.c. */
#ifndef TT_ROOM_H
#define TT_ROOM_H

#include "core/core_types.h"
#include "media/media.h"

struct tt_room {
	struct tt_core *core;
	char *name;
	unsigned rate;
	unsigned speakers;
	unsigned max_participants;
	char *pin;
	char *moderator_pin;
	bool locked;                  /* config, or api_locked when set */
	int api_locked;               /* -1: as configured; 0/1: set by a moderator or the API */
	bool self_unmute;             /* muted by a moderator may unmute themselves */
	bool unmute_asks;             /* a moderator's unmute asks rather than unmutes */
	bool recording_decline;       /* participants may decline a recording */
	uint32_t hand_next;           /* last hand_seq given (meeting/moderate.c) */
	struct tt_recording *rec;     /* the running recording (record/record.h), or NULL */
	bool configured;              /* [room.NAME] or made by the API: outlives its participants */
	bool api_made;                /* PUT /api/rooms: kept until DELETE */
	bool hidden;                  /* the decoy lobby: not found, listed or counted */
	unsigned api_rate, api_speakers, api_max;  /* set by the API (0: not), win over the config */
	GPtrArray *parts;             /* struct tt_participant *, one reference each */
	GHashTable *names;            /* name key (NFKC, case-folded) of each participant */
	GHashTable *name_next;        /* name key of a base name -> next " (n)" to try */
	GHashTable *watch;            /* struct tt_gw_handle * -> count */
	GPtrArray *text_media;        /* struct tt_text_medium *, open ones, one reference each
				       * (textbus/medium.c), in the order opened */
	struct tt_worker *worker;
	struct tt_room_media *media;  /* owned by the worker; an address to name it in messages */
	int64_t created_us;
	bool has_mixer_stats;         /* mixer_stats came from the worker (room_events.c) */
	struct tt_mixer_room_stats mixer_stats;
};

/* A trunk to another node (cluster/cascade.c) joins `req->room`, which must exist (-ENOENT):
 * hidden from rosters, events and counts like a lobby participant, but in the mix (on hold
 * while `hold`, until its far end is known). No PIN, lock or size check. Core thread. */
int tt__room_trunk_join(struct tt_gw_handle *gw, const struct tt_join *req, bool hold,
			struct tt_participant **pp);
/* Participants everyone sees (not in a lobby, not trunks). Core thread. */
unsigned tt__room_visible_parts(const struct tt_room *room);

/* Rooms anyone can see: the registry without the hidden decoy lobby. Core thread. */
unsigned tt__rooms_visible(struct tt_core *core);

/* Valid room names: 1..64 of [A-Za-z0-9._-], not starting with '.'. */
bool tt__room_name_valid(const char *name);
struct tt_room *tt__room_find(struct tt_core *core, const char *name);
/* The room, created if configured or (create && on_demand). -ENOENT, -EINVAL. */
int tt__room_open(struct tt_core *core, const char *name, bool create, struct tt_room **rp);
/* Create or update from the API (issue: PUT /api/rooms). Fields < 0 / NULL: unchanged. */
int tt__room_put(struct tt_core *core, const char *name, int rate, int speakers,
		 struct tt_room **rp);
int tt__room_check(struct tt_core *core, const char *name, const char *pin, bool *moderator);
/* Re-read one room's settings from the config and what the API set (no media resize: for
 * settings that do not size the mixer, such as the lock). */
void tt__room_apply_settings(struct tt_room *r);
/* Re-read settings of every room from the current config (SIGHUP). */
void tt__rooms_apply_conf(struct tt_core *core);
/* The room's rate, speakers or max_participants changed: its worker makes a new mixer. */
void tt__room_media_resize(struct tt_room *room);
/* Every gateway present in the room, in registration order, each once. */
GPtrArray *tt__room_present_gateways(struct tt_room *room);
void tt__room_emit(struct tt_room *room, const struct tt_roster_event *ev);
int tt__room_watch(struct tt_gw_handle *gw, const char *name, bool on);
/* Ask every participant's gateway to hang up; the room ends when the last one has left. */
void tt__room_hang_up_all(struct tt_room *room, const char *why);
/* DELETE /api/rooms: forget API settings, hang everyone up; the room ends with the last
 * leave unless it is configured or watched. `room` may be freed when this returns. */
void tt__room_end(struct tt_room *room, const char *why);
/* Free rooms that are empty, unwatched and not configured. */
void tt__room_gc(struct tt_room *room);
void tt__rooms_free(struct tt_core *core);

int tt__room_join(struct tt_gw_handle *gw, const struct tt_join *req,
		  struct tt_participant **pp);
/* core.h lobby_join / lobby_admit (SIP PIN entry). Core thread. */
int tt__room_lobby_join(struct tt_gw_handle *gw, const struct tt_join *req,
			struct tt_participant **pp);
int tt__room_lobby_admit(struct tt_participant *p, const char *pin);
struct tt_participant *tt__room_leave(struct tt_participant *p, int reason);
int tt__room_set_state(struct tt_participant *p, unsigned bits, bool on);
/* core.h audio_add (on) and audio_remove (off, ended ignored). Core thread. */
int tt__room_audio(struct tt_participant *p, bool on, tt_audio_ended_h ended, void *arg);

/* room_events.c: what rooms' media workers report (media.h), applied on the core thread:
 * talking to the roster, statistics to participants and rooms, DTMF and ended transports
 * to the participant's gateway. */
extern const struct tt__media_events tt__room_media_events;

#endif
