/* nexthop.c: where our in-dialog requests go when a peer names its next hop by host name.
 *
 * tutti resolves no host name it was sent (docs/sip.md, "Host names"): responses follow Via
 * to the received/rport address (sofia-sip adds received= whenever the sent-by host is not
 * the source address), and a dialog whose next hop (first Record-Route, else Contact, or a
 * maddr in it) is a name gets the address its requests came from as the handle's outbound
 * proxy, so the BYE, NOTIFY, MESSAGE and session refreshes go there without DNS. The
 * Request-URI and Route headers stay what the dialog says: a proxy in between routes them.
 *
 * Why not let sofia-sip resolve: an outsider would choose the names we query, and Debian's
 * sofia-sip 1.12.11 spins forever in sres_send_dns_query() when the nameserver cannot be
 * reached at all (socket() or connect() failing, e.g. ENETUNREACH or EMFILE), freezing the
 * core thread. Core thread only, like the rest of the gateway. */
#define TT_LOG_DOMAIN "sip"
#include "sip.h"

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <sofia-sip/hostdomain.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/url.h>

#include <tutti/log.h>

static bool is_address(const char *host)
{
	return host && (host_is_ip_address(host) || host_is_ip6_reference(host));
}

/* The host in url that sofia would have to look up, or NULL when it names an address. */
static const char *name_in(const url_t *url)
{
	if (!url)
		return NULL;
	char maddr[256];
	if (url->url_params &&
	    url_param(url->url_params, "maddr", maddr, sizeof maddr) > 0 && !is_address(maddr))
		return url->url_host && !is_address(url->url_host) ? url->url_host : "(maddr)";
	return is_address(url->url_host) ? NULL : url->url_host ? url->url_host : "(none)";
}

/* "sip:ADDR:PORT;transport=T" for the source of the request being handled; false: none. */
static bool source_url(struct sipgw *gw, const sip_t *sip, char *buf, size_t cap)
{
	msg_t *msg = nua_current_request(gw->nua);
	su_addrinfo_t *ai = msg ? msg_addrinfo(msg) : NULL;
	if (!ai || !ai->ai_addr)
		return false;
	char ip[INET6_ADDRSTRLEN] = "";
	unsigned port;
	bool v6 = ai->ai_addr->sa_family == AF_INET6;
	if (ai->ai_addr->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)ai->ai_addr;
		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
		port = ntohs(in->sin_port);
	} else if (v6) {
		const struct sockaddr_in6 *in6 = (const void *)ai->ai_addr;
		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
		port = ntohs(in6->sin6_port);
	} else {
		return false;
	}
	const char *tr = "udp";
	if (ai->ai_protocol != IPPROTO_UDP)
		tr = sip->sip_via && sip->sip_via->v_protocol &&
		     g_str_has_suffix(sip->sip_via->v_protocol, "TLS") ? "tls" : "tcp";
	int n = snprintf(buf, cap, "sip:%s%s%s:%u;transport=%s", v6 ? "[" : "", ip,
			 v6 ? "]" : "", port, tr);
	return n > 0 && (size_t)n < cap && port != 0;
}

bool tt__sip_next_hop(struct sipgw *gw, nua_handle_t *nh, const sip_t *sip)
{
	if (!sip)
		return true;
	/* as UAS the route set is the Record-Route list in order; a target refresh (re-INVITE,
	 * UPDATE) can change the Contact but never the route set, so the check is the same */
	const url_t *hop = sip->sip_record_route ? sip->sip_record_route->r_url
			   : sip->sip_contact ? sip->sip_contact->m_url : NULL;
	const char *name = name_in(hop);
	if (!hop || !name)
		return true;  /* no dialog target (sofia answers along Via), or an address */
	char url[96];
	if (!source_url(gw, sip, url, sizeof url)) {
		tt_warn("next hop %s is a host name and the request has no source address: refused",
			name);
		return false;
	}
	tt_debug("next hop %s is a host name: in-dialog requests go to %s", name, url);
	nua_set_hparams(nh, NUTAG_PROXY(url), TAG_END());
	return true;
}
