/* leg.c: a participant's audio leg on the worker: a transport, a mixer input/output, and the
 * RTP sender state (SSRC, sequence, timestamp offset) of what we send to it. */
#define TT_LOG_DOMAIN "media"
#include "media_priv.h"

#include <string.h>
#include <tutti/errno.h>
#include <tutti/ice.h>
#include <tutti/log.h>
#include <tutti/sdes.h>
#include <tutti/srtp.h>

#define MAX_PKT 1500

/* core.h spells the ICE sizes out (it does not include ice.h); keep them in step. */
_Static_assert(sizeof(((struct tt_audio_leg *)0)->ice_ufrag) == TT_ICE_UFRAG_MAX + 1, "ufrag");
_Static_assert(sizeof(((struct tt_audio_leg *)0)->ice_pwd) == TT_ICE_PWD_MAX + 1, "pwd");
_Static_assert(sizeof(((struct tt_audio_leg *)0)->dtls_fingerprint) == TT_DTLS_FP_MAX, "fp");

struct leg {
	/* what the tick's send touches, in the first cache line */
	struct tt_transport *t;
	struct media_part *mp;
	uint32_t ssrc;
	uint16_t seq;
	uint32_t ts_offset;           /* random per stream (RFC 3550 5.1) */
	bool sent_any;
	bool closed;
	bool srtp;
	bool quiet_hold;              /* the transport has the on-hold inactivity limit */
	struct tt_ice *ice;           /* ICE legs: the transport's ICE side (owned by t) */
	tt_audio_candidate_h cand_h;  /* core-thread callback for our trickled candidates */
	void *cand_arg;
	struct tt_mixer_part_cfg mcfg;
	char codec[8];
	int suite;                    /* SRTP suite, and our key (to re-key on an update) */
	uint8_t our_key[TT_SRTP_MAX_KEY_LEN];
	size_t our_key_len;
	char local[64], remote[64];
};

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
	for (unsigned i = 0; i < out.n; i++) {
		uint8_t buf[MAX_PKT];
		struct tt_rtp_hdr h = {
			.marker = !l->sent_any,
			.pt = out.pt,
			.seq = l->seq++,
			.ts = l->ts_offset + out.payload[i].ts,
			.ssrc = l->ssrc,
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
	struct tt_audio_leg leg;       /* codec points into codec_buf */
	char codec_buf[8];
	tt_audio_attached_h cb;
	void *arg;
	struct tt_audio_attached res;
};

static void attach_done_on_core(void *core, void *arg)
{
	struct attach_msg *msg = arg;
	msg->cb(msg->arg, msg->p, &msg->res);
	tt__participant_unref(msg->p);
	tt_ice_policy_unref(msg->leg.ice);
	g_free(msg);
}

/* ---- ICE legs: our candidates go to the core, the peer's come from it ---- */

struct cand_msg {
	struct tt_participant *p;      /* reference owned by the message */
	tt_audio_candidate_h cb;
	void *arg;
	char *cand;                    /* NULL: gathering done */
};

static void cand_on_core(void *core, void *arg)
{
	struct cand_msg *msg = arg;
	if (!tt__participant_left(msg->p) && msg->cb)
		msg->cb(msg->arg, msg->p, msg->cand);
	tt__participant_unref(msg->p);
	g_free(msg->cand);
	g_free(msg);
}

static void on_local_candidate(void *arg, const char *cand)
{
	struct leg *l = arg;
	struct cand_msg *msg = g_new0(struct cand_msg, 1);
	msg->p = tt__participant_ref(l->mp->p);
	msg->cb = l->cand_h;
	msg->arg = l->cand_arg;
	msg->cand = g_strdup(cand);
	tt_mq_post(l->mp->m->core_mq, cand_on_core, msg);
}

static int ice_open(struct leg *l, const struct tt_transport_cfg *tc,
		    const struct tt_audio_leg *al, struct tt_audio_attached *res)
{
	l->cand_h = al->cand_h;
	l->cand_arg = al->cand_arg;
	struct tt_ice_cfg ic = { .policy = al->ice, .controlling = al->ice_controlling,
				 .cand_h = on_local_candidate, .cand_arg = l };
	int rc = tt_transport_ice_alloc(&l->t, &l->ice, tc, &ic);
	if (rc)
		return rc;
	rc = tt_ice_set_remote(l->ice, al->ice_ufrag, al->ice_pwd, al->dtls_fingerprint,
			       al->dtls_active ? TT_DTLS_ACTIVE : TT_DTLS_PASSIVE);
	if (rc)
		return rc;   /* the caller frees l->t */
	g_strlcpy(res->ice_ufrag, tt_ice_ufrag(l->ice), sizeof res->ice_ufrag);
	g_strlcpy(res->ice_pwd, tt_ice_pwd(l->ice), sizeof res->ice_pwd);
	g_strlcpy(res->dtls_fingerprint,
		  tt_dtls_cert_fingerprint(tt_ice_policy_cert(al->ice)),
		  sizeof res->dtls_fingerprint);
	l->srtp = true;
	g_strlcpy(l->remote, "ice", sizeof l->remote);
	return 0;
}

struct icecand_msg {
	struct tt_room_media *m;
	struct tt_participant *p;      /* reference owned by the message */
	char *cand;
};

static void icecand_on_worker(void *w, void *arg)
{
	struct icecand_msg *msg = arg;
	struct media_part *mp = tt__media_find(msg->m, msg->p);
	if (mp && mp->leg && mp->leg->ice && !mp->leg->closed)
		tt_ice_add_candidate(mp->leg->ice, msg->cand);  /* unusable ones are skipped */
	tt__participant_unref(msg->p);
	g_free(msg->cand);
	g_free(msg);
}

int tt__room_media_ice_candidate(struct tt_room_media *m, struct tt_participant *p,
				 const char *cand)
{
	/* checked here, on the caller's thread, so that the gateway can tell its client; the
	 * worker only drops what is well formed but unusable */
	if (cand && *cand && (strpbrk(cand, "\r\n") || tt_ice_candidate_check(cand) < 0))
		return -EINVAL;
	if (!m)
		return -ENODEV;
	struct icecand_msg *msg = g_new0(struct icecand_msg, 1);
	msg->m = m;
	msg->p = tt__participant_ref(p);
	msg->cand = g_strdup(cand && *cand ? cand : "");
	tt_worker_post(m->worker, icecand_on_worker, msg);
	return 0;
}

static int leg_open(struct media_part *mp, struct attach_msg *msg)
{
	const struct tt_media_cfg *mc = &mp->m->cfg;
	const struct tt_audio_leg *al = &msg->leg;
	int codec = tt_codec_find(al->codec);
	if (codec < 0)
		return -EINVAL;
	struct leg *l = g_new0(struct leg, 1);
	g_strlcpy(l->codec, al->codec, sizeof l->codec);
	l->ssrc = g_random_int();
	l->seq = (uint16_t)g_random_int();
	l->ts_offset = g_random_int();
	l->quiet_hold = mp->state & TT_PS_HOLD;
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
	struct tt_udp_cfg uc = {
		.bind_addr = mc->address,
		.port_min = (uint16_t)mc->port_min,
		.port_max = (uint16_t)mc->port_max,
		.remote = al->remote,
		.remote_len = al->remote_len,
		.latch = al->latch,
		.mux = mc->shared_port && !al->latch && !al->ice
			? tt_worker_udp_mux(mp->m->worker, mc->address, mc->port_min, mc->port_max)
			: NULL,
	};
	int rc;
	if (al->ice) {
		l->mp = mp;
		rc = ice_open(l, &tc, al, &msg->res);
		if (rc)
			goto out;
	} else if ((rc = tt_transport_udp_alloc(&l->t, &tc, &uc)) != 0) {
		goto out;
	}
	if (!al->ice && al->srtp_suite >= 0) {
		struct tt_sdes_crypto ours;
		struct tt_srtp *s = NULL;
		rc = tt_sdes_generate(&ours, 1, (enum tt_srtp_suite)al->srtp_suite);
		if (rc == 0)
			rc = tt_srtp_alloc(&s, (enum tt_srtp_suite)al->srtp_suite, ours.key,
					   al->srtp_remote_key);
		if (rc)
			goto out;
		tt_transport_set_srtp(l->t, s);
		memcpy(msg->res.srtp_local_key, ours.key, ours.key_len);
		msg->res.srtp_key_len = ours.key_len;
		l->srtp = true;
		l->suite = al->srtp_suite;
		memcpy(l->our_key, ours.key, ours.key_len);
		l->our_key_len = ours.key_len;
	}
	msg->res.local_len = sizeof msg->res.local;
	if (tt_transport_local(l->t, &msg->res.local, &msg->res.local_len) == 0)
		tt_sockaddr_format(l->local, sizeof l->local, (struct sockaddr *)&msg->res.local);
	else
		msg->res.local_len = 0;   /* ICE: candidates tell where */
	if (al->remote_len)
		tt_sockaddr_format(l->remote, sizeof l->remote, (const struct sockaddr *)&al->remote);
	mp->leg = l;
	l = NULL;
	rc = tt__leg_mixer_attach(mp);
	if (rc)
		tt__leg_close(mp);
out:
	if (l) {
		tt_transport_free(l->t);
		g_free(l);
	}
	return rc;
}

/* The message of an attach or an update: it owns a participant reference, a copy of the
 * leg (codec string and ICE policy reference included), and goes back to the core with the
 * result (attach_done_on_core releases all of it). */
static void post_leg_msg(struct tt_room_media *m, struct tt_participant *p,
			 const struct tt_audio_leg *leg, tt_audio_attached_h cb, void *arg,
			 tt_mq_h on_worker)
{
	struct attach_msg *msg = g_new0(struct attach_msg, 1);
	msg->m = m;
	msg->p = tt__participant_ref(p);
	msg->leg = *leg;
	g_strlcpy(msg->codec_buf, leg->codec, sizeof msg->codec_buf);
	msg->leg.codec = msg->codec_buf;
	msg->leg.ice = tt_ice_policy_ref(leg->ice);
	msg->cb = cb;
	msg->arg = arg;
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
static bool leg_valid(const struct tt_audio_leg *leg, tt_audio_attached_h cb)
{
	return leg && leg->codec && tt_codec_find(leg->codec) >= 0 && cb &&
	       leg->remote_len <= sizeof leg->remote;
}

int tt__room_media_attach(struct tt_room_media *m, struct tt_participant *p,
			  const struct tt_audio_leg *leg, tt_audio_attached_h cb, void *arg)
{
	if (!leg_valid(leg, cb))
		return -EINVAL;
	if (!m)
		return -ENODEV;
	post_leg_msg(m, p, leg, cb, arg, attach_on_worker);
	return 0;
}

/* ---- update: core -> worker -> core (re-INVITE, UPDATE, answer to our offer) ---- */

/* Re-key, switch codec or move the peer without closing the transport, so the local port
 * the peer knows stays the same. The mixer part is remade only when the codec side changed
 * (its jitter buffer and encoder belong to the old payload). */
static int leg_update(struct media_part *mp, struct attach_msg *msg)
{
	struct leg *l = mp->leg;
	const struct tt_audio_leg *al = &msg->leg;
	int codec = tt_codec_find(al->codec);
	if (codec < 0)
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
	if (al->remote_len) {
		int rc = tt_transport_set_remote(l->t, (const struct sockaddr *)&al->remote,
						 al->remote_len);
		if (rc)
			return rc;
		tt_sockaddr_format(l->remote, sizeof l->remote, (const struct sockaddr *)&al->remote);
	}
	if (al->srtp_suite < 0) {
		if (l->srtp)
			tt_transport_set_srtp(l->t, NULL);
		l->srtp = false;
	} else {
		if (!l->srtp || l->suite != al->srtp_suite) {
			struct tt_sdes_crypto ours;
			int rc = tt_sdes_generate(&ours, 1, (enum tt_srtp_suite)al->srtp_suite);
			if (rc)
				return rc;
			memcpy(l->our_key, ours.key, ours.key_len);
			l->our_key_len = ours.key_len;
			l->suite = al->srtp_suite;
		}
		struct tt_srtp *s = NULL;
		int rc = tt_srtp_alloc(&s, (enum tt_srtp_suite)al->srtp_suite, l->our_key,
				       al->srtp_remote_key);
		if (rc)
			return rc;
		tt_transport_set_srtp(l->t, s);
		l->srtp = true;
		memcpy(msg->res.srtp_local_key, l->our_key, l->our_key_len);
		msg->res.srtp_key_len = l->our_key_len;
	}
	msg->res.local_len = sizeof msg->res.local;
	tt_transport_local(l->t, &msg->res.local, &msg->res.local_len);
	return 0;
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
	if (!leg_valid(leg, cb))
		return -EINVAL;
	post_leg_msg(m, p, leg, cb, arg, update_on_worker);
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
