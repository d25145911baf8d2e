/* tick.c: one 20 ms tick of a room: pull every jitter buffer, update levels, select the K
 * speakers, decode only what can be heard, mix N-1 with the SIMD kernels, encode once per
 * distinct output. No allocation, lock, log or syscall in here: everything was sized when
 * the room and its participants were set up. */
#include <string.h>

#include "room_priv.h"
#include "level/opus_vad.h"

static bool is_g711(const struct tt_mixer_part *p)
{
	return p->codec == TT_CODEC_PCMU || p->codec == TT_CODEC_PCMA;
}

static void pull(struct tt_mixer_part *p)
{
	p->nunits = 0;
	p->decoded = false;
	if (p->surplus >= p->tick_rtp) {   /* a 40/60 ms packet still covers this tick */
		p->surplus -= p->tick_rtp;
		return;
	}
	uint32_t need = p->tick_rtp - p->surplus, got = 0;
	p->nunits = tt__jbuf_pull(&p->jb, need, p->units, TT__UNITS_MAX);
	for (unsigned i = 0; i < p->nunits; i++)
		got += p->units[i].dur;
	p->surplus = got > need ? got - need : 0;
}

/* The loudest RFC 6464 level among this tick's packets, as dBov. */
static bool rtp_level(struct tt_mixer_part *p, float *db)
{
	int best = 128;
	bool any = false;
	for (unsigned i = 0; i < p->nunits; i++) {
		if (p->units[i].kind != TT__JB_PACKET)
			continue;
		any = true;
		if (p->units[i].level >= 0 && p->units[i].level < best)
			best = p->units[i].level;
	}
	if (best <= 127) {
		p->rtp_levels = true;
		p->rtp_level_age = 0;
		*db = -(float)best;
		return true;
	}
	if (any && ++p->rtp_level_age > 50)
		p->rtp_levels = false;    /* the sender stopped sending levels */
	return false;
}

/* Any packet carrying audio? Opus DTX frames are 1-2 bytes; gaps are concealment units. */
static bool has_audio(const struct tt_mixer_part *p)
{
	for (unsigned i = 0; i < p->nunits; i++)
		if (p->units[i].kind == TT__JB_PACKET && p->units[i].len > 2)
			return true;
	return false;
}

static void fifo_put(struct tt_mixer_part *p, const int16_t *pcm, unsigned n)
{
	unsigned room = p->fifo_cap - p->fifo_len;
	if (p->rs) {
		spx_uint32_t in = n, out = room;
		speex_resampler_process_int(p->rs, 0, pcm, &in, p->fifo + p->fifo_len, &out);
		p->fifo_len += out;
	} else {
		unsigned c = n < room ? n : room;
		memcpy(p->fifo + p->fifo_len, pcm, c * sizeof(*pcm));
		p->fifo_len += c;
	}
}

/* A decoder that skipped packets has state from long-gone audio, and Opus predicts energy
 * and LPC from frame to frame: decoding on from there (or from a plain reset) takes about
 * ten frames to sound right again (measured on a 1 kHz tone, residual in the first heard frame
 * after warming up with 1/3/6/10 packets: -6/-9/-17/-25 dB). So: reset, then decode the last
 * TT__WARMUP (10) skipped packets, discarding the output, before the packet that is heard.
 * Costs 10 decodes (~0.3 ms) once per resume, and 5 KB per participant. */
static void warm_up(struct tt_mixer_room *m, struct tt_mixer_part *p)
{
	tt_codec_dec_reset(p->dec);
	for (unsigned i = 0; i < p->warm_n; i++) {
		unsigned slot = (p->warm_head + i) % TT__WARMUP;
		tt_codec_dec_decode(p->dec, p->warm + slot * TT__WARM_SLOT, p->warm_len[slot],
				    p->tmp, p->tmp_cap);
		m->decodes++;
	}
	p->warm_n = p->warm_head = 0;
	p->stale = false;
}

static void decode(struct tt_mixer_room *m, struct tt_mixer_part *p)
{
	for (unsigned i = 0; i < p->nunits; i++) {
		const struct tt__jbuf_unit *u = &p->units[i];
		unsigned want = (unsigned)((uint64_t)u->dur * p->pcm_rate / p->rtp_rate);
		int n;
		if (want > p->tmp_cap)
			want = p->tmp_cap;
		if (u->kind == TT__JB_PACKET) {
			if (p->stale)
				warm_up(m, p);
			n = tt_codec_dec_decode(p->dec, u->data, u->len, p->tmp, p->tmp_cap);
			m->decodes++;
			if (n < 0)
				n = tt_codec_dec_conceal(p->dec, NULL, 0, p->tmp, want);
		} else if (u->kind == TT__JB_CONCEAL && !p->stale) {
			n = tt_codec_dec_conceal(p->dec, u->next, u->next_len, p->tmp, want);
			m->decodes++;
		} else {
			memset(p->tmp, 0, want * sizeof(*p->tmp));
			n = (int)want;
		}
		if (n > 0)
			fifo_put(p, p->tmp, (unsigned)n);
	}
	unsigned f = m->frame;
	if (p->fifo_len >= f) {
		memcpy(p->frame, p->fifo, f * sizeof(*p->frame));
		memmove(p->fifo, p->fifo + f, (p->fifo_len - f) * sizeof(*p->fifo));
		p->fifo_len -= f;
	} else {
		/* Resuming mid-packet after skipping: the missing head is silence. */
		unsigned pad = f - p->fifo_len;
		memset(p->frame, 0, pad * sizeof(*p->frame));
		memcpy(p->frame + pad, p->fifo, p->fifo_len * sizeof(*p->frame));
		p->fifo_len = 0;
	}
	p->decoded = true;
	p->decoded_frames++;
}

/* Not heard: consume without decoding, keep the newest packet for the warm-up. */
static void skip(struct tt_mixer_part *p)
{
	for (unsigned i = 0; i < p->nunits; i++) {
		const struct tt__jbuf_unit *u = &p->units[i];
		if (u->kind != TT__JB_PACKET)
			continue;
		p->stale = true;
		if (u->len > TT__WARM_SLOT) {
			p->warm_n = p->warm_head = 0;   /* the chain is broken: restart after it */
			continue;
		}
		unsigned slot = (p->warm_head + p->warm_n) % TT__WARMUP;
		if (p->warm_n == TT__WARMUP)
			p->warm_head = (p->warm_head + 1) % TT__WARMUP;
		else
			p->warm_n++;
		memcpy(p->warm + slot * TT__WARM_SLOT, u->data, u->len);
		p->warm_len[slot] = (uint16_t)u->len;
	}
	p->fifo_len = 0;
}

static void fade(int16_t *x, unsigned n, unsigned ramp, enum tt__fade f)
{
	if (f == TT__FADE_IN) {
		for (unsigned i = 0; i < ramp && i < n; i++)
			x[i] = (int16_t)((int32_t)x[i] * (int32_t)i / (int32_t)ramp);
	} else if (f == TT__FADE_OUT) {
		for (unsigned i = 0; i < n; i++)
			x[i] = i < ramp ? (int16_t)((int32_t)x[i] * (int32_t)(ramp - i) /
						    (int32_t)ramp) : 0;
	}
}

static bool listed(struct tt_mixer_part *const *v, unsigned n, const struct tt_mixer_part *p)
{
	for (unsigned i = 0; i < n; i++)
		if (v[i] == p)
			return true;
	return false;
}

/* Spot checks of inputs the flags call quiet: one decode each TT__VAD_CHECK_TICKS; a
 * loud one is decoded every tick for TT__VAD_DISTRUST_TICKS (then checked again). */
#define TT__VAD_CHECK_TICKS 25
#define TT__VAD_DISTRUST_TICKS 500

/* An Opus input whose SILK or hybrid frames this tick all say "no voice" (opus_vad.h):
 * quiet, known without decoding. A CELT-only packet or any flag set: not known.
 *
 * The encoder's VAD is trusted only while it agrees with a measurement: every half
 * second one packet of a "quiet" input is decoded on a reset decoder (no warm-up: a
 * level, not audio to hear), and an input found louder than the talking threshold (a
 * steady tone, music, loud noise: what SILK's VAD may call "no voice") is decoded every
 * tick as before, for ten seconds. A reset decoder's first frame is within a few dB of the
 * signal, which is all a threshold needs (a -15 dBov steady tone read -16.3, white noise
 * at -40 and -65 read -41 and -66). The check leaves the decoder reset, so the next
 * real decode warms up from the skipped packets (stale). */
static bool opus_says_quiet(struct tt_mixer_room *m, struct tt_mixer_part *p)
{
	const struct tt__jbuf_unit *last = NULL;
	if (p->vad_distrust) {
		p->vad_distrust--;
		return false;
	}
	for (unsigned i = 0; i < p->nunits; i++) {
		const struct tt__jbuf_unit *u = &p->units[i];
		if (u->kind != TT__JB_PACKET)
			continue;
		if (tt__opus_vad(u->data, u->len) != TT__OPUS_VAD_QUIET)
			return false;
		last = u;
	}
	if (!last)
		return false;
	if (p->vad_check) {
		p->vad_check--;
		return true;
	}
	p->vad_check = TT__VAD_CHECK_TICKS - 1;
	tt_codec_dec_reset(p->dec);
	p->stale = true;
	int n = tt_codec_dec_decode(p->dec, last->data, last->len, p->tmp, p->tmp_cap);
	m->decodes++;
	if (n > 0 && tt__level_pcm_dbov(p->tmp, (size_t)n) > m->lcfg.start_db) {
		p->vad_distrust = TT__VAD_DISTRUST_TICKS;
		m->vad_distrusted++;
		return false;
	}
	return true;
}

/* Phase 1: every participant's jitter buffer, level and talking state; the loudest
 * non-speakers become candidates. */
static unsigned scan(struct tt_mixer_room *m, struct tt__sel_cand *top)
{
	unsigned ntop = 0;
	m->ndeferred = 0;
	for (unsigned i = 0; i < m->nparts; i++) {
		struct tt_mixer_part *p = m->parts[i];
		bool can = !p->mute && !p->hold;
		float db = -127.0f;
		pull(p);
		bool have = rtp_level(p, &db);
		if (!have && !p->speaker && p->nunits && !has_audio(p)) {
			/* Nothing but DTX frames or gaps (also a G.711 phone's silence suppression,
			 * or a caller that sends no RTP at all): silent without decoding, and
			 * without resampling the silence to the room rate. */
			db = -127.0f;
			have = true;
			skip(p);
		} else if (can && !have && !p->speaker && m->opus_vad &&
			   p->codec == TT_CODEC_OPUS && opus_says_quiet(m, p)) {
			/* A phone without levels whose encoder found no voice: as silent as DTX,
			 * and its decoder warms up from the skipped packets if it speaks. */
			db = -127.0f;
			have = true;
			m->vad_quiet++;
			skip(p);
		} else if ((can || p->speaker) && (is_g711(p) || !p->rtp_levels)) {
			decode(m, p);
			if (!have) {
				db = tt__level_pcm_dbov(p->frame, m->frame);
				have = true;
			}
		} else if (p->speaker || (can && have && db > m->floor_db)) {
			m->deferred[m->ndeferred++] = p;
		} else {
			skip(p);
		}
		if (have) {
			int t = tt__level_update(&p->lvl, db, &m->lcfg);
			if (t)
				tt__room_push_event(m, t > 0 ? TT_MIXER_EV_TALK_START :
						    TT_MIXER_EV_TALK_STOP, p);
		}
		if (can && !p->speaker && p->lvl.db > m->floor_db)
			tt__sel_offer(top, &ntop, m->k, p, p->lvl.db);
	}
	return ntop;
}

/* Phase 2: the new speaker set and this tick's contributors (speakers + fading out). */
static void choose(struct tt_mixer_room *m, const struct tt__sel_cand *top, unsigned ntop)
{
	void *out[2 * TT_MIXER_SPEAKERS_MAX], *in[TT_MIXER_SPEAKERS_MAX];
	unsigned nout, nin;

	for (unsigned i = 0; i < m->nspk; i++) {
		struct tt_mixer_part *p = m->spk[i].who;
		m->spk[i].db = p->lvl.db;
		m->spk[i].allowed = !p->mute && !p->hold;
		m->spk[i].loud = p->lvl.db > m->floor_db;
	}
	m->nspk = tt__sel_update(m->spk, m->nspk, &m->scfg, top, ntop, out, &nout, in, &nin);

	struct tt_mixer_part *old[2 * TT_MIXER_SPEAKERS_MAX];
	unsigned nold = m->ncontrib;
	memcpy(old, m->contrib, nold * sizeof(*old));

	m->ncontrib = 0;
	m->nfadeout = 0;
	for (unsigned i = 0; i < m->nspk; i++) {
		struct tt_mixer_part *p = m->spk[i].who;
		p->fade = p->speaker ? TT__FADE_NONE : TT__FADE_IN;
		p->speaker = true;
		m->contrib[m->ncontrib++] = p;
	}
	for (unsigned i = 0; i < nout; i++) {
		struct tt_mixer_part *p = out[i];
		p->speaker = false;
		p->fade = TT__FADE_OUT;
		m->fadeout[m->nfadeout++] = p;
		m->contrib[m->ncontrib++] = p;
	}
	for (unsigned i = 0; i < nold; i++) {
		struct tt_mixer_part *p = old[i];
		if (listed(m->contrib, m->ncontrib, p))
			continue;
		/* Faded out last tick: back to the shared encoder. */
		p->contributing = false;
		tt__encgrp_return(p->priv);
		p->priv = NULL;
	}
	for (unsigned i = 0; i < m->ncontrib; i++) {
		struct tt_mixer_part *p = m->contrib[i];
		p->contributing = true;
		if (!p->priv)
			p->priv = tt__encgrp_lend(p->var);
	}
}

/* Phase 3+4: decode the contributors, then accumulate once and saturate once. */
static void mix(struct tt_mixer_room *m)
{
	const struct tt_mix_kernels *k = m->kern;
	unsigned ramp = m->rate / 250;                   /* 4 ms */

	for (unsigned i = 0; i < m->ndeferred; i++) {
		struct tt_mixer_part *p = m->deferred[i];
		if (!p->contributing)
			skip(p);
	}
	memset(m->acc, 0, m->frame * sizeof(*m->acc));
	for (unsigned i = 0; i < m->ncontrib; i++) {
		struct tt_mixer_part *p = m->contrib[i];
		if (!p->decoded)
			decode(m, p);
		k->gain(p->contrib, p->frame, p->gain, m->frame);
		fade(p->contrib, m->frame, ramp, p->fade);
		k->acc(m->acc, p->contrib, m->frame);
	}
	tt__room_prompt_mix(m);
	k->sat(m->full, m->acc, m->frame);
}

/* A prompt needs an encoder of its own; only take one the speakers can never need: the
 * pool holds 2K + 1 and at most 2K contribute at once, so prompts of one variant share
 * the spare (one plays, the others wait their turn). */
static struct tt__encgrp *prompt_encoder(struct tt_mixer_room *m, struct tt_mixer_part *p)
{
	if (p->prompt_grp)
		return p->prompt_grp;
	unsigned prompts = 0;
	for (unsigned i = 0; i < m->nparts; i++)
		prompts += m->parts[i]->var == p->var && m->parts[i]->prompt_grp;
	if (prompts + 2 * m->k >= p->var->npool)
		return NULL;
	p->prompt_grp = tt__encgrp_lend(p->var);
	return p->prompt_grp;
}

/* Phase 5b: each playing prompt's next 20 ms (zero-padded at its end) into its encoder.
 * m->nm1 is free scratch here: the N-1 mixes are made after this. */
static void encode_prompts(struct tt_mixer_room *m)
{
	for (unsigned i = 0; i < m->nparts; i++) {
		struct tt_mixer_part *p = m->parts[i];
		if (!p->prompt_grp || p->outgrp != p->prompt_grp)
			continue;
		size_t left = p->prompt_len - p->prompt_pos;
		size_t take = left < m->frame ? left : m->frame;
		memcpy(m->nm1, p->prompt + p->prompt_pos, take * sizeof(*m->nm1));
		memset(m->nm1 + take, 0, (m->frame - take) * sizeof(*m->nm1));
		p->prompt_pos += take;
		unsigned e = tt__encgrp_feed(p->prompt_grp, m->nm1, m->frame, m->ticks, m->rate);
		m->encodes += e;
		m->enc_prompt += e;
	}
}

/* After the packets of this tick are out: a finished prompt gives its encoder back. */
static void prompts_done(struct tt_mixer_room *m)
{
	for (unsigned i = 0; i < m->nparts; i++) {
		struct tt_mixer_part *p = m->parts[i];
		if (p->prompt_grp && p->prompt_pos >= p->prompt_len && p->outgrp != p->prompt_grp) {
			tt__encgrp_return(p->prompt_grp);
			p->prompt_grp = NULL;
		}
	}
}

/* Phase 5: one encode per variant heard by listeners, one per speaker's N-1 mix. */
static void encode(struct tt_mixer_room *m)
{
	prompts_done(m);
	for (int v = 0; v < TT__VARIANTS_MAX; v++)
		if (m->vars[v])
			m->vars[v]->listeners = 0;
	if (m->rec_var)
		m->rec_var->listeners++;   /* the recording hears the full mix every tick */
	for (unsigned i = 0; i < m->nparts; i++) {
		struct tt_mixer_part *p = m->parts[i];
		if (p->prompt_pos < p->prompt_len && prompt_encoder(m, p))
			p->outgrp = p->prompt_grp;   /* a prompt wins over mix, deaf and hold */
		else if (p->deaf || p->hold)
			p->outgrp = NULL;
		else if (p->contributing && p->priv)
			p->outgrp = p->priv;
		else {
			p->outgrp = &p->var->shared;
			p->var->listeners++;
		}
	}
	for (int v = 0; v < TT__VARIANTS_MAX; v++) {
		struct tt__variant *var = m->vars[v];
		if (!var || !var->listeners)
			continue;
		unsigned e = tt__encgrp_feed(&var->shared, m->full, m->frame, m->ticks, m->rate);
		m->encodes += e;
		m->enc_shared += e;
	}
	encode_prompts(m);
	for (unsigned i = 0; i < m->ncontrib; i++) {
		struct tt_mixer_part *p = m->contrib[i];
		if (p->outgrp != p->priv || !p->priv)
			continue;
		m->kern->sub_sat(m->nm1, m->acc, p->contrib, m->frame);
		unsigned e = tt__encgrp_feed(p->priv, m->nm1, m->frame, m->ticks, m->rate);
		m->encodes += e;
		m->enc_private += e;
	}
}

int tt_mixer_room_tick(struct tt_mixer_room *m, uint64_t now_us)
{
	struct tt__sel_cand top[TT_MIXER_SPEAKERS_MAX];

	m->decodes = m->encodes = 0;
	unsigned ntop = scan(m, top);
	choose(m, top, ntop);
	mix(m);
	encode(m);
	m->decodes_total += m->decodes;
	m->ticks++;
	return 0;
}
