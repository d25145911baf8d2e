/* guard.h: answers for the few requests sofia-sip drops before any application code sees
 * them, decided from the raw datagram.
 *
 * sofia's transport layer parses a datagram and throws it away, unanswered, when its Via
 * does not parse (any version but SIP/2.0 there, as in RFC 4475's badvers: 505 expected) or
 * names another transport than the one it came on (RFC 4475's intmeth, an unknown method:
 * 501 expected), and it offers no hook in between. So the SIP gateway looks at each UDP
 * datagram first (guard_udp.c) and answers here the requests whose verdict follows from the
 * request line alone, exactly as the validation layer would (validate.c): a version other
 * than SIP/2.0 (505), an unknown method whose CSeq names the same method (501, with Allow).
 * Everything else, including anything this scanner does not understand, goes to sofia
 * untouched. This is not a SIP parser: it splits lines, unfolds headers, and copies the
 * Via, From, To, Call-ID and CSeq values into the response byte for byte (they may hold any
 * octet, NUL included: nothing here treats the datagram as a C string).
 *
 * A request with a known method and a Via naming TCP or TLS in a UDP datagram is dropped by
 * sofia too; its verdict needs the whole message, so guard_parsed.c decides it with sofia's
 * parser and the validation layer, and tt_sip_guard_reply() builds the answer here.
 *
 * Pure functions, any thread. */
#ifndef TT_SIP_GUARD_H
#define TT_SIP_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tt_sip_guard_answer {
	int status;             /* 505 or 501; 0: not ours, hand the datagram to sofia */
	uint16_t via_port;      /* the top Via's sent-by port (0: none given), for replies
				 * without rport when symmetric responses are off */
	int via_rport;          /* the top Via has an rport parameter */
	size_t len;             /* bytes of the response in the caller's buffer */
};

/* Decide on one datagram; when it is ours, write the complete response (status line,
 * copied headers, a To tag of to_tag when the request had none, Allow for 501,
 * Content-Length: 0) into out. A response that would not fit in cap is not ours either.
 * allow: the Allow header's value. Returns answer->status. */
int tt_sip_guard(const uint8_t *dgram, size_t len, const char *to_tag, const char *allow,
		 uint8_t *out, size_t cap, struct tt_sip_guard_answer *answer);

/* The same response for any status: the status line "SIP/2.0 <status> <phrase>", the
 * copied headers and To tag as above, then `extra` (whole header lines, each ending in
 * CRLF, or NULL), then Content-Length: 0. For requests whose verdict was decided elsewhere
 * (guard_parsed.c). Returns answer->status, or 0 when the head cannot be copied or the
 * response would not fit. */
int tt_sip_guard_reply(const uint8_t *dgram, size_t len, int status, const char *phrase,
		       const char *extra, const char *to_tag, uint8_t *out, size_t cap,
		       struct tt_sip_guard_answer *answer);

/* Does the datagram hold a request whose top Via names a transport other than UDP (TCP,
 * TLS, SCTP...)? sofia-sip drops those when they arrive over UDP (guard_parsed.c decides their
 * answer). A cheap scan, so that only those few are parsed twice. */
bool tt_sip_guard_via_not_udp(const uint8_t *dgram, size_t len);

/* The Request-URI of a well-formed "METHOD SP Request-URI SP SIP/2.0" first line. */
bool tt_sip_guard_request_uri(const uint8_t *dgram, size_t len, const uint8_t **uri,
			      size_t *n);

/* What to do with a request sofia drops after parsing it (guard_parsed.c). */
struct tt_sip_guard_parsed {
	int status;             /* the answer; -1: never answered (ACK); 0: not such a request */
	const char *phrase;     /* static */
	char extra[320];        /* header lines for the answer (Allow, Unsupported, Accept) */
	char why[48];           /* for the log: "a TCP Via", "a Request-URI sofia cannot parse" */
	char method[32];
};

/* Decide on one datagram: a SIP/2.0 request whose Request-URI sofia's URL parser refuses
 * (RFC 5118 4.2: "sip:2001:db8::10") gets 400, as validation would answer a bad URI. A
 * request whose top Via names another transport than UDP gets what the validation layer
 * says, 200 for OPTIONS, 405 for REGISTER, PUBLISH and REFER, and 400 "Via Transport
 * Mismatch" for what needs a transaction sofia will not start. allow: the Allow header's
 * value. Parses with sofia-sip. Returns a->status. */
int tt_sip_guard_parsed(const uint8_t *dgram, size_t len, const char *allow,
		     struct tt_sip_guard_parsed *a);

#endif
