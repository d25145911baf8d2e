/* worker.h: media worker threads. Each has its own GMainContext, a mailbox (tt_mq) and one
 * monotonic 20 ms tick (timerfd with absolute deadlines) that drives the rooms placed on it.
 *
 * Threading: tt_workers_alloc/free and tt_workers_pick are core-thread only. tt_worker_post is
 * any thread. Everything else (tick clients, the context) is the worker's own thread only:
 * call it from a handler posted with tt_worker_post. */
#ifndef TT_WORKER_H
#define TT_WORKER_H

#include <glib.h>
#include <stdint.h>
#include "mq.h"

struct tt_workers;
struct tt_worker;
struct tt_tick_client;
struct tt_udp_mux;

/* Called once per tick on the worker thread. `late_us` is how far past its deadline this
 * tick runs (catch-up ticks after a stall are late by a whole period or more). */
typedef void (*tt_tick_h)(void *arg, uint64_t tick, int64_t late_us);

/* The tick duration histogram's upper bounds (how long the rooms' ticks and the flush took,
 * in microseconds); counts[i] has the ticks within bounds[i], the last slot those above. */
#define TT_WORKER_TICK_BUCKETS 11
extern const uint32_t tt__worker_tick_bounds_us[TT_WORKER_TICK_BUCKETS];

/* Statistics one worker reports to the core about once per second (by value). */
struct tt_worker_stats {
	unsigned index;
	uint64_t ticks;        /* ticks run */
	uint64_t late;         /* ticks that started more than 5 ms after their deadline */
	uint64_t skipped;      /* deadlines dropped after a stall longer than the catch-up cap */
	int64_t max_late_us;
	unsigned clients;      /* rooms ticking on it */
	/* its shared media port (tutti/transport.h tt_udp_mux), when one was opened: */
	char shared_port[64];  /* "127.0.0.1:20002", or "" */
	unsigned shared_members;
	uint64_t shared_foreign_dropped, shared_send_errors;
	uint32_t shared_lite_members;                   /* of shared_members, ICE-lite (WebRTC) */
	uint64_t shared_stun_answered, shared_stun_dropped;
	/* how long ticks took (not cumulative: /metrics adds them up) and their sum */
	uint64_t tick_us_counts[TT_WORKER_TICK_BUCKETS + 1];
	uint64_t tick_ns_sum;
};
typedef void (*tt_worker_stats_h)(void *arg, const struct tt_worker_stats *st);

/* n workers (0: one per CPU core). `stats_fn` runs on the core thread through core_mq. */
int tt_workers_alloc(struct tt_workers **wp, unsigned n, unsigned tick_ms,
		     struct tt_mq *core_mq, tt_worker_stats_h stats_fn, void *stats_arg);
/* Stops and joins every thread. Messages still queued run on the core thread. */
struct tt_workers *tt_workers_free(struct tt_workers *w);
unsigned tt_workers_count(const struct tt_workers *w);
struct tt_worker *tt_workers_get(struct tt_workers *w, unsigned i);
/* The worker with the fewest rooms placed by the core; `delta` +1/-1 keeps the count. */
struct tt_worker *tt_workers_pick(struct tt_workers *w);
void tt_worker_placed(struct tt_worker *wk, int delta);
unsigned tt_worker_index(const struct tt_worker *wk);
/* Any thread, lock-free: ticks this worker has counted so far (it only grows). A stalled
 * worker's count stands still; the systemd watchdog (bridge/notify/) watches it. */
uint64_t tt_worker_ticks(const struct tt_worker *wk);

/* Any thread: run fn(worker, arg) on the worker thread, between ticks. */
void tt_worker_post(struct tt_worker *wk, tt_mq_h fn, void *arg);

/* Worker thread only. */
GMainContext *tt_worker_context(struct tt_worker *wk);
/* The worker's epoll set for transports' sockets and housekeeping (tutti/reactor.h). */
struct tt_reactor *tt_worker_reactor(struct tt_worker *wk);
/* The worker's shared UDP port for plain RTP, opened on first use on addr in lo..hi; NULL
 * when no port is free (callers then take a port of their own). Sends through it are
 * gathered over each tick and leave in one sendmmsg after the last room ticked. It is
 * closed with the worker, after the transports. */
struct tt_udp_mux *tt_worker_udp_mux(struct tt_worker *wk, const char *addr, unsigned lo,
				     unsigned hi);
struct tt_tick_client *tt_worker_tick_add(struct tt_worker *wk, tt_tick_h fn, void *arg);
void tt_worker_tick_remove(struct tt_worker *wk, struct tt_tick_client *c);

#endif
