/* room_media.c: a room's media side, owned by one media worker. The core reaches it only by
 * posting messages; each message owns its argument. The worker holds its own reference to
 * every participant it mixes, so a leave on the core never frees memory under a tick. */
#define TT_LOG_DOMAIN "media"
#include "room.h"

#include <tutti/log.h>

#include "participant/participant.h"

struct media_part {
	struct tt_participant *p;   /* the worker's reference */
	unsigned state;             /* worker's copy of TT_PS_MUTED/DEAF/HOLD */
};

struct tt_room_media {
	char *name;
	struct tt_worker *worker;
	struct tt_tick_client *tick;
	GPtrArray *parts;           /* struct media_part * */
	uint64_t ticks;
	unsigned rate;
};

struct part_msg {
	struct tt_room_media *m;
	struct tt_participant *p;   /* a reference owned by the message */
	unsigned state;
};

static void on_tick(void *arg, uint64_t tick, int64_t late_us)
{
	struct tt_room_media *m = arg;
	m->ticks++;
	/* the mixer runs here: jitter buffers, select, mix, encode, send (mixer/) */
}

static void media_new_on_worker(void *w, void *arg)
{
	struct tt_room_media *m = arg;
	m->tick = tt_worker_tick_add(m->worker, on_tick, m);
}

static void media_free_on_worker(void *w, void *arg)
{
	struct tt_room_media *m = arg;
	tt_worker_tick_remove(m->worker, m->tick);
	for (guint i = 0; i < m->parts->len; i++) {
		struct media_part *mp = g_ptr_array_index(m->parts, i);
		tt__participant_unref(mp->p);
		g_free(mp);
	}
	g_ptr_array_free(m->parts, TRUE);
	g_free(m->name);
	g_free(m);
}

static void part_add_on_worker(void *w, void *arg)
{
	struct part_msg *msg = arg;
	struct media_part *mp = g_new0(struct media_part, 1);
	mp->p = msg->p;  /* the message's reference becomes the worker's */
	mp->state = msg->state;
	g_ptr_array_add(msg->m->parts, mp);
	g_free(msg);
}

static struct media_part *find(struct tt_room_media *m, struct tt_participant *p)
{
	for (guint i = 0; i < m->parts->len; i++) {
		struct media_part *mp = g_ptr_array_index(m->parts, i);
		if (mp->p == p)
			return mp;
	}
	return NULL;
}

static void part_remove_on_worker(void *w, void *arg)
{
	struct part_msg *msg = arg;
	struct media_part *mp = find(msg->m, msg->p);
	if (mp) {
		g_ptr_array_remove(msg->m->parts, mp);
		tt__participant_unref(mp->p);
		g_free(mp);
	}
	tt__participant_unref(msg->p);
	g_free(msg);
}

static void part_state_on_worker(void *w, void *arg)
{
	struct part_msg *msg = arg;
	struct media_part *mp = find(msg->m, msg->p);
	if (mp)
		mp->state = msg->state;
	tt__participant_unref(msg->p);
	g_free(msg);
}

void tt__room_media_place(struct tt_room *room)
{
	struct tt_room_media *m = g_new0(struct tt_room_media, 1);
	m->name = g_strdup(room->name);
	m->parts = g_ptr_array_new();
	m->rate = room->rate;
	room->worker = tt_workers_pick(room->core->workers);
	m->worker = room->worker;
	tt_worker_placed(room->worker, +1);
	room->media = m;
	tt_worker_post(room->worker, media_new_on_worker, m);
}

static void post_part(struct tt_room *room, tt_mq_h fn, struct tt_participant *p,
		      unsigned state)
{
	struct part_msg *msg = g_new0(struct part_msg, 1);
	msg->m = room->media;
	msg->p = tt__participant_ref(p);
	msg->state = state;
	tt_worker_post(room->worker, fn, msg);
}

void tt__room_media_add(struct tt_room *room, struct tt_participant *p)
{
	post_part(room, part_add_on_worker, p, (unsigned)g_atomic_int_get(&p->state));
}

void tt__room_media_remove(struct tt_room *room, struct tt_participant *p)
{
	post_part(room, part_remove_on_worker, p, 0);
}

void tt__room_media_set_state(struct tt_room *room, struct tt_participant *p, unsigned state)
{
	post_part(room, part_state_on_worker, p, state);
}

void tt__room_media_end(struct tt_room *room)
{
	if (!room->media)
		return;
	tt_worker_placed(room->worker, -1);
	tt_worker_post(room->worker, media_free_on_worker, room->media);
	room->media = NULL;
}
