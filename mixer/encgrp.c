/* encgrp.c: codec variants and their encoders: one shared encoder per variant for everyone
 * who hears the full mix, and a small pool of private encoders lent to speakers (whose N-1
 * mix is theirs alone). Encodes per tick are therefore speakers + variants in use. */
#include <stdlib.h>
#include <string.h>

#define TT_LOG_DOMAIN "mixer"
#include "tutti/errno.h"
#include "tutti/log.h"
#include "level/level.h"
#include "room_priv.h"

static void grp_fini(struct tt__encgrp *g)
{
	g->enc = tt_codec_enc_free(g->enc);
	if (g->rs)
		speex_resampler_destroy(g->rs);
	g->rs = NULL;
	free(g->pcm);
	free(g->out[0]);
	g->pcm = NULL;
	g->out[0] = g->out[1] = NULL;
}

static int grp_init(struct tt__encgrp *g, struct tt__variant *v, unsigned room_rate)
{
	int err;
	memset(g, 0, sizeof(*g));
	g->var = v;
	err = tt_codec_enc_alloc(&g->enc, v->codec, &v->p);
	if (err)
		goto out;
	if (v->pcm_rate != room_rate) {
		int e = 0;
		g->rs = speex_resampler_init(1, room_rate, v->pcm_rate, TT__RESAMPLE_QUALITY, &e);
		if (!g->rs) {
			err = -ENOMEM;
			goto out;
		}
	}
	/* a packet plus one tick plus resampler slack */
	g->cap = v->frame + v->pcm_rate / 50 + 64;
	g->pcm = calloc(g->cap, sizeof(*g->pcm));
	g->out[0] = malloc(2 * v->max_payload);
	if (!g->pcm || !g->out[0]) {
		err = -ENOMEM;
		goto out;
	}
	g->out[1] = g->out[0] + v->max_payload;
	memset(g->out[0], 0, 2 * v->max_payload);     /* fault pages in now, not in the tick */
	memset(g->pcm, 0, g->cap * sizeof(*g->pcm));
out:
	if (err)
		grp_fini(g);
	return err;
}

static bool same(const struct tt__variant *v, enum tt_codec_id c, const struct tt_codec_params *p)
{
	if (v->codec != c || v->p.ptime != p->ptime)
		return false;
	if (c != TT_CODEC_OPUS)
		return true;
	return v->p.bitrate == p->bitrate && v->p.complexity == p->complexity &&
	       v->p.opus_mode == p->opus_mode &&
	       v->p.fec == p->fec && v->p.dtx == p->dtx;
}

static void variant_free(struct tt__variant *v)
{
	grp_fini(&v->shared);
	for (unsigned i = 0; i < v->npool; i++)
		grp_fini(&v->pool[i]);
	free(v->pool);
	free(v);
}

int tt__variant_get(struct tt__variant **vp, struct tt_mixer_room *m, enum tt_codec_id codec,
		    const struct tt_codec_params *p)
{
	struct tt__variant *v = NULL;
	int err = 0, slot = -1;

	for (int i = 0; i < TT__VARIANTS_MAX; i++) {
		if (m->vars[i] && same(m->vars[i], codec, p)) {
			m->vars[i]->refs++;
			*vp = m->vars[i];
			return 0;
		}
		if (!m->vars[i] && slot < 0)
			slot = i;
	}
	if (slot < 0)
		return -ENOSPC;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->codec = codec;
	v->p = *p;
	v->pcm_rate = tt_codec_pcm_rate(codec, m->rate);
	v->rtp_rate = tt_codec_rtp_rate(codec);
	v->frame = v->pcm_rate / 1000 * p->ptime;
	v->max_payload = tt_codec_max_payload(codec, p);
	err = grp_init(&v->shared, v, m->rate);
	if (err)
		goto out;
	/* K speakers plus K fading out is the most that can be contributing at once. */
	unsigned want = 2 * m->k + 1;
	v->pool = calloc(want, sizeof(*v->pool));
	if (!v->pool) {
		err = -ENOMEM;
		goto out;
	}
	for (; v->npool < want; v->npool++) {
		err = grp_init(&v->pool[v->npool], v, m->rate);
		if (err)
			goto out;
	}
	v->refs = 1;
	m->vars[slot] = v;
	*vp = v;
	v = NULL;
out:
	if (v)
		variant_free(v);
	return err;
}

void tt__variant_put(struct tt_mixer_room *m, struct tt__variant *v)
{
	if (!v || --v->refs)
		return;
	for (int i = 0; i < TT__VARIANTS_MAX; i++)
		if (m->vars[i] == v)
			m->vars[i] = NULL;
	variant_free(v);
}

struct tt__encgrp *tt__encgrp_lend(struct tt__variant *v)
{
	for (unsigned i = 0; i < v->npool; i++) {
		struct tt__encgrp *g = &v->pool[i];
		if (g->busy)
			continue;
		g->busy = true;
		/* Warm handover: continue exactly where the shared stream is, so the new
		 * speaker's decoder sees no discontinuity in codec state or packet phase. */
		tt_codec_enc_copy_state(g->enc, v->shared.enc);
		memcpy(g->pcm, v->shared.pcm, v->shared.fill * sizeof(*g->pcm));
		g->fill = v->shared.fill;
		if (g->rs)
			speex_resampler_reset_mem(g->rs);
		g->nout = 0;
		return g;
	}
	return NULL;
}

void tt__encgrp_return(struct tt__encgrp *g)
{
	if (g)
		g->busy = false;
}

unsigned tt__encgrp_feed(struct tt__encgrp *g, const int16_t *pcm, unsigned n, uint64_t tick,
			 unsigned room_rate)
{
	struct tt__variant *v = g->var;
	unsigned calls = 0;

	g->nout = 0;
	/* what a far bridge's mixer selects by without decoding (a trunk, RFC 6464): one pass
	 * over the tick's samples, no allocation */
	float db = tt__level_pcm_dbov(pcm, n);
	g->level = (uint8_t)(db <= -127.0f ? 127 : db >= 0.0f ? 0 : (int)(-db + 0.5f));
	if (g->rs) {
		spx_uint32_t in = n, outn = g->cap - g->fill;
		speex_resampler_process_int(g->rs, 0, pcm, &in, g->pcm + g->fill, &outn);
		g->fill += outn;
	} else {
		unsigned c = n < g->cap - g->fill ? n : g->cap - g->fill;
		memcpy(g->pcm + g->fill, pcm, c * sizeof(*pcm));
		g->fill += c;
	}
	/* RTP time of the end of this tick, from the room's origin: the same for every group,
	 * so a participant moving between groups keeps a continuous timestamp. */
	uint64_t end = (tick + 1) * (uint64_t)(v->rtp_rate / 50);
	unsigned off = 0;
	while (g->fill - off >= v->frame && g->nout < 2) {
		uint64_t behind = (uint64_t)(g->fill - off) * v->rtp_rate / v->pcm_rate;
		int r = tt_codec_enc_encode(g->enc, g->pcm + off, v->frame, g->out[g->nout],
					    v->max_payload);
		calls++;
		if (r > 0) {
			g->outlen[g->nout] = (size_t)r;
			g->ts[g->nout] = (uint32_t)(end - behind);
			g->nout++;
		}
		off += v->frame;
	}
	if (off) {
		memmove(g->pcm, g->pcm + off, (g->fill - off) * sizeof(*g->pcm));
		g->fill -= off;
	}
	return calls;
}
