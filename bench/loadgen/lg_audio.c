/* lg_audio.c: tones, Goertzel detection, G.711 and the codec wrappers of the load generator.
 *
 * G.711 is written here (40 lines of a fixed ITU algorithm) rather than pulling in SpanDSP
 * for it: the load generator must not depend on the mixer library, and Debian has no
 * smaller G.711 package. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "lg.h"

int lg_codec_parse(enum lg_codec *c, const char *name)
{
	if (!strcmp(name, "opus"))
		*c = LG_OPUS;
	else if (!strcmp(name, "pcmu"))
		*c = LG_PCMU;
	else if (!strcmp(name, "pcma"))
		*c = LG_PCMA;
	else
		return -EINVAL;
	return 0;
}

const char *lg_codec_name(enum lg_codec c)
{
	return c == LG_OPUS ? "opus" : c == LG_PCMU ? "pcmu" : "pcma";
}

int lg_codec_pt(enum lg_codec c)
{
	return c == LG_OPUS ? 111 : c == LG_PCMU ? 0 : 8;
}

int lg_codec_rtp_rate(enum lg_codec c)
{
	return c == LG_OPUS ? 48000 : 8000;
}

int lg_codec_pcm_rate(enum lg_codec c)
{
	/* Opus is analysed at 16 kHz: all tones are below 4 kHz and it costs a third. */
	return c == LG_OPUS ? 16000 : 8000;
}

double lg_tone_freq(int k)
{
	/* 150 Hz apart (three Goertzel bins of a 20 ms frame), all below 3 kHz. */
	return 450.0 + 150.0 * k;
}

void lg_tone_fill(int16_t *pcm, size_t n, int rate, double freq, double amp, uint64_t pos)
{
	double w = 2.0 * M_PI * freq / rate;
	for (size_t i = 0; i < n; i++)
		pcm[i] = (int16_t)lrint(amp * sin(w * (double)(pos + i)));
}

double lg_goertzel(const int16_t *pcm, size_t n, int rate, double freq)
{
	double coeff = 2.0 * cos(2.0 * M_PI * freq / rate), s1 = 0, s2 = 0;
	for (size_t i = 0; i < n; i++) {
		double s = pcm[i] / 32768.0 + coeff * s1 - s2;
		s2 = s1;
		s1 = s;
	}
	double p = s1 * s1 + s2 * s2 - coeff * s1 * s2;
	return p / ((double)n * (double)n);
}

double lg_power(const int16_t *pcm, size_t n)
{
	double acc = 0;
	for (size_t i = 0; i < n; i++)
		acc += (pcm[i] / 32768.0) * (pcm[i] / 32768.0);
	return n ? acc / (double)n : 0;
}

uint8_t lg_ulaw_enc(int16_t sample)
{
	int s = sample, sign = 0, exp = 7;
	if (s < 0) {
		s = -s;
		sign = 0x80;
	}
	if (s > 32635)
		s = 32635;
	s += 0x84;
	for (int mask = 0x4000; !(s & mask) && exp > 0; mask >>= 1)
		exp--;
	int mant = (s >> (exp + 3)) & 0x0f;
	return (uint8_t)~(sign | exp << 4 | mant);
}

int16_t lg_ulaw_dec(uint8_t u)
{
	u = (uint8_t)~u;
	int exp = (u >> 4) & 7, mant = u & 0x0f;
	int s = (((mant << 3) + 0x84) << exp) - 0x84;
	return (int16_t)((u & 0x80) ? -s : s);
}

uint8_t lg_alaw_enc(int16_t sample)
{
	int s = sample, sign = 0x80, exp, mant;
	if (s < 0) {
		s = -s - 1;
		sign = 0;
	}
	if (s < 256) {
		exp = 0;
		mant = s >> 4;
	} else {
		exp = 1;
		for (int v = s >> 9; v && exp < 7; v >>= 1)
			exp++;
		mant = (s >> (exp + 3)) & 0x0f;
	}
	return (uint8_t)((sign | exp << 4 | mant) ^ 0x55);
}

int16_t lg_alaw_dec(uint8_t a)
{
	a ^= 0x55;
	int exp = (a >> 4) & 7, mant = a & 0x0f, s;
	if (exp == 0)
		s = (mant << 4) + 8;
	else
		s = ((mant << 4) + 0x108) << (exp - 1);
	return (int16_t)((a & 0x80) ? s : -s);
}

int lg_codec_open(struct lg_codec_ctx *c, enum lg_codec codec, bool enc, bool dec)
{
	int err = 0;
	memset(c, 0, sizeof *c);
	c->codec = codec;
	c->rate = lg_codec_pcm_rate(codec);
	c->samples = c->rate * LG_FRAME_MS / 1000;
	if (codec != LG_OPUS)
		return 0;
	if (enc) {
		c->enc = opus_encoder_create(c->rate, 1, OPUS_APPLICATION_AUDIO, &err);
		if (!c->enc)
			return -ENOMEM;
		opus_encoder_ctl(c->enc, OPUS_SET_BITRATE(32000));
		opus_encoder_ctl(c->enc, OPUS_SET_COMPLEXITY(2));
	}
	if (dec) {
		c->dec = opus_decoder_create(c->rate, 1, &err);
		if (!c->dec) {
			lg_codec_close(c);
			return -ENOMEM;
		}
	}
	return 0;
}

void lg_codec_close(struct lg_codec_ctx *c)
{
	if (c->enc)
		opus_encoder_destroy(c->enc);
	if (c->dec)
		opus_decoder_destroy(c->dec);
	c->enc = NULL;
	c->dec = NULL;
}

int lg_encode(struct lg_codec_ctx *c, const int16_t *pcm, uint8_t *out, size_t cap)
{
	if (c->codec == LG_OPUS) {
		int n = opus_encode(c->enc, pcm, c->samples, out, (opus_int32)cap);
		return n < 0 ? -EIO : n;
	}
	if (cap < (size_t)c->samples)
		return -ENOSPC;
	for (int i = 0; i < c->samples; i++)
		out[i] = c->codec == LG_PCMU ? lg_ulaw_enc(pcm[i]) : lg_alaw_enc(pcm[i]);
	return c->samples;
}

int lg_decode(struct lg_codec_ctx *c, const uint8_t *in, size_t len, int16_t *pcm)
{
	if (c->codec == LG_OPUS) {
		int n = opus_decode(c->dec, in, in ? (opus_int32)len : 0, pcm, c->samples, 0);
		return n < 0 ? -EIO : n;
	}
	if (!in) {
		memset(pcm, 0, sizeof *pcm * (size_t)c->samples);
		return c->samples;
	}
	size_t n = len < (size_t)c->samples ? len : (size_t)c->samples;
	for (size_t i = 0; i < n; i++)
		pcm[i] = c->codec == LG_PCMU ? lg_ulaw_dec(in[i]) : lg_alaw_dec(in[i]);
	for (size_t i = n; i < (size_t)c->samples; i++)
		pcm[i] = 0;
	return c->samples;
}
