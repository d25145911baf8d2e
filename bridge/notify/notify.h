/* notify.h: telling the service manager how the bridge is (systemd's sd_notify protocol):
 * READY=1 once gateways run and HTTP listens, RELOADING=1/READY=1 around SIGHUP, STOPPING=1
 * when the shutdown starts, and WATCHDOG=1 from the core loop only while every media worker
 * is ticking. Without NOTIFY_SOCKET (not under systemd) or without libsystemd at build time
 * every call does nothing.
 *
 * Threading: core thread only, except tt__watchdog_* which touch only what they are given. */
#ifndef TT_NOTIFY_H
#define TT_NOTIFY_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

struct tt_core;
struct tt_workers;
struct tt_notify;

/* Sends READY=1 and, when the manager asked for a watchdog (WATCHDOG_USEC for this PID),
 * starts a timer on the default main context at half that period. Returns the state the
 * caller owns (NULL when there is nothing to keep: no watchdog). `workers` is borrowed and
 * must outlive the result. */
struct tt_notify *tt__notify_start(struct tt_workers *workers);
/* Stops the timer. Always returns NULL. */
struct tt_notify *tt__notify_free(struct tt_notify *n);
/* One state line, e.g. "RELOADING=1" or "STOPPING=1"; fire and forget. */
void tt__notify_send(const char *state);

/* The watchdog's decision, kept apart from timers and sockets so a unit test can drive it.
 * `last` holds n tick counts from the previous check. True when every count moved since then
 * (a worker that stands still is stalled: a ping now would hide it). `last` becomes `now`
 * either way, so a worker that resumes is trusted again at the next check. */
bool tt__watchdog_check(uint64_t *last, const uint64_t *now, unsigned n);

/* Backend (notify_sd.c with libsystemd, notify_none.c without): send one state, and the
 * watchdog period the manager wants from this process in microseconds (0: none). */
int tt__notify_backend_send(const char *state);
uint64_t tt__notify_backend_watchdog_usec(void);

#endif
