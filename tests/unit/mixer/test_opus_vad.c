/* test_opus_vad.c: the SILK VAD flags read without decoding (mixer/level/opus_vad.c) on
 * libopus's own packets: quiet VOIP-mode frames, voice, CELT-only, 40/60 ms and multi-frame
 * packets, stereo, garbage; and a room of phones without levels that decodes only who
 * speaks, while everyone still hears the talkers and not themselves. */
#include <math.h>
#include <opus.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "level/opus_vad.h"
#include "tt_test.h"

/* Speech-like test signal: a 200 Hz buzz with harmonics, syllables of 200 ms on and off. A
 * pure sine would do for the mixer, but SILK's VAD judges spectra, so give it a voice. */
static void voice_fill(int16_t *pcm, unsigned n, unsigned rate, uint64_t t0, double amp)
{
	for (unsigned i = 0; i < n; i++) {
		double t = (double)(t0 + i) / rate, v = 0;
		for (int h = 1; h <= 8; h++)
			v += sin(2 * M_PI * 200 * h * t) / h;
		double env = fmod(t, 0.4) < 0.2 ? 1 : 0.05;
		pcm[i] = (int16_t)lrint(amp * env * v / 2.7);
	}
}

static OpusEncoder *enc_new(int app, int channels, int bitrate)
{
	int err;
	OpusEncoder *e = opus_encoder_create(48000, channels, app, &err);
	TT_ASSERT(e && err == OPUS_OK);
	opus_encoder_ctl(e, OPUS_SET_BITRATE(bitrate));
	/* as a phone's encoder: libopus may otherwise code a buzz as music, in CELT */
	if (app == OPUS_APPLICATION_VOIP)
		opus_encoder_ctl(e, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
	return e;
}

/* Frames of `ms` from an encoder fed silence or voice; counts the verdicts after the
 * encoder settled (the first 10 packets are left out). */
static void count(int app, int channels, int ms, bool voice, int *q, int *v, int *u)
{
	OpusEncoder *e = enc_new(app, channels, 32000);
	unsigned n = 48 * (unsigned)ms;
	int16_t mono[2880], pcm[2 * 2880];
	uint8_t pkt[1500];
	*q = *v = *u = 0;
	for (int f = 0; f < 60; f++) {
		if (voice)
			voice_fill(mono, n, 48000, (uint64_t)f * n, 12000);
		else
			memset(mono, 0, n * sizeof *mono);
		for (unsigned i = 0; i < n; i++)
			for (int c = 0; c < channels; c++)
				pcm[i * (unsigned)channels + (unsigned)c] = mono[i];
		int len = opus_encode(e, pcm, (int)n, pkt, sizeof pkt);
		TT_ASSERT(len > 0);
		if (f < 10)
			continue;
		switch (tt__opus_vad(pkt, (size_t)len)) {
		case TT__OPUS_VAD_QUIET: (*q)++; break;
		case TT__OPUS_VAD_VOICE: (*v)++; break;
		default: (*u)++; break;
		}
	}
	opus_encoder_destroy(e);
}

TT_TEST(opus_vad_quiet_and_voice_in_silk_frames)
{
	static const int ms[] = { 10, 20, 40, 60 };
	for (int ch = 1; ch <= 2; ch++)
		for (unsigned i = 0; i < 4; i++) {
			int q, v, u;
			count(OPUS_APPLICATION_VOIP, ch, ms[i], false, &q, &v, &u);
			TT_ASSERT_MSG(q == 50 && v == 0 && u == 0, "silence %d ms ch %d: %d/%d/%d",
				      ms[i], ch, q, v, u);
			count(OPUS_APPLICATION_VOIP, ch, ms[i], true, &q, &v, &u);
			/* syllables half the time (the rest 26 dB down): voice in most of them,
			 * and never "unknown" */
			TT_ASSERT_MSG(v >= 15 && u == 0, "voice %d ms ch %d: %d/%d/%d", ms[i], ch,
				      q, v, u);
		}
}

TT_TEST(opus_vad_celt_only_is_unknown)
{
	int q, v, u;
	count(OPUS_APPLICATION_RESTRICTED_LOWDELAY, 1, 20, false, &q, &v, &u);
	TT_ASSERT_MSG(u == 50, "celt: %d/%d/%d", q, v, u);
}

/* A code-3 packet of three 20 ms frames, voice only in the last: one flag is enough. */
TT_TEST(opus_vad_multi_frame_packet)
{
	OpusEncoder *e = enc_new(OPUS_APPLICATION_VOIP, 1, 32000);
	int16_t pcm[960];
	uint8_t frames[3][1500], out[4000];
	int len[3];
	for (int f = 0; f < 40; f++) {
		if (f == 39)
			voice_fill(pcm, 960, 48000, (uint64_t)f * 960, 12000);
		else
			memset(pcm, 0, sizeof pcm);
		int k = opus_encode(e, pcm, 960, frames[f >= 37 ? f - 37 : 0], 1500);
		TT_ASSERT(k > 0);
		len[f >= 37 ? f - 37 : 0] = k;
	}
	opus_encoder_destroy(e);
	OpusRepacketizer *rp = opus_repacketizer_create();
	opus_repacketizer_cat(rp, frames[0], len[0]);
	opus_repacketizer_cat(rp, frames[1], len[1]);
	int quiet_len = opus_repacketizer_out(rp, out, sizeof out);
	TT_ASSERT(quiet_len > 0);
	TT_ASSERT_INT_EQ(tt__opus_vad(out, (size_t)quiet_len), TT__OPUS_VAD_QUIET);
	opus_repacketizer_init(rp);
	for (int i = 0; i < 3; i++)
		opus_repacketizer_cat(rp, frames[i], len[i]);
	int n = opus_repacketizer_out(rp, out, sizeof out);
	opus_repacketizer_destroy(rp);
	TT_ASSERT(n > 0 && (out[0] & 3) == 3);
	TT_ASSERT_INT_EQ(tt__opus_vad(frames[2], (size_t)len[2]), TT__OPUS_VAD_VOICE);
	TT_ASSERT_INT_EQ(tt__opus_vad(out, (size_t)n), TT__OPUS_VAD_VOICE);
}

TT_TEST(opus_vad_bad_packets_are_unknown)
{
	uint8_t p[8] = { 0x4b, 0xff, 0xff };   /* SILK WB 20 ms, code 3, frame count 63: bad */
	TT_ASSERT_INT_EQ(tt__opus_vad(NULL, 0), TT__OPUS_VAD_UNKNOWN);
	TT_ASSERT_INT_EQ(tt__opus_vad(p, 0), TT__OPUS_VAD_UNKNOWN);
	TT_ASSERT_INT_EQ(tt__opus_vad(p, 3), TT__OPUS_VAD_UNKNOWN);
	/* a TOC alone: code 0, an empty frame, DTX: quiet */
	p[0] = 0x48;
	TT_ASSERT_INT_EQ(tt__opus_vad(p, 1), TT__OPUS_VAD_QUIET);
	/* every byte value after a SILK TOC parses or is refused, never read past len */
	for (int b = 0; b < 256; b++) {
		uint8_t q[2] = { 0x4b, (uint8_t)b };
		enum tt__opus_vad r = tt__opus_vad(q, 2);
		TT_ASSERT(r >= TT__OPUS_VAD_UNKNOWN && r <= TT__OPUS_VAD_VOICE);
	}
}

/* Phones without levels: 30 quiet VOIP-mode senders and 2 talkers. With the flags trusted
 * the room decodes about the talkers only; everybody hears both talkers, the talkers hear
 * each other and not themselves. decode_all_levels decodes everyone, as before. */
#define PHONES 32
static void run_room(bool decode_all, uint64_t *decodes, uint64_t *vad_quiet, double hear[3][2])
{
	struct tt_mixer_room *m = NULL;
	struct tt_mixer_room_cfg cfg = {.rate = 48000, .max_parts = PHONES,
					.cpu = TT_MIXER_CPU_AUTO, .decode_all_levels = decode_all};
	struct sender *s = calloc(PHONES, sizeof *s);
	const unsigned TICKS = 150, R = 960;
	TT_ASSERT(s);
	TT_ASSERT_INT_EQ(tt_mixer_room_alloc(&m, &cfg), 0);
	struct tt_codec_params vp = {.room_rate = 48000, .ptime = 20, .bitrate = 32000,
				     .complexity = 5, .opus_mode = TT_OPUS_VOICE};
	for (int i = 0; i < PHONES; i++) {
		TT_ASSERT_INT_EQ(sender_init(&s[i], m, "opus", 48000, 20, i == 0 ? 500 : 800,
					     i < 2 ? 8000 : 0, TT_MIXER_LEVEL_ABSENT,
					     i < 3 ? R * TICKS : 0), 0);
		/* what phones send: SILK/hybrid frames at 32 kbit/s, digital silence when quiet */
		tt_codec_enc_free(s[i].enc);
		TT_ASSERT_INT_EQ(tt_codec_enc_alloc(&s[i].enc, TT_CODEC_OPUS, &vp), 0);
		s[i].silent = i >= 2;
	}
	for (unsigned t = 0; t < TICKS; t++) {
		uint64_t now = (uint64_t)t * 20000;
		for (int i = 0; i < PHONES; i++)
			sender_tick(&s[i], now);
		tt_mixer_room_tick(m, now);
		for (int i = 0; i < 3; i++)
			sender_receive(&s[i]);
	}
	struct tt_mixer_room_stats st;
	tt_mixer_room_stats(m, &st);
	*decodes = st.decodes;
	*vad_quiet = st.vad_quiet;
	/* the last second: 0 talks at 500 Hz, 1 at 800 Hz, 2 listens */
	for (int i = 0; i < 3; i++) {
		unsigned n = 50 * R, from = s[i].rx_len > n ? s[i].rx_len - n : 0;
		hear[i][0] = tone_dbfs(s[i].rx + from, s[i].rx_len - from, 48000, 500);
		hear[i][1] = tone_dbfs(s[i].rx + from, s[i].rx_len - from, 48000, 800);
	}
	for (int i = 0; i < PHONES; i++)
		sender_fini(&s[i]);
	free(s);
	tt_mixer_room_free(m);
}

TT_TEST(mixer_phones_without_levels_decode_only_talkers)
{
	uint64_t dec_vad, dec_all, quiet_vad, quiet_all;
	double hv[3][2], ha[3][2];
	run_room(false, &dec_vad, &quiet_vad, hv);
	run_room(true, &dec_all, &quiet_all, ha);
	TT_ASSERT_INT_EQ(quiet_all, 0);
	TT_ASSERT_MSG(quiet_vad >= (PHONES - 2) * 100, "vad_quiet %llu",
		      (unsigned long long)quiet_vad);
	/* 150 ticks: decoding all is ~32 x 150; the flags leave the 2 talkers (+ warm-ups) */
	TT_ASSERT_MSG(dec_all >= (PHONES - 1) * 150u && dec_vad * 5 < dec_all,
		      "decodes with flags %llu, all %llu", (unsigned long long)dec_vad,
		      (unsigned long long)dec_all);
	for (int run = 0; run < 2; run++) {
		double (*h)[2] = run ? ha : hv;
		TT_ASSERT_MSG(h[2][0] > -40 && h[2][1] > -40, "listener hears %.1f %.1f (run %d)",
			      h[2][0], h[2][1], run);
		TT_ASSERT_MSG(h[0][1] > -40 && h[0][0] < h[0][1] - 20, "talker 0 hears %.1f %.1f",
			      h[0][0], h[0][1]);
		TT_ASSERT_MSG(h[1][0] > -40 && h[1][1] < h[1][0] - 20, "talker 1 hears %.1f %.1f",
			      h[1][0], h[1][1]);
	}
}

/* SILK's VAD learns a steady tone as background and stops flagging it (a tone, music on
 * hold, loud hum): the spot checks find it loud, and it is decoded and heard all along. */
TT_TEST(mixer_steady_tone_without_vad_flags_still_heard)
{
	struct tt_mixer_room *m = NULL;
	struct tt_mixer_room_cfg cfg = {.rate = 48000, .max_parts = 2, .cpu = TT_MIXER_CPU_AUTO};
	struct sender s[2];
	const unsigned TICKS = 750, R = 960;
	TT_ASSERT_INT_EQ(tt_mixer_room_alloc(&m, &cfg), 0);
	struct tt_codec_params vp = {.room_rate = 48000, .ptime = 20, .bitrate = 32000,
				     .complexity = 5, .opus_mode = TT_OPUS_VOICE};
	for (int i = 0; i < 2; i++) {
		TT_ASSERT_INT_EQ(sender_init(&s[i], m, "opus", 48000, 20, 700, i == 0 ? 8000 : 0,
					     TT_MIXER_LEVEL_ABSENT, i == 1 ? R * TICKS : 0), 0);
		tt_codec_enc_free(s[i].enc);
		TT_ASSERT_INT_EQ(tt_codec_enc_alloc(&s[i].enc, TT_CODEC_OPUS, &vp), 0);
		s[i].silent = i == 1;
	}
	/* the talker's encoder has played its tone for 3 s before it joins, as the load
	 * generator's pre-encoded loop has: its VAD already calls the tone background */
	struct tt_mixer_part *part = s[0].part;
	s[0].part = NULL;
	for (unsigned t = 0; t < 150; t++)
		sender_tick(&s[0], (uint64_t)t * 20000);
	s[0].part = part;
	unsigned heard_ticks = 0;
	for (unsigned t = 0; t < TICKS; t++) {
		uint64_t now = (uint64_t)t * 20000;
		for (int i = 0; i < 2; i++)
			sender_tick(&s[i], now);
		tt_mixer_room_tick(m, now);
		unsigned before = s[1].rx_len;
		sender_receive(&s[1]);
		if (t >= 50 && s[1].rx_len >= before + R &&
		    tone_dbfs(s[1].rx + s[1].rx_len - R, R, 48000, 700) > -30)
			heard_ticks++;
	}
	struct tt_mixer_room_stats st;
	tt_mixer_room_stats(m, &st);
	/* heard in (nearly) every tick after the first second: a gap of a spot check's tick
	 * at most, never the seconds a trusted "no voice" flag would cost */
	TT_ASSERT_MSG(heard_ticks >= TICKS - 50 - 10 && st.vad_distrusted > 0,
		      "heard in %u of %u ticks (distrusted %llu)",
		      heard_ticks, TICKS - 50, (unsigned long long)st.vad_distrusted);
	for (int i = 0; i < 2; i++)
		sender_fini(&s[i]);
	tt_mixer_room_free(m);
}
