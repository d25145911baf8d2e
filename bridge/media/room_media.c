/* room_media.c: a room's media side on its worker: the mixer, the tick, and the messages
 * that add, change and remove participants and their legs. */
#define TT_LOG_DOMAIN "media"
#include "media_priv.h"

#include <string.h>
#include <tutti/errno.h>
#include <tutti/log.h>

#define STATS_EVERY_TICKS 50   /* one second */

/* ---- worker side ---- */

static void apply_state(struct media_part *mp)
{
	tt__leg_apply_hold(mp);
	if (!mp->mixer)
		return;
	tt_mixer_part_set_mute(mp->mixer, mp->state & TT_PS_MUTED);
	tt_mixer_part_set_deaf(mp->mixer, mp->state & TT_PS_DEAF);
	tt_mixer_part_set_hold(mp->mixer, mp->state & TT_PS_HOLD);
}

static void on_tick(void *arg, uint64_t tick, int64_t late_us)
{
	struct tt_room_media *m = arg;
	m->ticks++;
	if (!m->mixer)
		return;
	tt_mixer_room_tick(m->mixer, (uint64_t)g_get_monotonic_time());
	tt__media_rec_tick(m, tick);   /* before any push: it copies the units the tick pulled */
	/* Every participant's state is cold at a tick: fetch participants ahead, a pointer
	 * level per step (participant, leg, transport, ...), so the misses overlap instead of
	 * queueing one by one. Each is flushed right after its send, while it is in cache. */
	struct media_part **parts = (struct media_part **)m->parts->pdata;
	guint n = m->parts->len;
	for (guint i = 0; i < n; i++) {
		if (i + TT__LEG_PREFETCH_LEVELS + 1 < n)
			__builtin_prefetch(parts[i + TT__LEG_PREFETCH_LEVELS + 1]);
		for (int lv = TT__LEG_PREFETCH_LEVELS; lv >= 1; lv--)
			if (i + (guint)lv < n)
				tt__leg_prefetch(parts[i + (guint)lv], lv);
		tt__leg_send(parts[i]);
		tt__leg_flush(parts[i]);
	}
	tt__media_post_events(m);
	if (m->ticks % STATS_EVERY_TICKS == 0)
		tt__media_post_stats(m);
}

static int mixer_make(struct tt_room_media *m)
{
	struct tt_mixer_room_cfg c = {
		.rate = m->rate,
		.speakers = m->speakers,
		.max_parts = m->max_parts,
		.cpu = m->cfg.cpu,
		.decode_all_levels = !m->cfg.opus_vad,
	};
	return tt_mixer_room_alloc(&m->mixer, &c);
}

static void media_new_on_worker(void *w, void *arg)
{
	struct tt_room_media *m = arg;
	int rc = mixer_make(m);
	if (rc)
		tt_error("room %s: mixer: %s (the room carries text only)", m->name,
			 tt_strerror(rc));
	m->tick = tt_worker_tick_add(m->worker, on_tick, m);
}

struct reconf_msg {
	struct tt_room_media *m;
	unsigned rate, speakers, max_parts;
};

/* Rate and K are fixed in a mixer, so a change makes a new one and moves everyone over;
 * jitter buffers and encoders start afresh, which an admin change can afford. */
static void reconf_on_worker(void *w, void *arg)
{
	struct reconf_msg *msg = arg;
	struct tt_room_media *m = msg->m;
	for (guint i = 0; i < m->parts->len; i++)
		tt__leg_mixer_detach(g_ptr_array_index(m->parts, i));
	m->mixer = tt_mixer_room_free(m->mixer);
	m->rate = msg->rate;
	m->speakers = msg->speakers;
	m->max_parts = msg->max_parts;
	int rc = mixer_make(m);
	if (rc)
		tt_error("room %s: mixer: %s", m->name, tt_strerror(rc));
	for (guint i = 0; rc == 0 && i < m->parts->len; i++) {
		struct media_part *mp = g_ptr_array_index(m->parts, i);
		tt__leg_mixer_attach(mp);
		apply_state(mp);
	}
	tt__media_rec_reattach(m);
	g_free(msg);
}

/* The last message about m: everything the worker posted before it has been handled, so
 * from here on no report names m and its address may be reused. */
static void media_free_on_core(void *core, void *arg)
{
	struct tt_room_media *m = arg;
	g_free(m->name);
	g_free(m);
}

static void media_free_on_worker(void *w, void *arg)
{
	struct tt_room_media *m = arg;
	tt_worker_tick_remove(m->worker, m->tick);
	tt__media_rec_end(m);
	for (guint i = 0; i < m->parts->len; i++)
		tt__media_part_free(g_ptr_array_index(m->parts, i));
	g_ptr_array_free(m->parts, TRUE);
	m->parts = NULL;
	m->mixer = tt_mixer_room_free(m->mixer);
	tt_mq_post(m->core_mq, media_free_on_core, m);
}

struct part_msg {
	struct tt_room_media *m;
	struct tt_participant *p;   /* a reference owned by the message */
	unsigned state;
};

static void part_add_on_worker(void *w, void *arg)
{
	struct part_msg *msg = arg;
	struct media_part *mp = g_new0(struct media_part, 1);
	mp->m = msg->m;
	mp->p = msg->p;  /* the message's reference becomes the worker's */
	mp->state = msg->state;
	g_ptr_array_add(msg->m->parts, mp);
	g_free(msg);
}

struct media_part *tt__media_find(struct tt_room_media *m, const struct tt_participant *p)
{
	for (guint i = 0; i < m->parts->len; i++) {
		struct media_part *mp = g_ptr_array_index(m->parts, i);
		if (mp->p == p)
			return mp;
	}
	return NULL;
}

void tt__media_part_free(struct media_part *mp)
{
	tt__leg_close(mp);
	tt__participant_unref(mp->p);
	g_free(mp);
}

static void part_remove_on_worker(void *w, void *arg)
{
	struct part_msg *msg = arg;
	struct media_part *mp = tt__media_find(msg->m, msg->p);
	if (mp) {
		g_ptr_array_remove(msg->m->parts, mp);
		tt__media_part_free(mp);
	}
	tt__participant_unref(msg->p);
	g_free(msg);
}

static void part_state_on_worker(void *w, void *arg)
{
	struct part_msg *msg = arg;
	struct media_part *mp = tt__media_find(msg->m, msg->p);
	if (mp) {
		mp->state = msg->state;
		apply_state(mp);
	}
	tt__participant_unref(msg->p);
	g_free(msg);
}

void tt__media_apply_state(struct media_part *mp)
{
	apply_state(mp);
}

/* ---- core side ---- */

void tt__media_cfg_read(struct tt_media_cfg *mc, const struct tt_conf *c)
{
	memset(mc, 0, sizeof *mc);
	g_strlcpy(mc->address, tt_conf_str(c, "media", "address"), sizeof mc->address);
	mc->port_min = (unsigned)tt_conf_int(c, "media", "port_min");
	mc->port_max = (unsigned)tt_conf_int(c, "media", "port_max");
	mc->shared_port = tt_conf_bool(c, "media", "shared_port");
	mc->inactivity_ms = (unsigned)tt_conf_int(c, "media", "inactivity_s") * 1000;
	mc->hold_inactivity_ms = (unsigned)tt_conf_int(c, "media", "hold_inactivity_s") * 1000;
	mc->rtcp_interval_ms = (unsigned)tt_conf_int(c, "media", "rtcp_interval_ms");
	mc->opus_bitrate = (unsigned)tt_conf_int(c, "media", "opus_bitrate");
	mc->opus_complexity = (unsigned)tt_conf_int(c, "media", "opus_complexity");
	int mode = tt_opus_mode_parse(tt_conf_str(c, "media", "opus_mode"));
	mc->opus_mode = mode < 0 ? TT_OPUS_AUTO : (enum tt_opus_mode)mode;
	mc->opus_vad = tt_conf_bool(c, "media", "opus_vad");
	const char *cpu = tt_conf_str(c, "media", "mixer_cpu");
	mc->cpu = (!cpu || !strcmp(cpu, "auto")) ? TT_MIXER_CPU_AUTO : tt_mixer_cpu_parse(cpu);
	if (mc->cpu < TT_MIXER_CPU_AUTO)
		mc->cpu = TT_MIXER_CPU_AUTO;
}

int tt__room_media_new(struct tt_room_media **mp, const struct tt__media_room_cfg *c)
{
	if (!c->worker || !c->core_mq || !c->events || !c->name)
		return -EINVAL;
	struct tt_room_media *m = g_new0(struct tt_room_media, 1);
	m->name = g_strdup(c->name);
	m->core_mq = c->core_mq;
	m->ev = c->events;
	m->parts = g_ptr_array_new();
	m->rate = c->rate;
	m->speakers = c->speakers;
	m->max_parts = c->max_parts;
	tt__media_cfg_read(&m->cfg, c->conf);
	m->worker = c->worker;
	tt_worker_placed(m->worker, +1);
	tt_worker_post(m->worker, media_new_on_worker, m);
	*mp = m;
	return 0;
}

void tt__room_media_reconfigure(struct tt_room_media *m, unsigned rate, unsigned speakers,
				unsigned max_parts)
{
	if (!m)
		return;
	struct reconf_msg *msg = g_new0(struct reconf_msg, 1);
	msg->m = m;
	msg->rate = rate;
	msg->speakers = speakers;
	msg->max_parts = max_parts;
	tt_worker_post(m->worker, reconf_on_worker, msg);
}

static void post_part(struct tt_room_media *m, tt_mq_h fn, struct tt_participant *p,
		      unsigned state)
{
	struct part_msg *msg = g_new0(struct part_msg, 1);
	msg->m = m;
	msg->p = tt__participant_ref(p);
	msg->state = state;
	tt_worker_post(m->worker, fn, msg);
}

void tt__room_media_add(struct tt_room_media *m, struct tt_participant *p, unsigned state)
{
	post_part(m, part_add_on_worker, p, state);
}

void tt__room_media_remove(struct tt_room_media *m, struct tt_participant *p)
{
	post_part(m, part_remove_on_worker, p, 0);
}

void tt__room_media_set_state(struct tt_room_media *m, struct tt_participant *p,
			      unsigned state)
{
	post_part(m, part_state_on_worker, p, state);
}

struct tt_room_media *tt__room_media_end(struct tt_room_media *m)
{
	if (!m)
		return NULL;
	tt_worker_placed(m->worker, -1);
	tt_worker_post(m->worker, media_free_on_worker, m);
	return NULL;
}
