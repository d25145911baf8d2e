/* guard_parsed.c: answers to requests sofia-sip parses and then drops without a word: one
 * whose Request-URI its URL parser refuses (RFC 5118 4.2's unbracketed IPv6 address), and
 * one that came over UDP with a top Via naming another transport (TCP, TLS...: nta's Via
 * check, agent_check_request_via, "invalid transport").
 *
 * RFC 3261 18.2.1 answers a request on the transport it came on, and RFC 4475 sends some
 * torture messages this way (bext01, longreq, unkscm, novelsc, regaut01, scalar02, trws).
 * sofia offers no switch for that check and no way to hand it the request once its Via
 * names TCP, so nothing with a transaction (INVITE, MESSAGE, SUBSCRIBE...) can be processed.
 * What needs no transaction is answered as the gateway would answer it: the validation
 * layer's verdict (parsed by sofia exactly as the gateway parses requests), 200 for
 * OPTIONS, 405 for the methods we never take. The rest gets 400 with a reason that says
 * why, instead of 32 s of retransmissions into silence. Pure; any thread. */
#include "guard.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/msg.h>
#include <sofia-sip/sip_parser.h>
#include <sofia-sip/url.h>

#include "validate.h"

/* Does sofia's URL parser take this Request-URI? sofia's request-line parser uses the same
 * (url_d),
 * and drops the whole message, unanswered, when it fails. Too long or with a NUL: sofia's
 * business, as before. */
static bool uri_parses(const uint8_t *uri, size_t n)
{
	char buf[1024];
	if (n >= sizeof buf || memchr(uri, 0, n))
		return true;
	memcpy(buf, uri, n);
	buf[n] = 0;
	url_t u;   /* url_d parses in place (into buf): no allocation per datagram */
	return url_d(&u, buf) == 0;
}

int tt_sip_guard_parsed(const uint8_t *dgram, size_t len, const char *allow,
		     struct tt_sip_guard_parsed *a)
{
	memset(a, 0, sizeof *a);
	if (!dgram || !allow)
		return 0;
	const uint8_t *uri;
	size_t un;
	if (tt_sip_guard_request_uri(dgram, len, &uri, &un) && !uri_parses(uri, un)) {
		size_t mn = (size_t)(uri - 1 - dgram);
		snprintf(a->method, sizeof a->method, "%.*s", (int)mn, (const char *)dgram);
		snprintf(a->why, sizeof a->why, "a Request-URI sofia cannot parse");
		if (mn == 3 && !memcmp(dgram, "ACK", 3))
			return a->status = -1;
		a->phrase = "Bad Request-URI";
		return a->status = 400;
	}
	if (!tt_sip_guard_via_not_udp(dgram, len))
		return 0;
	msg_t *m = msg_make(sip_default_mclass(), MSG_DO_EXTRACT_COPY, dgram, (ssize_t)len);
	const sip_t *sip = m ? sip_object(m) : NULL;
	if (!sip || !sip->sip_request || !sip->sip_via || !sip->sip_via->v_protocol ||
	    !strcasecmp(sip->sip_via->v_protocol, "SIP/2.0/UDP")) {
		msg_destroy(m);
		return 0;   /* not what sofia's Via check drops: sofia's */
	}
	const char *proto = strrchr(sip->sip_via->v_protocol, '/');
	snprintf(a->why, sizeof a->why, "a %.16s Via", proto ? proto + 1 : "?");
	snprintf(a->method, sizeof a->method, "%s",
		 sip->sip_request->rq_method_name ? sip->sip_request->rq_method_name : "?");
	struct tt_sip_verdict v;
	int st = tt_sip_validate(sip, &v);
	sip_method_t method = sip->sip_request->rq_method;
	if (method == sip_method_ack) {
		a->status = -1;   /* never answered */
	} else if (st > 0) {
		a->status = st;
		a->phrase = v.phrase;
		if (st == 420)
			snprintf(a->extra, sizeof a->extra, "Unsupported: %s\r\n", v.unsupported);
		else if (v.accept)
			snprintf(a->extra, sizeof a->extra, "Accept: %s\r\n", v.accept);
		else if (st == 501)
			snprintf(a->extra, sizeof a->extra, "Allow: %s\r\n", allow);
	} else if (method == sip_method_options) {
		a->status = 200;
		a->phrase = "OK";
		snprintf(a->extra, sizeof a->extra,
			 "Allow: %s\r\nAccept: application/sdp, text/plain\r\nSupported: %s\r\n",
			 allow, TT_SIP_SUPPORTED);
	} else if (method == sip_method_register || method == sip_method_publish ||
		   method == sip_method_refer) {
		a->status = 405;
		a->phrase = "Method Not Allowed";
		snprintf(a->extra, sizeof a->extra, "Allow: %s\r\n", allow);
	} else {
		a->status = 400;
		a->phrase = "Via Transport Mismatch";
	}
	msg_destroy(m);
	return a->status;
}
