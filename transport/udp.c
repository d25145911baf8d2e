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
#include "tutti/transport_impl.h"
#include "tutti/reactor.h"

#define RX_BATCH 16
#define RX_BUF 2048            /* larger than any MTU-sized datagram; longer ones truncate */
#define RX_ROUNDS 8            /* batches per dispatch, so one flood cannot starve a tick */
#define TX_BATCH 32

struct udp {
	struct tt_transport *t;
	int fd;
	GSource *src;                        /* without a reactor */
	struct tt_reactor *reactor;
	struct tt_reactor_entry *watch;      /* with one */
	struct sockaddr_storage local;
	socklen_t local_len;
	struct sockaddr_storage remote;      /* where we send; the latched source once latched */
	socklen_t remote_len;
	bool have_remote;
	bool latch;
	bool latched;
	unsigned latch_window_ms;
	int64_t latch_until_us;

	unsigned rx_dirty;                   /* headers the last recvmmsg wrote into */
	struct mmsghdr rmsg[RX_BATCH];
	struct iovec riov[RX_BATCH];
	union {                              /* SO_TIMESTAMPNS control data, aligned */
		struct cmsghdr align;
		uint8_t buf[CMSG_SPACE(sizeof(struct timespec))];
	} rctl[RX_BATCH];
	struct sockaddr_storage rfrom[RX_BATCH];
	uint8_t rbuf[RX_BATCH][RX_BUF];
	struct mmsghdr smsg[TX_BATCH];
	struct iovec siov[TX_BATCH];
};

/* Rotates over the range so that freed ports are not reused at once (a late packet for the
 * previous owner would look like bleed for the next one). Shared by all workers: atomic. */
static atomic_uint port_cursor;

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
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
 * signalled). The first accepted packet latches, and the window closes for good. */
static void on_datagram(struct udp *u, uint8_t *buf, size_t len,
			const struct sockaddr_storage *from, socklen_t from_len, int64_t at)
{
	if (u->latched) {
		if (!same_addr(from, &u->remote)) {
			tt__transport_count_bleed(u->t);
			return;
		}
		tt__transport_input_at(u->t, buf, len, at);
		return;
	}
	bool signalled = u->have_remote && same_addr(from, &u->remote);
	bool may_latch = u->latch && g_get_monotonic_time() < u->latch_until_us;
	if (!signalled && !may_latch) {
		tt__transport_count_bleed(u->t);
		return;
	}
	if (tt__transport_input_at(u->t, buf, len, at) != 0)
		return;
	memcpy(&u->remote, from, from_len);
	u->remote_len = from_len;
	u->have_remote = true;
	u->latched = true;
	tt__transport_set_latched(u->t, true);
}

static gboolean on_readable(gint fd, GIOCondition cond, gpointer data);

static void on_ready(void *data)
{
	struct udp *u = data;
	on_readable(u->fd, G_IO_IN, u);
}

/* The receive headers point at fixed buffers, so they are set up once; the kernel writes
 * only the lengths and flags of the headers it filled, and only those are restored before
 * the next call. With one packet per socket per tick (the usual case) that is one header
 * per call instead of all RX_BATCH: the headers of N sockets stay out of the cache. */
static void rx_init(struct udp *u, unsigned i)
{
	u->riov[i].iov_base = u->rbuf[i];
	u->riov[i].iov_len = RX_BUF;
	memset(&u->rmsg[i].msg_hdr, 0, sizeof u->rmsg[i].msg_hdr);
	u->rmsg[i].msg_hdr.msg_iov = &u->riov[i];
	u->rmsg[i].msg_hdr.msg_iovlen = 1;
	u->rmsg[i].msg_hdr.msg_name = &u->rfrom[i];
	u->rmsg[i].msg_hdr.msg_namelen = sizeof u->rfrom[i];
	u->rmsg[i].msg_hdr.msg_control = u->rctl[i].buf;
	u->rmsg[i].msg_hdr.msg_controllen = sizeof u->rctl[i].buf;
}

static void rx_restore(struct udp *u)
{
	for (unsigned i = 0; i < u->rx_dirty; i++) {
		u->rmsg[i].msg_hdr.msg_namelen = sizeof u->rfrom[i];
		u->rmsg[i].msg_hdr.msg_controllen = sizeof u->rctl[i].buf;
		u->rmsg[i].msg_hdr.msg_flags = 0;
	}
	u->rx_dirty = 0;
}

static gboolean on_readable(gint fd, GIOCondition cond, gpointer data)
{
	struct udp *u = data;

	for (int round = 0; round < RX_ROUNDS; round++) {
		rx_restore(u);
		int n = recvmmsg(fd, u->rmsg, RX_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;
		u->rx_dirty = (unsigned)n;
		/* kernel timestamps are wall-clock: map them onto the monotonic clock once */
		int64_t mono = g_get_monotonic_time(), real = g_get_real_time();
		for (int i = 0; i < n; i++) {
			if (u->rmsg[i].msg_hdr.msg_flags & MSG_TRUNC)
				continue;
			int64_t at = mono;
			for (struct cmsghdr *c = CMSG_FIRSTHDR(&u->rmsg[i].msg_hdr); c;
			     c = CMSG_NXTHDR(&u->rmsg[i].msg_hdr, c)) {
				if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
					struct timespec ts;
					memcpy(&ts, CMSG_DATA(c), sizeof ts);
					int64_t k = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
					if (k <= real && real - k < 10 * G_USEC_PER_SEC)
						at = mono - (real - k);
				}
			}
			on_datagram(u, u->rbuf[i], u->rmsg[i].msg_len, &u->rfrom[i],
				    u->rmsg[i].msg_hdr.msg_namelen, at);
		}
		if (n < RX_BATCH)
			break;
	}
	return G_SOURCE_CONTINUE;
}

static int udp_send_batch(void *impl, const struct tt_transport_out *out, unsigned n)
{
	struct udp *u = impl;
	unsigned done = 0;

	if (!u->have_remote)
		return 0;          /* nowhere to send yet: counted as send errors */
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
	memcpy(&u->remote, sa, len);
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
	memcpy(ss, &u->local, u->local_len);
	*len = u->local_len;
	return 0;
}

static void udp_destroy(void *impl)
{
	struct udp *u = impl;
	if (!u)
		return;
	if (u->src) {
		g_source_destroy(u->src);
		g_source_unref(u->src);
	}
	tt_reactor_remove(u->reactor, u->watch);
	if (u->fd >= 0)
		close(u->fd);
	free(u);
}

static const struct tt_transport_ops udp_ops = {
	.kind = "udp",
	.send_batch = udp_send_batch,
	.set_remote = udp_set_remote,
	.local = udp_local,
	.destroy = udp_destroy,
};

static int bind_in_range(struct udp *u, const char *addr, uint16_t lo, uint16_t hi)
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
			memcpy(&u->local, &ss, ai->ai_addrlen);
			u->local_len = ai->ai_addrlen;
			u->fd = fd;
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

int tt_transport_udp_alloc(struct tt_transport **tp, const struct tt_transport_cfg *cfg,
			   const struct tt_udp_cfg *ucfg)
{
	struct udp *u = NULL;
	struct tt_transport *t = NULL;
	int err;

	if (!tp || !cfg || !ucfg || !cfg->ctx || ucfg->port_min == 0 ||
	    ucfg->port_max < ucfg->port_min ||
	    (ucfg->remote.ss_family && ucfg->remote_len > sizeof ucfg->remote))
		return -EINVAL;
	u = calloc(1, sizeof *u);
	if (!u)
		return -ENOMEM;
	u->fd = -1;
	for (unsigned i = 0; i < RX_BATCH; i++)
		rx_init(u, i);
	u->latch = ucfg->latch;
	u->latch_window_ms = ucfg->latch_window_ms ? ucfg->latch_window_ms : 5000;
	u->latch_until_us = g_get_monotonic_time() + (int64_t)u->latch_window_ms * 1000;
	if (ucfg->remote.ss_family) {
		memcpy(&u->remote, &ucfg->remote, ucfg->remote_len);
		u->remote_len = ucfg->remote_len;
		u->have_remote = true;
	}
	err = bind_in_range(u, ucfg->bind_addr ? ucfg->bind_addr : "0.0.0.0", ucfg->port_min,
			    ucfg->port_max);
	if (err) {
		tt_warn("no UDP port in %u-%u on %s: %s", ucfg->port_min, ucfg->port_max,
			ucfg->bind_addr ? ucfg->bind_addr : "0.0.0.0", tt_strerror(err));
		goto out;
	}
	int rcvbuf = 256 * 1024;
	setsockopt(u->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	int on = 1;  /* when each datagram arrived, for jitter (see the receive loop) */
	setsockopt(u->fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
	err = tt__transport_alloc(&t, cfg, &udp_ops, u);
	if (err)
		goto out;
	u->t = t;
	if (cfg->reactor) {
		u->reactor = cfg->reactor;
		u->watch = tt_reactor_watch(cfg->reactor, u->fd, on_ready, u);
		if (!u->watch) {
			err = -errno;
			tt_transport_free(t);  /* owns u now: frees it */
			return err;
		}
	} else {
		u->src = g_unix_fd_source_new(u->fd, G_IO_IN);
		/* GLib "blocks" a non-recursive source around each dispatch by taking its fd out
		 * of the context's poll list and putting it back: two walks of an N-long list per
		 * packet batch, O(N^2) per tick with N participants (30 % of a worker at
		 * N = 1,000). The handler never iterates the context, so it cannot recurse. */
		g_source_set_can_recurse(u->src, TRUE);
		g_source_set_callback(u->src, G_SOURCE_FUNC(on_readable), u, NULL);
		g_source_attach(u->src, cfg->ctx);
	}
	*tp = t;
	u = NULL;
out:
	if (err)
		udp_destroy(u);
	return err;
}
