/* test_notify.c: the systemd watchdog's decision (bridge/notify/): ping only while every
 * media worker's tick count moves, on arrays and on real worker threads with one stalled. */
#include "tt_test.h"

#include <glib.h>

#include "loop/mq.h"
#include "loop/worker.h"
#include "notify/notify.h"

TT_TEST(watchdog_check_every_worker_must_move)
{
	uint64_t last[3] = { 10, 20, 30 };
	uint64_t now[3] = { 11, 25, 31 };
	TT_ASSERT(tt__watchdog_check(last, now, 3));
	TT_ASSERT(last[0] == 11 && last[1] == 25 && last[2] == 31);
	/* the middle one stands still: no ping */
	uint64_t still[3] = { 12, 25, 40 };
	TT_ASSERT(!tt__watchdog_check(last, still, 3));
	TT_ASSERT(!tt__watchdog_check(last, (uint64_t[3]){ 13, 25, 41 }, 3));
	/* it resumes: trusted again at the next check */
	TT_ASSERT(tt__watchdog_check(last, (uint64_t[3]){ 14, 26, 42 }, 3));
	/* nobody moved: no ping either */
	TT_ASSERT(!tt__watchdog_check(last, (uint64_t[3]){ 14, 26, 42 }, 3));
}

static gint stalling;

static void stall(void *w, void *arg)
{
	g_atomic_int_set(&stalling, 1);
	g_usleep((gulong)GPOINTER_TO_INT(arg) * 1000);
	g_atomic_int_set(&stalling, 2);
}

static void snapshot(struct tt_workers *ws, uint64_t *now)
{
	for (unsigned i = 0; i < tt_workers_count(ws); i++)
		now[i] = tt_worker_ticks(tt_workers_get(ws, i));
}

/* Real workers: the counters the watchdog reads move by themselves, and stop for a worker
 * that is stuck (here in a posted sleep, as it would be in a codec or a lock). */
TT_TEST(watchdog_sees_a_stalled_worker)
{
	GMainContext *ctx = g_main_context_new();
	struct tt_mq *core_mq = NULL;
	struct tt_workers *ws = NULL;
	TT_ASSERT_INT_EQ(tt_mq_alloc(&core_mq, ctx, NULL), 0);
	TT_ASSERT_INT_EQ(tt_workers_alloc(&ws, 2, 20, core_mq, NULL, NULL), 0);
	uint64_t last[2], now[2];
	snapshot(ws, last);
	g_usleep(300 * 1000);  /* 15 ticks of 20 ms; one is enough */
	snapshot(ws, now);
	TT_ASSERT_MSG(tt__watchdog_check(last, now, 2), "ticks %llu %llu",
		      (unsigned long long)now[0], (unsigned long long)now[1]);

	g_atomic_int_set(&stalling, 0);
	tt_worker_post(tt_workers_get(ws, 1), stall, GINT_TO_POINTER(1500));
	gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
	while (g_atomic_int_get(&stalling) == 0 && g_get_monotonic_time() < deadline)
		g_usleep(1000);
	TT_ASSERT_INT_EQ(g_atomic_int_get(&stalling), 1);
	snapshot(ws, last);
	g_usleep(300 * 1000);  /* inside the 1.5 s stall */
	snapshot(ws, now);
	bool worker1_still = g_atomic_int_get(&stalling) == 1;
	TT_ASSERT_MSG(worker1_still, "the stall ended before the second look (machine too busy)");
	TT_ASSERT(now[0] > last[0]);  /* the other worker ticks on */
	TT_ASSERT(!tt__watchdog_check(last, now, 2));

	while (g_atomic_int_get(&stalling) != 2 && g_get_monotonic_time() < deadline)
		g_usleep(10 * 1000);
	g_usleep(100 * 1000);  /* the first ticks after the stall */
	snapshot(ws, last);
	g_usleep(300 * 1000);
	snapshot(ws, now);
	TT_ASSERT(tt__watchdog_check(last, now, 2));
	ws = tt_workers_free(ws);
	tt_mq_free(core_mq);
	g_main_context_unref(ctx);
}
