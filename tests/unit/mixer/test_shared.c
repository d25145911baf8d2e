/* test_shared.c: shared encoders: encodes per tick in a 1,000-participant room; a speaker
 * who becomes a listener moves to the shared encoder without a glitch. */
#include <math.h>
#include <stdlib.h>

#include "helpers.h"
#include "tt_test.h"

#define BIG 1000

TT_TEST(mixer_shared_encoder_count)
{
	struct tt_mixer_room *m = NULL;
	struct tt_mixer_room_cfg cfg = {.rate = 48000, .max_parts = BIG, .cpu = TT_MIXER_CPU_AUTO};
	struct sender *s = calloc(BIG, sizeof(*s));
	TT_ASSERT(s);
	TT_ASSERT_INT_EQ(tt_mixer_room_alloc(&m, &cfg), 0);
	/* two codec variants: Opus 48 kHz/20 ms and PCMU; talkers 0 (Opus), 1 (Opus), 2 (PCMU) */
	for (int i = 0; i < BIG; i++) {
		const char *c = (i % 2 == 0 || i == 1) && i != 2 ? "opus" : "pcmu";
		TT_ASSERT_INT_EQ(sender_init(&s[i], m, c, 48000, 20, 300 + 100 * i, 8000, 20, 0), 0);
		s[i].silent = i >= 3;
	}
	struct tt_mixer_room_stats st = { 0 };
	unsigned checked = 0;
	uint64_t encodes = 0, decodes = 0;
	for (int t = 0; t < 20; t++) {
		uint64_t now = (uint64_t)t * 20000;
		for (int i = 0; i < BIG; i++)
			sender_tick(&s[i], now);
		tt_mixer_room_tick(m, now);
		uint64_t priv_before = st.encodes_private;
		tt_mixer_room_stats(m, &st);
		encodes += st.encodes_last_tick;
		decodes += st.decodes_last_tick;
		/* the totals are the per-tick counts added up, split by kind */
		TT_ASSERT_INT_EQ(st.encodes_shared + st.encodes_private + st.encodes_prompt,
				 encodes);
		TT_ASSERT_INT_EQ(st.decodes, decodes);
		TT_ASSERT_INT_EQ(st.encodes_prompt, 0);
		if (t < 10)
			continue;
		TT_ASSERT_INT_EQ(st.encodes_private - priv_before, 3);  /* an N-1 mix per speaker */
		/* 3 private N-1 encodes + one shared encode per variant = 5; the issue's
		 * (K + 1) x variants = 8 is the bound when every N-1 mix had both variants. */
		TT_ASSERT_INT_EQ(st.variants, 2);
		TT_ASSERT_INT_EQ(st.speakers, 3);
		TT_ASSERT_INT_EQ(st.encodes_last_tick, 3 + 2);
		TT_ASSERT(st.encodes_last_tick <= (3 + 1) * 2);
		/* decode only what can be heard: 3 talkers, plus G.711 (always decoded) */
		TT_ASSERT_MSG(st.decodes_last_tick <= 3 + BIG / 2, "decodes %u",
			      st.decodes_last_tick);
		for (int i = 0; i < BIG; i += 97) {
			struct tt_mixer_out o;
			tt_mixer_part_output(s[i].part, &o);
			TT_ASSERT_INT_EQ(o.n, 1);
			TT_ASSERT(o.shared == (i >= 3));
		}
		checked++;
	}
	TT_ASSERT_INT_EQ(checked, 10);
	/* shared payloads are the same bytes for everyone of a variant */
	struct tt_mixer_out a, b;
	tt_mixer_part_output(s[4].part, &a);
	tt_mixer_part_output(s[998].part, &b);
	TT_ASSERT(a.payload[0].data == b.payload[0].data);
	for (int i = 0; i < BIG; i++)
		sender_fini(&s[i]);
	free(s);
	tt_mixer_room_free(m);
}

TT_TEST(mixer_handover_speaker_to_listener)
{
	struct tt_mixer_room *m = NULL;
	struct tt_mixer_room_cfg cfg = {.rate = 48000, .max_parts = 4, .cpu = TT_MIXER_CPU_AUTO};
	struct sender a, b, l;
	const unsigned TICKS = 120, R = 48000 / 50;
	TT_ASSERT_INT_EQ(tt_mixer_room_alloc(&m, &cfg), 0);
	TT_ASSERT_INT_EQ(sender_init(&a, m, "opus", 48000, 20, 400, 8000, 15, R * TICKS), 0);
	TT_ASSERT_INT_EQ(sender_init(&b, m, "opus", 48000, 20, 1000, 8000, 15, R * TICKS), 0);
	TT_ASSERT_INT_EQ(sender_init(&l, m, "opus", 48000, 20, 0, 0, 15, R * TICKS), 0);
	l.silent = true;
	int handover = -1;
	for (unsigned t = 0; t < TICKS; t++) {
		uint64_t now = (uint64_t)t * 20000;
		a.silent = t >= 40;                 /* A stops talking */
		sender_tick(&a, now);
		sender_tick(&b, now);
		sender_tick(&l, now);
		bool was = tt_mixer_part_is_speaker(a.part);
		tt_mixer_room_tick(m, now);
		if (was && !tt_mixer_part_is_speaker(a.part))
			handover = (int)t;
		sender_receive(&a);
		sender_receive(&b);
		sender_receive(&l);
		struct tt_mixer_out o;
		tt_mixer_part_output(a.part, &o);
		if (t > 30 && t < 40)
			TT_ASSERT(!o.shared);
		if (handover >= 0 && t > (unsigned)handover)
			TT_ASSERT(o.shared);
	}
	TT_ASSERT_MSG(handover > 40 && handover < 80, "handover at tick %d", handover);
	/* A hears B's 1 kHz tone all along. Around the switch (frames of A's received stream,
	 * which has one frame per tick), the tone's level must not dip and nothing else may
	 * appear: a reset or a mismatched decoder state would show up as a click. */
	double ref = tone_dbfs(l.rx + R * (TICKS - 20), R * 10, 48000, 1000);
	for (int t = handover - 5; t <= handover + 5; t++) {
		const int16_t *x = a.rx + (unsigned)t * R;
		double lvl = tone_dbfs(x, R, 48000, 1000), res = residual_db(x, R, 48000);
		TT_ASSERT_MSG(fabs(lvl - ref) < 2.0, "frame %d: tone %.1f vs %.1f dBFS", t, lvl, ref);
		TT_ASSERT_MSG(res < -20, "frame %d: %.1f dB of something else", t, res);
	}
	sender_fini(&a);
	sender_fini(&b);
	sender_fini(&l);
	tt_mixer_room_free(m);
}

/* The room's jitter-buffer totals are counters: they keep what removed participants lost,
 * so a reader (the API, a later /metrics) never sees them go back. */
TT_TEST(mixer_room_stats_keep_removed_parts)
{
	struct tt_mixer_room *m = NULL;
	struct tt_mixer_room_cfg cfg = {.rate = 8000, .max_parts = 4, .cpu = TT_MIXER_CPU_AUTO};
	struct sender a, b;
	TT_ASSERT_INT_EQ(tt_mixer_room_alloc(&m, &cfg), 0);
	TT_ASSERT_INT_EQ(sender_init(&a, m, "pcmu", 8000, 20, 400, 8000, 15, 0), 0);
	TT_ASSERT_INT_EQ(sender_init(&b, m, "pcmu", 8000, 20, 900, 8000, 15, 0), 0);
	struct tt_mixer_part *keep = a.part;
	for (int t = 0; t < 40; t++) {
		a.part = t >= 10 && t < 13 ? NULL : keep;   /* three packets never arrive */
		sender_tick(&a, (uint64_t)t * 20000);
		sender_tick(&b, (uint64_t)t * 20000);
		tt_mixer_room_tick(m, (uint64_t)t * 20000);
	}
	struct tt_mixer_room_stats before, after;
	tt_mixer_room_stats(m, &before);
	TT_ASSERT_INT_EQ(before.lost, 3);
	TT_ASSERT(before.concealed >= 3);
	TT_ASSERT_INT_EQ(before.parts, 2);
	tt_mixer_part_remove(keep);
	a.part = NULL;
	tt_mixer_room_stats(m, &after);
	TT_ASSERT_INT_EQ(after.parts, 1);
	TT_ASSERT_INT_EQ(after.lost, before.lost);
	TT_ASSERT_INT_EQ(after.concealed, before.concealed);
	TT_ASSERT(after.decodes == before.decodes && after.decodes >= 40);
	sender_fini(&a);
	sender_fini(&b);
	tt_mixer_room_free(m);
}
