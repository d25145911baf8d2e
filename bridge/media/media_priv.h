/* media_priv.h: the worker-side media objects. Worker thread only, except where noted:
 * (const) fields are set on the core thread before the worker sees the object and never
 * change. */
#ifndef TT_MEDIA_PRIV_H
#define TT_MEDIA_PRIV_H

#include <tutti/codec.h>
#include <tutti/mixer.h>
#include <tutti/transport.h>

#include "media.h"

struct leg;

struct tt_room_media {
	char *name;                    /* (const) */
	struct tt_mq *core_mq;         /* (const) reports go here ... */
	const struct tt__media_events *ev;  /* (const) ... to these callbacks */
	struct tt_worker *worker;      /* (const) */
	struct tt_tick_client *tick;
	GPtrArray *parts;              /* struct media_part * */
	struct tt_mixer_room *mixer;   /* NULL if it could not be made: text only */
	unsigned rate, speakers, max_parts;
	struct tt_media_cfg cfg;
	uint64_t ticks;
	bool reported_legs;
	struct tt_rec_sink *rec;       /* the running recording's sink (a reference), or NULL */
	bool rec_tracks;
	bool rec_started;              /* rec_tick0 is set */
	uint64_t rec_tick0;            /* the worker's tick number of its first tick */            /* the last statistics report had legs */
};

struct media_part {
	struct tt_room_media *m;
	struct tt_participant *p;      /* the worker's reference */
	unsigned state;                /* worker's copy of TT_PS_MUTED/DEAF/HOLD */
	struct tt_mixer_part *mixer;   /* NULL until a leg is attached */
	struct leg *leg;
};

struct media_part *tt__media_find(struct tt_room_media *m, const struct tt_participant *p);
void tt__media_part_free(struct media_part *mp);
void tt__media_apply_state(struct media_part *mp);

/* leg.c */
void tt__leg_send(struct media_part *mp);     /* in the tick: queue this tick's output */
/* Cache hints for a send loop, issued for participants ahead of the one being sent, a
 * level per step from TT__LEG_PREFETCH_LEVELS (the participant is in cache: its leg and
 * mixer part) down to 1 (tt_transport_prefetch_send's levels below that). */
#define TT__LEG_PREFETCH_LEVELS 4
void tt__leg_prefetch(const struct media_part *mp, int level);
void tt__leg_flush(struct media_part *mp);    /* in the tick: one batch out */
void tt__leg_close(struct media_part *mp);
/* On hold (TT_PS_HOLD) a peer may rightly send no RTP: the transport gets [media]
 * hold_inactivity_s instead of inactivity_s, counted from the change. */
void tt__leg_apply_hold(struct media_part *mp);
void tt__leg_mixer_detach(struct media_part *mp);
int tt__leg_mixer_attach(struct media_part *mp);
void tt__leg_snapshot(struct media_part *mp, struct tt_leg_stats *s);

/* media_rec.c: the recording tap */
void tt__media_rec_tick(struct tt_room_media *m, uint64_t tick);  /* after the mixer's */
void tt__media_rec_reattach(struct tt_room_media *m); /* a new mixer: record it too */
void tt__media_rec_end(struct tt_room_media *m);     /* the sink gets its last message */

/* media_events.c: worker -> core messages */
void tt__media_post_events(struct tt_room_media *m);
void tt__media_post_stats(struct tt_room_media *m);
void tt__media_post_dtmf(struct media_part *mp, char digit);
void tt__media_post_closed(struct media_part *mp, int reason);

#endif
