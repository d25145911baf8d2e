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
 * Pure functions, any thread. */
#ifndef TT_SIP_GUARD_H
#define TT_SIP_GUARD_H

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

#endif
