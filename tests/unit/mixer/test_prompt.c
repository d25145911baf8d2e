/* test_prompt.c: tt_mixer_part_play(): a prompt reaches only its participant, through its
 * own encoder, even on hold; the others keep hearing the room; when it ends the encoder
 * goes back and a held participant gets nothing again. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "helpers.h"
#include "tt_test.h"

#define TICKS 60

TT_TEST(mixer_prompt_reaches_only_its_listener)
{
	const unsigned rate = 48000;
	struct tt_mixer_room *m = NULL;
	struct tt_mixer_room_cfg cfg = {.rate = rate, .max_parts = 8, .cpu = TT_MIXER_CPU_AUTO};
	struct sender s[3];   /* 0 talks at 500 Hz, 1 is held and gets the prompt, 2 listens */
	TT_ASSERT_INT_EQ(tt_mixer_room_alloc(&m, &cfg), 0);
	for (int i = 0; i < 3; i++) {
		TT_ASSERT_INT_EQ(sender_init(&s[i], m, "pcmu", rate, 20, i == 0 ? 500 : 0, 6000,
					     15, 8000 / 50 * TICKS), 0);
		s[i].silent = i != 0;
	}
	tt_mixer_part_set_hold(s[1].part, true);
	/* 0.6 s of 1200 Hz at the room rate */
	unsigned n = rate * 6 / 10;
	int16_t *pcm = malloc(n * sizeof(*pcm));
	TT_ASSERT(pcm);
	for (unsigned i = 0; i < n; i++)
		pcm[i] = (int16_t)lrint(8000 * sin(2 * M_PI * 1200 * i / rate));
	TT_ASSERT_INT_EQ(tt_mixer_part_play(s[1].part, NULL, 5), -EINVAL);
	TT_ASSERT_INT_EQ(tt_mixer_part_play(s[1].part, pcm, n), 0);
	free(pcm);   /* copied */
	TT_ASSERT(tt_mixer_part_playing(s[1].part));
	unsigned got_during = 0, got_after = 0;
	for (int t = 0; t < TICKS; t++) {
		uint64_t now = (uint64_t)t * 20000;
		for (int i = 0; i < 3; i++)
			sender_tick(&s[i], now);
		TT_ASSERT_INT_EQ(tt_mixer_room_tick(m, now + 1000), 0);
		struct tt_mixer_out o;
		tt_mixer_part_output(s[1].part, &o);
		if (t < 30) {
			got_during += o.n;
			TT_ASSERT(o.n == 0 || !o.shared);
		} else if (t > 32) {
			got_after += o.n;
		}
		for (int i = 0; i < 3; i++)
			sender_receive(&s[i]);
	}
	TT_ASSERT_MSG(got_during == 30, "prompt packets %u of 30", got_during);
	TT_ASSERT_MSG(got_after == 0, "a held participant got %u packets after the prompt",
		      got_after);
	TT_ASSERT(!tt_mixer_part_playing(s[1].part));
	/* what the held one decoded is the prompt, not the room */
	double p1200 = tone_dbfs(s[1].rx, 8000 / 50 * 28, 8000, 1200);
	double p500 = tone_dbfs(s[1].rx, 8000 / 50 * 28, 8000, 500);
	TT_ASSERT_MSG(p1200 > -30 && p1200 - p500 > 25, "prompt %.1f dB, room %.1f dB", p1200,
		      p500);
	/* the listener hears the room and never the prompt */
	unsigned from = 8000 / 50 * 20, len = s[2].rx_len - from;
	double l500 = tone_dbfs(s[2].rx + from, len, 8000, 500);
	double l1200 = tone_dbfs(s[2].rx + from, len, 8000, 1200);
	TT_ASSERT_MSG(l500 > -30 && l500 - l1200 > 25, "listener: room %.1f dB, prompt %.1f dB",
		      l500, l1200);
	/* stop works, and stopping nothing is fine */
	TT_ASSERT_INT_EQ(tt_mixer_part_play(s[1].part, NULL, 0), 0);
	for (int i = 0; i < 3; i++)
		sender_fini(&s[i]);
	tt_mixer_room_free(m);
}
