/* udp.c: plain UDP media transport: port range allocation, symmetric RTP, safe latching
 * against RTP bleed, recvmmsg/sendmmsg batches on the worker's GMainContext. */
#define _GNU_SOURCE    /* recvmmsg, sendmmsg */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib-unix.h>

#define TT_LOG_DOMAIN "udp"
#include "tutti/errno.h"
#include "tutti/log.h"
#include "transport_impl.h"
#include "tutti/reactor.h"
#include "udp_priv.h"

#define RX_BATCH 16
#define RX_ROUNDS 8            /* batches per dispatch, so one flood cannot starve a tick */
#define TX_BATCH 32

struct udp {
	/* what each packet in or out needs, in the first cache line */
	struct tt_transport *t;
	struct tt_udp_mux *mux;              /* shared worker port, or NULL */
	struct tt__mux_member *mm;
	int fd;                              /* -1 for a mux member */
	bool have_remote;
	bool latch;
	bool latched;
	unsigned latch_window_ms;
	int64_t latch_until_us;
	GSource *src;                        /* without a reactor */
	struct tt_reactor *reactor;
	struct tt_reactor_entry *watch;      /* with one */
	struct tt__rx *rx;                   /* own socket only */
	struct sockaddr_storage local;
	socklen_t local_len;
	struct sockaddr_storage remote;      /* where we send; the latched source once latched */
	socklen_t remote_len;

	struct mmsghdr smsg[TX_BATCH];
	struct iovec siov[TX_BATCH];
};

/* Rotates over the range so that freed ports are not reused at once (a late packet for the
 * previous owner would look like bleed for the next one). Shared by all workers: atomic. */
static atomic_uint port_cursor;

bool tt__sockaddr_same(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
		return x->sin6_port == y->sin6_port &&
		       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
	}
	return false;
}

/* Latching rules (docs/transport.md): once latched, only that address; before, the
 * signalled address always, and any other address only while the latch window is open and
 * only if the generic layer accepts the packet (valid RTP/RTCP, SRTP authenticates, SSRC as
 * signalled). The first accepted packet latches, and the window closes for good. Returns 0
 * when the packet was accepted. */
static int deliver(struct udp *u, uint8_t *buf, size_t len, const struct sockaddr_storage *from,
		   socklen_t from_len, int64_t at)
{
	if (u->latched) {
		if (!tt__sockaddr_same(from, &u->remote)) {
			tt__transport_count_bleed(u->t);
			return -EPERM;
		}
		return tt__transport_input_at(u->t, buf, len, at);
	}
	bool signalled = u->have_remote && tt__sockaddr_same(from, &u->remote);
	bool may_latch = u->latch && g_get_monotonic_time() < u->latch_until_us;
	if (!signalled && !may_latch) {
		tt__transport_count_bleed(u->t);
		return -EPERM;
	}
	int rc = tt__transport_input_at(u->t, buf, len, at);
	if (rc != 0)
		return rc;
	memcpy(&u->remote, from, from_len);
	u->remote_len = from_len;
	u->have_remote = true;
	u->latched = true;
	tt__transport_set_latched(u->t, true);
	return 0;
}

int tt__udp_deliver_member(struct udp *u, uint8_t *buf, size_t len, int64_t at)
{
	int rc = tt__transport_input_at(u->t, buf, len, at);
	if (rc == 0 && !u->latched) {
		u->latched = true;      /* as deliver(): its signalled address spoke */
		tt__transport_set_latched(u->t, true);
	}
	return rc;
}

struct tt_transport *tt__udp_transport(struct udp *u)
{
	return u->t;
}

void tt__udp_prefetch(const struct udp *u)
{
	__builtin_prefetch(u);
}

static void on_rx(void *arg, unsigned i, uint8_t *buf, size_t len,
		  const struct sockaddr_storage *from, socklen_t from_len, int64_t at)
{
	deliver(arg, buf, len, from, from_len, at);
}

static gboolean on_readable(gint fd, GIOCondition cond, gpointer data)
{
	struct udp *u = data;
	tt__rx_drain(u->rx, fd, RX_ROUNDS, NULL, on_rx, u);
	return G_SOURCE_CONTINUE;
}

static void on_ready(void *data)
{
	struct udp *u = data;
	on_readable(u->fd, G_IO_IN, u);
}

static int udp_send_batch(void *impl, const struct tt_transport_out *out, unsigned n)
{
	struct udp *u = impl;
	unsigned done = 0;

	if (!u->have_remote)
		return 0;          /* nowhere to send yet: counted as send errors */
	if (u->mm)
		return tt__udp_mux_send(u->mux, u->mm, out, n);
	while (done < n) {
		unsigned k = n - done < TX_BATCH ? n - done : TX_BATCH;
		for (unsigned i = 0; i < k; i++) {
			u->siov[i].iov_base = out[done + i].data;
			u->siov[i].iov_len = out[done + i].len;
			memset(&u->smsg[i].msg_hdr, 0, sizeof u->smsg[i].msg_hdr);
			u->smsg[i].msg_hdr.msg_iov = &u->siov[i];
			u->smsg[i].msg_hdr.msg_iovlen = 1;
			u->smsg[i].msg_hdr.msg_name = &u->remote;
			u->smsg[i].msg_hdr.msg_namelen = u->remote_len;
		}
		int r = sendmmsg(u->fd, u->smsg, k, MSG_DONTWAIT);
		if (r <= 0)
			return done ? (int)done : (r < 0 && errno != EAGAIN ? -errno : 0);
		done += (unsigned)r;
		if ((unsigned)r < k)
			break;
	}
	return (int)done;
}

static int udp_set_remote(void *impl, const struct sockaddr *sa, socklen_t len)
{
	struct udp *u = impl;
	if (len > sizeof u->remote || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
		return -EINVAL;
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	memcpy(&ss, sa, len);
	if (u->mm) {
		/* a shared port knows its members by address: the new one must be free */
		int rc = tt__udp_mux_rekey(u->mux, u->mm, &ss, len);
		if (rc)
			return rc;
	}
	u->remote = ss;
	u->remote_len = len;
	u->have_remote = true;
	/* Signalling vouches for the new address; allow one fresh latch for NAT behind it. */
	u->latched = false;
	tt__transport_set_latched(u->t, false);
	u->latch_until_us = g_get_monotonic_time() + (int64_t)u->latch_window_ms * 1000;
	return 0;
}

static int udp_local(void *impl, struct sockaddr_storage *ss, socklen_t *len)
{
	struct udp *u = impl;
	if (u->mm)
		return tt_udp_mux_local(u->mux, ss, len);
	memcpy(ss, &u->local, u->local_len);
	*len = u->local_len;
	return 0;
}

static void udp_destroy(void *impl)
{
	struct udp *u = impl;
	if (!u)
		return;
	if (u->mm)
		tt__udp_mux_leave(u->mux, u->mm);
	if (u->src) {
		g_source_destroy(u->src);
		g_source_unref(u->src);
	}
	tt_reactor_remove(u->reactor, u->watch);
	if (u->fd >= 0)
		close(u->fd);
	tt__rx_free(u->rx);
	free(u);
}

static void udp_prefetch_send(const void *impl, int level)
{
	const struct udp *u = impl;
	if (level == 2)
		tt__udp_prefetch(u);
	else if (u->mm)
		tt__udp_mux_prefetch_member(u->mm);
}

static const struct tt_transport_ops udp_ops = {
	.kind = "udp",
	.send_batch = udp_send_batch,
	.set_remote = udp_set_remote,
	.local = udp_local,
	.destroy = udp_destroy,
	.prefetch_send = udp_prefetch_send,
};

int tt__udp_bind_in_range(int *fdp, struct sockaddr_storage *local, socklen_t *local_len,
			  const char *addr, uint16_t lo, uint16_t hi)
{
	struct addrinfo hints, *ai = NULL;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
	if (getaddrinfo(addr, "0", &hints, &ai) != 0 || !ai)
		return -EINVAL;
	int fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		int err = -errno;
		freeaddrinfo(ai);
		return err;
	}
	/* Even ports only: the RTP convention, leaving the odd one for RTCP without rtcp-mux. */
	unsigned first = lo + (lo & 1u), span = hi >= first ? (hi - first) / 2 + 1 : 0;
	unsigned start = atomic_fetch_add(&port_cursor, 1);
	int err = -EADDRINUSE;
	for (unsigned i = 0; i < span; i++) {
		uint16_t port = (uint16_t)(first + ((start + i) % span) * 2);
		struct sockaddr_storage ss;
		memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
		if (ss.ss_family == AF_INET)
			((struct sockaddr_in *)&ss)->sin_port = htons(port);
		else
			((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
		if (bind(fd, (struct sockaddr *)&ss, ai->ai_addrlen) == 0) {
			atomic_store(&port_cursor, start + i + 1);
			memcpy(local, &ss, ai->ai_addrlen);
			*local_len = ai->ai_addrlen;
			*fdp = fd;
			fd = -1;
			err = 0;
			break;
		}
		if (errno != EADDRINUSE && errno != EACCES) {
			err = -errno;
			break;
		}
	}
	freeaddrinfo(ai);
	if (fd >= 0)
		close(fd);
	return err;
}

/* A socket of the transport's own, watched by the worker's reactor or a GSource. */
static int own_socket(struct udp *u, const struct tt_transport_cfg *cfg,
		      const struct tt_udp_cfg *ucfg)
{
	const char *addr = ucfg->bind_addr ? ucfg->bind_addr : "0.0.0.0";
	int err = tt__udp_bind_in_range(&u->fd, &u->local, &u->local_len, addr, ucfg->port_min,
					ucfg->port_max);
	if (err) {
		tt_warn("no UDP port in %u-%u on %s: %s", ucfg->port_min, ucfg->port_max, addr,
			tt_strerror(err));
		return err;
	}
	u->rx = tt__rx_new(RX_BATCH);
	if (!u->rx)
		return -ENOMEM;
	int rcvbuf = 256 * 1024;
	setsockopt(u->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	int on = 1;  /* when each datagram arrived, for jitter (see the receive loop) */
	setsockopt(u->fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
	if (cfg->reactor) {
		u->reactor = cfg->reactor;
		u->watch = tt_reactor_watch(cfg->reactor, u->fd, on_ready, u);
		return u->watch ? 0 : -errno;
	}
	u->src = g_unix_fd_source_new(u->fd, G_IO_IN);
	/* GLib "blocks" a non-recursive source around each dispatch by taking its fd out of the
	 * context's poll list and putting it back: two walks of an N-long list per packet
	 * batch, O(N^2) per tick with N participants (30 % of a worker at N = 1,000). The
	 * handler never iterates the context, so it cannot recurse. */
	g_source_set_can_recurse(u->src, TRUE);
	g_source_set_callback(u->src, G_SOURCE_FUNC(on_readable), u, NULL);
	g_source_attach(u->src, cfg->ctx);
	return 0;
}

int tt_transport_udp_alloc(struct tt_transport **tp, const struct tt_transport_cfg *cfg,
			   const struct tt_udp_cfg *ucfg)
{
	struct tt_transport *t = NULL;

	if (!tp || !cfg || !ucfg || !cfg->ctx || ucfg->port_min == 0 ||
	    ucfg->port_max < ucfg->port_min ||
	    (ucfg->remote.ss_family && ucfg->remote_len > sizeof ucfg->remote))
		return -EINVAL;
	struct udp *u = calloc(1, sizeof *u);
	if (!u)
		return -ENOMEM;
	u->fd = -1;
	u->latch = ucfg->latch;
	u->latch_window_ms = ucfg->latch_window_ms ? ucfg->latch_window_ms : 5000;
	u->latch_until_us = g_get_monotonic_time() + (int64_t)u->latch_window_ms * 1000;
	if (ucfg->remote.ss_family) {
		memcpy(&u->remote, &ucfg->remote, ucfg->remote_len);
		u->remote_len = ucfg->remote_len;
		u->have_remote = true;
	}
	int err = tt__transport_alloc(&t, cfg, &udp_ops, u);
	if (err) {
		udp_destroy(u);
		return err;
	}
	u->t = t;
	/* The shared port takes only whom it can tell apart by source address alone: a known
	 * remote that never moves (no latching) and that no other member has. */
	err = -ENOENT;
	if (ucfg->mux && !u->latch && u->have_remote) {
		err = tt__udp_mux_join(ucfg->mux, u, &u->remote, u->remote_len, &u->mm);
		if (err == 0)
			u->mux = ucfg->mux;
	}
	if (err)
		err = own_socket(u, cfg, ucfg);
	if (err) {
		tt_transport_free(t);  /* owns u: frees it */
		return err;
	}
	*tp = t;
	return 0;
}
