/* sdp.c: SDP offer/answer (RFC 3264) for SIP calls: sofia-sip parses, we decide. Why our
 * own checks on top of sofia's parser: it accepts ports, payload types and addresses that
 * would make a leg send to nowhere, and it cannot tell us what a bridge can transcode. */
#include "sdp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/sdp.h>
#include <tutti/sdp_guard.h>
#include <sofia-sip/su_alloc.h>

static const struct {
	const char *name, *enc;
	unsigned rate, channels;
	int static_pt;              /* -1: dynamic */
	const char *fmtp;
} codecs[] = {
	{ "opus", "opus", 48000, 2, -1, "useinbandfec=1" },
	{ "g722", "G722", 8000, 1, 9, NULL },
	{ "pcmu", "PCMU", 8000, 1, 0, NULL },
	{ "pcma", "PCMA", 8000, 1, 8, NULL },
};

const char *tt_sip_codec_name(const char *encoding, unsigned long rate)
{
	if (!encoding)
		return NULL;
	for (size_t i = 0; i < sizeof codecs / sizeof codecs[0]; i++)
		if (!strcasecmp(encoding, codecs[i].enc) && rate == codecs[i].rate)
			return codecs[i].name;
	return NULL;
}

static int codec_index(const char *name)
{
	for (size_t i = 0; i < sizeof codecs / sizeof codecs[0]; i++)
		if (!strcmp(name, codecs[i].name))
			return (int)i;
	return -1;
}

static bool proto_ok(const sdp_media_t *sm, bool *savp)
{
	const char *n = sm->m_proto_name;
	if (!n)
		return false;
	*savp = !strcmp(n, "RTP/SAVP");
	return *savp || !strcmp(n, "RTP/AVP");
}

/* c= of the media line, else the session's; IPv4/IPv6 literal only (a name would need a
 * DNS lookup on the core loop, and no softphone sends one). */
static int remote_addr(struct tt_sip_media *m, const sdp_session_t *s, const sdp_media_t *sm)
{
	const sdp_connection_t *c = sm->m_connections ? sm->m_connections : s->sdp_connection;
	m->remote_len = 0;
	if (!c || !c->c_address)
		return -EINVAL;
	if (sm->m_port == 0 || sm->m_port > 65535)
		return -EINVAL;
	if (c->c_addrtype == sdp_addr_ip4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&m->remote;
		memset(sin, 0, sizeof *sin);
		if (inet_pton(AF_INET, c->c_address, &sin->sin_addr) != 1)
			return -EINVAL;
		if (sin->sin_addr.s_addr == htonl(INADDR_ANY)) {
			m->hold = true;   /* RFC 2543 hold: keep the leg, send nowhere */
			return 0;
		}
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)sm->m_port);
		m->remote_len = sizeof *sin;
		return 0;
	}
	if (c->c_addrtype == sdp_addr_ip6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&m->remote;
		memset(sin6, 0, sizeof *sin6);
		if (inet_pton(AF_INET6, c->c_address, &sin6->sin6_addr) != 1)
			return -EINVAL;
		if (IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr)) {
			m->hold = true;
			return 0;
		}
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)sm->m_port);
		m->remote_len = sizeof *sin6;
		return 0;
	}
	return -EINVAL;
}

static unsigned attr_ptime(const sdp_media_t *sm, unsigned def)
{
	const sdp_attribute_t *a = sdp_attribute_find(sm->m_attributes, "ptime");
	unsigned v = 0;
	if (a && a->a_value && sscanf(a->a_value, "%u", &v) == 1)
		if (v == 10 || v == 20 || v == 40 || v == 60)
			return v;
	return def;
}

/* First a=crypto line whose suite we support; -ENOENT if there is none usable. */
static int pick_crypto(struct tt_sdes_crypto *c, const sdp_media_t *sm)
{
	for (const sdp_attribute_t *a = sm->m_attributes; a; a = a->a_next) {
		if (!a->a_name || strcasecmp(a->a_name, "crypto") || !a->a_value)
			continue;
		struct tt_sdes_crypto tmp;
		if (tt_sdes_parse(&tmp, a->a_value, strlen(a->a_value)) == 0) {
			*c = tmp;
			return 0;
		}
	}
	return -ENOENT;
}

static bool has_crypto(const sdp_media_t *sm)
{
	return sdp_attribute_find(sm->m_attributes, "crypto") != NULL;
}

static void note_mline(struct tt_sip_media *m, const sdp_media_t *sm)
{
	if (m->n_m >= TT_SIP_SDP_MAX_M)
		return;
	unsigned i = m->n_m++;
	snprintf(m->m[i].type, sizeof m->m[i].type, "%s",
		 sm->m_type_name ? sm->m_type_name : "audio");
	snprintf(m->m[i].proto, sizeof m->m[i].proto, "%s",
		 sm->m_proto_name ? sm->m_proto_name : "RTP/AVP");
	if (sm->m_rtpmaps)
		snprintf(m->m[i].fmt, sizeof m->m[i].fmt, "%u", sm->m_rtpmaps->rm_pt);
	else if (sm->m_format && sm->m_format->l_text)
		snprintf(m->m[i].fmt, sizeof m->m[i].fmt, "%.7s", sm->m_format->l_text);
	else
		snprintf(m->m[i].fmt, sizeof m->m[i].fmt, "0");
}

/* Choose the codec: ours in preference order when we answer (the offerer's order is a
 * hint RFC 3264 lets us override, and the operator's list says what the room wants);
 * for an answer to our offer, the answerer's first codec that we offered. */
static const sdp_rtpmap_t *choose(const sdp_media_t *sm, const struct tt_sip_sdp_policy *pol,
				  bool offer, const char **name)
{
	if (offer) {
		for (const char *const *c = pol->codecs; *c; c++)
			for (const sdp_rtpmap_t *rm = sm->m_rtpmaps; rm; rm = rm->rm_next) {
				const char *n = tt_sip_codec_name(rm->rm_encoding, rm->rm_rate);
				if (n && !strcmp(n, *c)) {
					*name = n;
					return rm;
				}
			}
		return NULL;
	}
	for (const sdp_rtpmap_t *rm = sm->m_rtpmaps; rm; rm = rm->rm_next) {
		const char *n = tt_sip_codec_name(rm->rm_encoding, rm->rm_rate);
		if (!n)
			continue;
		for (const char *const *c = pol->codecs; *c; c++)
			if (!strcmp(n, *c)) {
				*name = n;
				return rm;
			}
	}
	return NULL;
}

static const sdp_rtpmap_t *find_dtmf(const sdp_media_t *sm, unsigned rate)
{
	const sdp_rtpmap_t *any = NULL;
	for (const sdp_rtpmap_t *rm = sm->m_rtpmaps; rm; rm = rm->rm_next) {
		if (!rm->rm_encoding || strcasecmp(rm->rm_encoding, "telephone-event"))
			continue;
		if (rm->rm_rate == rate)
			return rm;
		if (!any)
			any = rm;
	}
	return any;
}

int tt_sip_sdp_negotiate(struct tt_sip_media *out, const char *sdp, size_t len,
			 const struct tt_sip_sdp_policy *pol, bool offer, const char **warning)
{
	static const char *const w_codec = "305 tutti \"Incompatible media format\"";
	static const char *const w_proto = "302 tutti \"Incompatible transport protocol\"";
	static const char *const w_media = "304 tutti \"Media type not available\"";
	static const char *const w_srtp = "399 tutti \"SRTP (a=crypto) required\"";
	static const char *const w_nosrtp = "399 tutti \"SRTP is turned off\"";
	static const char *const w_addr = "301 tutti \"Incompatible network address formats\"";
	if (!out || !sdp || !pol || !pol->codecs || !warning || len > INT32_MAX)
		return -EINVAL;
	*warning = w_media;
	/* sofia-sip's parser asks for 2 GiB on some malformed m-lines (tutti/sdp_guard.h) */
	if (!tt_sdp_lines_ok(sdp, len)) {
		*warning = "399 tutti \"Malformed SDP\"";
		return -EBADMSG;
	}
	su_home_t home[1] = { SU_HOME_INIT(home) };
	sdp_parser_t *p = sdp_parse(home, sdp, (issize_t)len, sdp_f_config);
	sdp_session_t *s = sdp_session(p);
	struct tt_sip_media m;
	memset(&m, 0, sizeof m);
	m.chosen = -1;
	m.dtmf_pt = -1;
	int rc = -ENOTSUP;
	if (!s) {
		rc = -EBADMSG;
		goto out;
	}
	for (const sdp_media_t *sm = s->sdp_media; sm; sm = sm->m_next) {
		note_mline(&m, sm);
		if (m.chosen >= 0 || sm->m_type != sdp_media_audio || sm->m_rejected ||
		    sm->m_port == 0 || m.n_m > TT_SIP_SDP_MAX_M)
			continue;
		bool savp = false;
		if (!proto_ok(sm, &savp)) {
			*warning = w_proto;
			continue;
		}
		struct tt_sdes_crypto c;
		bool keyed = pick_crypto(&c, sm) == 0;
		if (savp && pol->srtp == TT_SIP_SRTP_OFF) {
			*warning = w_nosrtp;
			continue;
		}
		if ((savp || pol->srtp == TT_SIP_SRTP_REQUIRE) && !keyed) {
			*warning = has_crypto(sm) || savp ? w_proto : w_srtp;
			continue;
		}
		const char *name = NULL;
		const sdp_rtpmap_t *rm = choose(sm, pol, offer, &name);
		if (!rm) {
			*warning = w_codec;
			continue;
		}
		struct tt_sip_media cand = m;
		if (remote_addr(&cand, s, sm) && !cand.hold) {
			*warning = w_addr;
			continue;
		}
		snprintf(cand.codec, sizeof cand.codec, "%s", name);
		cand.pt = (uint8_t)rm->rm_pt;
		cand.ptime = attr_ptime(sm, pol->ptime ? pol->ptime : 20);
		const sdp_rtpmap_t *te = find_dtmf(sm, rm->rm_rate);
		if (te) {
			cand.dtmf_pt = (int)te->rm_pt;
			cand.dtmf_rate = (unsigned)te->rm_rate;
		}
		cand.peer_mode = sm->m_mode & 3u;
		if (cand.peer_mode == sdp_inactive || cand.peer_mode == sdp_sendonly)
			cand.hold = true;
		cand.savp = savp;
		cand.srtp = keyed && pol->srtp != TT_SIP_SRTP_OFF;
		if (cand.srtp)
			cand.crypto = c;
		cand.chosen = (int)m.n_m - 1;
		m = cand;
	}
	if (m.chosen >= 0) {
		*out = m;
		*warning = NULL;
		rc = 0;
	}
out:
	if (p)
		sdp_parser_free(p);
	su_home_deinit(home);
	return rc;
}

static int addr_text(char *buf, size_t cap, const struct sockaddr *sa, unsigned *port,
		     const char **family)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
		*port = ntohs(sin->sin_port);
		*family = "IP4";
		return inet_ntop(AF_INET, &sin->sin_addr, buf, (socklen_t)cap) ? 0 : -EINVAL;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		*port = ntohs(sin6->sin6_port);
		*family = "IP6";
		return inet_ntop(AF_INET6, &sin6->sin6_addr, buf, (socklen_t)cap) ? 0 : -EINVAL;
	}
	return -EINVAL;
}

struct sbuf {
	char *p;
	size_t cap, len;
	bool full;
};

__attribute__((format(printf, 2, 3))) static void put(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	if (b->full)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->cap - b->len)
		b->full = true;
	else
		b->len += (size_t)n;
}

static void put_codec(struct sbuf *b, int ci, unsigned pt)
{
	if (codecs[ci].channels > 1)
		put(b, "a=rtpmap:%u %s/%u/%u\r\n", pt, codecs[ci].enc, codecs[ci].rate,
		    codecs[ci].channels);
	else
		put(b, "a=rtpmap:%u %s/%u\r\n", pt, codecs[ci].enc, codecs[ci].rate);
	if (codecs[ci].fmtp)
		put(b, "a=fmtp:%u %s\r\n", pt, codecs[ci].fmtp);
}

int tt_sip_sdp_write(char *buf, size_t cap, const struct tt_sip_media *m,
		     const struct tt_sip_sdp_policy *pol, const struct sockaddr *local,
		     const struct tt_sdes_crypto *ours, uint64_t sess_id, uint64_t version)
{
	char host[INET6_ADDRSTRLEN];
	unsigned port = 0;
	const char *fam = NULL;
	if (!buf || !cap || !pol || !local || addr_text(host, sizeof host, local, &port, &fam))
		return -EINVAL;
	struct sbuf b = { buf, cap, 0, false };
	put(&b, "v=0\r\no=tutti %llu %llu IN %s %s\r\ns=tutti\r\nc=IN %s %s\r\nt=0 0\r\n",
	    (unsigned long long)sess_id, (unsigned long long)version, fam, host, fam, host);
	char crypto[128] = "";
	if (ours && tt_sdes_format(ours, crypto, sizeof crypto) < 0)
		return -EINVAL;
	if (!m) {
		/* our offer: every codec of the policy, dynamic Opus at 111, DTMF at 8 kHz (101)
		 * and 48 kHz (100) so both families of clients find theirs */
		const char *proto = ours && pol->srtp == TT_SIP_SRTP_REQUIRE ? "RTP/SAVP" : "RTP/AVP";
		put(&b, "m=audio %u %s", port, proto);
		for (const char *const *c = pol->codecs; *c; c++) {
			int ci = codec_index(*c);
			if (ci >= 0)
				put(&b, " %d", codecs[ci].static_pt >= 0 ? codecs[ci].static_pt : 111);
		}
		put(&b, " 101 100\r\n");
		for (const char *const *c = pol->codecs; *c; c++) {
			int ci = codec_index(*c);
			if (ci >= 0)
				put_codec(&b, ci, codecs[ci].static_pt >= 0 ?
						  (unsigned)codecs[ci].static_pt : 111u);
		}
		put(&b, "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n"
			"a=rtpmap:100 telephone-event/48000\r\na=fmtp:100 0-16\r\n");
		put(&b, "a=ptime:%u\r\na=sendrecv\r\n", pol->ptime ? pol->ptime : 20);
		if (ours)
			put(&b, "a=crypto:%s\r\n", crypto);
		return b.full ? -ENOSPC : (int)b.len;
	}
	int ci = codec_index(m->codec);
	if (ci < 0 || m->chosen < 0 || (unsigned)m->chosen >= m->n_m)
		return -EINVAL;
	for (unsigned i = 0; i < m->n_m; i++) {
		if ((int)i != m->chosen) {
			put(&b, "m=%s 0 %s %s\r\n", m->m[i].type, m->m[i].proto, m->m[i].fmt);
			continue;
		}
		put(&b, "m=audio %u %s %u", port, m->savp ? "RTP/SAVP" : "RTP/AVP", m->pt);
		if (m->dtmf_pt >= 0)
			put(&b, " %d", m->dtmf_pt);
		put(&b, "\r\n");
		put_codec(&b, ci, m->pt);
		if (m->dtmf_pt >= 0)
			put(&b, "a=rtpmap:%d telephone-event/%u\r\na=fmtp:%d 0-16\r\n", m->dtmf_pt,
			    m->dtmf_rate ? m->dtmf_rate : 8000, m->dtmf_pt);
		put(&b, "a=ptime:%u\r\n", m->ptime ? m->ptime : 20);
		static const char *const mirror[4] = { "inactive", "recvonly", "sendonly", "sendrecv" };
		put(&b, "a=%s\r\n", mirror[m->peer_mode & 3u]);
		if (ours && m->srtp)
			put(&b, "a=crypto:%s\r\n", crypto);
	}
	return b.full ? -ENOSPC : (int)b.len;
}
