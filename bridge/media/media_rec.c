/* media_rec.c: the recording tap on a room's worker. After each tick it copies what the
 * recording needs (the mix's Opus packets, and with tracks every heard participant's
 * packets as the jitter buffer gave them) into one message for the recorder thread
 * (record/sink.h); the disk is never touched here. A full queue stops the copying (the
 * sink tells the core). The copy allocates one block per tick: it runs after the mixer's
 * tick, which itself never allocates. */
#define TT_LOG_DOMAIN "media"
#include "media_priv.h"

#include <string.h>
#include <tutti/errno.h>
#include <tutti/log.h>

#include "record/sink.h"

static bool track_heard(const struct media_part *mp)
{
	/* muted (by themselves, a moderator, or a declined recording) or on hold: not heard,
	 * so not kept; the track gets silence for it */
	return mp->mixer && !(mp->state & (TT_PS_MUTED | TT_PS_HOLD | TT_PS_NO_RECORD));
}

static size_t put_rec(uint8_t *at, uint8_t kind, const struct media_part *mp,
		      const struct tt_mixer_unit *u, uint32_t rtp_rate)
{
	struct tt_rec_rec r = { .kind = kind, .len = (uint16_t)u->len, .dur = u->dur,
				.rtp_rate = rtp_rate };
	if (mp) {
		r.codec = (uint8_t)tt_mixer_part_codec(mp->mixer);
		g_strlcpy(r.id, tt__participant_id(mp->p), sizeof r.id);
	}
	if (at) {
		memcpy(at, &r, sizeof r);
		if (u->len)
			memcpy(at + sizeof r, u->data, u->len);
	}
	return sizeof r + u->len;
}

/* One pass sizes the message, the next fills it. */
static size_t build(struct tt_room_media *m, uint8_t *at)
{
	size_t n = 0;
	struct tt_mixer_out out;
	tt_mixer_room_record_out(m->mixer, &out);
	for (unsigned i = 0; i < out.n; i++) {
		struct tt_mixer_unit u = { out.payload[i].data, out.payload[i].len, out.ts_inc,
					   false };
		n += put_rec(at ? at + n : NULL, TT_REC_MIX, NULL, &u, 48000);
	}
	if (!m->rec_tracks)
		return n;
	for (guint i = 0; i < m->parts->len; i++) {
		struct media_part *mp = g_ptr_array_index(m->parts, i);
		if (!track_heard(mp))
			continue;
		struct tt_mixer_unit u[TT_MIXER_UNITS_MAX];
		unsigned k = tt_mixer_part_pulled(mp->mixer, u, TT_MIXER_UNITS_MAX);
		uint32_t rate = tt_codec_rtp_rate(tt_mixer_part_codec(mp->mixer));
		for (unsigned j = 0; j < k; j++) {
			if (u[j].len > UINT16_MAX)
				u[j].len = 0, u[j].data = NULL;
			n += put_rec(at ? at + n : NULL, u[j].lost ? TT_REC_LOST : TT_REC_TRACK, mp,
				     &u[j], rate);
		}
	}
	return n;
}

void tt__media_rec_tick(struct tt_room_media *m, uint64_t tick)
{
	if (!m->rec || !m->mixer || tt__rec_sink_failed(m->rec))
		return;
	if (!m->rec_started) {
		m->rec_started = true;
		m->rec_tick0 = tick;
		tt__rec_sink_started(m->rec, g_get_monotonic_time());
	}
	size_t n = build(m, NULL);
	struct tt_rec_tick *t = g_malloc(sizeof *t + n);
	/* the worker's tick numbers stay on the clock when ticks are skipped (a busy
	 * machine): the files get silence there, and stay aligned with the manifest's times */
	*t = (struct tt_rec_tick){ .tick = tick - m->rec_tick0, .len = (uint32_t)n,
				   .mix_preskip = tt_mixer_room_record_preskip(m->mixer) };
	build(m, (uint8_t *)(t + 1));
	tt__rec_sink_push(m->rec, t);
}

static void mixer_record(struct tt_room_media *m)
{
	if (!m->mixer)
		return;
	struct tt_codec_params p = {
		.room_rate = m->rate, .ptime = 20, .bitrate = m->cfg.opus_bitrate,
		.complexity = m->cfg.opus_complexity, .opus_mode = m->cfg.opus_mode,
	};
	int rc = tt_mixer_room_record(m->mixer, m->rec ? &p : NULL);
	if (rc)
		tt_error("room %s: the recording has no Opus encoder: %s", m->name,
			 tt_strerror(rc));
}

void tt__media_rec_reattach(struct tt_room_media *m)
{
	if (m->rec)
		mixer_record(m);
}

void tt__media_rec_end(struct tt_room_media *m)
{
	if (!m->rec)
		return;
	tt__rec_sink_end(m->rec);
	tt__rec_sink_unref(m->rec);
	m->rec = NULL;
	if (m->mixer)
		tt_mixer_room_record(m->mixer, NULL);
}

struct rec_msg {
	struct tt_room_media *m;
	struct tt_rec_sink *sink;   /* a reference, or NULL: stop */
	bool tracks;
	int16_t *pcm;               /* the notice at the room's rate, or NULL */
	size_t n;
};

static void rec_on_worker(void *w, void *arg)
{
	struct rec_msg *msg = arg;
	struct tt_room_media *m = msg->m;
	tt__media_rec_end(m);
	if (msg->sink) {
		m->rec = msg->sink;
		m->rec_tracks = msg->tracks;
		m->rec_started = false;
		mixer_record(m);
		if (m->mixer && msg->n && tt_mixer_room_play(m->mixer, msg->pcm, msg->n))
			tt_warn("room %s: the recording notice could not be played", m->name);
	}
	g_free(msg->pcm);
	g_free(msg);
}

void tt__room_media_record(struct tt_room_media *m, struct tt_rec_sink *sink, bool tracks,
			   const int16_t *pcm, size_t n, unsigned rate, unsigned room_rate)
{
	if (!m)
		return;
	struct rec_msg *msg = g_new0(struct rec_msg, 1);
	msg->m = m;
	msg->sink = sink ? tt__rec_sink_ref(sink) : NULL;
	msg->tracks = tracks;
	if (sink && pcm && n && rate >= 8000) {
		/* linear interpolation, as for prompts (leg.c): good enough for a voice */
		msg->n = (size_t)((double)n * room_rate / rate);
		msg->pcm = g_new(int16_t, msg->n ? msg->n : 1);
		for (size_t i = 0; i < msg->n; i++) {
			double x = (double)i * rate / room_rate;
			size_t k = (size_t)x;
			double f = x - (double)k;
			int a = pcm[k < n ? k : n - 1], b = pcm[k + 1 < n ? k + 1 : n - 1];
			msg->pcm[i] = (int16_t)(a + (b - a) * f);
		}
	}
	tt_worker_post(m->worker, rec_on_worker, msg);
}
