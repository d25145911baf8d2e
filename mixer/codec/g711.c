/* g711.c: PCMU and PCMA through SpanDSP's G.711, with SpanDSP's PLC for lost packets. */
#include <stdlib.h>
#include <string.h>

#include "tutti/errno.h"
#include "codec_priv.h"
#include "plc.h"
#include "spandsp_inc.h"

struct g711 {
	g711_state_t *g;
	plc_state_t *plc;    /* decoders only */
};

static unsigned pcm_rate(unsigned room_rate)
{
	return 8000;
}

static size_t max_payload(const struct tt_codec_params *p)
{
	return 8 * p->ptime;
}

static int mode(enum tt_codec_id id)
{
	return id == TT_CODEC_PCMA ? G711_ALAW : G711_ULAW;
}

static int new_state(void **stp, enum tt_codec_id id, bool dec)
{
	struct g711 *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->g = g711_init(NULL, mode(id));
	s->plc = dec ? plc_init(NULL) : NULL;
	if (!s->g || (dec && !s->plc)) {
		if (s->g)
			g711_free(s->g);
		if (s->plc)
			plc_free(s->plc);
		free(s);
		return -ENOMEM;
	}
	*stp = s;
	return 0;
}

static void del_state(void *st)
{
	struct g711 *s = st;
	g711_free(s->g);
	if (s->plc)
		plc_free(s->plc);
	free(s);
}

static int enc_new(void **stp, enum tt_codec_id id, const struct tt_codec_params *p)
{
	return new_state(stp, id, false);
}

static int encode(void *st, const int16_t *pcm, size_t n, uint8_t *out, size_t outmax)
{
	struct g711 *s = st;
	if (outmax < n)
		return -ENOBUFS;
	return g711_encode(s->g, out, pcm, (int)n);
}

static void enc_copy(void *dst, const void *src)
{
	/* G.711 is memoryless: nothing to carry over. */
}

static void enc_reset(void *st, enum tt_codec_id id, const struct tt_codec_params *p)
{
}

static int dec_new(void **stp, enum tt_codec_id id, const struct tt_codec_params *p)
{
	return new_state(stp, id, true);
}

static int samples(unsigned pcm_rate, const uint8_t *data, size_t len)
{
	return (int)len;
}

static int decode(void *st, const uint8_t *data, size_t len, int16_t *pcm, size_t max)
{
	struct g711 *s = st;
	if (len > max)
		return -ENOBUFS;
	int n = g711_decode(s->g, pcm, data, (int)len);
	plc_rx(s->plc, pcm, n);
	return n;
}

static int conceal(void *st, const uint8_t *next, size_t next_len, int16_t *pcm, size_t n)
{
	struct g711 *s = st;
	tt__plc_fillin(s->plc, pcm, (int)n);
	return (int)n;
}

static void dec_reset(void *st, enum tt_codec_id id, const struct tt_codec_params *p)
{
	struct g711 *s = st;
	plc_init(s->plc);
}

const struct tt__codec_ops tt__codec_g711 = {
	.name = "g711",
	.rtp_rate = 8000,
	.pcm_rate = pcm_rate,
	.max_payload = max_payload,
	.enc_new = enc_new,
	.enc_del = del_state,
	.encode = encode,
	.enc_copy = enc_copy,
	.enc_reset = enc_reset,
	.dec_new = dec_new,
	.dec_del = del_state,
	.samples = samples,
	.decode = decode,
	.conceal = conceal,
	.dec_reset = dec_reset,
};
