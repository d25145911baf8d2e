/* validate.c: request checks above sofia-sip's parser (RFC 3261 8.2 and 16.3, RFC 4475).
 * Order matters: the first failing check decides, in the order RFC 3261 8.2 gives (method,
 * then headers, then URI scheme, then extensions, then content). */
#include "validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/hostdomain.h>

#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>

const char *tt_sip_accept_for(sip_method_t method, const char *name)
{
	switch (method) {
	case sip_method_invite:
	case sip_method_update:
	case sip_method_ack:
	case sip_method_prack:
		return "application/sdp";
	case sip_method_message:
		return "text/plain";
	case sip_method_info:
		return "application/dtmf-relay, application/dtmf";
	default:
		return NULL;
	}
}

static bool type_in(const char *type, const char *list)
{
	size_t n = strlen(type);
	for (const char *p = list; p && *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len == n && !strncasecmp(p, type, n))
			return true;
		p = e;
	}
	return false;
}

/* Accept header check for the type we would answer with (RFC 3261 8.2.3: 406). */
static bool accepts(const sip_accept_t *ac, const char *type)
{
	if (!ac)
		return true;
	for (; ac; ac = ac->ac_next) {
		if (!ac->ac_type)
			return true;   /* an empty Accept header: RFC 3261 20.1 says nothing */
		if (!strcmp(ac->ac_type, "*/*") || !strcasecmp(ac->ac_type, type))
			return true;
		const char *slash = strchr(type, '/');
		if (slash && ac->ac_subtype && !strcmp(ac->ac_subtype, "*") &&
		    !strncasecmp(ac->ac_type, type, (size_t)(slash - type)))
			return true;
	}
	return false;
}

/* sofia's request-line parser forgives extra whitespace (RFC 4475 3.1.2.9/10): check the
 * raw line it kept, "METHOD SP Request-URI SP SIP-Version CRLF" with exactly two SPs. */
static bool request_line_ok(const sip_request_t *rq)
{
	const char *d = (const char *)rq->rq_common->h_data;
	size_t n = rq->rq_common->h_len;
	if (!d || !n)
		return true;   /* built, not parsed: nothing to check */
	while (n && (d[n - 1] == '\r' || d[n - 1] == '\n'))
		n--;
	unsigned sp = 0;
	for (size_t i = 0; i < n; i++) {
		if (d[i] == ' ') {
			if (i == 0 || d[i - 1] == ' ')
				return false;
			sp++;
		} else if ((unsigned char)d[i] < 0x21) {
			return false;
		}
	}
	return sp == 2 && n && d[n - 1] != ' ';
}

static bool port_ok(const char *port)
{
	size_t n = strlen(port);
	return n >= 1 && n <= 5 && strspn(port, "0123456789") == n &&
	       strtoul(port, NULL, 10) <= 65535;
}

/* sofia's URL parser takes any host between "@" and ":" or ";" and any port: an IPv6
 * reference with three colons (RFC 5118 4.10), "[1::2::3]", "example.123" or port "db8::10"
 * (RFC 5118 4.2's unbracketed address) all parse. A sip: or sips: URI must name a host by
 * RFC 3261 25.1's grammar (hostname, IPv4address or IPv6reference: sofia's host_is_valid,
 * which checks IPv6 references as inet_pton does) and a port of digits that fits 16 bits.
 * Other schemes (tel:, RFC 4475's unknown ones in From/To) are not ours to check. */
static bool sip_url_ok(const url_t *u)
{
	if (!u || (u->url_type != url_sip && u->url_type != url_sips))
		return true;
	if (!u->url_host || !host_is_valid(u->url_host))
		return false;
	return !u->url_port || port_ok(u->url_port);
}

/* sent-by = host [":" port] (RFC 3261 20.42), the same host grammar as a sip: URI. Its
 * parameters (received=, RFC 5118 4.5's unbracketed IPv6 there included) are not ours. */
static bool via_ok(const sip_via_t *v)
{
	return v->v_host && host_is_valid(v->v_host) && (!v->v_port || port_ok(v->v_port));
}

static int verdict(struct tt_sip_verdict *v, int status, const char *phrase)
{
	v->status = status;
	v->phrase = phrase;
	return status;
}

int tt_sip_validate(const sip_t *sip, struct tt_sip_verdict *v)
{
	memset(v, 0, sizeof *v);
	if (!sip || !sip->sip_request)
		return verdict(v, -1, NULL);   /* responses (and garbage) are never answered */
	const sip_request_t *rq = sip->sip_request;
	if (!request_line_ok(rq))
		return verdict(v, 400, "Bad Request-Line");
	if (!rq->rq_version || strcasecmp(rq->rq_version, "SIP/2.0"))
		return verdict(v, 505, "Version Not Supported");
	if (!sip->sip_via || !sip->sip_from || !sip->sip_to || !sip->sip_call_id ||
	    !sip->sip_cseq)
		return verdict(v, 400, "Missing Mandatory Header");
	/* Max-Forwards is mandatory in requests, but RFC 2543 UAs omit it; a missing one is
	 * treated as 70 rather than refused (RFC 3261 8.1.1.6 "SHOULD" on the UAC side). */
	if (sip->sip_max_forwards && sip->sip_max_forwards->mf_count > 255)
		return verdict(v, 400, "Bad Max-Forwards");
	/* sofia keeps headers it could not parse, and extra copies of single-value headers,
	 * in sip_error: either makes the request ambiguous (RFC 4475 3.1.2.x, 3.3.8) */
	if (sip->sip_error)
		return verdict(v, 400, "Bad Header");
	if (sip->sip_cseq->cs_method != rq->rq_method ||
	    (rq->rq_method == sip_method_unknown &&
	     strcmp(sip->sip_cseq->cs_method_name ? sip->sip_cseq->cs_method_name : "",
		    rq->rq_method_name ? rq->rq_method_name : "")))
		return verdict(v, 400, "CSeq Does Not Match Method");
	if (rq->rq_method == sip_method_unknown)
		return verdict(v, 501, "Not Implemented");
	if (rq->rq_url->url_type != url_sip && rq->rq_url->url_type != url_sips &&
	    rq->rq_url->url_type != url_tel)
		return verdict(v, 416, "Unsupported URI Scheme");
	/* RFC 3261 19.1.5: a Request-URI never carries headers (escaped or not) */
	if (rq->rq_url->url_headers)
		return verdict(v, 400, "Headers in Request-URI");
	if (!sip_url_ok(rq->rq_url))
		return verdict(v, 400, "Bad Request-URI Host");
	if (!sip_url_ok(sip->sip_from->a_url) || !sip_url_ok(sip->sip_to->a_url))
		return verdict(v, 400, "Bad From or To URI");
	for (const sip_contact_t *m = sip->sip_contact; m; m = m->m_next)
		if (!sip_url_ok(m->m_url))
			return verdict(v, 400, "Bad Contact URI");
	/* the route set of a dialog we would accept, and where responses go without
	 * symmetric_response */
	for (const sip_record_route_t *r = sip->sip_record_route; r; r = r->r_next)
		if (!sip_url_ok(r->r_url))
			return verdict(v, 400, "Bad Record-Route URI");
	for (const sip_via_t *via = sip->sip_via; via; via = via->v_next)
		if (!via_ok(via))
			return verdict(v, 400, "Bad Via Sent-By");
	if (rq->rq_method != sip_method_ack && rq->rq_method != sip_method_cancel &&
	    sip->sip_require && sip->sip_require->k_items) {
		size_t len = 0;
		for (msg_param_t const *t = sip->sip_require->k_items; *t; t++) {
			if (type_in(*t, TT_SIP_SUPPORTED))
				continue;
			int n = snprintf(v->unsupported + len, sizeof v->unsupported - len, "%s%s",
					 len ? ", " : "", *t);
			if (n < 0 || (size_t)n >= sizeof v->unsupported - len)
				break;
			len += (size_t)n;
		}
		if (len)
			return verdict(v, 420, "Bad Extension");
	}
	const char *acc = tt_sip_accept_for(rq->rq_method, rq->rq_method_name);
	bool has_body = sip->sip_payload && sip->sip_payload->pl_len > 0;
	if (has_body) {
		const char *ct = sip->sip_content_type ? sip->sip_content_type->c_type : NULL;
		if (!ct || !acc || !type_in(ct, acc)) {
			v->accept = acc ? acc : "application/sdp";
			return verdict(v, 415, "Unsupported Media Type");
		}
	}
	if ((rq->rq_method == sip_method_invite || rq->rq_method == sip_method_update) &&
	    !accepts(sip->sip_accept, "application/sdp"))
		return verdict(v, 406, "Not Acceptable");
	return verdict(v, 0, NULL);
}
