/* room.c: a room's mixer: allocation, participants (add/remove/settings), output, events and
 * statistics. The tick itself is in tick.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TT_LOG_DOMAIN "mixer"
#include "tutti/errno.h"
#include "tutti/log.h"
#include "room_priv.h"

int tt_mixer_room_alloc(struct tt_mixer_room **mp, const struct tt_mixer_room_cfg *cfg)
{
	struct tt_mixer_room *m = NULL;
	int err = 0;

	if (!mp || !cfg || (cfg->rate != 8000 && cfg->rate != 16000 && cfg->rate != 24000 &&
			    cfg->rate != 48000) || !cfg->max_parts ||
	    cfg->speakers > TT_MIXER_SPEAKERS_MAX || cfg->cpu >= TT_MIXER_CPU_COUNT)
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->rate = cfg->rate;
	m->frame = cfg->rate / 50;
	m->k = cfg->speakers ? cfg->speakers : TT_MIXER_SPEAKERS_DEFAULT;
	m->max_parts = cfg->max_parts;
	m->cpu = tt_mixer_cpu_detect();
	if (cfg->cpu >= 0 && cfg->cpu < (int)m->cpu)
		m->cpu = (enum tt_mixer_cpu)cfg->cpu;
	m->kern = tt_mix_kernels_get(m->cpu);
	m->opus_vad = !cfg->decode_all_levels;
	m->floor_db = cfg->noise_floor_dbov ? (float)cfg->noise_floor_dbov : -50.0f;
	m->lcfg = (struct tt__level_cfg){.start_db = m->floor_db + 10.0f,
					 .stop_db = m->floor_db, .hangover = 25};
	m->scfg = (struct tt__sel_cfg){.k = m->k, .hangover = 10, .margin_db = 3.0f};
	m->ev_cap = 2 * m->max_parts + 16;

	m->parts = calloc(m->max_parts, sizeof(*m->parts));
	m->contrib = calloc(2 * m->k, sizeof(*m->contrib));
	m->fadeout = calloc(2 * m->k, sizeof(*m->fadeout));
	m->deferred = calloc(m->max_parts, sizeof(*m->deferred));
	m->acc = calloc(m->frame, sizeof(*m->acc));
	m->full = calloc(m->frame, sizeof(*m->full));
	m->nm1 = calloc(m->frame, sizeof(*m->nm1));
	m->ev = calloc(m->ev_cap, sizeof(*m->ev));
	if (!m->parts || !m->contrib || !m->fadeout || !m->deferred || !m->acc || !m->full || !m->nm1 ||
	    !m->ev) {
		err = -ENOMEM;
		goto out;
	}
	tt_debug("room: %u Hz, K=%u, %u max, %s", m->rate, m->k, m->max_parts,
		 tt_mixer_cpu_name(m->cpu));
	*mp = m;
	m = NULL;
out:
	tt_mixer_room_free(m);
	return err;
}

static void part_free(struct tt_mixer_part *p)
{
	tt__jbuf_fini(&p->jb);
	tt_codec_dec_free(p->dec);
	if (p->rs)
		speex_resampler_destroy(p->rs);
	free(p->tmp);
	free(p->fifo);
	free(p->frame);
	free(p->contrib);
	free(p->warm);
	free(p->prompt);
	free(p);
}

struct tt_mixer_room *tt_mixer_room_free(struct tt_mixer_room *m)
{
	if (!m)
		return NULL;
	while (m->nparts)
		tt_mixer_part_remove(m->parts[m->nparts - 1]);
	tt__room_rec_free(m);
	free(m->parts);
	free(m->contrib);
	free(m->fadeout);
	free(m->deferred);
	free(m->acc);
	free(m->full);
	free(m->nm1);
	free(m->ev);
	free(m);
	return NULL;
}

enum tt_mixer_cpu tt_mixer_room_cpu(const struct tt_mixer_room *m)
{
	return m->cpu;
}

static int16_t gain_q12(float db)
{
	if (db < -60.0f)
		db = -60.0f;
	if (db > 12.0f)
		db = 12.0f;
	long g = lroundf(TT_MIX_GAIN_ONE * powf(10.0f, db / 20.0f));
	return (int16_t)(g > 32767 ? 32767 : g);
}

int tt_mixer_part_add(struct tt_mixer_part **pp, struct tt_mixer_room *m,
		      const struct tt_mixer_part_cfg *cfg)
{
	struct tt_mixer_part *p = NULL;
	int err, codec;

	if (!pp || !m || !cfg)
		return -EINVAL;
	if (m->nparts >= m->max_parts)
		return -ENOSPC;
	codec = tt_codec_find(cfg->codec);
	if (codec < 0)
		return -EINVAL;
	struct tt_codec_params cp = {
		.room_rate = m->rate, .ptime = cfg->ptime ? cfg->ptime : 20,
		.bitrate = cfg->bitrate ? cfg->bitrate : 32000,
		.complexity = cfg->complexity, .opus_mode = cfg->opus_mode, .fec = cfg->fec,
		.dtx = cfg->dtx,
	};
	if (cp.ptime != 10 && cp.ptime != 20 && cp.ptime != 40 && cp.ptime != 60)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->room = m;
	p->user = cfg->user;
	p->pt = cfg->pt;
	p->codec = (enum tt_codec_id)codec;
	p->gain = gain_q12(cfg->gain_db);
	p->pcm_rate = tt_codec_pcm_rate(p->codec, m->rate);
	p->rtp_rate = tt_codec_rtp_rate(p->codec);
	p->tick_rtp = p->rtp_rate / 50;
	p->max_payload = tt_codec_max_payload(p->codec, &cp);
	tt__level_init(&p->lvl);

	struct tt__jbuf_cfg jc = {.rtp_rate = p->rtp_rate, .ptime = cp.ptime,
				  .max_payload = p->max_payload};
	err = tt__jbuf_init(&p->jb, &jc);
	if (err)
		goto out;
	err = tt_codec_dec_alloc(&p->dec, p->codec, &cp);
	if (err)
		goto out;
	if (p->pcm_rate != m->rate) {
		int e = 0;
		p->rs = speex_resampler_init(1, p->pcm_rate, m->rate, TT__RESAMPLE_QUALITY, &e);
		if (!p->rs) {
			err = -ENOMEM;
			goto out;
		}
	}
	p->tmp_cap = p->pcm_rate / 1000 * 120;           /* Opus packets reach 120 ms */
	p->fifo_cap = m->rate / 1000 * 200;
	p->tmp = calloc(p->tmp_cap, sizeof(*p->tmp));
	p->fifo = calloc(p->fifo_cap, sizeof(*p->fifo));
	p->frame = calloc(m->frame, sizeof(*p->frame));
	p->contrib = calloc(m->frame, sizeof(*p->contrib));
	p->warm = malloc(TT__WARMUP * TT__WARM_SLOT);
	if (!p->tmp || !p->fifo || !p->frame || !p->contrib || !p->warm) {
		err = -ENOMEM;
		goto out;
	}
	/* Fault the pages in here, not on the media thread's first write (calloc may hand out
	 * untouched zero pages). */
	memset(p->tmp, 0, p->tmp_cap * sizeof(*p->tmp));
	memset(p->fifo, 0, p->fifo_cap * sizeof(*p->fifo));
	memset(p->warm, 0, TT__WARMUP * TT__WARM_SLOT);
	err = tt__variant_get(&p->var, m, p->codec, &cp);
	if (err)
		goto out;
	p->pos = m->nparts;
	m->parts[m->nparts++] = p;
	*pp = p;
	p = NULL;
out:
	if (p)
		part_free(p);
	return err;
}

static void forget(struct tt_mixer_part **v, unsigned *n, const struct tt_mixer_part *p)
{
	for (unsigned i = 0; i < *n; i++)
		if (v[i] == p) {
			v[i] = v[--*n];
			return;
		}
}

void tt_mixer_part_remove(struct tt_mixer_part *p)
{
	if (!p)
		return;
	struct tt_mixer_room *m = p->room;
	m->gone_late += p->jb.st.late;
	m->gone_lost += p->jb.st.lost;
	m->gone_concealed += p->jb.st.concealed;
	for (unsigned i = 0; i < m->nspk; i++)
		if (m->spk[i].who == p) {
			m->spk[i] = m->spk[--m->nspk];
			break;
		}
	forget(m->fadeout, &m->nfadeout, p);
	forget(m->contrib, &m->ncontrib, p);
	tt__encgrp_return(p->priv);
	tt__encgrp_return(p->prompt_grp);
	/* Queued events keep only the cookie, which the worker owns. */
	m->parts[p->pos] = m->parts[--m->nparts];
	m->parts[p->pos]->pos = p->pos;
	tt__variant_put(m, p->var);
	part_free(p);
}

int tt__pcm_dup(const int16_t *pcm, size_t n, int16_t **out)
{
	*out = NULL;
	if (n && !pcm)
		return -EINVAL;
	if (!n)
		return 0;
	*out = malloc(n * sizeof(**out));
	if (!*out)
		return -ENOMEM;
	memcpy(*out, pcm, n * sizeof(**out));
	return 0;
}

int tt_mixer_part_play(struct tt_mixer_part *p, const int16_t *pcm, size_t n)
{
	if (!p)
		return -EINVAL;
	int16_t *copy = NULL;
	int rc = tt__pcm_dup(pcm, n, &copy);
	if (rc)
		return rc;
	free(p->prompt);
	p->prompt = copy;
	p->prompt_len = n;
	p->prompt_pos = 0;
	if (!n) {
		tt__encgrp_return(p->prompt_grp);
		p->prompt_grp = NULL;
	}
	return 0;
}

bool tt_mixer_part_playing(const struct tt_mixer_part *p)
{
	return p && p->prompt_pos < p->prompt_len;
}

void tt_mixer_part_set_mute(struct tt_mixer_part *p, bool on)
{
	p->mute = on;
}

void tt_mixer_part_set_deaf(struct tt_mixer_part *p, bool on)
{
	p->deaf = on;
}

void tt_mixer_part_set_hold(struct tt_mixer_part *p, bool on)
{
	p->hold = on;
}

void tt_mixer_part_set_gain(struct tt_mixer_part *p, float gain_db)
{
	p->gain = gain_q12(gain_db);
}

void *tt_mixer_part_user(const struct tt_mixer_part *p)
{
	return p->user;
}

bool tt_mixer_part_is_speaker(const struct tt_mixer_part *p)
{
	return p->contributing;
}

int tt_mixer_part_push(struct tt_mixer_part *p, const struct tt_mixer_pkt *pkt)
{
	if (!pkt || !pkt->payload || !pkt->len)
		return -EINVAL;
	if (pkt->len > p->max_payload) {
		p->jb.st.oversize++;
		return -EMSGSIZE;
	}
	/* Its length in RTP units, from the payload itself (Opus TOC), for ptime changes; from
	 * the codec, not the decoder, whose state a silent participant's push never needs. */
	int n = tt_codec_payload_samples(p->codec, p->pcm_rate, pkt->payload, pkt->len);
	uint32_t dur = n > 0 ? (uint32_t)((uint64_t)n * p->rtp_rate / p->pcm_rate) : 0;
	return tt__jbuf_push(&p->jb, pkt, dur);
}

void tt_mixer_part_output(const struct tt_mixer_part *p, struct tt_mixer_out *out)
{
	const struct tt__encgrp *g = p->outgrp;
	memset(out, 0, sizeof(*out));
	out->pt = p->pt;
	out->ts_inc = p->rtp_rate / 1000 * p->var->p.ptime;
	if (!g)
		return;
	out->n = g->nout;
	out->level = g->level;
	for (unsigned i = 0; i < g->nout; i++)
		out->payload[i] = (struct tt_mixer_payload){g->out[i], g->outlen[i], g->ts[i]};
	out->shared = g == &p->var->shared;
}

bool tt_mixer_room_event_next(struct tt_mixer_room *m, struct tt_mixer_event *ev)
{
	if (!m->ev_len)
		return false;
	*ev = m->ev[m->ev_head];
	m->ev_head = (m->ev_head + 1) % m->ev_cap;
	m->ev_len--;
	return true;
}

void tt__room_push_event(struct tt_mixer_room *m, enum tt_mixer_event_type t,
			 struct tt_mixer_part *p)
{
	if (m->ev_len == m->ev_cap) {
		m->ev_dropped++;
		return;
	}
	m->ev[(m->ev_head + m->ev_len) % m->ev_cap] = (struct tt_mixer_event){
		.type = t, .user = p->user, .level_dbov = (int)lroundf(p->lvl.db)};
	m->ev_len++;
}

void tt_mixer_part_stats(const struct tt_mixer_part *p, struct tt_mixer_part_stats *st)
{
	const struct tt__jbuf_stats *j = &p->jb.st;
	*st = (struct tt_mixer_part_stats){
		.received = j->received, .late = j->late, .lost = j->lost,
		.duplicate = j->duplicate, .dropped = j->dropped, .concealed = j->concealed,
		.oversize = j->oversize, .resets = j->resets, .decoded = p->decoded_frames,
		.depth_ms = tt__jbuf_ms(&p->jb, tt__jbuf_depth(&p->jb)),
		.target_ms = tt__jbuf_ms(&p->jb, tt__jbuf_target(&p->jb)),
		.jitter_ms = (unsigned)(p->jb.jitter_us / 1000.0),
		.level_dbov = (int)lroundf(p->lvl.db),
		.talking = p->lvl.talking, .speaker = p->contributing,
	};
}

void tt_mixer_room_stats(const struct tt_mixer_room *m, struct tt_mixer_room_stats *st)
{
	unsigned nv = 0;
	for (int i = 0; i < TT__VARIANTS_MAX; i++)
		nv += m->vars[i] != NULL;
	*st = (struct tt_mixer_room_stats){
		.ticks = m->ticks, .parts = m->nparts, .speakers = m->ncontrib,
		.decodes_last_tick = m->decodes, .encodes_last_tick = m->encodes,
		.variants = nv, .events_dropped = m->ev_dropped,
		.decodes = m->decodes_total, .encodes_shared = m->enc_shared,
		.encodes_private = m->enc_private, .encodes_prompt = m->enc_prompt,
		.late = m->gone_late, .lost = m->gone_lost, .concealed = m->gone_concealed,
		.vad_quiet = m->vad_quiet, .vad_distrusted = m->vad_distrusted,
	};
	for (unsigned i = 0; i < m->nparts; i++) {
		const struct tt__jbuf_stats *j = &m->parts[i]->jb.st;
		st->late += j->late;
		st->lost += j->lost;
		st->concealed += j->concealed;
	}
}
