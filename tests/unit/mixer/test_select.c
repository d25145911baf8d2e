/* test_select.c: top-K speaker selection through the tick: the K loudest, stable at equal
 * levels, never a muted one. */
#include "helpers.h"
#include "tt_test.h"

#define N 20

static void setup(struct tt_mixer_room **m, struct sender *s, const int *levels)
{
	struct tt_mixer_room_cfg cfg = {.rate = 8000, .max_parts = N, .cpu = TT_MIXER_CPU_AUTO};
	TT_ASSERT_INT_EQ(tt_mixer_room_alloc(m, &cfg), 0);
	for (int i = 0; i < N; i++)
		TT_ASSERT_INT_EQ(sender_init(&s[i], *m, "pcmu", 8000, 20, 300 + 50 * i, 3000,
					     levels[i], 0), 0);
}

static void run(struct tt_mixer_room *m, struct sender *s, int ticks, int *t0)
{
	for (int t = 0; t < ticks; t++, (*t0)++) {
		uint64_t now = (uint64_t)*t0 * 20000;
		for (int i = 0; i < N; i++)
			sender_tick(&s[i], now);
		tt_mixer_room_tick(m, now);
	}
}

static void teardown(struct tt_mixer_room *m, struct sender *s)
{
	for (int i = 0; i < N; i++)
		sender_fini(&s[i]);
	tt_mixer_room_free(m);
}

TT_TEST(mixer_select_k_loudest)
{
	struct tt_mixer_room *m = NULL;
	struct sender s[N];
	int levels[N], t = 0;
	/* all above the -50 dBov floor; 7, 11 and 16 are the loudest (-10, -12, -14 dBov) */
	for (int i = 0; i < N; i++)
		levels[i] = 20 + i;
	levels[7] = 10;
	levels[11] = 12;
	levels[16] = 14;
	setup(&m, s, levels);
	run(m, s, 30, &t);
	for (int i = 0; i < N; i++)
		TT_ASSERT_MSG(tt_mixer_part_is_speaker(s[i].part) == (i == 7 || i == 11 || i == 16),
			      "participant %d speaker=%d", i, tt_mixer_part_is_speaker(s[i].part));
	struct tt_mixer_room_stats st;
	tt_mixer_room_stats(m, &st);
	TT_ASSERT_INT_EQ(st.speakers, 3);

	/* a muted loud participant is not selected; the next loudest (0, -20 dBov) is */
	tt_mixer_part_set_mute(s[7].part, true);
	run(m, s, 10, &t);
	for (int i = 0; i < N; i++)
		TT_ASSERT_MSG(tt_mixer_part_is_speaker(s[i].part) == (i == 0 || i == 11 || i == 16),
			      "muted: participant %d speaker=%d", i,
			      tt_mixer_part_is_speaker(s[i].part));
	teardown(m, s);
}

TT_TEST(mixer_select_no_flapping)
{
	struct tt_mixer_room *m = NULL;
	struct sender s[N];
	int levels[N], t = 0;
	for (int i = 0; i < N; i++)
		levels[i] = i < 6 ? 20 : 70;   /* six equal voices, the rest below the floor */
	setup(&m, s, levels);
	run(m, s, 10, &t);
	bool was[N];
	for (int i = 0; i < N; i++)
		was[i] = tt_mixer_part_is_speaker(s[i].part);
	unsigned changes = 0;
	for (int k = 0; k < 200; k++) {
		run(m, s, 1, &t);
		unsigned n = 0;
		for (int i = 0; i < N; i++) {
			bool now = tt_mixer_part_is_speaker(s[i].part);
			changes += now != was[i];
			was[i] = now;
			n += now;
			TT_ASSERT(!now || i < 6);
		}
		TT_ASSERT_INT_EQ(n, 3);
	}
	TT_ASSERT_INT_EQ(changes, 0);
	teardown(m, s);
}

TT_TEST(mixer_select_below_floor_never)
{
	struct tt_mixer_room *m = NULL;
	struct sender s[N];
	int levels[N], t = 0;
	for (int i = 0; i < N; i++)
		levels[i] = 60 + i;            /* all below -50 dBov */
	setup(&m, s, levels);
	run(m, s, 20, &t);
	for (int i = 0; i < N; i++)
		TT_ASSERT(!tt_mixer_part_is_speaker(s[i].part));
	teardown(m, s);
}
