/* media_events.c: what a worker tells the core about media: talking, statistics, DTMF, and
 * legs that ended by themselves. Each is a message into the core's mailbox that carries
 * the callback table (not the room's media, which the worker may free meanwhile) and a
 * participant reference; on the core thread it calls the table (media.h), which decides
 * what to do. Nothing here knows what a room or a gateway is. */
#define TT_LOG_DOMAIN "media"
#include "media_priv.h"

#include <string.h>

struct talk {
	struct tt_participant *p;
	bool on;
};

struct talk_msg {
	const struct tt__media_events *ev;
	unsigned n;
	struct talk t[];
};

static void talk_on_core(void *core, void *arg)
{
	struct talk_msg *msg = arg;
	for (unsigned i = 0; i < msg->n; i++) {
		msg->ev->talking(core, msg->t[i].p, msg->t[i].on);
		tt__participant_unref(msg->t[i].p);
	}
	g_free(msg);
}

/* Talking changes are rare next to ticks, so one small message per tick that has any. */
void tt__media_post_events(struct tt_room_media *m)
{
	struct tt_mixer_event ev;
	struct talk_msg *msg = NULL;
	unsigned cap = 0;
	while (m->mixer && tt_mixer_room_event_next(m->mixer, &ev)) {
		struct media_part *mp = ev.user;
		if (!mp)
			continue;
		if (!msg || msg->n == cap) {
			cap = cap ? cap * 2 : 8;
			msg = g_realloc(msg, sizeof *msg + cap * sizeof msg->t[0]);
			if (cap == 8)
				msg->n = 0;
		}
		msg->t[msg->n].p = tt__participant_ref(mp->p);
		msg->t[msg->n].on = ev.type == TT_MIXER_EV_TALK_START;
		msg->n++;
	}
	if (msg) {
		msg->ev = m->ev;
		tt_mq_post(m->core_mq, talk_on_core, msg);
	}
}

struct stats_msg {
	const struct tt__media_events *ev;
	const struct tt_room_media *m;  /* only compared, and its (const) name read: it is
					 * freed after this message (room_media.c) */
	bool has_mix;
	struct tt_mixer_room_stats mix;
	unsigned n;
	struct tt__leg_report it[];
};

static void stats_on_core(void *core, void *arg)
{
	struct stats_msg *msg = arg;
	msg->ev->stats(core, msg->m, msg->m->name, msg->has_mix ? &msg->mix : NULL, msg->n,
		       msg->it);
	for (unsigned i = 0; i < msg->n; i++)
		tt__participant_unref(msg->it[i].p);
	g_free(msg);
}

/* Once a second: the mixer's counters and every leg's, in one message per room. A room
 * without legs stays quiet, after one last report that shows them gone. */
void tt__media_post_stats(struct tt_room_media *m)
{
	unsigned n = 0;
	for (guint i = 0; i < m->parts->len; i++)
		n += ((struct media_part *)g_ptr_array_index(m->parts, i))->leg != NULL;
	if (!n && !m->reported_legs)
		return;
	m->reported_legs = n > 0;
	struct stats_msg *msg = g_malloc0(sizeof *msg + n * sizeof msg->it[0]);
	msg->ev = m->ev;
	msg->m = m;
	if (m->mixer) {
		msg->has_mix = true;
		tt_mixer_room_stats(m->mixer, &msg->mix);
	}
	for (guint i = 0; i < m->parts->len; i++) {
		struct media_part *mp = g_ptr_array_index(m->parts, i);
		if (!mp->leg)
			continue;
		msg->it[msg->n].p = tt__participant_ref(mp->p);
		tt__leg_snapshot(mp, &msg->it[msg->n].st);
		msg->n++;
	}
	tt_mq_post(m->core_mq, stats_on_core, msg);
}

struct one_msg {
	const struct tt__media_events *ev;
	struct tt_participant *p;
	char digit;
	int reason;
};

static void dtmf_on_core(void *core, void *arg)
{
	struct one_msg *msg = arg;
	msg->ev->dtmf(core, msg->p, msg->digit);
	tt__participant_unref(msg->p);
	g_free(msg);
}

void tt__media_post_dtmf(struct media_part *mp, char digit)
{
	struct one_msg *msg = g_new0(struct one_msg, 1);
	msg->ev = mp->m->ev;
	msg->p = tt__participant_ref(mp->p);
	msg->digit = digit;
	tt_mq_post(mp->m->core_mq, dtmf_on_core, msg);
}

static void closed_on_core(void *core, void *arg)
{
	struct one_msg *msg = arg;
	msg->ev->ended(core, msg->p, msg->reason);
	tt__participant_unref(msg->p);
	g_free(msg);
}

void tt__media_post_closed(struct media_part *mp, int reason)
{
	struct one_msg *msg = g_new0(struct one_msg, 1);
	msg->ev = mp->m->ev;
	msg->p = tt__participant_ref(mp->p);
	msg->reason = reason;
	tt_mq_post(mp->m->core_mq, closed_on_core, msg);
}
