/* opus.c: Opus through libopus, at the room rate (Opus accepts 8/16/24/48 kHz natively, so
 * an Opus participant never goes through a resampler). */
#include <opus.h>
#include <stdlib.h>
#include <string.h>

#define TT_LOG_DOMAIN "mixer"
#include "tutti/errno.h"
#include "tutti/log.h"
#include "codec_priv.h"

/* libopus error codes to our currency (the one helper for this library). */
static int opus_err(int e)
{
	switch (e) {
	case OPUS_BAD_ARG: return -EINVAL;
	case OPUS_BUFFER_TOO_SMALL: return -ENOBUFS;
	case OPUS_INVALID_PACKET: return -EBADMSG;
	case OPUS_ALLOC_FAIL: return -ENOMEM;
	case OPUS_UNIMPLEMENTED: return -ENOSYS;
	default: return -EIO;
	}
}

static unsigned pcm_rate(unsigned room_rate)
{
	return room_rate;
}

static size_t max_payload(const struct tt_codec_params *p)
{
	/* 1275 bytes per 20 ms frame is Opus's own limit; one UDP datagram caps it anyway. */
	size_t frames = (p->ptime + 19) / 20;
	size_t n = 1275 * frames;
	return n > 1400 ? 1400 : n;
}

#define CELT_FROM 40000    /* bit/s from which auto codes CELT-only (codec.h) */

static unsigned bitrate_of(const struct tt_codec_params *p)
{
	return p->bitrate ? p->bitrate : 32000;
}

static bool celt_mode(const struct tt_codec_params *p)
{
	if (p->opus_mode == TT_OPUS_CELT)
		return true;
	return p->opus_mode == TT_OPUS_AUTO && !p->fec && bitrate_of(p) >= CELT_FROM;
}

int tt_opus_mode_parse(const char *s)
{
	if (!s)
		return -EINVAL;
	if (!strcmp(s, "auto"))
		return TT_OPUS_AUTO;
	if (!strcmp(s, "voice"))
		return TT_OPUS_VOICE;
	if (!strcmp(s, "celt"))
		return TT_OPUS_CELT;
	return -EINVAL;
}

static void enc_setup(OpusEncoder *e, const struct tt_codec_params *p)
{
	opus_encoder_ctl(e, OPUS_SET_BITRATE((opus_int32)bitrate_of(p)));
	opus_encoder_ctl(e, OPUS_SET_COMPLEXITY(p->complexity > 10 ? 10 : (int)p->complexity));
	opus_encoder_ctl(e, OPUS_SET_INBAND_FEC(p->fec ? 1 : 0));
	opus_encoder_ctl(e, OPUS_SET_PACKET_LOSS_PERC(p->fec ? 10 : 0));
	opus_encoder_ctl(e, OPUS_SET_DTX(p->dtx ? 1 : 0));
	if (!celt_mode(p))
		opus_encoder_ctl(e, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
}

static int enc_new(void **stp, enum tt_codec_id id, const struct tt_codec_params *p)
{
	int e = 0;
	/* CELT-only as libopus's restricted low-delay application: the same CELT coding as its
	 * audio application at these rates, without the 4 ms of look-ahead that only serves
	 * switching to SILK (2.5 ms in all instead of 6.5; the same CPU, measured). */
	OpusEncoder *st = opus_encoder_create((opus_int32)p->room_rate, 1,
					      celt_mode(p) ? OPUS_APPLICATION_RESTRICTED_LOWDELAY
							   : OPUS_APPLICATION_VOIP, &e);
	if (!st) {
		tt_error("opus_encoder_create: %s", opus_strerror(e));
		return opus_err(e);
	}
	enc_setup(st, p);
	*stp = st;
	return 0;
}

static void enc_del(void *st)
{
	opus_encoder_destroy(st);
}

static int encode(void *st, const int16_t *pcm, size_t n, uint8_t *out, size_t outmax)
{
	opus_int32 r = opus_encode(st, pcm, (int)n, out, (opus_int32)outmax);
	if (r < 0)
		return opus_err(r);
	/* libopus: a packet of 2 bytes or less need not be sent (DTX). */
	return r <= 2 ? 0 : r;
}

static void enc_copy(void *dst, const void *src)
{
	/* Documented as position independent: "can be freely copied". */
	memcpy(dst, src, (size_t)opus_encoder_get_size(1));
}

static void enc_reset(void *st, enum tt_codec_id id, const struct tt_codec_params *p)
{
	opus_encoder_ctl(st, OPUS_RESET_STATE);
}

static int dec_new(void **stp, enum tt_codec_id id, const struct tt_codec_params *p)
{
	int e = 0;
	OpusDecoder *st = opus_decoder_create((opus_int32)p->room_rate, 1, &e);
	if (!st) {
		tt_error("opus_decoder_create: %s", opus_strerror(e));
		return opus_err(e);
	}
	*stp = st;
	return 0;
}

static void dec_del(void *st)
{
	opus_decoder_destroy(st);
}

/* The TOC and frame count at the decoder's rate (= pcm_rate): the same answer as
 * opus_decoder_get_nb_samples without touching a decoder that may be cold in the cache. */
static int samples(unsigned pcm_rate, const uint8_t *data, size_t len)
{
	int n = opus_packet_get_nb_samples(data, (opus_int32)len, (opus_int32)pcm_rate);
	return n < 0 ? opus_err(n) : n;
}

static int decode(void *st, const uint8_t *data, size_t len, int16_t *pcm, size_t max)
{
	int n = opus_decode(st, data, (opus_int32)len, pcm, (int)max, 0);
	return n < 0 ? opus_err(n) : n;
}

static int conceal(void *st, const uint8_t *next, size_t next_len, int16_t *pcm, size_t n)
{
	int r;
	/* With decode_fec libopus falls back to PLC itself when `next` carries no LBRR. */
	if (next)
		r = opus_decode(st, next, (opus_int32)next_len, pcm, (int)n, 1);
	else
		r = opus_decode(st, NULL, 0, pcm, (int)n, 0);
	if (r < 0)
		return opus_err(r);
	if ((size_t)r < n)
		memset(pcm + r, 0, (n - (size_t)r) * sizeof(*pcm));
	return (int)n;
}

static void dec_reset(void *st, enum tt_codec_id id, const struct tt_codec_params *p)
{
	opus_decoder_ctl(st, OPUS_RESET_STATE);
}

const struct tt__codec_ops tt__codec_opus = {
	.name = "opus",
	.rtp_rate = 48000,
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
