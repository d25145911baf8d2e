/* test_nm1.c: N-1 through the real tick with distinct tones; saturation, never wrap-around. */
#include <math.h>
#include <stdlib.h>

#include "helpers.h"
#include "tt_test.h"

#define TICKS 60
#define MEASURE_FROM 30   /* ticks: after jitter buffer fill and codec warm-up */

static void run_nm1(const char *codec, unsigned rate)
{
	static const double f[3] = {400, 900, 1500};
	struct tt_mixer_room *m = NULL;
	struct tt_mixer_room_cfg cfg = {.rate = rate, .max_parts = 8, .cpu = TT_MIXER_CPU_AUTO};
	struct sender s[5];
	TT_ASSERT_INT_EQ(tt_mixer_room_alloc(&m, &cfg), 0);
	for (int i = 0; i < 5; i++) {
		unsigned cap = tt_codec_pcm_rate((enum tt_codec_id)tt_codec_find(codec), rate) / 50 *
			       TICKS;
		TT_ASSERT_INT_EQ(sender_init(&s[i], m, codec, rate, 20, i < 3 ? f[i] : 0, 6000,
					     15, cap), 0);
		s[i].silent = i >= 3;          /* two listeners */
	}
	for (int t = 0; t < TICKS; t++) {
		uint64_t now = (uint64_t)t * 20000;
		for (int i = 0; i < 5; i++)
			sender_tick(&s[i], now);
		TT_ASSERT_INT_EQ(tt_mixer_room_tick(m, now + 1000), 0);
		for (int i = 0; i < 5; i++)
			sender_receive(&s[i]);
	}
	for (int i = 0; i < 5; i++) {
		unsigned r = s[i].pcm_rate, from = r / 50 * MEASURE_FROM;
		TT_ASSERT_MSG(s[i].rx_len > from + r / 5, "%s: %u received", codec, s[i].rx_len);
		unsigned n = s[i].rx_len - from;
		for (int j = 0; j < 3; j++) {
			double db = tone_dbfs(s[i].rx + from, n, r, f[j]);
			/* 6000 peak is -14.7 dBFS */
			if (i == j)
				TT_ASSERT_MSG(db < -50, "%s@%u: part %d hears itself at %.1f dBFS",
					      codec, rate, i, db);
			else
				TT_ASSERT_MSG(db > -18 && db < -11,
					      "%s@%u: part %d hears %g Hz at %.1f dBFS", codec, rate,
					      i, f[j], db);
		}
		TT_ASSERT(tt_mixer_part_is_speaker(s[i].part) == (i < 3));
	}
	for (int i = 0; i < 5; i++)
		sender_fini(&s[i]);
	tt_mixer_room_free(m);
}

TT_TEST(mixer_nm1_tones_opus48)
{
	run_nm1("opus", 48000);
}

TT_TEST(mixer_nm1_tones_g722_16k)
{
	run_nm1("g722", 16000);
}

TT_TEST(mixer_nm1_tones_pcmu_8k)
{
	run_nm1("pcmu", 8000);
}

TT_TEST(mixer_nm1_tones_pcma_in_48k)
{
	run_nm1("pcma", 48000);   /* resampled both ways */
}

TT_TEST(mixer_saturation_clips)
{
	struct tt_mixer_room *m = NULL;
	struct tt_mixer_room_cfg cfg = {.rate = 8000, .max_parts = 4, .cpu = TT_MIXER_CPU_AUTO};
	struct sender s[4];
	TT_ASSERT_INT_EQ(tt_mixer_room_alloc(&m, &cfg), 0);
	for (int i = 0; i < 4; i++) {
		TT_ASSERT_INT_EQ(sender_init(&s[i], m, "pcmu", 8000, 20, 250, 30000, 3, 8000), 0);
		s[i].silent = i == 3;
	}
	for (int t = 0; t < 40; t++) {
		uint64_t now = (uint64_t)t * 20000;
		for (int i = 0; i < 4; i++)
			sender_tick(&s[i], now);
		tt_mixer_room_tick(m, now);
		for (int i = 0; i < 4; i++)
			sender_receive(&s[i]);
	}
	/* Three in-phase 30000 sines sum to 90000: the listener's output must be a clipped sine
	 * (flat tops near full scale), a speaker's (sum of two = 60000) too; wrap-around would
	 * show as jumps of ~60000 between neighbouring samples. */
	for (int who = 0; who < 4; who += 3) {
		const int16_t *x = s[who].rx + 8000 / 50 * 20;
		unsigned n = s[who].rx_len - 8000 / 50 * 20, flat = 0;
		int peak = 0, trough = 0, jump = 0;
		for (unsigned i = 1; i < n; i++) {
			int d = abs(x[i] - x[i - 1]);
			jump = d > jump ? d : jump;
			peak = x[i] > peak ? x[i] : peak;
			trough = x[i] < trough ? x[i] : trough;
			flat += abs(x[i]) > 30000;
		}
		TT_ASSERT_MSG(jump < 20000, "part %d: jump %d (wrap-around?)", who, jump);
		TT_ASSERT_MSG(peak > 30000 && trough < -30000, "part %d: peak %d/%d", who, peak,
			      trough);
		/* a 250 Hz sine at 90000 is beyond 32767 for ~75 % of the time */
		TT_ASSERT_MSG(flat > n / 2, "part %d: only %u of %u samples clipped", who, flat, n);
	}
	for (int i = 0; i < 4; i++)
		sender_fini(&s[i]);
	tt_mixer_room_free(m);
}

/* Per-participant gain: -6 dB on one talker is heard 6 dB lower by everyone else. */
TT_TEST(mixer_gain_applied)
{
	struct tt_mixer_room *m = NULL;
	struct tt_mixer_room_cfg cfg = {.rate = 16000, .max_parts = 3, .cpu = TT_MIXER_CPU_AUTO};
	struct sender s[3];
	TT_ASSERT_INT_EQ(tt_mixer_room_alloc(&m, &cfg), 0);
	for (int i = 0; i < 3; i++)
		TT_ASSERT_INT_EQ(sender_init(&s[i], m, "g722", 16000, 20, i == 0 ? 600 : 1100,
					     8000, 15, i == 2 ? 320 * 60 : 0), 0);
	s[2].silent = true;
	tt_mixer_part_set_gain(s[0].part, -6.0f);
	for (int t = 0; t < 60; t++) {
		for (int i = 0; i < 3; i++)
			sender_tick(&s[i], (uint64_t)t * 20000);
		tt_mixer_room_tick(m, (uint64_t)t * 20000);
		sender_receive(&s[2]);
	}
	const int16_t *x = s[2].rx + 320 * 20;
	unsigned n = s[2].rx_len - 320 * 20;
	double a = tone_dbfs(x, n, 16000, 600), b = tone_dbfs(x, n, 16000, 1100);
	TT_ASSERT_MSG(fabs((b - a) - 6.0) < 0.7, "gain: %.2f dB apart, want 6", b - a);
	for (int i = 0; i < 3; i++)
		sender_fini(&s[i]);
	tt_mixer_room_free(m);
}
