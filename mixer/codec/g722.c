/* g722.c: G.722 at 64 kbit/s through SpanDSP (Debian's libspandsp), with SpanDSP's PLC. */
#include <stdlib.h>
#include <string.h>

#include "tutti/errno.h"
#include "codec_priv.h"
#include "plc.h"
#include "spandsp_inc.h"

struct g722_dec {
	g722_decode_state_t *g;
	plc_state_t *plc;
};

static unsigned pcm_rate(unsigned room_rate)
{
	return 16000;
}

static size_t max_payload(const struct tt_codec_params *p)
{
	return 8 * p->ptime;   /* 4 bits per 16 kHz sample */
}

static int enc_new(void **stp, enum tt_codec_id id, const struct tt_codec_params *p)
{
	g722_encode_state_t *s = g722_encode_init(NULL, 64000, 0);
	if (!s)
		return -ENOMEM;
	*stp = s;
	return 0;
}

static void enc_del(void *st)
{
	g722_encode_free(st);
}

static int encode(void *st, const int16_t *pcm, size_t n, uint8_t *out, size_t outmax)
{
	if (outmax < n / 2)
		return -ENOBUFS;
	return g722_encode(st, out, pcm, (int)n);
}

static void enc_copy(void *dst, const void *src)
{
	/* A flat struct (SpanDSP's private header): ADPCM predictor state, no pointers. */
	memcpy(dst, src, sizeof(g722_encode_state_t));
}

static void enc_reset(void *st, enum tt_codec_id id, const struct tt_codec_params *p)
{
	g722_encode_init(st, 64000, 0);
}

static int dec_new(void **stp, enum tt_codec_id id, const struct tt_codec_params *p)
{
	struct g722_dec *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->g = g722_decode_init(NULL, 64000, 0);
	d->plc = plc_init(NULL);
	if (!d->g || !d->plc) {
		if (d->g)
			g722_decode_free(d->g);
		if (d->plc)
			plc_free(d->plc);
		free(d);
		return -ENOMEM;
	}
	*stp = d;
	return 0;
}

static void dec_del(void *st)
{
	struct g722_dec *d = st;
	g722_decode_free(d->g);
	plc_free(d->plc);
	free(d);
}

static int samples(unsigned pcm_rate, const uint8_t *data, size_t len)
{
	return (int)(2 * len);
}

static int decode(void *st, const uint8_t *data, size_t len, int16_t *pcm, size_t max)
{
	struct g722_dec *d = st;
	if (2 * len > max)
		return -ENOBUFS;
	int n = g722_decode(d->g, pcm, data, (int)len);
	/* SpanDSP's PLC is tuned for 8 kHz; at 16 kHz it still repeats pitch periods and
	 * fades, which beats silence; it needs the history to do that. */
	plc_rx(d->plc, pcm, n);
	return n;
}

static int conceal(void *st, const uint8_t *next, size_t next_len, int16_t *pcm, size_t n)
{
	struct g722_dec *d = st;
	tt__plc_fillin(d->plc, pcm, (int)n);
	return (int)n;
}

static void dec_reset(void *st, enum tt_codec_id id, const struct tt_codec_params *p)
{
	struct g722_dec *d = st;
	g722_decode_init(d->g, 64000, 0);
	plc_init(d->plc);
}

const struct tt__codec_ops tt__codec_g722 = {
	.name = "g722",
	.rtp_rate = 8000,
	.pcm_rate = pcm_rate,
	.max_payload = max_payload,
	.enc_new = enc_new,
	.enc_del = enc_del,
	.encode = encode,
	.enc_copy = enc_copy,
	.enc_reset = enc_reset,
	.dec_new = dec_new,
	.dec_del = dec_del,
	.samples = samples,
	.decode = decode,
	.conceal = conceal,
	.dec_reset = dec_reset,
};
