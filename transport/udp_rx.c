/* udp_rx.c: batched receive with recvmmsg and kernel arrival times, for a socket of one
 * transport (udp.c) and for a worker's shared port (udp_mux.c). */
#define _GNU_SOURCE    /* recvmmsg */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <glib.h>

#include "udp_priv.h"

struct tt__rx *tt__rx_new(unsigned n)
{
	struct tt__rx *rx = calloc(1, sizeof *rx + n * sizeof rx->msg[0]);
	if (!rx)
		return NULL;
	rx->slot = calloc(n, sizeof *rx->slot);
	if (!rx->slot) {
		free(rx);
		return NULL;
	}
	rx->n = n;
	/* The headers point at fixed buffers, so they are set up once; the kernel writes only
	 * the lengths and flags of the headers it filled, and only those are restored before
	 * the next call (tt__rx_drain). With one packet per socket per tick (a port each) that
	 * is one header per call instead of all of them. */
	for (unsigned i = 0; i < n; i++) {
		struct tt__rx_slot *s = &rx->slot[i];
		struct msghdr *h = &rx->msg[i].msg_hdr;
		s->iov.iov_base = s->buf;
		s->iov.iov_len = sizeof s->buf;
		h->msg_iov = &s->iov;
		h->msg_iovlen = 1;
		h->msg_name = &s->from;
		h->msg_namelen = sizeof s->from;
		h->msg_control = s->ctl.buf;
		h->msg_controllen = sizeof s->ctl.buf;
	}
	return rx;
}

void tt__rx_free(struct tt__rx *rx)
{
	if (!rx)
		return;
	free(rx->slot);
	free(rx);
}

/* When the datagram reached the host, on the monotonic clock: SO_TIMESTAMPNS is wall-clock,
 * mapped with mono and real read once per batch; without it, mono. */
static int64_t arrival(struct msghdr *h, int64_t mono, int64_t real)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec ts;
			memcpy(&ts, CMSG_DATA(c), sizeof ts);
			int64_t k = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
			if (k <= real && real - k < 10 * G_USEC_PER_SEC)
				return mono - (real - k);
		}
	}
	return mono;
}

void tt__rx_drain(struct tt__rx *rx, int fd, int rounds, tt__rx_batch_h pre, tt__rx_h h,
		  void *arg)
{
	for (int round = 0; round < rounds; round++) {
		for (unsigned i = 0; i < rx->dirty; i++) {
			rx->msg[i].msg_hdr.msg_namelen = sizeof rx->slot[i].from;
			rx->msg[i].msg_hdr.msg_controllen = sizeof rx->slot[i].ctl.buf;
			rx->msg[i].msg_hdr.msg_flags = 0;
		}
		rx->dirty = 0;
		int n = recvmmsg(fd, rx->msg, rx->n, MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;
		rx->dirty = (unsigned)n;
		int64_t mono = g_get_monotonic_time(), real = g_get_real_time();
		if (pre)
			pre(arg, rx, (unsigned)n);
		for (int i = 0; i < n; i++) {
			struct msghdr *mh = &rx->msg[i].msg_hdr;
			if (mh->msg_flags & MSG_TRUNC)
				continue;     /* longer than any datagram we take */
			h(arg, (unsigned)i, rx->slot[i].buf, rx->msg[i].msg_len, &rx->slot[i].from,
			  mh->msg_namelen, arrival(mh, mono, real));
		}
		if ((unsigned)n < rx->n)
			break;
	}
}
