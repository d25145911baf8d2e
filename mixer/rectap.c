/* rectap.c: what a recording takes from a room's tick: the full mix as Opus packets (a
 * variant kept fed every tick, shared with listeners of the same settings when there are
 * any), each participant's packets as the jitter buffer gave them, and room-wide prompts
 * mixed in like a voice. The tick part (tt__room_prompt_mix) allocates, locks and logs
 * nothing. */
#include <stdlib.h>
#include <string.h>

#include "tutti/errno.h"
#include "room_priv.h"

_Static_assert(TT_MIXER_UNITS_MAX == TT__UNITS_MAX, "one unit array size");

int tt_mixer_room_record(struct tt_mixer_room *m, const struct tt_codec_params *opus)
{
	if (!m)
		return -EINVAL;
	struct tt__variant *old = m->rec_var;
	if (!opus) {
		m->rec_var = NULL;
		tt__variant_put(m, old);
		return 0;
	}
	if (old)
		return 0;   /* keep the one it has: a switch would cut the stream's state */
	/* Listeners' Opus 20 ms variant with the most users, whatever its FEC and DTX: its
	 * encoder runs already. */
	struct tt__variant *v = NULL;
	for (int i = 0; i < TT__VARIANTS_MAX; i++) {
		struct tt__variant *c = m->vars[i];
		if (c && c->codec == TT_CODEC_OPUS && c->p.ptime == 20 &&
		    (!v || c->refs > v->refs))
			v = c;
	}
	if (v) {
		v->refs++;
	} else {
		struct tt_codec_params p = *opus;
		p.room_rate = m->rate;
		p.ptime = 20;
		int rc = tt__variant_get(&v, m, TT_CODEC_OPUS, &p);
		if (rc)
			return rc;
	}
	m->rec_var = v;
	return 0;
}

unsigned tt_mixer_room_record_preskip(const struct tt_mixer_room *m)
{
	const struct tt__variant *v = m->rec_var;
	if (!v)
		return 0;
	/* codec.h: CELT-only is coded with 2.5 ms of look-ahead, the rest with 6.5 */
	unsigned br = v->p.bitrate ? v->p.bitrate : 32000;
	bool celt = v->p.opus_mode == TT_OPUS_CELT ||
		    (v->p.opus_mode == TT_OPUS_AUTO && !v->p.fec && br >= 40000);
	return celt ? 120 : 312;
}

void tt_mixer_room_record_out(const struct tt_mixer_room *m, struct tt_mixer_out *out)
{
	memset(out, 0, sizeof(*out));
	const struct tt__variant *v = m->rec_var;
	if (!v)
		return;
	out->ts_inc = v->rtp_rate / 50;
	out->n = v->shared.nout;
	for (unsigned i = 0; i < v->shared.nout; i++)
		out->payload[i] = (struct tt_mixer_payload){v->shared.out[i], v->shared.outlen[i],
							    v->shared.ts[i]};
	out->shared = true;
}

int tt_mixer_room_play(struct tt_mixer_room *m, const int16_t *pcm, size_t n)
{
	if (!m)
		return -EINVAL;
	int16_t *copy = NULL;
	int rc = tt__pcm_dup(pcm, n, &copy);
	if (rc)
		return rc;
	free(m->rprompt);
	m->rprompt = copy;
	m->rprompt_len = n;
	m->rprompt_pos = 0;
	return 0;
}

/* Into the accumulator before it saturates: every N-1 mix is acc minus one's own voice, so
 * speakers hear the prompt too, and so does the full mix the listeners and the recording
 * get. */
void tt__room_prompt_mix(struct tt_mixer_room *m)
{
	if (m->rprompt_pos >= m->rprompt_len)
		return;
	size_t left = m->rprompt_len - m->rprompt_pos;
	size_t take = left < m->frame ? left : m->frame;
	const int16_t *src = m->rprompt + m->rprompt_pos;
	for (size_t i = 0; i < take; i++)
		m->acc[i] += src[i];
	m->rprompt_pos += take;
}

void tt__room_rec_free(struct tt_mixer_room *m)
{
	tt_mixer_room_record(m, NULL);
	free(m->rprompt);
	m->rprompt = NULL;
	m->rprompt_len = m->rprompt_pos = 0;
}

unsigned tt_mixer_part_pulled(const struct tt_mixer_part *p, struct tt_mixer_unit *u,
			      unsigned max)
{
	unsigned n = 0;
	for (unsigned i = 0; i < p->nunits && n < max; i++, n++) {
		const struct tt__jbuf_unit *j = &p->units[i];
		bool pkt = j->kind == TT__JB_PACKET;
		u[n] = (struct tt_mixer_unit){pkt ? j->data : NULL, pkt ? j->len : 0, j->dur,
					      j->kind == TT__JB_CONCEAL};
	}
	return n;
}

enum tt_codec_id tt_mixer_part_codec(const struct tt_mixer_part *p)
{
	return p->codec;
}
