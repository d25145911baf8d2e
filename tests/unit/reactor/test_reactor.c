/* test_reactor.c: the worker reactor: readable sockets call back, dispatch is bounded, and
 * entries removed from inside callbacks (the same or another one, fd or timer) are never
 * called again nor used after free (ASan watches). */
#include "tt_test.h"

#include <glib.h>
#include <sys/socket.h>
#include <unistd.h>
#include <tutti/reactor.h>

#define N 100

struct ctx {
	struct tt_reactor *r;
	struct tt_reactor_entry *e[N];
	int fds[N][2];
	int calls[N];
	int victim;          /* entry to remove when entry 0 runs */
	int timer_calls, timer2_calls;
	struct tt_reactor_entry *t1, *t2;
};

static struct ctx c;

static void on_fd(void *arg)
{
	int i = GPOINTER_TO_INT(arg);
	char b[16];
	c.calls[i]++;
	if (read(c.fds[i][0], b, sizeof b) < 0) {}
	if (i == 0 && c.victim >= 0) {
		tt_reactor_remove(c.r, c.e[c.victim]);
		c.e[c.victim] = NULL;
		tt_reactor_remove(c.r, c.e[0]);   /* and itself */
		c.e[0] = NULL;
		c.victim = -1;
	}
}

static void on_t1(void *arg)
{
	c.timer_calls++;
	tt_reactor_remove(c.r, c.t2);   /* the other timer, from inside the timer loop */
	c.t2 = NULL;
}

static void on_t2(void *arg)
{
	c.timer2_calls++;
}

TT_TEST(reactor_dispatch_and_remove_inside_callbacks)
{
	GMainContext *ctx = g_main_context_new();
	TT_ASSERT_INT_EQ(tt_reactor_alloc(&c.r, ctx, 10), 0);
	for (int i = 0; i < N; i++) {
		TT_ASSERT(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, c.fds[i]) == 0);
		c.e[i] = tt_reactor_watch(c.r, c.fds[i][0], on_fd, GINT_TO_POINTER(i));
		TT_ASSERT(c.e[i] != NULL);
	}
	c.victim = N - 1;
	c.t1 = tt_reactor_every(c.r, on_t1, NULL);
	c.t2 = tt_reactor_every(c.r, on_t2, NULL);
	/* every socket readable at once */
	for (int i = 0; i < N; i++)
		TT_ASSERT(write(c.fds[i][1], "x", 1) == 1);
	/* one dispatch handles at most a bounded batch; keep iterating until all are served */
	for (int k = 0; k < 50; k++)
		g_main_context_iteration(ctx, FALSE);
	int served = 0;
	for (int i = 0; i < N; i++)
		served += c.calls[i];
	/* entry N-1 was removed by entry 0; if it ran before 0 in the same batch it got one
	 * call, never more */
	TT_ASSERT_MSG(served == N || served == N - 1, "served %d", served);
	TT_ASSERT(c.calls[N - 1] <= 1);
	/* removed entries are not called again */
	TT_ASSERT(write(c.fds[0][1], "y", 1) == 1);
	TT_ASSERT(write(c.fds[N - 1][1], "y", 1) == 1);
	int before0 = c.calls[0], beforeN = c.calls[N - 1];
	gint64 until = g_get_monotonic_time() + 50000;
	while (g_get_monotonic_time() < until)
		g_main_context_iteration(ctx, FALSE);
	TT_ASSERT_INT_EQ(c.calls[0], before0);
	TT_ASSERT_INT_EQ(c.calls[N - 1], beforeN);
	/* the timer ran, removed the second timer during its own loop; t2 ran at most once */
	TT_ASSERT(c.timer_calls >= 2);
	TT_ASSERT(c.timer2_calls <= 1);
	for (int i = 1; i < N - 1; i++)
		tt_reactor_remove(c.r, c.e[i]);
	tt_reactor_remove(c.r, c.t1);
	tt_reactor_free(c.r);
	for (int i = 0; i < N; i++) {
		close(c.fds[i][0]);
		close(c.fds[i][1]);
	}
	g_main_context_unref(ctx);
}
