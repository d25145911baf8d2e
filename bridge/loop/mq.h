/* mq.h: a message queue into one GMainContext, with an eventfd wake-up.
 *
 * The only way threads talk in tutti: a sender posts a function and its argument, the
 * receiving loop runs it. tt_mq_post() may be called from any thread; the handlers run on
 * the thread iterating the context given to tt_mq_alloc(). Posts from one thread run in
 * order. The queue owns nothing inside messages: a handler owns its argument. */
#ifndef TT_MQ_H
#define TT_MQ_H

#include <glib.h>

struct tt_mq;
typedef void (*tt_mq_h)(void *target, void *arg);

/* `target` is passed to every handler (the worker or the core). Core thread. */
int tt_mq_alloc(struct tt_mq **mqp, GMainContext *ctx, void *target);
/* Any thread. Never fails (the queue is unbounded; senders are the core and workers). */
void tt_mq_post(struct tt_mq *mq, tt_mq_h fn, void *arg);
/* Run everything queued, then detach. Handlers still queued run with their argument so it
 * is freed. Call on the receiving thread after its loop stopped, or from the core once that
 * thread has been joined. */
struct tt_mq *tt_mq_free(struct tt_mq *mq);

#endif
