/* media_events.c: what a worker tells the core about media: talking, statistics, DTMF, and
 * legs that ended by themselves. Each message owns a participant reference; the core side
 * acts only if the participant is still in its room. */
#define TT_LOG_DOMAIN "media"
#include "media_priv.h"

#include <string.h>
#include <tutti/errno.h>
#include <tutti/log.h>

#include "participant/participant.h"
#include "room/room.h"

struct talk {
	struct tt_participant *p;
	bool on;
};

struct talk_msg {
	unsigned n;
	struct talk t[];
};

static bool alive(struct tt_participant *p)
{
	return p->room && !g_atomic_int_get(&p->destroyed);
}

static void talk_on_core(void *core, void *arg)
{
	struct talk_msg *msg = arg;
	for (unsigned i = 0; i < msg->n; i++) {
		if (alive(msg->t[i].p))
			tt__room_set_state(msg->t[i].p, TT_PS_TALKING, msg->t[i].on);
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
	if (msg)
		tt_mq_post(m->core->mq, talk_on_core, msg);
}

struct stat_item {
	struct tt_participant *p;
	struct tt_media_snapshot s;
};

struct stats_msg {
	unsigned n;
	struct stat_item it[];
};

static void stats_on_core(void *core, void *arg)
{
	struct stats_msg *msg = arg;
	for (unsigned i = 0; i < msg->n; i++) {
		struct tt_participant *p = msg->it[i].p;
		if (alive(p)) {
			if (!p->media)
				p->media = g_new0(struct tt_media_snapshot, 1);
			*p->media = msg->it[i].s;
		}
		tt__participant_unref(p);
	}
	g_free(msg);
}

void tt__media_post_stats(struct tt_room_media *m)
{
	unsigned n = 0;
	for (guint i = 0; i < m->parts->len; i++)
		n += ((struct media_part *)g_ptr_array_index(m->parts, i))->leg != NULL;
	if (!n)
		return;
	struct stats_msg *msg = g_malloc(sizeof *msg + n * sizeof msg->it[0]);
	msg->n = 0;
	for (guint i = 0; i < m->parts->len; i++) {
		struct media_part *mp = g_ptr_array_index(m->parts, i);
		if (!mp->leg)
			continue;
		msg->it[msg->n].p = tt__participant_ref(mp->p);
		tt__leg_snapshot(mp, &msg->it[msg->n].s);
		msg->n++;
	}
	tt_mq_post(m->core->mq, stats_on_core, msg);
}

struct one_msg {
	struct tt_participant *p;
	char digit;
	int reason;
};

static void dtmf_on_core(void *core, void *arg)
{
	struct one_msg *msg = arg;
	struct tt_gw_handle *h = msg->p->gw;
	if (alive(msg->p) && h->started && h->gw->on_dtmf)
		h->gw->on_dtmf(h->state, msg->p, msg->digit);
	tt__participant_unref(msg->p);
	g_free(msg);
}

void tt__media_post_dtmf(struct media_part *mp, char digit)
{
	struct one_msg *msg = g_new0(struct one_msg, 1);
	msg->p = tt__participant_ref(mp->p);
	msg->digit = digit;
	tt_mq_post(mp->m->core->mq, dtmf_on_core, msg);
}

static void closed_on_core(void *core, void *arg)
{
	struct one_msg *msg = arg;
	struct tt_gw_handle *h = msg->p->gw;
	if (alive(msg->p) && h->started) {
		tt_info("%s: media ended (%s)", msg->p->id, msg->reason == -ETIMEDOUT ?
			"no packets within [media] inactivity_s" : tt_strerror(msg->reason));
		h->gw->hang_up(h->state, msg->p, msg->reason == -ETIMEDOUT ? "media timeout"
									   : "media ended");
	}
	tt__participant_unref(msg->p);
	g_free(msg);
}

void tt__media_post_closed(struct media_part *mp, int reason)
{
	struct one_msg *msg = g_new0(struct one_msg, 1);
	msg->p = tt__participant_ref(mp->p);
	msg->reason = reason;
	tt_mq_post(mp->m->core->mq, closed_on_core, msg);
}
