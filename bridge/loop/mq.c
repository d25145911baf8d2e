/* mq.c: GAsyncQueue + eventfd GSource: a cross-thread mailbox for a GMainContext.
 * Chosen over g_main_context_invoke() so that posts are coalesced into one wake-up per
 * loop iteration and a worker drains its whole mailbox between ticks in one dispatch. */
#define _GNU_SOURCE
#include "mq.h"

#include <errno.h>
#include <glib-unix.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct msg {
	tt_mq_h fn;
	void *arg;
};

struct tt_mq {
	GAsyncQueue *q;
	GSource *src;
	int efd;
	void *target;
};

static void drain(struct tt_mq *mq)
{
	struct msg *m;
	while ((m = g_async_queue_try_pop(mq->q))) {
		m->fn(mq->target, m->arg);
		g_free(m);
	}
}

static gboolean on_wake(gint fd, GIOCondition cond, gpointer data)
{
	struct tt_mq *mq = data;
	uint64_t v;
	ssize_t r = read(fd, &v, sizeof v);
	(void)r;
	drain(mq);
	return G_SOURCE_CONTINUE;
}

int tt_mq_alloc(struct tt_mq **mqp, GMainContext *ctx, void *target)
{
	struct tt_mq *mq = g_new0(struct tt_mq, 1);
	mq->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (mq->efd < 0) {
		int err = -errno;
		g_free(mq);
		return err;
	}
	mq->q = g_async_queue_new();
	mq->target = target;
	mq->src = g_unix_fd_source_new(mq->efd, G_IO_IN);
	g_source_set_callback(mq->src, (GSourceFunc)(void (*)(void))on_wake, mq, NULL);
	g_source_attach(mq->src, ctx);
	*mqp = mq;
	return 0;
}

void tt_mq_post(struct tt_mq *mq, tt_mq_h fn, void *arg)
{
	struct msg *m = g_new(struct msg, 1);
	m->fn = fn;
	m->arg = arg;
	g_async_queue_push(mq->q, m);
	uint64_t one = 1;
	ssize_t r = write(mq->efd, &one, sizeof one);
	(void)r;
}

struct tt_mq *tt_mq_free(struct tt_mq *mq)
{
	if (!mq)
		return NULL;
	g_source_destroy(mq->src);
	g_source_unref(mq->src);
	drain(mq);
	g_async_queue_unref(mq->q);
	close(mq->efd);
	g_free(mq);
	return NULL;
}
