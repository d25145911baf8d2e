/* signals.c: SIGINT and SIGTERM on a thread of their own, and the deadline that ends the
 * process when the polite shutdown does not.
 *
 * The handler only writes the signal number to a pipe. The watch thread reads it, asks the
 * core loop to quit (an idle source on the default context: thread-safe, and it wakes the
 * loop), then waits: when tt__signals_stop() does not come within bridge.shutdown_grace_ms
 * plus TT__SHUTDOWN_MARGIN_MS, it logs and calls _exit(0). So a core thread stuck in a
 * library (sofia-sip's resolver spinning, a blocking call, a flood) can no longer keep the
 * bridge from stopping, and the polite path (gateways hang up, sockets close) stays the
 * normal one while the loop is alive. */
#define TT_LOG_DOMAIN "core"
#include "core_priv.h"

#include <errno.h>
#include <glib-unix.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

#include <tutti/log.h>

static int pipe_fds[2] = { -1, -1 };
static GThread *watcher;
static atomic_int stop_flag;  /* set before the stop byte: a pipe full of signals cannot lose it */
static atomic_int grace_ms;   /* bridge.shutdown_grace_ms, set by the core thread */
static _Atomic int64_t signal_us;  /* monotonic time of the first signal, 0: none (atomic) */
static GMainLoop *core_loop;  /* our reference: the thread never touches struct tt_core */
static struct sigaction old_int, old_term;

static void on_signal(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;
	if (write(pipe_fds[1], &b, 1) < 0) {
		/* full pipe: a signal is already pending, nothing lost */
	}
	errno = saved;
}

static gboolean quit_loop(gpointer data)
{
	g_main_loop_quit(data);
	return G_SOURCE_REMOVE;
}

/* Reads one byte; -1: nothing within timeout_ms (negative: wait for ever). */
static int next_byte(int timeout_ms)
{
	for (;;) {
		struct pollfd p = { .fd = pipe_fds[0], .events = POLLIN };
		int n = poll(&p, 1, timeout_ms);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		unsigned char b;
		ssize_t r = read(pipe_fds[0], &b, 1);
		if (r == 1)
			return b;
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		return 0;  /* closed: treat as stop */
	}
}

static gpointer watch(gpointer data)
{
	GMainLoop *loop = data;
	int b;
	do {
		b = next_byte(-1);
		if (b == 0 || atomic_load(&stop_flag))
			return NULL;  /* tt__signals_stop() before any signal */
	} while (b < 0);
	gint64 grace = atomic_load(&grace_ms);
	tt_info("signal received: shutting down");
	gint64 now = g_get_monotonic_time();
	atomic_store(&signal_us, now);
	g_idle_add_full(G_PRIORITY_HIGH, quit_loop, g_main_loop_ref(loop),
			(GDestroyNotify)g_main_loop_unref);
	gint64 deadline = now + (grace + TT__SHUTDOWN_MARGIN_MS) * 1000;
	for (;;) {
		gint64 left = deadline - g_get_monotonic_time();
		if (left <= 0)
			break;
		b = next_byte((int)((left + 999) / 1000));
		if (b == 0 || atomic_load(&stop_flag))
			return NULL;  /* the polite shutdown finished */
		/* b > 0: another SIGINT/SIGTERM, the deadline stands; -1: look at the clock */
	}
	tt_warn("shutdown did not finish within bridge.shutdown_grace_ms (%" G_GINT64_FORMAT
		" ms) and %d ms more: exiting now", grace, TT__SHUTDOWN_MARGIN_MS);
	_exit(0);
}

void tt__signals_set_grace(int ms)
{
	atomic_store(&grace_ms, ms);
}

gint64 tt__signals_received_us(void)
{
	return atomic_load(&signal_us);
}

int tt__signals_start(GMainLoop *loop, int grace)
{
	if (watcher)
		return 0;
	atomic_store(&stop_flag, 0);
	atomic_store(&grace_ms, grace);
	atomic_store(&signal_us, 0);
	GError *err = NULL;
	if (!g_unix_open_pipe(pipe_fds, FD_CLOEXEC, &err)) {
		tt_error("signal pipe: %s", err->message);
		g_error_free(err);
		return -EMFILE;
	}
	g_unix_set_fd_nonblocking(pipe_fds[1], TRUE, NULL);
	g_unix_set_fd_nonblocking(pipe_fds[0], TRUE, NULL);
	core_loop = g_main_loop_ref(loop);
	watcher = g_thread_new("tt-signals", watch, core_loop);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	return 0;
}

void tt__signals_stop(void)
{
	if (!watcher)
		return;
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	atomic_store(&stop_flag, 1);
	unsigned char zero = 0;
	while (write(pipe_fds[1], &zero, 1) < 0 && errno == EINTR) {
	}
	g_thread_join(watcher);
	watcher = NULL;
	close(pipe_fds[0]);
	close(pipe_fds[1]);
	pipe_fds[0] = pipe_fds[1] = -1;
	g_main_loop_unref(core_loop);
	core_loop = NULL;
}
