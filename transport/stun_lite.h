/* stun_lite.h: the ICE-lite half of a connectivity check (RFC 8445 2.5 and 7.3, RFC 5389):
 * take a STUN Binding request that a full ICE agent (a browser) sends to a shared port,
 * check its short-term credentials (USERNAME "ourufrag:theirufrag", MESSAGE-INTEGRITY
 * with our pwd, FINGERPRINT) and build the success response with the XOR-MAPPED-ADDRESS
 * the request came from. libnice's STUN code (stun/stunagent.h, stun/usages/ice.h) does the
 * parsing, the HMAC and the CRC; this file only says whose credentials apply and counts.
 * And RFC 7983's first-byte demultiplexing of one port: STUN, DTLS, RTP/RTCP.
 *
 * Private to transport/. Threading: a tt__stun_lite belongs to one thread (the worker
 * that owns the shared port); the classifier is pure. Nothing here allocates, locks or
 * logs: it runs for every check a browser sends (one every few hundred ms per peer, more
 * while ICE starts). Ownership: the lookup's strings are borrowed for the call. */
#ifndef TT_STUN_LITE_H
#define TT_STUN_LITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <stun/stunagent.h>

/* RFC 7983 5: what one port carries, told by the first byte. */
enum tt__demux_kind {
	TT_DEMUX_OTHER,        /* drop (counted by the caller) */
	TT_DEMUX_STUN,         /* 0..3 */
	TT_DEMUX_DTLS,         /* 20..63 */
	TT_DEMUX_MEDIA,        /* 128..191: RTP or RTCP */
};

static inline enum tt__demux_kind tt__demux_classify(const uint8_t *b, size_t len)
{
	if (len == 0)
		return TT_DEMUX_OTHER;
	if (b[0] <= 3)
		return len >= 20 ? TT_DEMUX_STUN : TT_DEMUX_OTHER;   /* a STUN header is 20 */
	if (b[0] >= 20 && b[0] <= 63)
		return len >= 13 ? TT_DEMUX_DTLS : TT_DEMUX_OTHER;   /* a record header is 13 */
	if (b[0] >= 128 && b[0] <= 191)
		return len >= 8 ? TT_DEMUX_MEDIA : TT_DEMUX_OTHER;   /* RTCP's smallest */
	return TT_DEMUX_OTHER;
}

/* Whose check this is: our ufrag (before the colon of USERNAME) -> our pwd, the peer's
 * ufrag if signalling gave it (NULL: any), and the owner to report. false: no such ufrag. */
typedef bool (*tt__stun_lite_lookup_h)(void *arg, const char *our_ufrag, size_t len,
				       const char **our_pwd, const char **peer_ufrag,
				       void **owner);

/* Counters; they only grow. */
struct tt__stun_lite_stats {
	uint64_t answered;        /* success responses built */
	uint64_t bad_auth;        /* unknown username, wrong peer ufrag, wrong integrity */
	uint64_t malformed;       /* not STUN, truncated, bad FINGERPRINT, unknown required
				     attributes, not a Binding request */
	uint64_t role_conflict;   /* a peer that is controlled too: 487 sent back */
};

struct tt__stun_lite {
	StunAgent agent;
	struct tt__stun_lite_stats st;
	/* the current request's lookup (the validater's argument) */
	tt__stun_lite_lookup_h lookup;
	void *lookup_arg;
	void *owner;
};

/* What a valid check said. */
struct tt__stun_check {
	void *owner;              /* from the lookup */
	bool use_candidate;       /* USE-CANDIDATE: the controlling peer nominates this address */
	bool error_response;      /* *out is an error response (role conflict), not a success */
};

void tt__stun_lite_init(struct tt__stun_lite *s);
/* One datagram req (len bytes, first byte 0..3) from `from`: when it is a valid Binding
 * request for a ufrag the lookup knows, the response to send back to `from` is written to
 * out (cap bytes; 1,280 is always enough) and its length returned, with *chk filled.
 * Otherwise a negative error (-EBADMSG malformed, -EACCES credentials, -ENOTSUP not a
 * Binding request), counted, with out and *chk untouched: the datagram is dropped. */
int tt__stun_lite_answer(struct tt__stun_lite *s, const uint8_t *req, size_t len,
			 const struct sockaddr_storage *from, socklen_t from_len,
			 tt__stun_lite_lookup_h lookup, void *arg, uint8_t *out, size_t cap,
			 struct tt__stun_check *chk);

#endif
