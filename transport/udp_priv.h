/* udp_priv.h: what the plain UDP transport (udp.c) and the shared worker port (udp_mux.c)
 * share. Private to transport/. Threading: the worker thread only, as transport.h. */
#ifndef TT_UDP_PRIV_H
#define TT_UDP_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

#include "transport_impl.h"

struct udp;
struct tt__mux_member;

/* One datagram for u, a mux member whose source address the mux has already matched: the
 * generic layer's checks only. 0 when accepted, a negative error when dropped (counted). */
int tt__udp_deliver_member(struct udp *u, uint8_t *buf, size_t len, int64_t at);
struct tt_transport *tt__udp_transport(struct udp *u);
void tt__udp_prefetch(const struct udp *u);    /* a cache hint for u's first line */

/* Bind a new non-blocking UDP socket on addr to a free even port of lo..hi, rotating over
 * the range. 0 and *fd, *local; or a negative error. */
int tt__udp_bind_in_range(int *fd, struct sockaddr_storage *local, socklen_t *local_len,
			  const char *addr, uint16_t lo, uint16_t hi);
/* udp_rx.c: batched receive. recvmmsg wants its headers contiguous; each header's buffers
 * sit together in a slot. */
#define TT__RX_BUF 2048    /* larger than any MTU-sized datagram; longer ones are dropped */
struct tt__rx_slot {
	struct iovec iov;
	union {                                /* SO_TIMESTAMPNS control data, aligned */
		struct cmsghdr align;
		uint8_t buf[CMSG_SPACE(sizeof(struct timespec))];
	} ctl;
	struct sockaddr_storage from;
	uint8_t buf[TT__RX_BUF];
};
struct tt__rx {
	unsigned n;                            /* datagrams per recvmmsg */
	unsigned dirty;                        /* headers the last call wrote into */
	struct tt__rx_slot *slot;
	struct mmsghdr msg[];
};
/* Datagram i of a batch: len bytes in a writable buffer, from `from`, that reached the host
 * at `at` (monotonic us; the kernel's timestamp when it gave one). */
typedef void (*tt__rx_h)(void *arg, unsigned i, uint8_t *buf, size_t len,
			 const struct sockaddr_storage *from, socklen_t from_len, int64_t at);
/* A batch of n datagrams (rx->slot[0..n-1]) before h sees any of them. */
typedef void (*tt__rx_batch_h)(void *arg, const struct tt__rx *rx, unsigned n);
struct tt__rx *tt__rx_new(unsigned n);
void tt__rx_free(struct tt__rx *rx);
/* Up to `rounds` recvmmsg calls on fd, until one comes back short; pre (may be NULL) for
 * each batch, then h for each datagram. */
void tt__rx_drain(struct tt__rx *rx, int fd, int rounds, tt__rx_batch_h pre, tt__rx_h h,
		  void *arg);
bool tt__sockaddr_same(const struct sockaddr_storage *a, const struct sockaddr_storage *b);

/* udp_mux.c, for udp.c: u receives what comes from remote on the mux's port, and sends
 * from it. -EADDRINUSE when another member has that remote (u then takes its own port),
 * -EAFNOSUPPORT when the family differs from the mux's socket. */
int tt__udp_mux_join(struct tt_udp_mux *m, struct udp *u, const struct sockaddr_storage *remote,
		     socklen_t len, struct tt__mux_member **mm);
void tt__udp_mux_leave(struct tt_udp_mux *m, struct tt__mux_member *mm);
int tt__udp_mux_rekey(struct tt_udp_mux *m, struct tt__mux_member *mm,
		      const struct sockaddr_storage *remote, socklen_t len);
/* Queue (while the mux holds) or send n packets to the member's remote. Returns n, or how
 * many were sent, or a negative error. */
int tt__udp_mux_send(struct tt_udp_mux *m, struct tt__mux_member *mm,
		     const struct tt_transport_out *out, unsigned n);
void tt__udp_mux_prefetch_member(const struct tt__mux_member *mm);  /* a cache hint */

/* ICE-lite members (ice_lite.c): known by our ICE ufrag (borrowed: it must live as long as
 * the membership) until a valid connectivity check gives them an address; from then on by
 * that address too, like a plain member. -EEXIST: another member has that ufrag. */
struct tt__lite;
int tt__udp_mux_join_lite(struct tt_udp_mux *m, struct tt__lite *l, const char *ufrag,
			  struct tt__mux_member **mm);
/* The mux's local address. */
void tt__udp_mux_local(const struct tt_udp_mux *m, struct sockaddr_storage *ss,
		       socklen_t *len);

/* ice_lite.c, for udp_mux.c: what the mux needs of an ICE-lite member. */
struct tt_transport *tt__lite_transport(const struct tt__lite *l);
/* The credentials a check for l must carry: our pwd, and the peer's ufrag (NULL until
 * signalling gives it, and then checks are not answered: the pwd alone is not enough). */
void tt__lite_credentials(const struct tt__lite *l, const char **our_pwd,
			  const char **peer_ufrag);
/* A valid check came from `from` (the mux answered it). The member has no address yet, or
 * USE-CANDIDATE nominates another: l asks the mux to move it there. */
void tt__lite_checked(struct tt__lite *l, const struct sockaddr_storage *from,
		      socklen_t from_len, bool use_candidate);
/* A datagram from l's address that is not STUN: DTLS or RTP/RTCP (RFC 7983). */
void tt__lite_input(struct tt__lite *l, uint8_t *buf, size_t len, int64_t at);

#endif
