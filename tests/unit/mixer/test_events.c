/* test_events.c: talking events with hysteresis, levels without RFC 6464, mute/deaf/hold,
 * removal, and the no-level path (everyone decoded). */
#include <errno.h>
#include <stdlib.h>

#include "helpers.h"
#include "tt_test.h"

TT_TEST(mixer_talking_events)
{
	struct tt_mixer_room *m = NULL;
	struct tt_mixer_room_cfg cfg = {.rate = 48000, .max_parts = 3, .cpu = TT_MIXER_CPU_AUTO};
	struct sender a, b;
	TT_ASSERT_INT_EQ(tt_mixer_room_alloc(&m, &cfg), 0);
	/* A gives no RFC 6464 levels: its level is measured from decoded audio */
	TT_ASSERT_INT_EQ(sender_init(&a, m, "opus", 48000, 20, 500, 8000, TT_MIXER_LEVEL_ABSENT,
				     0), 0);
	TT_ASSERT_INT_EQ(sender_init(&b, m, "g722", 48000, 20, 800, 8000, 20, 0), 0);
	int starts = 0, stops = 0, t = 0;
	for (; t < 150; t++) {
		uint64_t now = (uint64_t)t * 20000;
		/* A talks 0.4 s, pauses 0.2 s (a breath: no stop), talks to 1.6 s, then silent */
		a.silent = (t >= 20 && t < 30) || t >= 80;
		b.silent = true;
		sender_tick(&a, now);
		sender_tick(&b, now);
		tt_mixer_room_tick(m, now);
		struct tt_mixer_event ev;
		while (tt_mixer_room_event_next(m, &ev)) {
			TT_ASSERT(ev.user == &a);
			if (ev.type == TT_MIXER_EV_TALK_START) {
				starts++;
				TT_ASSERT_MSG(t < 10, "start at tick %d", t);
			} else {
				stops++;
				TT_ASSERT_MSG(t > 80 && t < 120, "stop at tick %d", t);
			}
		}
	}
	TT_ASSERT_INT_EQ(starts, 1);
	TT_ASSERT_INT_EQ(stops, 1);
	struct tt_mixer_part_stats st;
	tt_mixer_part_stats(a.part, &st);
	TT_ASSERT(st.decoded >= 140);   /* no levels: decoded every tick */
	TT_ASSERT(!st.talking);
	tt_mixer_part_stats(b.part, &st);
	TT_ASSERT(st.decoded < 10);     /* silent by RFC 6464 and never a speaker */
	TT_ASSERT(st.received >= 140);
	sender_fini(&a);
	sender_fini(&b);
	tt_mixer_room_free(m);
}

TT_TEST(mixer_mute_deaf_hold_remove)
{
	struct tt_mixer_room *m = NULL;
	struct tt_mixer_room_cfg cfg = {.rate = 16000, .max_parts = 3, .cpu = TT_MIXER_CPU_AUTO};
	struct sender s[3];
	TT_ASSERT_INT_EQ(tt_mixer_room_alloc(&m, &cfg), 0);
	for (int i = 0; i < 3; i++)
		TT_ASSERT_INT_EQ(sender_init(&s[i], m, "pcma", 16000, 20, 500 + 300 * i, 8000, 20,
					     0), 0);
	struct tt_mixer_part *extra = NULL;
	struct tt_mixer_part_cfg pc = {.codec = "pcma"};
	TT_ASSERT_INT_EQ(tt_mixer_part_add(&extra, m, &pc), -ENOSPC);
	TT_ASSERT(extra == NULL);
	pc.codec = "speex";
	tt_mixer_part_set_deaf(s[1].part, true);
	tt_mixer_part_set_hold(s[2].part, true);
	for (int t = 0; t < 20; t++) {
		for (int i = 0; i < 3; i++)
			sender_tick(&s[i], (uint64_t)t * 20000);
		tt_mixer_room_tick(m, (uint64_t)t * 20000);
	}
	struct tt_mixer_out o;
	tt_mixer_part_output(s[1].part, &o);
	TT_ASSERT_INT_EQ(o.n, 0);                        /* deaf: nothing to send */
	TT_ASSERT(tt_mixer_part_is_speaker(s[1].part));  /* but heard */
	tt_mixer_part_output(s[2].part, &o);
	TT_ASSERT_INT_EQ(o.n, 0);                        /* hold: neither */
	TT_ASSERT(!tt_mixer_part_is_speaker(s[2].part));
	tt_mixer_part_output(s[0].part, &o);
	TT_ASSERT_INT_EQ(o.n, 1);
	/* removing a speaker between ticks, then ticking on, is fine */
	tt_mixer_part_remove(s[1].part);
	for (int t = 20; t < 30; t++) {
		sender_tick(&s[0], (uint64_t)t * 20000);
		tt_mixer_room_tick(m, (uint64_t)t * 20000);
	}
	TT_ASSERT_INT_EQ(tt_mixer_part_add(&extra, m, &pc), -EINVAL);
	pc.codec = "g722";
	pc.ptime = 30;
	TT_ASSERT_INT_EQ(tt_mixer_part_add(&extra, m, &pc), -EINVAL);
	pc.ptime = 60;
	TT_ASSERT_INT_EQ(tt_mixer_part_add(&extra, m, &pc), 0);
	for (int i = 0; i < 3; i++)
		sender_fini(&s[i]);
	tt_mixer_room_free(m);
}
