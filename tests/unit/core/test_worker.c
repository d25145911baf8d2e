/* test_worker.c: worker mailboxes (order, exactly once, from any thread) and tick accounting
 * (ticks run, late ticks counted, stalls reported, never silently skipped). */
#include "tt_test.h"

#include <glib.h>

#include "loop/mq.h"
#include "loop/worker.h"

struct seq {
	gint next[2];
	gint bad;
};

struct item {
	struct seq *s;
	int thread, n;
};

static void on_item(void *w, void *arg)
{
	struct item *it = arg;
	/* per-sender order: each sender's numbers arrive 0, 1, 2, ... */
	if (g_atomic_int_get(&it->s->next[it->thread]) != it->n)
		g_atomic_int_inc(&it->s->bad);
	g_atomic_int_inc(&it->s->next[it->thread]);
	g_free(it);
}

struct sender {
	struct tt_worker *wk;
	struct seq *s;
	int thread;
};

static gpointer send_many(gpointer data)
{
	struct sender *sd = data;
	for (int i = 0; i < 2000; i++) {
		struct item *it = g_new(struct item, 1);
		*it = (struct item){ sd->s, sd->thread, i };
		tt_worker_post(sd->wk, on_item, it);
	}
	return NULL;
}

TT_TEST(worker_mailbox_order_exactly_once_any_thread)
{
	GMainContext *ctx = g_main_context_new();
	struct tt_mq *core_mq = NULL;
	struct tt_workers *ws = NULL;
	TT_ASSERT_INT_EQ(tt_mq_alloc(&core_mq, ctx, NULL), 0);
	TT_ASSERT_INT_EQ(tt_workers_alloc(&ws, 2, 20, core_mq, NULL, NULL), 0);
	struct seq s = { { 0, 0 }, 0 };
	struct sender a = { tt_workers_get(ws, 1), &s, 0 }, b = { tt_workers_get(ws, 1), &s, 1 };
	GThread *ta = g_thread_new("a", send_many, &a), *tb = g_thread_new("b", send_many, &b);
	g_thread_join(ta);
	g_thread_join(tb);
	for (int i = 0; i < 2000 && (g_atomic_int_get(&s.next[0]) < 2000 ||
				     g_atomic_int_get(&s.next[1]) < 2000); i++)
		g_usleep(1000);
	TT_ASSERT_INT_EQ(s.next[0], 2000);
	TT_ASSERT_INT_EQ(s.next[1], 2000);
	TT_ASSERT_INT_EQ(s.bad, 0);
	ws = tt_workers_free(ws);
	tt_mq_free(core_mq);
	g_main_context_unref(ctx);
}

struct ticker {
	struct tt_tick_client *c;
	gint ticks;
	gint64 max_late;
};

static void on_tick(void *arg, uint64_t tick, int64_t late_us)
{
	struct ticker *t = arg;
	g_atomic_int_inc(&t->ticks);
	if (late_us > t->max_late)
		t->max_late = late_us;
}

static struct ticker ticker;

static void add_ticker(void *w, void *arg)
{
	ticker.c = tt_worker_tick_add(w, on_tick, &ticker);
}

static void stall(void *w, void *arg)
{
	g_usleep((gulong)GPOINTER_TO_INT(arg) * 1000);
}

static struct tt_worker_stats last;
static gint reports;

static void on_stats(void *arg, const struct tt_worker_stats *st)
{
	last = *st;
	g_atomic_int_inc(&reports);
}

TT_TEST(worker_ticks_and_counts_late_and_skipped)
{
	GMainContext *ctx = g_main_context_new();
	struct tt_mq *core_mq = NULL;
	struct tt_workers *ws = NULL;
	TT_ASSERT_INT_EQ(tt_mq_alloc(&core_mq, ctx, NULL), 0);
	TT_ASSERT_INT_EQ(tt_workers_alloc(&ws, 1, 20, core_mq, on_stats, NULL), 0);
	struct tt_worker *wk = tt_workers_get(ws, 0);
	tt_worker_post(wk, add_ticker, NULL);
	g_usleep(300 * 1000);
	int n = g_atomic_int_get(&ticker.ticks);
	/* 300 ms of 20 ms ticks: about 15. Loose bounds: this checks that ticks run, not speed. */
	TT_ASSERT_MSG(n >= 5 && n <= 30, "%d ticks in 300 ms", n);
	/* a 45 ms stall: the deadlines it covered still run (late), none are skipped */
	tt_worker_post(wk, stall, GINT_TO_POINTER(45));
	/* a 300 ms stall: beyond the catch-up cap; the rest are counted as skipped */
	g_usleep(100 * 1000);
	tt_worker_post(wk, stall, GINT_TO_POINTER(300));
	/* wait for a stats report that covers both stalls */
	gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
	while (g_get_monotonic_time() < deadline && (last.skipped == 0 || last.ticks < 60))
		g_main_context_iteration(ctx, TRUE);
	TT_ASSERT(reports > 0);
	TT_ASSERT_MSG(last.late >= 2, "late = %llu", (unsigned long long)last.late);
	TT_ASSERT_MSG(last.skipped >= 5, "skipped = %llu", (unsigned long long)last.skipped);
	TT_ASSERT(last.max_late_us >= 20000);
	TT_ASSERT_INT_EQ(last.clients, 1);
	/* ticks + skipped keep to the clock: ticks run <= ticks counted */
	TT_ASSERT((uint64_t)g_atomic_int_get(&ticker.ticks) + last.skipped >= last.ticks - 60);
	ws = tt_workers_free(ws);
	tt_mq_free(core_mq);
	g_main_context_unref(ctx);
}

/* A report the worker posted just before it stopped is still in the core's mailbox when the
 * set is freed: the core drains that mailbox afterwards (tt__core_free), so the message must
 * not point into the set. ASan saw a heap-use-after-free at a bridge's exit before. */
TT_TEST(worker_stats_report_outlives_the_worker_set)
{
	GMainContext *ctx = g_main_context_new();
	struct tt_mq *core_mq = NULL;
	struct tt_workers *ws = NULL;
	g_atomic_int_set(&reports, 0);
	TT_ASSERT_INT_EQ(tt_mq_alloc(&core_mq, ctx, NULL), 0);
	TT_ASSERT_INT_EQ(tt_workers_alloc(&ws, 1, 20, core_mq, on_stats, NULL), 0);
	/* reports come once a second; never iterate ctx, so they wait in the mailbox */
	g_usleep(1300 * 1000);
	ws = tt_workers_free(ws);
	tt_mq_free(core_mq);   /* runs the waiting report now */
	TT_ASSERT_MSG(g_atomic_int_get(&reports) >= 1, "%d reports", g_atomic_int_get(&reports));
	g_main_context_unref(ctx);
}
