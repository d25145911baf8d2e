/* test_codec.c: round trips for every codec at every room rate keep a tone's frequency
 * (strongest of 24 probe frequencies) and level (within 1.5 dB). */
#include <math.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "tt_test.h"

static const unsigned rates[] = {8000, 16000, 24000, 48000};

static void round_trip_with(enum tt_codec_id c, unsigned room_rate, unsigned ptime,
			    unsigned bitrate, enum tt_opus_mode mode)
{
	struct tt_codec_params p = {.room_rate = room_rate, .ptime = ptime, .bitrate = bitrate,
				    .complexity = 5, .opus_mode = mode};
	struct tt_codec_enc *e = NULL;
	struct tt_codec_dec *d = NULL;
	TT_ASSERT_INT_EQ(tt_codec_enc_alloc(&e, c, &p), 0);
	TT_ASSERT_INT_EQ(tt_codec_dec_alloc(&d, c, &p), 0);
	unsigned rate = tt_codec_pcm_rate(c, room_rate), frame = rate / 1000 * ptime;
	unsigned total = rate, got = 0;       /* one second */
	int16_t *in = malloc(total * 2), *out = calloc(total + 2880, 2);
	const double f = 700, amp = 10000;    /* -10.3 dBFS */
	for (unsigned i = 0; i < total; i++)
		in[i] = (int16_t)lrint(amp * sin(2 * M_PI * f * i / rate));
	uint8_t buf[1500];
	for (unsigned off = 0; off + frame <= total; off += frame) {
		int len = tt_codec_enc_encode(e, in + off, frame, buf, tt_codec_max_payload(c, &p));
		TT_ASSERT_MSG(len > 0, "%s@%u encode %d", tt_codec_name(c), room_rate, len);
		TT_ASSERT_INT_EQ(tt_codec_dec_samples(d, buf, (size_t)len), frame);
		TT_ASSERT_INT_EQ(tt_codec_payload_samples(c, rate, buf, (size_t)len), frame);
		int n = tt_codec_dec_decode(d, buf, (size_t)len, out + got, 2880);
		TT_ASSERT_INT_EQ(n, frame);
		got += (unsigned)n;
	}
	const int16_t *x = out + rate / 5;    /* skip the codec's start-up */
	unsigned n = got - rate / 5;
	double lvl = tone_dbfs(x, n, rate, f), best = -300, bestf = 0;
	for (double probe = 250; probe < 3500 && probe < rate / 2.0; probe += 150) {
		double db = tone_dbfs(x, n, rate, probe);
		if (db > best) {
			best = db;
			bestf = probe;
		}
	}
	TT_ASSERT_MSG(bestf == f, "%s@%u: strongest %g Hz", tt_codec_name(c), room_rate, bestf);
	double want = 20 * log10(amp / 32768.0);
	TT_ASSERT_MSG(fabs(lvl - want) < 1.5, "%s@%u: %.2f dBFS, sent %.2f", tt_codec_name(c),
		      room_rate, lvl, want);
	/* concealment produces the asked length and stays bounded */
	TT_ASSERT_INT_EQ(tt_codec_dec_conceal(d, NULL, 0, out, frame), frame);
	TT_ASSERT_INT_EQ(tt_codec_dec_decode(d, (const uint8_t *)"", 0, out, frame), -EINVAL);
	free(in);
	free(out);
	tt_codec_enc_free(e);
	tt_codec_dec_free(d);
}

static void round_trip(enum tt_codec_id c, unsigned room_rate, unsigned ptime)
{
	round_trip_with(c, room_rate, ptime, 32000, TT_OPUS_AUTO);
}

static void round_trip_mode(enum tt_opus_mode mode)
{
	round_trip_with(TT_CODEC_OPUS, 48000, 20, 51000, mode);
}

TT_TEST(mixer_codec_round_trips)
{
	for (int c = 0; c < TT_CODEC_COUNT; c++)
		for (unsigned r = 0; r < 4; r++)
			round_trip((enum tt_codec_id)c, rates[r], 20);
	round_trip(TT_CODEC_OPUS, 48000, 60);
	round_trip(TT_CODEC_OPUS, 16000, 10);
	round_trip(TT_CODEC_PCMA, 8000, 40);
	/* CELT-only and SILK/hybrid both keep the tone and its level */
	round_trip_mode(TT_OPUS_CELT);
	round_trip_mode(TT_OPUS_VOICE);
}

TT_TEST(mixer_codec_names)
{
	TT_ASSERT_INT_EQ(tt_codec_find("OPUS"), TT_CODEC_OPUS);
	TT_ASSERT_INT_EQ(tt_codec_find("g722"), TT_CODEC_G722);
	TT_ASSERT_INT_EQ(tt_codec_find("pcmu"), TT_CODEC_PCMU);
	TT_ASSERT_INT_EQ(tt_codec_find("pcma"), TT_CODEC_PCMA);
	TT_ASSERT_INT_EQ(tt_codec_find("gsm"), -ENOENT);
	TT_ASSERT_INT_EQ(tt_codec_rtp_rate(TT_CODEC_G722), 8000);
	TT_ASSERT_INT_EQ(tt_codec_pcm_rate(TT_CODEC_OPUS, 24000), 24000);
	struct tt_codec_params bad = {.room_rate = 44100, .ptime = 20};
	struct tt_codec_enc *e = (void *)1;
	TT_ASSERT_INT_EQ(tt_codec_enc_alloc(&e, TT_CODEC_OPUS, &bad), -EINVAL);
	TT_ASSERT(e == (void *)1);      /* untouched on failure */
}

/* The whole path with packetisation: ptime 10 gives 2 payloads a tick, 40/60 one every
 * 2nd/3rd tick, with timestamps that advance by exactly one payload each. */
TT_TEST(mixer_ptime_packetisation)
{
	static const unsigned pt[] = {10, 20, 40, 60};
	for (unsigned k = 0; k < 4; k++) {
		struct tt_mixer_room *m = NULL;
		struct tt_mixer_room_cfg cfg = {.rate = 16000, .max_parts = 2,
						.cpu = TT_MIXER_CPU_AUTO};
		struct sender t, l;
		TT_ASSERT_INT_EQ(tt_mixer_room_alloc(&m, &cfg), 0);
		TT_ASSERT_INT_EQ(sender_init(&t, m, "opus", 16000, pt[k], 700, 8000, 15, 0), 0);
		TT_ASSERT_INT_EQ(sender_init(&l, m, "opus", 16000, pt[k], 0, 0, 15, 16000 * 2), 0);
		l.silent = true;
		unsigned payloads = 0;
		for (int i = 0; i < 60; i++) {
			uint64_t now = (uint64_t)i * 20000;
			sender_tick(&t, now);
			sender_tick(&l, now);
			tt_mixer_room_tick(m, now);
			struct tt_mixer_out o;
			tt_mixer_part_output(l.part, &o);
			TT_ASSERT_INT_EQ(o.ts_inc, 48 * pt[k]);
			payloads += o.n;
			sender_receive(&l);         /* checks the ts steps */
		}
		TT_ASSERT_INT_EQ(payloads, 60 * 20 / pt[k]);
		double lvl = tone_dbfs(l.rx + 16000, l.rx_len - 16000, 16000, 700);
		TT_ASSERT_MSG(lvl > -15 && lvl < -10, "ptime %u: tone at %.1f dBFS", pt[k], lvl);
		sender_fini(&t);
		sender_fini(&l);
		tt_mixer_room_free(m);
	}
}

/* Which Opus mode the encoder codes a voice-band mix with (the TOC's config: 0-11 SILK,
 * 12-15 hybrid, 16-31 CELT), and that every mode still carries the tone. */
static int opus_config(enum tt_opus_mode mode, unsigned bitrate, bool fec)
{
	struct tt_codec_params p = {.room_rate = 48000, .ptime = 20, .bitrate = bitrate,
				    .complexity = 4, .fec = fec, .opus_mode = mode};
	struct tt_codec_enc *e = NULL;
	TT_ASSERT_INT_EQ(tt_codec_enc_alloc(&e, TT_CODEC_OPUS, &p), 0);
	int16_t pcm[960];
	uint8_t buf[1500];
	int config = -1;
	for (int k = 0; k < 25; k++) {
		for (int i = 0; i < 960; i++) {
			double t = (k * 960 + i) / 48000.0;
			pcm[i] = (int16_t)lrint(4000 * sin(2 * M_PI * 300 * t) +
						3000 * sin(2 * M_PI * 1100 * t));
		}
		int len = tt_codec_enc_encode(e, pcm, 960, buf, sizeof buf);
		TT_ASSERT(len > 0);
		config = buf[0] >> 3;
	}
	tt_codec_enc_free(e);
	return config;
}

TT_TEST(mixer_opus_mode_auto_celt_from_40k_without_fec)
{
	TT_ASSERT(opus_config(TT_OPUS_AUTO, 51000, false) >= 16);  /* CELT */
	TT_ASSERT(opus_config(TT_OPUS_AUTO, 40000, false) >= 16);
	TT_ASSERT(opus_config(TT_OPUS_AUTO, 32000, false) < 16);   /* SILK or hybrid */
	TT_ASSERT(opus_config(TT_OPUS_AUTO, 51000, true) < 16);    /* FEC lives in SILK */
	TT_ASSERT(opus_config(TT_OPUS_VOICE, 51000, false) < 16);
	TT_ASSERT(opus_config(TT_OPUS_CELT, 32000, false) >= 16);
	TT_ASSERT_INT_EQ(tt_opus_mode_parse("auto"), TT_OPUS_AUTO);
	TT_ASSERT_INT_EQ(tt_opus_mode_parse("voice"), TT_OPUS_VOICE);
	TT_ASSERT_INT_EQ(tt_opus_mode_parse("celt"), TT_OPUS_CELT);
	TT_ASSERT_INT_EQ(tt_opus_mode_parse("music"), -EINVAL);
	TT_ASSERT_INT_EQ(tt_opus_mode_parse(NULL), -EINVAL);
}

/* Samples from a tone's onset in the encoder's input to its onset in the decoder's output:
 * the encoder's look-ahead (the decoder adds none). */
static int opus_delay(enum tt_opus_mode mode, unsigned bitrate)
{
	struct tt_codec_params p = {.room_rate = 48000, .ptime = 20, .bitrate = bitrate,
				    .complexity = 4, .opus_mode = mode};
	struct tt_codec_enc *e = NULL;
	struct tt_codec_dec *d = NULL;
	TT_ASSERT_INT_EQ(tt_codec_enc_alloc(&e, TT_CODEC_OPUS, &p), 0);
	TT_ASSERT_INT_EQ(tt_codec_dec_alloc(&d, TT_CODEC_OPUS, &p), 0);
	int16_t pcm[960], out[960];
	uint8_t buf[1500];
	int onset = -1;
	for (int k = 0; k < 10 && onset < 0; k++) {
		for (int i = 0; i < 960; i++) {
			int at = k * 960 + i - 3 * 960;   /* the tone starts in frame 3 */
			pcm[i] = at < 0 ? 0 : (int16_t)lrint(12000 * sin(2 * M_PI * 1000 * at / 48000.0));
		}
		int len = tt_codec_enc_encode(e, pcm, 960, buf, sizeof buf);
		TT_ASSERT(len > 0);
		TT_ASSERT_INT_EQ(tt_codec_dec_decode(d, buf, (size_t)len, out, 960), 960);
		for (int i = 0; i < 960 && onset < 0; i++)
			if (abs(out[i]) > 3000)
				onset = k * 960 + i - 3 * 960;
	}
	tt_codec_enc_free(e);
	tt_codec_dec_free(d);
	return onset;
}

TT_TEST(mixer_opus_celt_mode_adds_2_5_ms)
{
	int celt = opus_delay(TT_OPUS_AUTO, 51000), voice = opus_delay(TT_OPUS_VOICE, 51000);
	/* 120 samples of look-ahead, and a quarter period of the tone to reach 3000 */
	TT_ASSERT_MSG(celt >= 100 && celt <= 120 + 24, "CELT mix delayed %d samples", celt);
	TT_ASSERT_MSG(voice >= 312 && voice <= 312 + 48, "voice mix delayed %d samples", voice);
	TT_ASSERT(opus_delay(TT_OPUS_CELT, 32000) <= 120 + 24);
}
