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

/* A 48 kHz room with two senders and no RFC 6464 levels: A in Opus at 500 Hz, B in
 * b_codec at 700 Hz. */
static void two_without_levels(struct tt_mixer_room **m, struct sender *a, struct sender *b,
			       const char *b_codec)
{
	struct tt_mixer_room_cfg cfg = {.rate = 48000, .max_parts = 2, .cpu = TT_MIXER_CPU_AUTO};
	TT_ASSERT_INT_EQ(tt_mixer_room_alloc(m, &cfg), 0);
	TT_ASSERT_INT_EQ(sender_init(a, *m, "opus", 48000, 20, 500, 8000, TT_MIXER_LEVEL_ABSENT,
				     0), 0);
	TT_ASSERT_INT_EQ(sender_init(b, *m, b_codec, 48000, 20, 700, 8000, TT_MIXER_LEVEL_ABSENT,
				     0), 0);
}

/* Opus DTX without RFC 6464 levels: silence is known from the packets alone, not decoded. */
TT_TEST(mixer_dtx_not_decoded)
{
	struct tt_mixer_room *m = NULL;
	struct sender a, b;
	two_without_levels(&m, &a, &b, "opus");
	struct tt_codec_params p = {.room_rate = 48000, .ptime = 20, .bitrate = 32000, .dtx = true};
	tt_codec_enc_free(a.enc);
	TT_ASSERT_INT_EQ(tt_codec_enc_alloc(&a.enc, TT_CODEC_OPUS, &p), 0);
	struct tt_mixer_part_stats st;
	uint64_t dec_at_100 = 0;
	for (int t = 0; t < 200; t++) {
		a.silent = t >= 50 && t < 150;       /* A falls silent: its encoder goes DTX */
		b.silent = true;
		sender_tick(&a, (uint64_t)t * 20000);
		sender_tick(&b, (uint64_t)t * 20000);
		tt_mixer_room_tick(m, (uint64_t)t * 20000);
		if (t == 100) {
			tt_mixer_part_stats(a.part, &st);
			dec_at_100 = st.decoded;
			TT_ASSERT(!st.speaker);
		}
	}
	tt_mixer_part_stats(a.part, &st);
	/* ticks 100..149 are DTX: only the occasional DTX refresh packet (every 400 ms) is
	 * looked at; from 150 A talks again and is decoded and selected */
	TT_ASSERT_MSG(st.decoded - dec_at_100 < 50 + 10, "decoded %llu since tick 100",
		      (unsigned long long)(st.decoded - dec_at_100));
	TT_ASSERT(st.received < 190);               /* DTX really sent less */
	TT_ASSERT(st.speaker);
	TT_ASSERT(st.level_dbov > -30);
	sender_fini(&a);
	sender_fini(&b);
	tt_mixer_room_free(m);
}

/* A G.711 phone that stops sending (silence suppression, or no RTP at all) is silent
 * without decoding: its jitter buffer's gaps are not concealed, resampled and measured. */
TT_TEST(mixer_g711_gaps_not_decoded)
{
	struct tt_mixer_room *m = NULL;
	struct sender a, b;
	two_without_levels(&m, &a, &b, "pcmu");
	struct tt_mixer_part_stats st;
	uint64_t dec_at_100 = 0;
	for (int t = 0; t < 200; t++) {
		sender_tick(&a, (uint64_t)t * 20000);
		if (t < 50)
			sender_tick(&b, (uint64_t)t * 20000);   /* B talks, then sends nothing */
		tt_mixer_room_tick(m, (uint64_t)t * 20000);
		if (t == 100) {
			tt_mixer_part_stats(b.part, &st);
			dec_at_100 = st.decoded;
			TT_ASSERT(!st.speaker);
		}
	}
	tt_mixer_part_stats(b.part, &st);
	TT_ASSERT_MSG(st.decoded - dec_at_100 == 0, "decoded %llu frames of nothing",
		      (unsigned long long)(st.decoded - dec_at_100));
	sender_fini(&a);
	sender_fini(&b);
	tt_mixer_room_free(m);
}

/* Skipped while RFC 6464 says silent, then loud: the reset + warm-up decode gives clean audio
 * from the first full frame on. */
TT_TEST(mixer_resume_after_skip_is_clean)
{
	struct tt_mixer_room *m = NULL;
	struct tt_mixer_room_cfg cfg = {.rate = 48000, .max_parts = 2, .cpu = TT_MIXER_CPU_AUTO};
	struct sender a, l;
	const unsigned R = 960, TICKS = 100;
	TT_ASSERT_INT_EQ(tt_mixer_room_alloc(&m, &cfg), 0);
	TT_ASSERT_INT_EQ(sender_init(&a, m, "opus", 48000, 20, 1000, 8000, 127, 0), 0);
	TT_ASSERT_INT_EQ(sender_init(&l, m, "opus", 48000, 20, 0, 0, 127, R * TICKS), 0);
	l.silent = true;
	int sel = -1;
	for (unsigned t = 0; t < TICKS; t++) {
		a.level = t < 50 ? 127 : 15;    /* the tone is sent all along, levels lie first */
		sender_tick(&a, (uint64_t)t * 20000);
		sender_tick(&l, (uint64_t)t * 20000);
		tt_mixer_room_tick(m, (uint64_t)t * 20000);
		if (sel < 0 && tt_mixer_part_is_speaker(a.part))
			sel = (int)t;
		sender_receive(&l);
	}
	struct tt_mixer_part_stats st;
	tt_mixer_part_stats(a.part, &st);
	TT_ASSERT_MSG(sel >= 50 && sel < 55, "selected at %d", sel);
	TT_ASSERT(st.decoded < TICKS - 40);          /* really skipped before */
	for (int t = sel + 1; t < sel + 10; t++) {
		const int16_t *x = l.rx + (unsigned)t * R;
		double lvl = tone_dbfs(x, R, 48000, 1000), res = residual_db(x, R, 48000);
		TT_ASSERT_MSG(lvl > -14.5 && lvl < -10.5, "frame %d: %.1f dBFS", t, lvl);
		TT_ASSERT_MSG(res < -20, "frame %d: residual %.1f dB", t, res);
	}
	sender_fini(&a);
	sender_fini(&l);
	tt_mixer_room_free(m);
}
