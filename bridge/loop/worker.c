/* worker.c: media worker threads with a timerfd tick and a mailbox each. */
#define _GNU_SOURCE
#define TT_LOG_DOMAIN "worker"
#include "worker.h"

#include <errno.h>
#include <stdatomic.h>
#include <glib-unix.h>
#include <stdio.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <tutti/errno.h>
#include <tutti/log.h>
#include <tutti/reactor.h>
#include <tutti/transport.h>
#include <unistd.h>

#define LATE_US 5000         /* a tick this late is counted as late */
#define CATCHUP_MAX 3        /* after a longer stall, run at most this many ticks at once */
#define STATS_EVERY_MS 1000

/* 20 ms is the whole period: a tick that takes longer makes the next one late. */
const uint32_t tt__worker_tick_bounds_us[TT_WORKER_TICK_BUCKETS] = {
	100, 250, 500, 1000, 2000, 4000, 8000, 12000, 16000, 20000, 40000,
};

struct tt_tick_client {
	tt_tick_h fn;
	void *arg;
	bool removed;
};

struct tt_worker {
	struct tt_workers *set;
	unsigned index;
	GThread *thread;
	GMainContext *ctx;
	GMainLoop *loop;
	struct tt_mq *mq;
	int tfd;
	GSource *tick_src;
	struct tt_reactor *reactor;
	struct tt_udp_mux *mux;  /* opened on first use */
	bool mux_failed;         /* and not tried again after the range was full */
	int64_t start_ns;        /* CLOCK_MONOTONIC of tick 0's deadline */
	uint64_t period_ns;
	GPtrArray *clients;      /* struct tt_tick_client * */
	bool in_tick;
	struct tt_worker_stats st;
	uint64_t ticks_at_report;
	/* st.ticks for other threads (the watchdog, bridge/notify/): this thread alone stores
	 * it, relaxed, after each batch of ticks; a reader only asks whether it moved. */
	_Atomic uint64_t ticks_pub;
	unsigned placed;         /* core thread only: rooms placed here */
};

struct tt_workers {
	unsigned n;
	struct tt_worker *w;
	struct tt_mq *core_mq;
	tt_worker_stats_h stats_fn;
	void *stats_arg;
};

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Carries the callback, not the worker set: the core drains its mailbox after the set is
 * freed (tt__core_free), and a report posted just before the workers stopped runs then. */
struct stats_msg {
	tt_worker_stats_h fn;
	void *arg;
	struct tt_worker_stats st;
};

static void stats_on_core(void *core, void *arg)
{
	struct stats_msg *m = arg;
	(void)core;
	if (m->fn)
		m->fn(m->arg, &m->st);
	g_free(m);
}

/* Only this worker writes its counts, and they reach the core by value in the stats
 * message: no lock and no atomic on the tick, one clock read more. */
static void count_duration(struct tt_worker_stats *st, int64_t ns)
{
	uint64_t us = ns > 0 ? (uint64_t)ns / 1000 : 0;
	unsigned i = 0;
	while (i < TT_WORKER_TICK_BUCKETS && us > tt__worker_tick_bounds_us[i])
		i++;
	st->tick_us_counts[i]++;
	st->tick_ns_sum += ns > 0 ? (uint64_t)ns : 0;
}

static void run_clients(struct tt_worker *wk, int64_t late_us)
{
	int64_t t0 = mono_ns();
	wk->in_tick = true;
	tt_udp_mux_hold(wk->mux);
	for (guint i = 0; i < wk->clients->len; i++) {
		struct tt_tick_client *c = g_ptr_array_index(wk->clients, i);
		if (!c->removed)
			c->fn(c->arg, wk->st.ticks, late_us);
	}
	tt_udp_mux_flush(wk->mux);  /* every room's packets of this tick in one sendmmsg */
	wk->in_tick = false;
	/* clients removed during the tick are freed after it, never under the iteration */
	for (guint i = 0; i < wk->clients->len;) {
		struct tt_tick_client *c = g_ptr_array_index(wk->clients, i);
		if (c->removed) {
			g_ptr_array_remove_index(wk->clients, i);
			g_free(c);
		} else {
			i++;
		}
	}
	count_duration(&wk->st, mono_ns() - t0);
	wk->st.ticks++;
	if (late_us > LATE_US)
		wk->st.late++;
	if (late_us > wk->st.max_late_us)
		wk->st.max_late_us = late_us;
}

static gboolean on_tick(gint fd, GIOCondition cond, gpointer data)
{
	struct tt_worker *wk = data;
	uint64_t exp = 0;
	if (read(fd, &exp, sizeof exp) != sizeof exp || exp == 0)
		return G_SOURCE_CONTINUE;
	/* Deadline of the first due tick: ticks already run, times the period. */
	uint64_t due = exp;
	if (due > CATCHUP_MAX) {
		wk->st.skipped += due - CATCHUP_MAX;
		wk->st.ticks += due - CATCHUP_MAX; /* keep tick numbers on the clock */
		due = CATCHUP_MAX;
	}
	for (uint64_t i = 0; i < due; i++) {
		int64_t deadline = wk->start_ns + (int64_t)((wk->st.ticks + 1) * wk->period_ns);
		int64_t late_us = (mono_ns() - deadline) / 1000;
		run_clients(wk, late_us < 0 ? 0 : late_us);
	}
	atomic_store_explicit(&wk->ticks_pub, wk->st.ticks, memory_order_relaxed);
	uint64_t per_report = (uint64_t)STATS_EVERY_MS * 1000000ULL / wk->period_ns;
	if (wk->st.ticks - wk->ticks_at_report >= per_report) {
		wk->ticks_at_report = wk->st.ticks;
		struct stats_msg *m = g_new(struct stats_msg, 1);
		m->fn = wk->set->stats_fn;
		m->arg = wk->set->stats_arg;
		m->st = wk->st;
		m->st.clients = wk->clients->len;
		if (wk->mux) {
			struct tt_udp_mux_stats ms;
			struct sockaddr_storage ss;
			socklen_t sl = sizeof ss;
			tt_udp_mux_stats(wk->mux, &ms);
			m->st.shared_members = ms.members;
			m->st.shared_foreign_dropped = ms.foreign_dropped;
			m->st.shared_send_errors = ms.send_errors;
			m->st.shared_lite_members = ms.lite_members;
			m->st.shared_stun_answered = ms.stun_answered;
			m->st.shared_stun_dropped = ms.stun_dropped;
			if (tt_udp_mux_local(wk->mux, &ss, &sl) == 0)
				tt_sockaddr_format(m->st.shared_port, sizeof m->st.shared_port,
						   (struct sockaddr *)&ss);
		}
		tt_mq_post(wk->set->core_mq, stats_on_core, m);
	}
	return G_SOURCE_CONTINUE;
}

static gpointer worker_main(gpointer data)
{
	struct tt_worker *wk = data;
	g_main_context_push_thread_default(wk->ctx);
	g_main_loop_run(wk->loop);
	g_main_context_pop_thread_default(wk->ctx);
	return NULL;
}

static void quit_on_worker(void *w, void *arg)
{
	struct tt_worker *wk = w;
	g_main_loop_quit(wk->loop);
}

static int worker_init(struct tt_worker *wk, struct tt_workers *set, unsigned i,
		       unsigned tick_ms)
{
	wk->set = set;
	wk->index = i;
	wk->st.index = i;
	wk->period_ns = (uint64_t)tick_ms * 1000000ULL;
	wk->clients = g_ptr_array_new();
	wk->ctx = g_main_context_new();
	wk->loop = g_main_loop_new(wk->ctx, FALSE);
	int rc = tt_mq_alloc(&wk->mq, wk->ctx, wk);
	if (rc)
		return rc;
	rc = tt_reactor_alloc(&wk->reactor, wk->ctx, 200);
	if (rc)
		return rc;
	wk->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (wk->tfd < 0)
		return -errno;
	wk->start_ns = mono_ns();
	struct itimerspec its = {
		.it_interval = { .tv_sec = 0, .tv_nsec = (long)wk->period_ns },
	};
	int64_t first = wk->start_ns + (int64_t)wk->period_ns;
	its.it_value.tv_sec = first / 1000000000LL;
	its.it_value.tv_nsec = first % 1000000000LL;
	if (timerfd_settime(wk->tfd, TFD_TIMER_ABSTIME, &its, NULL) != 0)
		return -errno;
	wk->tick_src = g_unix_fd_source_new(wk->tfd, G_IO_IN);
	g_source_set_priority(wk->tick_src, G_PRIORITY_HIGH);  /* ticks before mailbox work */
	/* GLib "blocks" a non-recursive fd source around its dispatch: it takes the fd out of
	 * the poll set and puts it back, and each change wakes the context (an eventfd write,
	 * and one more loop iteration to read it): two system calls and a poll per tick for
	 * nothing. on_tick never iterates the context, so it cannot recurse. */
	g_source_set_can_recurse(wk->tick_src, TRUE);
	g_source_set_callback(wk->tick_src, (GSourceFunc)(void (*)(void))on_tick, wk, NULL);
	g_source_attach(wk->tick_src, wk->ctx);
	char name[24];
	snprintf(name, sizeof name, "tt-media-%u", i);
	wk->thread = g_thread_try_new(name, worker_main, wk, NULL);
	return wk->thread ? 0 : -EAGAIN;
}

static void worker_fini(struct tt_worker *wk)
{
	if (wk->thread) {
		tt_mq_post(wk->mq, quit_on_worker, NULL);
		g_thread_join(wk->thread);
	}
	if (wk->tick_src) {
		g_source_destroy(wk->tick_src);
		g_source_unref(wk->tick_src);
	}
	if (wk->tfd > 0)
		close(wk->tfd);
	wk->mq = tt_mq_free(wk->mq);  /* late messages run here so their arguments are freed */
	wk->mux = tt_udp_mux_free(wk->mux);          /* after the messages that free transports */
	wk->reactor = tt_reactor_free(wk->reactor);  /* and its watch before the reactor */
	if (wk->clients) {
		for (guint i = 0; i < wk->clients->len; i++)
			g_free(g_ptr_array_index(wk->clients, i));
		g_ptr_array_free(wk->clients, TRUE);
	}
	if (wk->loop)
		g_main_loop_unref(wk->loop);
	if (wk->ctx)
		g_main_context_unref(wk->ctx);
}

int tt_workers_alloc(struct tt_workers **wp, unsigned n, unsigned tick_ms,
		     struct tt_mq *core_mq, tt_worker_stats_h stats_fn, void *stats_arg)
{
	if (n == 0)
		n = g_get_num_processors();
	if (n == 0 || tick_ms == 0)
		return -EINVAL;
	struct tt_workers *set = g_new0(struct tt_workers, 1);
	set->n = n;
	set->w = g_new0(struct tt_worker, n);
	set->core_mq = core_mq;
	set->stats_fn = stats_fn;
	set->stats_arg = stats_arg;
	for (unsigned i = 0; i < n; i++) {
		int rc = worker_init(&set->w[i], set, i, tick_ms);
		if (rc) {
			tt_error("media worker %u: %s", i, tt_strerror(rc));
			set->n = i + 1;
			tt_workers_free(set);
			return rc;
		}
	}
	tt_info("%u media worker%s, %u ms tick", n, n == 1 ? "" : "s", tick_ms);
	*wp = set;
	return 0;
}

struct tt_workers *tt_workers_free(struct tt_workers *set)
{
	if (!set)
		return NULL;
	for (unsigned i = 0; i < set->n; i++)
		worker_fini(&set->w[i]);
	g_free(set->w);
	g_free(set);
	return NULL;
}

unsigned tt_workers_count(const struct tt_workers *set)
{
	return set->n;
}

struct tt_worker *tt_workers_get(struct tt_workers *set, unsigned i)
{
	return i < set->n ? &set->w[i] : NULL;
}

struct tt_worker *tt_workers_pick(struct tt_workers *set)
{
	struct tt_worker *best = &set->w[0];
	for (unsigned i = 1; i < set->n; i++)
		if (set->w[i].placed < best->placed)
			best = &set->w[i];
	return best;
}

void tt_worker_placed(struct tt_worker *wk, int delta)
{
	if (delta < 0 && wk->placed < (unsigned)-delta)
		wk->placed = 0;
	else
		wk->placed = (unsigned)((int)wk->placed + delta);
}

unsigned tt_worker_index(const struct tt_worker *wk)
{
	return wk->index;
}

void tt_worker_post(struct tt_worker *wk, tt_mq_h fn, void *arg)
{
	tt_mq_post(wk->mq, fn, arg);
}

GMainContext *tt_worker_context(struct tt_worker *wk)
{
	return wk->ctx;
}

struct tt_reactor *tt_worker_reactor(struct tt_worker *wk)
{
	return wk->reactor;
}

struct tt_udp_mux *tt_worker_udp_mux(struct tt_worker *wk, const char *addr, unsigned lo,
				     unsigned hi)
{
	if (wk->mux || wk->mux_failed)
		return wk->mux;
	int rc = tt_udp_mux_alloc(&wk->mux, wk->ctx, wk->reactor, true, addr, (uint16_t)lo,
				  (uint16_t)hi);
	if (rc) {
		wk->mux_failed = true;
		tt_warn("media worker %u: no shared port in %u-%u on %s (%s): plain RTP "
			"participants get a port each", wk->index, lo, hi, addr, tt_strerror(rc));
	}
	return wk->mux;
}

uint64_t tt_worker_ticks(const struct tt_worker *wk)
{
	return atomic_load_explicit(&wk->ticks_pub, memory_order_relaxed);
}

struct tt_tick_client *tt_worker_tick_add(struct tt_worker *wk, tt_tick_h fn, void *arg)
{
	struct tt_tick_client *c = g_new0(struct tt_tick_client, 1);
	c->fn = fn;
	c->arg = arg;
	g_ptr_array_add(wk->clients, c);
	return c;
}

void tt_worker_tick_remove(struct tt_worker *wk, struct tt_tick_client *c)
{
	if (!c)
		return;
	c->removed = true;
	if (!wk->in_tick) {
		g_ptr_array_remove(wk->clients, c);
		g_free(c);
	}
}
