/* reactor.h: one epoll set per media worker, seen by GLib as a single source.
 *
 * Why: with one GSource per participant socket, every GLib iteration prepares, polls and
 * checks all N of them, and one iteration can dispatch thousands of sockets while the 20 ms
 * tick waits behind them. A reactor costs GLib one fd; each dispatch takes at most a bounded
 * number of ready sockets, so the (higher-priority) tick always gets in between. Timers that
 * every transport needs (RTCP, inactivity) share one GLib timeout here too.
 *
 * Threading: a reactor belongs to the thread iterating its GMainContext; every call, and
 * every callback, happens there (alloc/free from the thread that owns the context before it
 * runs, or after it stopped). Removing an entry from inside any callback is safe: entries are
 * freed after the dispatch that is running. */
#ifndef TUTTI_REACTOR_H
#define TUTTI_REACTOR_H

#include <glib.h>

struct tt_reactor;
struct tt_reactor_entry;

typedef void (*tt_reactor_h)(void *arg);

/* housekeep_ms: the period of tt_reactor_every callbacks. 0 or negative errno. */
int tt_reactor_alloc(struct tt_reactor **rp, GMainContext *ctx, unsigned housekeep_ms);
struct tt_reactor *tt_reactor_free(struct tt_reactor *r);

/* Call fn(arg) while fd is readable (level-triggered). NULL on error (errno set). */
struct tt_reactor_entry *tt_reactor_watch(struct tt_reactor *r, int fd, tt_reactor_h fn,
					  void *arg);
/* Call fn(arg) every housekeep_ms. */
struct tt_reactor_entry *tt_reactor_every(struct tt_reactor *r, tt_reactor_h fn, void *arg);
/* Stop an entry; no callback for it after this returns. NULL is allowed. */
void tt_reactor_remove(struct tt_reactor *r, struct tt_reactor_entry *e);

#endif
