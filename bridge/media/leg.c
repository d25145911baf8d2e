/* leg.c: what every audio leg on the worker has, whatever its kind (leg_kind.h): a mixer
 * input/output, the RTP sender state (SSRC, sequence, timestamp offset) of what we send it,
 * the tick's send, statistics, and the attach/update messages from the core. How the media
 * travels is the kind's: leg.c reaches it only through the kind's ops and leg->t. */
#define TT_LOG_DOMAIN "media"
#include "leg_kind.h"

#include <stddef.h>
#include <string.h>
#include <tutti/errno.h>
#include <tutti/log.h>

#define MAX_PKT 1500

/* The tick's send touches only these; they stay ahead of what kinds and updates use. */
_Static_assert(offsetof(struct leg, quiet_hold) < 64, "the tick's fields in one line");

static void on_recv(void *arg, const struct tt_transport_pkt *pkt)
{
	struct media_part *mp = arg;
	if (pkt->is_rtcp)
		return;  /* the transport keeps the RTCP statistics */
	if (pkt->is_dtmf) {
		if (pkt->dtmf_digit)
			tt__media_post_dtmf(mp, pkt->dtmf_digit);
		return;  /* telephone-events are never mixed as audio */
	}
	if (!mp->mixer)
		return;
	struct tt_mixer_pkt mpkt = {
		.payload = pkt->rtp.payload,
		.len = pkt->rtp.payload_len,
		.seq = pkt->rtp.seq,
		.ts = pkt->rtp.ts,
		.ssrc = pkt->rtp.ssrc,
		.marker = pkt->rtp.marker,
		.level = pkt->has_level ? pkt->level : TT_MIXER_LEVEL_ABSENT,
		.vad = pkt->vad,
		.arrival_us = (uint64_t)pkt->arrival_us,
	};
	tt_mixer_part_push(mp->mixer, &mpkt);  /* failures are counted in the mixer's stats */
}

static void on_closed(void *arg, int reason)
{
	struct media_part *mp = arg;
	if (mp->leg && !mp->leg->closed) {
		mp->leg->closed = true;
		tt__media_post_closed(mp, reason);
	}
}

static unsigned inactivity_for(const struct media_part *mp, bool hold)
{
	return hold ? mp->m->cfg.hold_inactivity_ms : mp->m->cfg.inactivity_ms;
}

void tt__leg_apply_hold(struct media_part *mp)
{
	bool hold = mp->state & TT_PS_HOLD;
	if (!mp->leg || !mp->leg->t || mp->leg->quiet_hold == hold)
		return;
	mp->leg->quiet_hold = hold;
	tt_transport_set_inactivity(mp->leg->t, inactivity_for(mp, hold));
}

int tt__leg_mixer_attach(struct media_part *mp)
{
	if (!mp->leg || !mp->m->mixer)
		return -ENODEV;
	int rc = tt_mixer_part_add(&mp->mixer, mp->m->mixer, &mp->leg->mcfg);
	if (rc == 0)
		tt__media_apply_state(mp);
	return rc;
}

void tt__leg_mixer_detach(struct media_part *mp)
{
	if (mp->mixer)
		tt_mixer_part_remove(mp->mixer);
	mp->mixer = NULL;
}

void tt__leg_prefetch(const struct media_part *mp, int level)
{
	if (level == TT__LEG_PREFETCH_LEVELS) {
		__builtin_prefetch(mp->leg);
		__builtin_prefetch(mp->mixer);
	} else if (mp->leg && mp->leg->t) {
		tt_transport_prefetch_send(mp->leg->t, level);
	}
}

void tt__leg_send(struct media_part *mp)
{
	struct leg *l = mp->leg;
	if (!l || !mp->mixer || l->closed)
		return;
	struct tt_mixer_out out;
	tt_mixer_part_output(mp->mixer, &out);
	/* RFC 8285 one-byte header, one element: id, length 1 - 1, V (voice: above -50 dBov,
	 * the mixer's default noise floor) and the level, padded to a word */
	uint8_t ext[4] = { (uint8_t)(l->send_level_id << 4),
			   (uint8_t)((out.level < 50 ? 0x80 : 0) | (out.level & 0x7f)), 0, 0 };
	for (unsigned i = 0; i < out.n; i++) {
		uint8_t buf[MAX_PKT];
		struct tt_rtp_hdr h = {
			.marker = !l->sent_any,
			.pt = out.pt,
			.seq = l->seq++,
			.ts = l->ts_offset + out.payload[i].ts,
			.ssrc = l->ssrc,
			.has_ext = l->send_level_id != 0,
			.ext_profile = 0xBEDE,
			.ext = ext,
			.ext_len = sizeof ext,
		};
		int hl = tt_rtp_write(buf, sizeof buf, &h);
		if (hl < 0 || (size_t)hl + out.payload[i].len > sizeof buf)
			continue;
		memcpy(buf + hl, out.payload[i].data, out.payload[i].len);
		tt_transport_send(l->t, buf, (size_t)hl + out.payload[i].len, false);
		l->sent_any = true;
	}
}

void tt__leg_flush(struct media_part *mp)
{
	if (mp->leg && mp->leg->t)
		tt_transport_flush(mp->leg->t);
}

void tt__leg_close(struct media_part *mp)
{
	tt__leg_mixer_detach(mp);
	if (mp->leg) {
		mp->leg->ops->close(mp->leg);
		tt_transport_free(mp->leg->t);  /* sends BYE when RTCP is on */
		g_free(mp->leg);
		mp->leg = NULL;
	}
}

/* The transport's and the mixer input's own structs go in whole (tutti/stats.h): what
 * either adds reaches the API by one row in the field table, not a copy here. */
void tt__leg_snapshot(struct media_part *mp, struct tt_leg_stats *s)
{
	struct leg *l = mp->leg;
	memset(s, 0, sizeof *s);
	if (!l)
		return;
	tt_transport_stats(l->t, &s->transport);
	g_strlcpy(s->codec, l->codec, sizeof s->codec);
	g_strlcpy(s->local, l->local, sizeof s->local);
	g_strlcpy(s->remote, l->remote, sizeof s->remote);
	unsigned clock = (unsigned)tt_codec_rtp_rate(tt_codec_find(l->codec));
	s->rx_jitter_ms = clock ? s->transport.rx_jitter * 1000.0 / clock : 0;
	s->srtp = l->srtp;
	if (mp->mixer)
		tt_mixer_part_stats(mp->mixer, &s->mixer);
}

/* ---- attach: core -> worker -> core ---- */

struct attach_msg {
	struct tt_room_media *m;
	struct tt_participant *p;      /* reference owned by the message */
	struct tt_audio_leg leg;       /* codec points into codec_buf; held by the kind */
	char codec_buf[8];
	bool send_levels;              /* attach only: RFC 6464 on what we send (a trunk) */
	tt_audio_attached_h cb;
	void *arg;
	struct tt_audio_attached res;
};

static void attach_done_on_core(void *core, void *arg)
{
	struct attach_msg *msg = arg;
	msg->cb(msg->arg, msg->p, &msg->res);
	tt__participant_unref(msg->p);
	const struct tt__leg_kind_ops *ops = tt__leg_kind(msg->leg.kind);
	if (ops->release)
		ops->release(&msg->leg);
	g_free(msg);
}

static int leg_open(struct media_part *mp, struct attach_msg *msg)
{
	const struct tt_media_cfg *mc = &mp->m->cfg;
	const struct tt_audio_leg *al = &msg->leg;
	int codec = tt_codec_find(al->codec);
	if (codec < 0)
		return -EINVAL;
	struct leg *l = g_new0(struct leg, 1);
	l->ops = tt__leg_kind(al->kind);
	l->mp = mp;
	g_strlcpy(l->codec, al->codec, sizeof l->codec);
	l->ssrc = g_random_int();
	l->seq = (uint16_t)g_random_int();
	l->ts_offset = g_random_int();
	l->quiet_hold = mp->state & TT_PS_HOLD;
	/* only a trunk to another bridge gets the level of what we send: that bridge's mixer
	 * selects the trunk by it without decoding; a phone has no use for it */
	l->send_level_id = msg->send_levels ? al->audio_level_ext_id : 0;
	l->mcfg = (struct tt_mixer_part_cfg){
		.codec = l->codec, .pt = al->pt, .ptime = al->ptime ? al->ptime : 20,
		.bitrate = al->bitrate ? al->bitrate : mc->opus_bitrate,
		.complexity = mc->opus_complexity, .opus_mode = mc->opus_mode, .fec = al->fec,
		.dtx = al->dtx, .user = mp,
	};
	struct tt_transport_cfg tc = {
		.ctx = tt_worker_context(mp->m->worker),
		.reactor = tt_worker_reactor(mp->m->worker),
		.recv_h = on_recv,
		.close_h = on_closed,
		.arg = mp,
		.clock_rate = tt_codec_rtp_rate(codec),
		.dtmf_pt = al->dtmf_pt,
		.audio_level_ext_id = al->audio_level_ext_id,
		.inactivity_ms = inactivity_for(mp, mp->state & TT_PS_HOLD),
		.rtcp_interval_ms = mc->rtcp_interval_ms,
		.cname = "tutti",
	};
	int rc = l->ops->open(l, &tc, al, &msg->res);
	if (rc) {
		g_free(l);
		return rc;
	}
	mp->leg = l;
	rc = tt__leg_mixer_attach(mp);
	if (rc)
		tt__leg_close(mp);
	return rc;
}

/* The message of an attach or an update: it owns a participant reference, a copy of the
 * leg (with the codec string, and what the kind holds), and goes back to the core with the
 * result (attach_done_on_core releases all of it). */
static void post_leg_msg(struct tt_room_media *m, struct tt_participant *p,
			 const struct tt_audio_leg *leg, tt_audio_attached_h cb, void *arg,
			 tt_mq_h on_worker, bool send_levels)
{
	struct attach_msg *msg = g_new0(struct attach_msg, 1);
	msg->m = m;
	msg->send_levels = send_levels;
	msg->p = tt__participant_ref(p);
	msg->leg = *leg;
	g_strlcpy(msg->codec_buf, leg->codec, sizeof msg->codec_buf);
	msg->leg.codec = msg->codec_buf;
	const struct tt__leg_kind_ops *ops = tt__leg_kind(leg->kind);
	if (ops->hold)
		ops->hold(&msg->leg);
	msg->cb = cb;
	msg->arg = arg;
	msg->res.kind = leg->kind;
	tt_worker_post(m->worker, on_worker, msg);
}

static void attach_on_worker(void *w, void *arg)
{
	struct attach_msg *msg = arg;
	struct media_part *mp = tt__media_find(msg->m, msg->p);
	if (!mp)
		msg->res.err = -ENOENT;   /* left before its leg could be made */
	else if (mp->leg)
		msg->res.err = -EALREADY;
	else
		msg->res.err = leg_open(mp, msg);
	tt_mq_post(msg->m->core_mq, attach_done_on_core, msg);
}

/* What attach and update both require of a leg description from a gateway. */
static bool leg_valid(const struct tt_audio_leg *leg, tt_audio_attached_h cb, bool update)
{
	const struct tt__leg_kind_ops *ops = leg ? tt__leg_kind(leg->kind) : NULL;
	return ops && leg->codec && tt_codec_find(leg->codec) >= 0 && cb &&
	       ops->check(leg, update) == 0;
}

int tt__room_media_attach(struct tt_room_media *m, struct tt_participant *p,
			  const struct tt_audio_leg *leg, tt_audio_attached_h cb, void *arg,
			  bool send_levels)
{
	if (!leg_valid(leg, cb, false))
		return -EINVAL;
	if (!m)
		return -ENODEV;
	post_leg_msg(m, p, leg, cb, arg, attach_on_worker, send_levels);
	return 0;
}

/* ---- update: core -> worker -> core (re-INVITE, UPDATE, answer to our offer) ---- */

/* Switch codec, then let the kind move the peer or re-key, without closing the transport,
 * so that what the peer knows of us stays the same. The mixer part is remade only when the
 * codec side changed (its jitter buffer and encoder belong to the old payload). */
static int leg_update(struct media_part *mp, struct attach_msg *msg)
{
	struct leg *l = mp->leg;
	const struct tt_audio_leg *al = &msg->leg;
	int codec = tt_codec_find(al->codec);
	if (codec < 0 || tt__leg_kind(al->kind) != l->ops)
		return -EINVAL;
	unsigned ptime = al->ptime ? al->ptime : 20;
	if (strcmp(l->codec, al->codec) || l->mcfg.pt != al->pt || l->mcfg.ptime != ptime ||
	    l->mcfg.fec != al->fec || l->mcfg.dtx != al->dtx) {
		tt__leg_mixer_detach(mp);
		g_strlcpy(l->codec, al->codec, sizeof l->codec);
		l->mcfg.codec = l->codec;
		l->mcfg.pt = al->pt;
		l->mcfg.ptime = ptime;
		l->mcfg.fec = al->fec;
		l->mcfg.dtx = al->dtx;
		if (al->bitrate)
			l->mcfg.bitrate = al->bitrate;
		int rc = tt__leg_mixer_attach(mp);
		if (rc)
			return rc;
	}
	tt_transport_set_payload(l->t, tt_codec_rtp_rate(codec), al->dtmf_pt);
	return l->ops->update(l, al, &msg->res);
}

static void update_on_worker(void *w, void *arg)
{
	struct attach_msg *msg = arg;
	struct media_part *mp = tt__media_find(msg->m, msg->p);
	if (!mp || !mp->leg || mp->leg->closed)
		msg->res.err = -ENOENT;
	else
		msg->res.err = leg_update(mp, msg);
	tt_mq_post(msg->m->core_mq, attach_done_on_core, msg);
}

int tt__room_media_update(struct tt_room_media *m, struct tt_participant *p,
			  const struct tt_audio_leg *leg, tt_audio_attached_h cb, void *arg)
{
	if (!leg_valid(leg, cb, true))
		return -EINVAL;
	post_leg_msg(m, p, leg, cb, arg, update_on_worker, false);
	return 0;
}

/* ---- a kind's extras: core -> worker ---- */

struct leg_fn_msg {
	struct tt_room_media *m;
	struct tt_participant *p;      /* reference owned by the message */
	tt__leg_fn fn;
	void *arg;
	void (*free_fn)(void *);
};

static void leg_fn_on_worker(void *w, void *arg)
{
	struct leg_fn_msg *msg = arg;
	struct media_part *mp = tt__media_find(msg->m, msg->p);
	if (mp && mp->leg && !mp->leg->closed)
		msg->fn(mp->leg, msg->arg);
	if (msg->free_fn)
		msg->free_fn(msg->arg);
	tt__participant_unref(msg->p);
	g_free(msg);
}

int tt__leg_post(struct tt_room_media *m, struct tt_participant *p, tt__leg_fn fn, void *arg,
		 void (*free_fn)(void *))
{
	if (!m) {
		if (free_fn)
			free_fn(arg);
		return -ENODEV;
	}
	struct leg_fn_msg *msg = g_new0(struct leg_fn_msg, 1);
	msg->m = m;
	msg->p = tt__participant_ref(p);
	msg->fn = fn;
	msg->arg = arg;
	msg->free_fn = free_fn;
	tt_worker_post(m->worker, leg_fn_on_worker, msg);
	return 0;
}

/* ---- prompts: core -> worker (audio_play) ---- */

struct play_msg {
	struct tt_room_media *m;
	struct tt_participant *p;      /* reference owned by the message */
	int16_t *pcm;                  /* room rate */
	size_t n;
};

static void play_on_worker(void *w, void *arg)
{
	struct play_msg *msg = arg;
	struct media_part *mp = tt__media_find(msg->m, msg->p);
	if (mp && mp->mixer)
		tt_mixer_part_play(mp->mixer, msg->pcm, msg->n);  /* -ENOMEM: no prompt */
	tt__participant_unref(msg->p);
	g_free(msg->pcm);
	g_free(msg);
}

/* Linear interpolation: prompts are speech at 16-22 kHz going to an 8-48 kHz room, where
 * a better filter would not be heard; it keeps the core free of a resampler object. */
int tt__room_media_play(struct tt_room_media *m, struct tt_participant *p, const int16_t *pcm,
			size_t n, unsigned rate, unsigned room_rate)
{
	if ((n && !pcm) || (n && (rate < 8000 || rate > 192000)) || n > 10u * 60 * 192000)
		return -EINVAL;
	size_t out_n = n ? (size_t)((double)n * room_rate / rate) : 0;
	int16_t *out = out_n ? g_new(int16_t, out_n) : NULL;
	for (size_t i = 0; i < out_n; i++) {
		double x = (double)i * rate / room_rate;
		size_t k = (size_t)x;
		double f = x - (double)k;
		int a = pcm[k < n ? k : n - 1], b = pcm[k + 1 < n ? k + 1 : n - 1];
		out[i] = (int16_t)(a + (b - a) * f);
	}
	struct play_msg *msg = g_new0(struct play_msg, 1);
	msg->m = m;
	msg->p = tt__participant_ref(p);
	msg->pcm = out;
	msg->n = out_n;
	tt_worker_post(m->worker, play_on_worker, msg);
	return 0;
}
