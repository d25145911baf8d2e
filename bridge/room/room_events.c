/* room_events.c: the core's side of what media workers report (media.h): talking becomes
 * roster state, statistics are stored on participants and rooms for the API, and DTMF and
 * transports that ended go to the participant's gateway through the registry. Core thread,
 * after the mailbox hop; a participant that left or a room that ended since the worker
 * spoke is skipped. */
#define TT_LOG_DOMAIN "media"
#include "room.h"

#include <tutti/errno.h>
#include <tutti/log.h>

#include "gateway/registry.h"
#include "metrics/metrics.h"
#include "participant/participant.h"

static bool alive(const struct tt_participant *p)
{
	return p->room && !tt__participant_left(p);
}

static void on_talking(void *core, struct tt_participant *p, bool on)
{
	if (alive(p) && (p->caps & TT_CAP_AUDIO))
		tt__room_set_state(p, TT_PS_TALKING, on);
}

static void on_stats(void *arg, const struct tt_room_media *m, const char *name,
		     const struct tt_mixer_room_stats *mix, unsigned n,
		     const struct tt__leg_report *legs)
{
	struct tt_core *core = arg;
	for (unsigned i = 0; i < n; i++) {
		struct tt_participant *p = legs[i].p;
		if (!alive(p))
			continue;
		/* jitter means something only for a leg that received since its last report: a
		 * silent leg's 0 would pull every quantile down */
		uint64_t before = p->media ? p->media->transport.pkts_in : 0;
		if (legs[i].st.transport.pkts_in > before)
			tt__metrics_jitter(core->metrics, legs[i].st.rx_jitter_ms);
		if (!p->media)
			p->media = g_new(struct tt_leg_stats, 1);
		*p->media = legs[i].st;
	}
	/* by name, hidden rooms too; the same name may be a newer room, with other media */
	struct tt_room *room = g_hash_table_lookup(core->rooms, name);
	if (room && room->media == m) {
		room->has_mixer_stats = mix != NULL;
		if (mix)
			room->mixer_stats = *mix;
	}
}

static void on_dtmf(void *core, struct tt_participant *p, char digit)
{
	if (alive(p))
		tt__gateway_dtmf(p->gw, p, digit);
}

static void on_ended(void *core, struct tt_participant *p, int reason)
{
	if (!alive(p) || !p->gw->started || !(p->caps & TT_CAP_AUDIO))
		return;
	if (p->audio_added) {
		/* audio given to a text participant (audio_add): the call ends, the participant
		 * stays */
		tt_audio_ended_h cb = p->audio_ended;
		void *cb_arg = p->audio_ended_arg;
		tt_info("%s: added audio ended (%s)", p->id, tt_strerror(reason));
		tt__room_audio(p, false, NULL, NULL);
		if (cb)
			cb(cb_arg, p, reason);
		return;
	}
	tt_info("%s: media ended (%s)", p->id, reason == -ETIMEDOUT ?
		"no packets within [media] inactivity_s" : tt_strerror(reason));
	tt__gateway_hang_up(p->gw, p, reason == -ETIMEDOUT ? "media timeout" : "media ended");
}

const struct tt__media_events tt__room_media_events = {
	.talking = on_talking,
	.stats = on_stats,
	.dtmf = on_dtmf,
	.ended = on_ended,
};
