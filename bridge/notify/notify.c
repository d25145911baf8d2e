/* notify.c: readiness, reload and stop states, and the watchdog timer on the core loop.
 *
 * Why the watchdog looks at the workers: a ping from a timer proves only that the core loop
 * runs. The media path is the workers' 20 ms ticks; a worker stuck in a codec or a lock
 * leaves every room on it silent while HTTP still answers. So the core loop pings only when
 * every worker's tick count (a relaxed atomic only the worker writes, tt_worker_ticks) moved
 * since the previous check, and systemd restarts the bridge when either side stops. */
#define TT_LOG_DOMAIN "core"
#include "notify.h"

#include <tutti/log.h>

#include "loop/worker.h"

#define MIN_CHECK_MS 1  /* g_timeout_add cannot do less */

struct tt_notify {
	struct tt_workers *workers;  /* borrowed */
	unsigned n;
	uint64_t *last;              /* tick counts at the previous check */
	uint64_t *now;
	guint timer;
	bool stalled;                /* logged once per stall, not every check */
};

bool tt__watchdog_check(uint64_t *last, const uint64_t *now, unsigned n)
{
	bool ok = true;
	for (unsigned i = 0; i < n; i++) {
		if (now[i] == last[i])
			ok = false;
		last[i] = now[i];
	}
	return ok;
}

static gboolean on_watchdog(gpointer data)
{
	struct tt_notify *nt = data;
	for (unsigned i = 0; i < nt->n; i++)
		nt->now[i] = tt_worker_ticks(tt_workers_get(nt->workers, i));
	if (tt__watchdog_check(nt->last, nt->now, nt->n)) {
		if (nt->stalled)
			tt_info("watchdog: every media worker ticks again; pinging systemd again");
		nt->stalled = false;
		tt__notify_backend_send("WATCHDOG=1");
	} else if (!nt->stalled) {
		nt->stalled = true;
		tt_warn("watchdog: a media worker has not ticked since the last check; not "
			"pinging systemd (it restarts the bridge when this lasts WatchdogSec)");
	}
	return G_SOURCE_CONTINUE;
}

struct tt_notify *tt__notify_start(struct tt_workers *workers)
{
	tt__notify_backend_send("READY=1");
	uint64_t usec = tt__notify_backend_watchdog_usec();
	if (!usec || !workers)
		return NULL;
	struct tt_notify *nt = g_new0(struct tt_notify, 1);
	nt->workers = workers;
	nt->n = tt_workers_count(workers);
	nt->last = g_new0(uint64_t, nt->n);
	nt->now = g_new0(uint64_t, nt->n);
	for (unsigned i = 0; i < nt->n; i++)
		nt->last[i] = tt_worker_ticks(tt_workers_get(workers, i));
	guint ms = (guint)(usec / 2000);
	if (ms < MIN_CHECK_MS)
		ms = MIN_CHECK_MS;
	if (usec < 1000000)
		tt_warn("watchdog: WatchdogSec below 1 s leaves the 20 ms media ticks little "
			"room; a busy machine may be restarted for nothing");
	nt->timer = g_timeout_add(ms, on_watchdog, nt);
	tt_info("watchdog: pinging systemd every %u ms while the %u media worker%s tick", ms,
		nt->n, nt->n == 1 ? "" : "s");
	return nt;
}

struct tt_notify *tt__notify_free(struct tt_notify *nt)
{
	if (!nt)
		return NULL;
	if (nt->timer)
		g_source_remove(nt->timer);
	g_free(nt->last);
	g_free(nt->now);
	g_free(nt);
	return NULL;
}

void tt__notify_send(const char *state)
{
	tt__notify_backend_send(state);
}
