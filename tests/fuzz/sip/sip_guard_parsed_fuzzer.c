/* Fuzz target: raw datagram bytes -> the guard's second opinion on what sofia-sip parses and
 * then drops (guard_parsed.c: a TCP/TLS Via in a UDP datagram, a Request-URI sofia's URL
 * parser refuses), and the answer built for it. The verdict is a status the gateway can
 * send, and the answer is a whole SIP response inside the buffer. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[8192];
	if (size > 65536)
		return 0;
	(void)tt_sip_guard_via_not_udp(data, size);
	const uint8_t *uri;
	size_t n;
	if (tt_sip_guard_request_uri(data, size, &uri, &n) && (uri < data || uri + n > data + size))
		abort();
	struct tt_sip_guard_parsed v;
	int st = tt_sip_guard_parsed(data, size, "INVITE, ACK, BYE", &v);
	if (st != v.status || (st > 0 && (st < 200 || st > 699 || !v.phrase)) || st < -1 ||
	    !memchr(v.extra, '\0', sizeof v.extra) || !memchr(v.why, '\0', sizeof v.why))
		abort();
	if (st > 0) {
		struct tt_sip_guard_answer a;
		int r = tt_sip_guard_reply(data, size, st, v.phrase, v.extra[0] ? v.extra : NULL,
					   "tag", out, sizeof out, &a);
		if (r && (r != st || a.len > sizeof out || a.len < 12 ||
			  memcmp(out, "SIP/2.0 ", 8) != 0))
			abort();
	}
	return 0;
}
