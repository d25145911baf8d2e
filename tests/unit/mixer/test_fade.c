/* test_fade.c: a voice entering or leaving the mix is ramped over 4 ms, not switched. */
#include <stdlib.h>

#include "helpers.h"
#include "tt_test.h"

#define F 160      /* 20 ms at 8 kHz */

TT_TEST(mixer_fade_in_and_out)
{
	struct tt_mixer_room *m = NULL;
	struct tt_mixer_room_cfg cfg = {.rate = 8000, .max_parts = 2, .cpu = TT_MIXER_CPU_AUTO};
	struct sender t, l;
	const int TICKS = 60;
	TT_ASSERT_INT_EQ(tt_mixer_room_alloc(&m, &cfg), 0);
	/* 2 kHz at 8 kHz: samples 0, +A, 0, -A, ... so full amplitude from the 2nd sample */
	TT_ASSERT_INT_EQ(sender_init(&t, m, "pcmu", 8000, 20, 2000, 16000, 10, 0), 0);
	TT_ASSERT_INT_EQ(sender_init(&l, m, "pcmu", 8000, 20, 0, 0, 10, F * TICKS), 0);
	l.silent = true;
	int muted_at = -1;
	for (int i = 0; i < TICKS; i++) {
		t.silent = i < 10;
		sender_tick(&t, (uint64_t)i * 20000);
		sender_tick(&l, (uint64_t)i * 20000);
		if (i == 40) {
			tt_mixer_part_set_mute(t.part, true);   /* leaves while loud */
			muted_at = i;
		}
		tt_mixer_room_tick(m, (uint64_t)i * 20000);
		sender_receive(&l);
	}
	TT_ASSERT_INT_EQ(l.rx_len, F * TICKS);
	/* onset: the first frame with sound ramps up over 32 samples (4 ms) */
	int on = -1;
	for (int f = 0; f < TICKS && on < 0; f++)
		for (int i = 0; i < F; i++)
			if (abs(l.rx[f * F + i]) > 1000) {
				on = f;
				break;
			}
	TT_ASSERT_MSG(on > 0 && on < 20, "onset frame %d", on);
	const int16_t *x = l.rx + on * F;
	int early = 0, late = 0;
	for (int i = 0; i < 8; i++)
		early = abs(x[i]) > early ? abs(x[i]) : early;
	for (int i = 40; i < F; i++)
		late = abs(x[i]) > late ? abs(x[i]) : late;
	TT_ASSERT_MSG(late > 14000, "onset frame peak %d", late);
	TT_ASSERT_MSG(early < 16000 * 8 / 32 + 600, "first 1 ms reaches %d: no fade-in", early);
	/* ramped, not delayed: sound from the first millisecond of the onset frame */
	TT_ASSERT(early > 1000);
	/* mute: the frame of the muting tick fades out within 4 ms, then silence */
	x = l.rx + muted_at * F;
	int head = 0, tail = 0;
	for (int i = 1; i < 8; i++)
		head = abs(x[i]) > head ? abs(x[i]) : head;
	for (int i = 40; i < F; i++)
		tail = abs(x[i]) > tail ? abs(x[i]) : tail;
	TT_ASSERT_MSG(head > 10000, "muting frame starts at %d: cut, not faded", head);
	TT_ASSERT_MSG(tail < 100, "muting frame tail %d: not faded out", tail);
	sender_fini(&t);
	sender_fini(&l);
	tt_mixer_room_free(m);
}
