/* helpers.c: senders, receivers and tone measurement for the mixer tests. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "tt_test.h"

int sender_init(struct sender *s, struct tt_mixer_room *m, const char *codec, unsigned room_rate,
		unsigned ptime, double freq, double amp, int level, unsigned rx_cap)
{
	memset(s, 0, sizeof(*s));
	int c = tt_codec_find(codec);
	if (c < 0)
		return c;
	s->codec = (enum tt_codec_id)c;
	s->ptime = ptime;
	s->pcm_rate = tt_codec_pcm_rate(s->codec, room_rate);
	s->rtp_rate = tt_codec_rtp_rate(s->codec);
	s->freq = freq;
	s->amp = amp;
	s->level = level;
	s->ssrc = 0x1000 + (uint32_t)rand();
	s->seq = (uint16_t)rand();
	s->ts = (uint32_t)rand();
	struct tt_codec_params p = {.room_rate = room_rate, .ptime = ptime, .bitrate = 48000,
				    .complexity = 5};
	int err = tt_codec_enc_alloc(&s->enc, s->codec, &p);
	if (!err)
		err = tt_codec_dec_alloc(&s->dec, s->codec, &p);
	if (err)
		return err;
	if (m) {
		struct tt_mixer_part_cfg pc = {.codec = codec, .pt = 96, .ptime = ptime,
					       .bitrate = 48000, .complexity = 5, .user = s};
		err = tt_mixer_part_add(&s->part, m, &pc);
		if (err)
			return err;
	}
	s->rx_cap = rx_cap;
	s->rx = rx_cap ? calloc(rx_cap, sizeof(*s->rx)) : NULL;
	return rx_cap && !s->rx ? -ENOMEM : 0;
}

void sender_fini(struct sender *s)
{
	tt_codec_enc_free(s->enc);
	tt_codec_dec_free(s->dec);
	free(s->rx);
}

void sender_tick(struct sender *s, uint64_t now_us)
{
	unsigned n = s->pcm_rate / 50, frame = s->pcm_rate / 1000 * s->ptime;
	double w = 2 * M_PI * s->freq / s->pcm_rate;
	for (unsigned i = 0; i < n; i++) {
		s->pcm[s->fill + i] = s->silent ? 0 : (int16_t)lrint(s->amp * sin(s->phase));
		s->phase += w;
	}
	s->phase = fmod(s->phase, 2 * M_PI);
	s->fill += n;
	while (s->fill >= frame) {
		uint8_t buf[1500];
		int len = tt_codec_enc_encode(s->enc, s->pcm, frame, buf, sizeof(buf));
		TT_ASSERT_MSG(len >= 0, "encode %d", len);
		if (len == 0) {        /* DTX: nothing sent, time moves on */
			s->ts += frame * s->rtp_rate / s->pcm_rate;
			memmove(s->pcm, s->pcm + frame, (s->fill - frame) * sizeof(*s->pcm));
			s->fill -= frame;
			continue;
		}
		struct tt_mixer_pkt pk = {
			.payload = buf, .len = (size_t)len, .seq = s->seq++, .ts = s->ts,
			.ssrc = s->ssrc, .level = s->silent && s->level >= 0 ? 127 : s->level,
			.vad = !s->silent, .arrival_us = now_us};
		s->ts += frame * s->rtp_rate / s->pcm_rate;
		if (s->part)
			TT_ASSERT_INT_EQ(tt_mixer_part_push(s->part, &pk), 0);
		memmove(s->pcm, s->pcm + frame, (s->fill - frame) * sizeof(*s->pcm));
		s->fill -= frame;
	}
}

void sender_receive(struct sender *s)
{
	struct tt_mixer_out o;
	tt_mixer_part_output(s->part, &o);
	for (unsigned i = 0; i < o.n; i++) {
		if (s->have_rx)
			TT_ASSERT_MSG(o.payload[i].ts - s->last_rx_ts == o.ts_inc,
				      "rx ts step %u != %u", o.payload[i].ts - s->last_rx_ts,
				      o.ts_inc);
		s->last_rx_ts = o.payload[i].ts;
		s->have_rx = true;
		if (!s->rx)
			continue;
		int16_t pcm[2880];
		int n = tt_codec_dec_decode(s->dec, o.payload[i].data, o.payload[i].len, pcm, 2880);
		TT_ASSERT_MSG(n > 0, "decode %d", n);
		unsigned c = (unsigned)n;
		if (c > s->rx_cap - s->rx_len)
			c = s->rx_cap - s->rx_len;
		memcpy(s->rx + s->rx_len, pcm, c * sizeof(*pcm));
		s->rx_len += c;
	}
}

double tone_dbfs(const int16_t *pcm, unsigned n, unsigned rate, double freq)
{
	double w = 2 * M_PI * freq / rate, c = 2 * cos(w), s0, s1 = 0, s2 = 0;
	for (unsigned i = 0; i < n; i++) {
		/* Hann window: leakage from the other tones stays far below the margins */
		double win = 0.5 - 0.5 * cos(2 * M_PI * i / (n - 1));
		s0 = pcm[i] * win + c * s1 - s2;
		s2 = s1;
		s1 = s0;
	}
	double re = s1 - s2 * cos(w), im = s2 * sin(w);
	double amp = 2 * sqrt(re * re + im * im) / (n * 0.5);
	return amp > 0 ? 20 * log10(amp / 32768.0) : -200;
}

double rms_dbfs(const int16_t *pcm, unsigned n)
{
	double e = 0;
	for (unsigned i = 0; i < n; i++)
		e += (double)pcm[i] * pcm[i];
	return n && e > 0 ? 10 * log10(e / n / (32768.0 * 32768.0)) : -200;
}

/* Energy in a frame that is not the 1 kHz tone, relative to the tone (dB). */
double residual_db(const int16_t *x, unsigned n, unsigned rate)
{
	double best = 1e300;
	/* least-squares fit of a 1 kHz sine (any phase) and compare what remains */
	double ss = 0, sc = 0, s2 = 0, c2 = 0, cs = 0, e = 0;
	for (unsigned i = 0; i < n; i++) {
		double w = 2 * M_PI * 1000.0 * i / rate, sn = sin(w), cn = cos(w);
		ss += x[i] * sn;
		sc += x[i] * cn;
		s2 += sn * sn;
		c2 += cn * cn;
		cs += sn * cn;
		e += (double)x[i] * x[i];
	}
	double det = s2 * c2 - cs * cs, a = (ss * c2 - sc * cs) / det, b = (sc * s2 - ss * cs) / det;
	double r = 0;
	for (unsigned i = 0; i < n; i++) {
		double w = 2 * M_PI * 1000.0 * i / rate;
		double d = x[i] - a * sin(w) - b * cos(w);
		r += d * d;
	}
	best = r;
	return 10 * log10((best + 1) / (e - best + 1));
}
