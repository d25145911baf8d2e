/* transport_impl.h: what an implementation of a media transport (plain UDP, ICE+DTLS)
 * provides and may call. Only implementations include this; users include transport.h.
 *
 * The generic layer (transport/transport.c) owns SRTP, the send queue, statistics, RTCP,
 * inactivity and the callbacks; an implementation only moves bytes and decides which
 * sources it accepts. Threading: as transport.h (the worker thread only). */
#ifndef TUTTI_TRANSPORT_IMPL_H
#define TUTTI_TRANSPORT_IMPL_H

#include "tutti/transport.h"

/* A queued outgoing packet; buffers live in the generic layer, sized at alloc. */
struct tt_transport_out {
	uint8_t *data;
	size_t len;
};

struct tt_transport_ops {
	const char *kind;
	/* Send n packets in one go if possible. Returns how many the kernel took (the rest
	 * count as send errors) or a negative error. Mandatory. */
	int (*send_batch)(void *impl, const struct tt_transport_out *out, unsigned n);
	int (*set_remote)(void *impl, const struct sockaddr *sa, socklen_t len);
	int (*local)(void *impl, struct sockaddr_storage *ss, socklen_t *len);
	/* Release everything of impl (sources, sockets). Mandatory. */
	void (*destroy)(void *impl);
	/* Optional cache hints before a send on a cold transport: level 2 for impl itself,
	 * level 1 (impl now in cache) for what its send reaches from there. */
	void (*prefetch_send)(const void *impl, int level);
};

/* Make the generic part around impl. ops and impl must outlive the transport. */
int tt__transport_alloc(struct tt_transport **tp, const struct tt_transport_cfg *cfg,
			const struct tt_transport_ops *ops, void *impl);

/* Hand one received datagram (in a writable buffer of cap bytes) to the generic layer,
 * which demuxes RTP/RTCP (RFC 5761), unprotects, checks it against the expected SSRC,
 * updates stats and calls recv_h. Returns 0 when the packet was accepted, or a negative
 * error when it was dropped (and counted): an implementation latches only on 0. */
int tt__transport_input(struct tt_transport *t, uint8_t *buf, size_t len);
/* The reactor the transport was made with, or NULL. */
struct tt_reactor *tt__transport_reactor(const struct tt_transport *t);
/* The same with the time the datagram reached the host (monotonic us), when the
 * implementation knows it (kernel timestamps): jitter then measures the network, not how
 * long the worker took to get to the socket. */
int tt__transport_input_at(struct tt_transport *t, uint8_t *buf, size_t len, int64_t arrival_us);
/* Batched receive: before a batch's datagrams are input one by one, ask the cache for what
 * input will touch of t (prefetch), then, in a second pass once t itself has arrived, the
 * first line of the receive handler's argument. Hints only: they change nothing. */
void tt__transport_prefetch(const struct tt_transport *t);
void tt__transport_prefetch_user(const struct tt_transport *t);
/* The implementation dropped a packet from a foreign address. */
void tt__transport_count_bleed(struct tt_transport *t);
/* A packet send_batch had taken (and counted as sent) failed later, when the batch it was
 * held in went to the kernel: counted as a send error instead. */
void tt__transport_count_unsent(struct tt_transport *t, size_t len);
/* The implementation latched (or unlatched) to a source; shown in stats. */
void tt__transport_set_latched(struct tt_transport *t, bool on);
/* The implementation failed for good: close_h(reason) runs once. */
void tt__transport_fail(struct tt_transport *t, int reason);

#endif
