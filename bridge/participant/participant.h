/* participant.h: participants, refcounted with a logical destroy separate from free.
 *
 * participant_destroy (leave) runs exactly once, on the core thread, guarded by an atomic
 * flag; every other holder (a media worker mid-tick, a gateway) keeps valid memory until its
 * own unref, and free runs at zero references on whichever thread drops the last one. Fields
 * marked (const) never change after creation and may be read from any thread. */
#ifndef TT_PARTICIPANT_H
#define TT_PARTICIPANT_H

#include <tutti/stats.h>

#include "core/core_types.h"
#include "participant_ref.h"

#define TT_PARTICIPANT_MAGIC 0x7474706bu

struct tt_participant {
	uint32_t magic;
	gint refs;                   /* atomic */
	gint destroyed;              /* atomic: 0 alive, 1 destroyed (left) */
	char id[24];                 /* (const) */
	char *name;                  /* (const) display name */
	char *network;               /* (const) */
	char *room_name;             /* (const) */
	struct tt_gw_handle *gw;     /* (const) */
	unsigned caps;               /* core thread: TT_CAP_AUDIO comes and goes with
				      * audio_add / audio_remove (room.c) */
	gint state;                  /* atomic read anywhere, written on the core thread */
	void *gw_data;               /* (const) */
	struct tt_text_medium *medium;  /* (const) the shared text medium it speaks through, a
					 * reference, or NULL (textbus.h) */
	struct tt_room *room;        /* core thread; NULL once left */
	struct tt_leg_stats *media;  /* core thread: its leg's last statistics, or NULL */
	uint32_t hand_seq;           /* core thread: when TT_PS_HAND went up (room hand_next) */
	bool lobby;                  /* core thread: joined for media only (PIN entry), hidden
				      * from rosters, events and counts until admitted */
	bool trunk;                  /* core thread, set once at join: a trunk to another node
				      * (cluster/cascade.c): hidden as the lobby is, but heard and
				      * hearing */
	bool audio_added;            /* core thread: TT_CAP_AUDIO from audio_add, not the join */
	tt_audio_ended_h audio_ended;   /* core thread: audio_add's callback, or NULL */
	void *audio_ended_arg;
};

struct tt_participant *tt__participant_new(struct tt_core *core, struct tt_gw_handle *gw,
					   const struct tt_join *req, const char *name,
					   struct tt_room *room);
/* Marks destroyed; true only for the one caller that did it. */
bool tt__participant_mark_destroyed(struct tt_participant *p);
void tt__participant_entry(const struct tt_participant *p, struct tt_roster_entry *e);

#endif
