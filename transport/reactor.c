/* reactor.c: a per-worker epoll set and a shared housekeeping timer as two GLib sources. */
#define _GNU_SOURCE
#include "tutti/reactor.h"

#include <errno.h>
#include <stdbool.h>
#include <glib-unix.h>
#include <sys/epoll.h>
#include <unistd.h>

#define READY_MAX 64   /* ready sockets per dispatch: the tick waits at most this many */

struct tt_reactor_entry {
	tt_reactor_h fn;
	void *arg;
	int fd;          /* -1 for a timer entry */
	bool dead;
};

struct tt_reactor {
	int epfd;
	GSource *io;
	GSource *timer;
	GPtrArray *timers;     /* struct tt_reactor_entry *, in the order added */
	GPtrArray *grave;      /* removed while dispatching: freed when it ends */
	int dispatching;
};

static void bury(struct tt_reactor *r)
{
	for (guint i = 0; i < r->grave->len; i++)
		g_free(g_ptr_array_index(r->grave, i));
	g_ptr_array_set_size(r->grave, 0);
}

static gboolean on_io(gint fd, GIOCondition cond, gpointer data)
{
	struct tt_reactor *r = data;
	struct epoll_event ev[READY_MAX];
	int n = epoll_wait(r->epfd, ev, READY_MAX, 0);
	r->dispatching++;
	for (int i = 0; i < n; i++) {
		struct tt_reactor_entry *e = ev[i].data.ptr;
		if (!e->dead)
			e->fn(e->arg);
	}
	if (--r->dispatching == 0)
		bury(r);
	return G_SOURCE_CONTINUE;
}

static gboolean on_timer(gpointer data)
{
	struct tt_reactor *r = data;
	r->dispatching++;
	for (guint i = 0; i < r->timers->len; i++) {
		struct tt_reactor_entry *e = g_ptr_array_index(r->timers, i);
		if (!e->dead)
			e->fn(e->arg);
	}
	if (--r->dispatching == 0) {
		for (guint i = 0; i < r->timers->len;) {
			struct tt_reactor_entry *e = g_ptr_array_index(r->timers, i);
			if (e->dead) {
				g_ptr_array_remove_index(r->timers, i);
				g_free(e);
			} else {
				i++;
			}
		}
		bury(r);
	}
	return G_SOURCE_CONTINUE;
}

int tt_reactor_alloc(struct tt_reactor **rp, GMainContext *ctx, unsigned housekeep_ms)
{
	if (!rp || !housekeep_ms)
		return -EINVAL;
	int epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		return -errno;
	struct tt_reactor *r = g_new0(struct tt_reactor, 1);
	r->epfd = epfd;
	r->timers = g_ptr_array_new();
	r->grave = g_ptr_array_new();
	r->io = g_unix_fd_source_new(epfd, G_IO_IN);
	g_source_set_can_recurse(r->io, TRUE);  /* callbacks never iterate the context */
	g_source_set_callback(r->io, (GSourceFunc)(void (*)(void))on_io, r, NULL);
	g_source_attach(r->io, ctx);
	r->timer = g_timeout_source_new(housekeep_ms);
	g_source_set_callback(r->timer, on_timer, r, NULL);
	g_source_attach(r->timer, ctx);
	*rp = r;
	return 0;
}

struct tt_reactor *tt_reactor_free(struct tt_reactor *r)
{
	if (!r)
		return NULL;
	g_source_destroy(r->io);
	g_source_unref(r->io);
	g_source_destroy(r->timer);
	g_source_unref(r->timer);
	for (guint i = 0; i < r->timers->len; i++)
		g_free(g_ptr_array_index(r->timers, i));
	g_ptr_array_free(r->timers, TRUE);
	bury(r);
	g_ptr_array_free(r->grave, TRUE);
	close(r->epfd);
	g_free(r);
	return NULL;
}

struct tt_reactor_entry *tt_reactor_watch(struct tt_reactor *r, int fd, tt_reactor_h fn,
					  void *arg)
{
	struct tt_reactor_entry *e = g_new0(struct tt_reactor_entry, 1);
	e->fn = fn;
	e->arg = arg;
	e->fd = fd;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = e };
	if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		int err = errno;
		g_free(e);
		errno = err;
		return NULL;
	}
	return e;
}

struct tt_reactor_entry *tt_reactor_every(struct tt_reactor *r, tt_reactor_h fn, void *arg)
{
	struct tt_reactor_entry *e = g_new0(struct tt_reactor_entry, 1);
	e->fn = fn;
	e->arg = arg;
	e->fd = -1;
	g_ptr_array_add(r->timers, e);
	return e;
}

void tt_reactor_remove(struct tt_reactor *r, struct tt_reactor_entry *e)
{
	if (!r || !e || e->dead)
		return;
	e->dead = true;
	if (e->fd >= 0) {
		epoll_ctl(r->epfd, EPOLL_CTL_DEL, e->fd, NULL);
		/* an event for it may already sit in the batch being dispatched */
		if (r->dispatching)
			g_ptr_array_add(r->grave, e);
		else
			g_free(e);
		return;
	}
	if (!r->dispatching) {
		g_ptr_array_remove(r->timers, e);
		g_free(e);
	}
	/* else: stays in the list, dead, until on_timer's clean-up (or tt_reactor_free) */
}
