/* test_jbuf.c: the jitter buffer under a simulated network: jitter with reordering, 5 %
 * random loss, duplicates, a timestamp jump and +-1 % sender clock drift. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "jitter/jbuf.h"
#include "tt_test.h"

#define NPKT 1500       /* 30 s */

struct ev {
	uint64_t at;
	uint32_t idx, ts;
	uint16_t seq;
};

static int by_arrival(const void *a, const void *b)
{
	const struct ev *x = a, *y = b;
	return x->at < y->at ? -1 : x->at > y->at;
}

static uint32_t rng = 99;
static uint32_t rnd(void)
{
	rng = rng * 1103515245u + 12345u;
	return rng >> 8;
}

static void run(double drift, bool ts_jump)
{
	struct tt__jbuf jb;
	struct tt__jbuf_cfg cfg = {.rtp_rate = 8000, .ptime = 20, .max_payload = 64};
	struct ev *ev = calloc(NPKT * 2, sizeof(*ev));
	unsigned nev = 0, lost_in = 0, dup_in = 0;
	TT_ASSERT(ev);
	TT_ASSERT_INT_EQ(tt__jbuf_init(&jb, &cfg), 0);
	uint32_t ts = 1000;
	for (uint32_t i = 0; i < NPKT; i++, ts += 160) {
		if (ts_jump && i == 700)
			ts += 8000 * 10;                      /* the sender jumps 10 s ahead */
		uint64_t sent = (uint64_t)(i * 20000.0 * (1.0 + drift));
		if (i > 10 && rnd() % 100 < 5) {
			lost_in++;
			continue;
		}
		uint64_t at = 100000 + sent + 10000 + rnd() % 40000;   /* 10..50 ms: reorders */
		ev[nev++] = (struct ev){at, i, ts, (uint16_t)(40000 + i)};
		if (rnd() % 100 < 2) {
			ev[nev++] = (struct ev){at + 1000, i, ts, (uint16_t)(40000 + i)};
			dup_in++;
		}
	}
	qsort(ev, nev, sizeof(*ev), by_arrival);

	unsigned e = 0, pushed = 0, played = 0, max_depth = 0, ticks = 0;
	int64_t last_idx = -1;
	uint64_t depth_sum = 0;
	uint64_t end = 100000 + (uint64_t)(NPKT * 20000.0 * (1.0 + drift));
	for (uint64_t now = 7000; now < end; now += 20000, ticks++) {
		for (; e < nev && ev[e].at <= now; e++) {
			uint8_t pl[4];
			memcpy(pl, &ev[e].idx, 4);
			struct tt_mixer_pkt p = {.payload = pl, .len = 4, .seq = ev[e].seq,
						 .ts = ev[e].ts, .ssrc = 7, .level = -1,
						 .arrival_us = ev[e].at};
			TT_ASSERT_INT_EQ(tt__jbuf_push(&jb, &p, 160), 0);
			pushed++;
		}
		struct tt__jbuf_unit u[8];
		unsigned n = tt__jbuf_pull(&jb, 160, u, 8);
		uint32_t got = 0;
		for (unsigned i = 0; i < n; i++) {
			got += u[i].dur;
			if (u[i].kind != TT__JB_PACKET)
				continue;
			uint32_t idx;
			memcpy(&idx, u[i].data, 4);
			TT_ASSERT_MSG((int64_t)idx > last_idx, "played %u after %lld", idx,
				      (long long)last_idx);
			last_idx = idx;
			played++;
		}
		TT_ASSERT_MSG(got >= 160, "tick %u: only %u samples", ticks, got);  /* continuous */
		unsigned d = tt__jbuf_ms(&jb, tt__jbuf_depth(&jb));
		max_depth = d > max_depth ? d : max_depth;
		depth_sum += d;
	}
	const struct tt__jbuf_stats *st = &jb.st;
	printf("drift %+.0f%%%s: in lost %u dup %u | played %u lost %llu late %llu dup %llu "
	       "dropped %llu concealed %llu resets %llu | depth max %u avg %llu ms target %u ms\n",
	       drift * 100, ts_jump ? " +jump" : "", lost_in, dup_in, played,
	       (unsigned long long)st->lost, (unsigned long long)st->late,
	       (unsigned long long)st->duplicate, (unsigned long long)st->dropped,
	       (unsigned long long)st->concealed, (unsigned long long)st->resets, max_depth,
	       (unsigned long long)(depth_sum / ticks), tt__jbuf_ms(&jb, tt__jbuf_target(&jb)));
	TT_ASSERT_INT_EQ(st->received, pushed);
	TT_ASSERT_MSG(max_depth <= 250, "depth %u ms", max_depth);        /* bounded */
	TT_ASSERT_MSG(depth_sum / ticks <= 120, "average depth %llu ms",
		      (unsigned long long)(depth_sum / ticks));
	/* every packet sent is accounted for exactly once */
	TT_ASSERT_INT_EQ(played + st->lost + st->dropped, last_idx + 1);
	/* a shrink may drop a seq that was lost anyway: then it is counted as dropped */
	TT_ASSERT_MSG(st->lost + st->dropped >= lost_in && st->lost <= lost_in + st->late + 2,
		      "lost %llu for %u", (unsigned long long)st->lost, lost_in);
	TT_ASSERT(st->duplicate + st->late >= dup_in / 2);
	TT_ASSERT(st->duplicate <= dup_in);
	TT_ASSERT(st->concealed >= st->lost);
	TT_ASSERT(played > NPKT * 85 / 100);
	if (drift < 0)
		TT_ASSERT_MSG(st->dropped > 0, "fast sender: nothing dropped");
	tt__jbuf_fini(&jb);
	free(ev);
}

TT_TEST(mixer_jbuf_network)
{
	run(0, false);
}

TT_TEST(mixer_jbuf_ts_jump)
{
	run(0, true);
}

TT_TEST(mixer_jbuf_drift_slow_sender)
{
	run(+0.01, false);
}

TT_TEST(mixer_jbuf_drift_fast_sender)
{
	run(-0.01, false);
}

TT_TEST(mixer_jbuf_bad_input)
{
	struct tt__jbuf jb;
	struct tt__jbuf_cfg cfg = {.rtp_rate = 48000, .ptime = 20, .max_payload = 10};
	TT_ASSERT_INT_EQ(tt__jbuf_init(&jb, &cfg), 0);
	uint8_t big[11] = {0};
	struct tt_mixer_pkt p = {.payload = big, .len = 11, .seq = 1, .ts = 1, .level = -1};
	TT_ASSERT_INT_EQ(tt__jbuf_push(&jb, &p, 960), -EMSGSIZE);
	p.len = 0;
	TT_ASSERT_INT_EQ(tt__jbuf_push(&jb, &p, 960), -EINVAL);
	TT_ASSERT_INT_EQ(jb.st.received, 0);
	TT_ASSERT_INT_EQ(tt__jbuf_depth(&jb), 0);
	/* an SSRC change restarts the stream */
	p.len = 5;
	p.ssrc = 1;
	TT_ASSERT_INT_EQ(tt__jbuf_push(&jb, &p, 960), 0);
	p.ssrc = 2;
	p.seq = 30000;
	TT_ASSERT_INT_EQ(tt__jbuf_push(&jb, &p, 960), 0);
	TT_ASSERT_INT_EQ(jb.st.resets, 1);
	TT_ASSERT_INT_EQ(tt__jbuf_depth(&jb), 960);
	tt__jbuf_fini(&jb);
}

/* Adaptive: the target grows during a jitter spike and shrinks back after it. */
TT_TEST(mixer_jbuf_grows_and_shrinks)
{
	struct tt__jbuf jb;
	struct tt__jbuf_cfg cfg = {.rtp_rate = 48000, .ptime = 20, .max_payload = 16};
	TT_ASSERT_INT_EQ(tt__jbuf_init(&jb, &cfg), 0);
	struct ev *ev = calloc(2000, sizeof(*ev));
	TT_ASSERT(ev);
	/* 40 s: calm (0-2 ms), a 10 s spike (0-120 ms) from 10 s on, calm again from 20 s */
	for (uint32_t i = 0; i < 2000; i++) {
		uint64_t sent = (uint64_t)i * 20000;
		uint32_t j = i >= 500 && i < 1000 ? rnd() % 120000 : rnd() % 2000;
		ev[i] = (struct ev){sent + 5000 + j, i, 960 * i, (uint16_t)i};
	}
	qsort(ev, 2000, sizeof(*ev), by_arrival);
	unsigned e = 0, target_calm = 0, target_spike = 0, target_after = 0, depth_after = 0;
	for (uint64_t now = 3000, tick = 0; tick < 2000; now += 20000, tick++) {
		for (; e < 2000 && ev[e].at <= now; e++) {
			uint8_t pl[4] = {0};
			struct tt_mixer_pkt p = {.payload = pl, .len = 4, .seq = ev[e].seq,
						 .ts = ev[e].ts, .ssrc = 1, .level = -1,
						 .arrival_us = ev[e].at};
			tt__jbuf_push(&jb, &p, 960);
		}
		struct tt__jbuf_unit u[8];
		tt__jbuf_pull(&jb, 960, u, 8);
		unsigned t = tt__jbuf_ms(&jb, tt__jbuf_target(&jb));
		if (tick == 490)
			target_calm = t;
		if (tick > 600 && tick < 1000 && t > target_spike)
			target_spike = t;
		if (tick == 1990) {
			target_after = t;
			depth_after = tt__jbuf_ms(&jb, tt__jbuf_depth(&jb));
		}
	}
	printf("target calm %u ms, in spike up to %u ms, 20 s after %u ms (depth %u ms)\n",
	       target_calm, target_spike, target_after, depth_after);
	TT_ASSERT(target_calm <= 30);
	TT_ASSERT_MSG(target_spike >= 100, "did not grow: %u", target_spike);
	TT_ASSERT_MSG(target_after <= 40, "did not shrink back: %u", target_after);
	TT_ASSERT_MSG(depth_after <= 80, "depth stayed at %u ms", depth_after);
	tt__jbuf_fini(&jb);
	free(ev);
}
