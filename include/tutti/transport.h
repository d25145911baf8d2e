/* transport.h: a media transport sends and receives RTP/RTCP for one participant. Plain UDP
 * (tt_transport_udp_alloc) is the first implementation; ICE+DTLS adds a second through the
 * ops table in transport/transport_impl.h. SRTP (srtp.h) wraps either: the generic layer here
 * unprotects what the implementation receives and protects what the caller sends.
 *
 * Threading: a transport lives on one media worker thread. It is created with that worker's
 * GMainContext, and every call below and every callback it makes happens on that thread
 * (alloc and free included). Nothing here locks.
 * Hot path: tt_transport_send() copies into buffers sized at alloc, protects in place and
 * queues; tt_transport_flush() sends the queue in one sendmmsg at the end of a tick (a shared
 * port, tt_udp_mux, gathers its members' queues into one for the whole tick). Neither
 * allocates or logs. Receive runs in the transport's GSource (recvmmsg batches).
 * Ownership: the caller owns the transport (free with tt_transport_free); packets passed to
 * the receive callback are borrowed for the duration of the call only. */
#ifndef TUTTI_TRANSPORT_H
#define TUTTI_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <glib.h>

#include "tutti/rtp.h"

struct tt_transport;
struct tt_srtp;
struct tt_reactor;

/* One received packet, after SRTP unprotect; borrowed for the duration of the callback. */
struct tt_transport_pkt {
	uint8_t *data;             /* the plain RTP or RTCP packet (may be modified in place) */
	size_t len;
	bool is_rtcp;
	/* RTP only (is_rtcp false): */
	struct tt_rtp_hdr rtp;     /* parsed header; payload points into data */
	bool has_level;            /* an RFC 6464 audio level came with the packet */
	bool vad;
	uint8_t level;             /* -dBov, 0 loudest .. 127 silent */
	bool is_dtmf;              /* payload type is the configured telephone-event: never mix */
	char dtmf_digit;           /* a completed DTMF digit ('0'-'9','*','#','A'-'D') or 0 */
	int64_t arrival_us;        /* g_get_monotonic_time() at receive */
};

/* Called for each accepted RTP packet and each valid RTCP compound, from inside the
 * transport's receive loop: it must not free the transport (close_h may). */
typedef void (*tt_transport_recv_h)(void *arg, const struct tt_transport_pkt *pkt);
/* Called once when the transport ends by itself: -ETIMEDOUT (inactivity), -ECONNRESET
 * (RTCP BYE from the peer), or an error of the implementation. The transport still has to
 * be freed by its owner, which may do so inside this callback. */
typedef void (*tt_transport_close_h)(void *arg, int reason);

/* Common settings of every implementation. Strings are copied. */
struct tt_transport_cfg {
	GMainContext *ctx;               /* the media worker's context (a reference is taken) */
	struct tt_reactor *reactor;      /* the worker's epoll set (tutti/reactor.h): sockets and
					    timers go there instead of one GSource each; NULL:
					    own GSources on ctx */
	tt_transport_recv_h recv_h;
	tt_transport_close_h close_h;
	void *arg;
	uint32_t clock_rate;             /* RTP clock of the incoming stream, for jitter (48000) */
	int dtmf_pt;                     /* telephone-event payload type, or -1 */
	uint8_t audio_level_ext_id;      /* RFC 6464 extension id, 0 for none */
	bool have_remote_ssrc;           /* signalling told us the peer's SSRC: latch only to it */
	uint32_t remote_ssrc;
	unsigned inactivity_ms;          /* end after this long without valid input; 0: never */
	unsigned rtcp_interval_ms;       /* our SR/RR + SDES period; 0: we send no RTCP */
	const char *cname;               /* SDES CNAME; NULL: "tutti" */
	unsigned send_queue;             /* packets queued between flushes (default 32) */
};

/* Statistics; counters only grow. RTCP-derived fields are -1/0 until a report arrives. */
struct tt_transport_stats {
	uint64_t pkts_in, bytes_in;      /* accepted (after SRTP), RTP and RTCP */
	int64_t last_rx_us;              /* monotonic time of the last accepted packet, 0: none */
	uint64_t pkts_out, bytes_out;    /* handed to the kernel */
	uint64_t send_errors;            /* packets the kernel refused or the queue dropped */
	uint64_t rtcp_in, rtcp_out;
	uint64_t srtp_fail;              /* failed authentication or replay (never logged) */
	uint64_t bleed_dropped;          /* from an address we did not latch or were not told */
	uint64_t malformed;              /* not RTP/RTCP, or bad lengths */
	/* What we measure on the stream we receive (RFC 3550 A.3, A.8): */
	int32_t rx_lost;
	uint32_t rx_jitter;              /* RTP units */
	/* What the peer reports about our stream (its last RR/SR block about our SSRC): */
	int peer_fraction_lost;          /* /256, -1 none */
	int32_t peer_lost;
	uint32_t peer_jitter;            /* RTP units */
	int64_t rtt_us;                  /* -1 none */
	bool latched;
};

/* Queue one plain RTP (is_rtcp false) or RTCP packet; it is SRTP-protected if SRTP is set.
 * 0, -EMSGSIZE (too long), -ENOBUFS (queue full after an attempted flush), or an SRTP error.
 * Our outgoing SSRC and counts are learnt from what is sent, for SR. */
int tt_transport_send(struct tt_transport *t, const uint8_t *pkt, size_t len, bool is_rtcp);
/* Cache hints before tt_transport_send and tt_transport_flush on a transport that is likely
 * cold (a tick's send loop walks hundreds), issued some participants ahead, one pointer
 * level per step: level 3 fetches t and the queue slot the send will write, levels 2 and 1
 * (t in cache) what the flush reaches through the implementation. They change nothing. */
void tt_transport_prefetch_send(const struct tt_transport *t, int level);
/* Send everything queued (one batch). Returns packets sent or a negative error. */
int tt_transport_flush(struct tt_transport *t);

/* Protect from now on with s (owned by the transport from here; the previous one is freed).
 * NULL turns SRTP off. */
void tt_transport_set_srtp(struct tt_transport *t, struct tt_srtp *s);

/* Signalling moved the peer (re-INVITE, API update): send there, and allow one new latch. */
int tt_transport_set_remote(struct tt_transport *t, const struct sockaddr *sa, socklen_t len);
/* Signalling changed the incoming payload (re-INVITE, the answer to our offer): the RTP
 * clock for jitter and the telephone-event payload type (-1: none). Worker thread. */
void tt_transport_set_payload(struct tt_transport *t, uint32_t clock_rate, int dtmf_pt);
/* Signalling changed how long the peer may stay silent (a call on hold may rightly send no
 * RTP): end after ms without valid input, counted from now; 0: never. Worker thread. */
void tt_transport_set_inactivity(struct tt_transport *t, unsigned ms);
/* Our local address (what the peer must send to). */
int tt_transport_local(struct tt_transport *t, struct sockaddr_storage *ss, socklen_t *len);

void tt_transport_stats(struct tt_transport *t, struct tt_transport_stats *st);
/* Name of the implementation ("udp", "ice"). */
const char *tt_transport_kind(const struct tt_transport *t);

/* Send an RTCP BYE (if RTCP is on), flush and free. Returns NULL. NULL is allowed. */
struct tt_transport *tt_transport_free(struct tt_transport *t);

/* "127.0.0.1:40000" or "[::1]:40000" (numeric only, port 1..65535) <-> sockaddr, as the
 * HTTP API's "remote" and "local" fields use. parse: 0 or -EINVAL, outputs untouched on
 * error. format: length written (NUL-terminated) or -ENOSPC / -EINVAL. Any thread. */
int tt_sockaddr_parse(struct sockaddr_storage *ss, socklen_t *len, const char *hostport);
int tt_sockaddr_format(char *buf, size_t cap, const struct sockaddr *sa);

/* ---- plain UDP ---- */

struct tt_udp_cfg {
	const char *bind_addr;           /* "127.0.0.1", "0.0.0.0", "::" */
	uint16_t port_min, port_max;     /* inclusive range to allocate from (even ports) */
	struct sockaddr_storage remote;  /* from signalling; ss_family 0: unknown yet */
	socklen_t remote_len;
	bool latch;                      /* symmetric RTP: follow the real source (NAT), once */
	unsigned latch_window_ms;        /* latching allowed only this long after start or
					    set_remote; default 5000 */
	struct tt_udp_mux *mux;          /* share this port (below) when the remote is known,
					    latch is off and no other member has that remote;
					    otherwise (or NULL) a port of its own */
};

/* Open a UDP socket on a free port of the range and attach its GSource to cfg->ctx.
 * -EADDRINUSE when the range is exhausted, -EINVAL, -ENOMEM. */
int tt_transport_udp_alloc(struct tt_transport **tp, const struct tt_transport_cfg *cfg,
			   const struct tt_udp_cfg *ucfg);

/* ---- one UDP port shared by a worker's plain RTP transports ----
 *
 * Why: with a port per participant every tick costs one sendmmsg and one recvmmsg per
 * participant; on a shared port a worker sends a tick's packets for all of them in one
 * sendmmsg and reads its arrivals in batches of 64, and a firewall needs one port per
 * worker. Members are told apart by source address only, so only transports with a fixed
 * signalled remote join (tt_udp_cfg.mux); latching ones (NAT: SIP phones) keep their own
 * port, where the latch rules of docs/transport.md hold. A datagram from an address that is
 * no member's is dropped and counted here, and also as bleed on the member whose SSRC it
 * carries, if any (someone injecting into that stream).
 *
 * Threading: the worker thread, like the transports. The mux must outlive its members. */
struct tt_udp_mux;

struct tt_udp_mux_stats {
	unsigned members;
	uint64_t pkts_in, pkts_out;      /* datagrams read, and handed to the kernel */
	uint64_t foreign_dropped;        /* from an address that is no member's */
	uint64_t send_errors;            /* refused by the kernel (full buffer, ...) */
	int rcvbuf, sndbuf;              /* the kernel's socket buffers, bytes */
	bool reads_at_tick;              /* read at tick starts only (no wake-ups) */
	unsigned lite_members;           /* of members, ICE-lite ones (WebRTC, tutti/ice.h) */
	uint64_t stun_answered;          /* ICE connectivity checks answered */
	uint64_t stun_dropped;           /* STUN refused: credentials, malformed, taken address */
};

/* Bind a port of the range on bind_addr; watched by reactor when not NULL, else a GSource
 * on ctx. With tick_reads (a reactor is needed), the owner promises tt_udp_mux_hold at the
 * start of every tick, and the mux reads there what arrived since the last one instead of
 * waking the worker for each burst: one wake-up per tick. Arrivals wait at most a tick,
 * which they would wait for the mix anyway; jitter and RTT use kernel arrival times. It
 * falls back to reading on arrival while the socket buffer cannot hold a tick for every
 * member (about 2 KB each). 0, -EADDRINUSE (range exhausted), -EINVAL, -ENOMEM. */
int tt_udp_mux_alloc(struct tt_udp_mux **mp, GMainContext *ctx, struct tt_reactor *reactor,
		     bool tick_reads, const char *bind_addr, uint16_t port_min,
		     uint16_t port_max);
/* Members still attached lose their port (they stop sending). NULL is allowed. */
struct tt_udp_mux *tt_udp_mux_free(struct tt_udp_mux *m);
/* From hold until flush, members' sends are gathered (copied) instead of sent: the worker
 * holds around a tick, so the whole tick leaves in one sendmmsg (1,024 packets at most;
 * more flush early). Hold first reads what waits (tick_reads). Flush returns packets sent. */
void tt_udp_mux_hold(struct tt_udp_mux *m);
int tt_udp_mux_flush(struct tt_udp_mux *m);
void tt_udp_mux_stats(const struct tt_udp_mux *m, struct tt_udp_mux_stats *st);
/* The port members share (what their tt_transport_local says). */
int tt_udp_mux_local(const struct tt_udp_mux *m, struct sockaddr_storage *ss, socklen_t *len);

#endif
