/* validate.h: the checks a SIP request passes before the gateway acts on it, on top of
 * sofia-sip's parser (which accepts some invalid messages: CSeq/method mismatch, missing
 * mandatory headers, duplicated single-value headers, unknown Require option tags...).
 *
 * Pure function on a parsed message, any thread; it never modifies the message. */
#ifndef TT_SIP_VALIDATE_H
#define TT_SIP_VALIDATE_H

#include <stdbool.h>
#include <sofia-sip/sip.h>

/* What to answer instead of processing. status 0: process the request. */
struct tt_sip_verdict {
	int status;                /* 400, 415, 416, 420, 406, 483, 505 ... or 0 */
	const char *phrase;        /* reason phrase (static) */
	char unsupported[256];     /* 420: value of the Unsupported header */
	const char *accept;        /* 415: value of the Accept header, else NULL */
};

/* Option tags we support in Require (RFC 3261 8.2.2.3). */
#define TT_SIP_SUPPORTED "timer"

/* Check a request. `accept_for` gives the body types a method may carry (NULL: none
 * besides an empty body). Returns verdict->status. A message that is not a request gets
 * status -1: never answer it. */
int tt_sip_validate(const sip_t *sip, struct tt_sip_verdict *v);

/* The body types accepted for a method, comma-separated, or NULL when it takes none. */
const char *tt_sip_accept_for(sip_method_t method, const char *name);

#endif
