/* jingle_parse.c: Jingle XML (XEP-0166/0167/0176/0320/0294/0338) to a plain description
 * and our answer back to XML. Pure: every input is checked before it is copied, and a
 * description is written only when the whole element was acceptable. */
#include "jingle_parse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include <tutti/ice.h>

#define ICE_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/"

xmpp_stanza_t *xg_el(xmpp_ctx_t *ctx, xmpp_stanza_t *parent, const char *name, const char *ns)
{
	xmpp_stanza_t *e = xmpp_stanza_new(ctx);
	xmpp_stanza_set_name(e, name);
	if (ns)
		xmpp_stanza_set_ns(e, ns);
	if (parent)
		xmpp_stanza_add_child_ex(parent, e, 0);
	return e;
}

static const char *attr(xmpp_stanza_t *e, const char *name)
{
	return xmpp_stanza_get_attribute(e, name);
}

static bool is(xmpp_stanza_t *e, const char *name, const char *ns)
{
	const char *n = xmpp_stanza_is_tag(e) ? xmpp_stanza_get_name(e) : NULL;
	const char *s = xmpp_stanza_get_ns(e);
	return n && !strcmp(n, name) && (!ns || (s && !strcmp(s, ns)));
}

/* Copy s into buf when it fits (and is not empty when `need`); false otherwise. */
static bool copy(char *buf, size_t len, const char *s, bool need)
{
	if (!s)
		return !need;
	size_t n = strlen(s);
	if (n >= len || (need && n == 0))
		return false;
	memcpy(buf, s, n + 1);
	return true;
}

/* A decimal number in [lo, hi]; false for anything else (signs, spaces, overflow). */
static bool number(const char *s, unsigned long lo, unsigned long hi, unsigned long *v)
{
	if (!s || !*s || strlen(s) > 10 || strspn(s, "0123456789") != strlen(s))
		return false;
	unsigned long n = strtoul(s, NULL, 10);
	if (n < lo || n > hi)
		return false;
	*v = n;
	return true;
}

static bool chars_in(const char *s, const char *set)
{
	return s && strspn(s, set) == strlen(s);
}

/* ---- candidates ---- */

int xg_jcand_to_sdp(xmpp_stanza_t *c, char *out, size_t len)
{
	const char *found = attr(c, "foundation"), *comp = attr(c, "component");
	const char *proto = attr(c, "protocol"), *prio = attr(c, "priority");
	const char *ip = attr(c, "ip"), *port = attr(c, "port"), *type = attr(c, "type");
	const char *raddr = attr(c, "rel-addr"), *rport = attr(c, "rel-port");
	const char *gen = attr(c, "generation");
	unsigned long ncomp, nprio, nport, nrport = 0, ngen = 0;
	if (!found || !*found || strlen(found) > 32 || !chars_in(found, ICE_CHARS))
		return -EINVAL;
	if (!number(comp, 1, 256, &ncomp) || !number(prio, 0, 4294967295ul, &nprio) ||
	    !number(port, 0, 65535, &nport) || (gen && !number(gen, 0, 4294967295ul, &ngen)))
		return -EINVAL;
	if (!proto || (g_ascii_strcasecmp(proto, "udp") && g_ascii_strcasecmp(proto, "tcp")))
		return -EINVAL;
	if (!type || (strcmp(type, "host") && strcmp(type, "srflx") && strcmp(type, "prflx") &&
		      strcmp(type, "relay")))
		return -EINVAL;
	/* an address or a host name (mDNS): nothing that could break the line apart */
	const char *addr_chars = "0123456789abcdefABCDEF.:-" "ghijklmnopqrstuvwxyz"
				 "GHIJKLMNOPQRSTUVWXYZ";
	if (!ip || !*ip || strlen(ip) > 253 || !chars_in(ip, addr_chars))
		return -EINVAL;
	if (raddr && (!*raddr || strlen(raddr) > 253 || !chars_in(raddr, addr_chars)))
		return -EINVAL;
	if (rport && !number(rport, 0, 65535, &nrport))
		return -EINVAL;
	/* rtcp-mux always: a component-2 candidate would only open a port nobody uses; mDNS
	 * names need a resolver libnice does not have; the leg is UDP only */
	if (ncomp != 1 || g_str_has_suffix(ip, ".local") || g_ascii_strcasecmp(proto, "udp"))
		return 0;
	int n;
	if (raddr && rport)
		n = snprintf(out, len, "candidate:%s 1 udp %lu %s %lu typ %s raddr %s rport %lu "
			     "generation %lu", found, nprio, ip, nport, type, raddr, nrport, ngen);
	else
		n = snprintf(out, len, "candidate:%s 1 udp %lu %s %lu typ %s generation %lu",
			     found, nprio, ip, nport, type, ngen);
	if (n < 0 || (size_t)n >= len)
		return -EINVAL;
	int ok = tt_ice_candidate_check(out);
	return ok == 1 ? 1 : ok == 0 ? 0 : ok == -ENOTSUP ? 1 : -EINVAL;
}

xmpp_stanza_t *xg_jcand_from_sdp(xmpp_ctx_t *ctx, const char *line, const char *id)
{
	if (!line)
		return NULL;
	if (!strncmp(line, "a=", 2))
		line += 2;
	if (strncmp(line, "candidate:", 10))
		return NULL;
	gchar **f = g_strsplit(line + 10, " ", 0);
	guint n = g_strv_length(f);
	xmpp_stanza_t *c = NULL;
	unsigned long v;
	if (n < 8 || strcmp(f[6], "typ") || !number(f[1], 1, 256, &v) ||
	    !number(f[3], 0, 4294967295ul, &v) || !number(f[5], 0, 65535, &v))
		goto out;
	c = xg_el(ctx, NULL, "candidate", NULL);
	xmpp_stanza_set_attribute(c, "foundation", f[0]);
	xmpp_stanza_set_attribute(c, "component", f[1]);
	char *proto = g_ascii_strdown(f[2], -1);
	xmpp_stanza_set_attribute(c, "protocol", proto);
	g_free(proto);
	xmpp_stanza_set_attribute(c, "priority", f[3]);
	xmpp_stanza_set_attribute(c, "ip", f[4]);
	xmpp_stanza_set_attribute(c, "port", f[5]);
	xmpp_stanza_set_attribute(c, "type", f[7]);
	const char *gen = "0";
	for (guint i = 8; i + 1 < n; i += 2) {
		if (!strcmp(f[i], "raddr"))
			xmpp_stanza_set_attribute(c, "rel-addr", f[i + 1]);
		else if (!strcmp(f[i], "rport"))
			xmpp_stanza_set_attribute(c, "rel-port", f[i + 1]);
		else if (!strcmp(f[i], "generation"))
			gen = f[i + 1];
	}
	xmpp_stanza_set_attribute(c, "generation", gen);
	xmpp_stanza_set_attribute(c, "network", "0");
	xmpp_stanza_set_id(c, id ? id : "c");
out:
	g_strfreev(f);
	return c;
}

/* ---- parse ---- */

static enum xg_jaction action_of(const char *a)
{
	static const struct { const char *name; enum xg_jaction a; } t[] = {
		{ "session-initiate", XG_J_INITIATE },
		{ "session-accept", XG_J_ACCEPT },
		{ "session-terminate", XG_J_TERMINATE },
		{ "transport-info", XG_J_TRANSPORT_INFO },
		{ "session-info", XG_J_SESSION_INFO },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(t); i++)
		if (!strcmp(a, t[i].name))
			return t[i].a;
	return XG_J_OTHER;
}

static int parse_description(xmpp_stanza_t *d, struct xg_jcontent *c, const char **why)
{
	for (xmpp_stanza_t *e = xmpp_stanza_get_children(d); e; e = xmpp_stanza_get_next(e)) {
		if (is(e, "payload-type", NULL)) {
			unsigned long id, clock = 0, ch = 0;
			if (!number(attr(e, "id"), 0, 127, &id)) {
				*why = "payload-type without a valid id";
				return -EINVAL;
			}
			if (attr(e, "clockrate") && !number(attr(e, "clockrate"), 1, 1000000, &clock)) {
				*why = "payload-type with a bad clockrate";
				return -EINVAL;
			}
			if (attr(e, "channels") && !number(attr(e, "channels"), 1, 8, &ch)) {
				*why = "payload-type with bad channels";
				return -EINVAL;
			}
			if (c->n_pts == XG_J_MAX_PTS)
				continue;
			struct xg_jpt *pt = &c->pts[c->n_pts];
			if (!copy(pt->name, sizeof pt->name, attr(e, "name"), false))
				continue;   /* a name longer than any codec we know: not ours */
			if (!attr(e, "name"))
				pt->name[0] = '\0';
			pt->id = (int)id;
			pt->clock = (unsigned)clock;
			pt->channels = (unsigned)ch;
			c->n_pts++;
		} else if (is(e, "rtp-hdrext", XG_NS_HDREXT)) {
			unsigned long id;
			const char *uri = attr(e, "uri");
			if (uri && !strcmp(uri, XG_URI_AUDIO_LEVEL) && number(attr(e, "id"), 1, 14, &id))
				c->level_ext_id = (int)id;
		} else if (is(e, "rtcp-mux", NULL)) {
			c->rtcp_mux = true;
		}
	}
	return 0;
}

static int parse_transport(xmpp_stanza_t *t, struct xg_jcontent *c, const char **why)
{
	c->has_transport = true;
	const char *ufrag = attr(t, "ufrag"), *pwd = attr(t, "pwd");
	if ((ufrag && (!copy(c->ufrag, sizeof c->ufrag, ufrag, false) ||
		       !chars_in(ufrag, ICE_CHARS))) ||
	    (pwd && (!copy(c->pwd, sizeof c->pwd, pwd, false) || !chars_in(pwd, ICE_CHARS)))) {
		*why = "ufrag or pwd too long or not ice-chars";
		return -EINVAL;
	}
	for (xmpp_stanza_t *e = xmpp_stanza_get_children(t); e; e = xmpp_stanza_get_next(e)) {
		if (is(e, "fingerprint", XG_NS_DTLS)) {
			const char *hash = attr(e, "hash"), *setup = attr(e, "setup");
			char *text = xmpp_stanza_get_text(e);
			char fp[sizeof c->fingerprint];
			bool ok = hash && text &&
				  snprintf(fp, sizeof fp, "%s %s", hash, g_strstrip(text)) <
					  (int)sizeof fp;
			xmpp_free(xmpp_stanza_get_context(e), text);
			if (!ok) {
				*why = "fingerprint without hash or value";
				return -EINVAL;
			}
			if (setup && strcmp(setup, "actpass") && strcmp(setup, "active") &&
			    strcmp(setup, "passive")) {
				*why = "fingerprint setup is not actpass, active or passive";
				return -EINVAL;
			}
			memcpy(c->fingerprint, fp, sizeof fp);
			copy(c->setup, sizeof c->setup, setup ? setup : "", false);
		} else if (is(e, "candidate", NULL)) {
			char line[XG_J_CAND_LEN];
			int rc = xg_jcand_to_sdp(e, line, sizeof line);
			if (rc < 0) {
				*why = "malformed candidate";
				return -EINVAL;
			}
			if (rc == 0 || c->n_cands == XG_J_MAX_CANDS) {
				c->n_ignored++;
				continue;
			}
			memcpy(c->cands[c->n_cands++], line, sizeof line);
		}
	}
	return 0;
}

int xg_jingle_parse(xmpp_stanza_t *j, struct xg_jmsg *out, const char **why)
{
	static const char *dummy;
	if (!why)
		why = &dummy;
	if (!j || !is(j, "jingle", XG_NS_JINGLE)) {
		*why = "not a jingle element";
		return -EINVAL;
	}
	struct xg_jmsg *m = g_new0(struct xg_jmsg, 1);
	int rc = -EINVAL;
	const char *action = attr(j, "action");
	if (!copy(m->action_name, sizeof m->action_name, action, true)) {
		*why = "no action";
		goto out;
	}
	if (!copy(m->sid, sizeof m->sid, attr(j, "sid"), true)) {
		*why = "no sid, or a sid too long";
		goto out;
	}
	if (!copy(m->initiator, sizeof m->initiator, attr(j, "initiator"), false)) {
		*why = "initiator too long";
		goto out;
	}
	m->action = action_of(action);
	for (xmpp_stanza_t *e = xmpp_stanza_get_children(j); e; e = xmpp_stanza_get_next(e)) {
		if (is(e, "content", NULL)) {
			m->n_contents++;
			struct xg_jcontent c = { 0 };
			const char *name = attr(e, "name"), *creator = attr(e, "creator");
			if (!copy(c.name, sizeof c.name, name, true) ||
			    !chars_in(name, ICE_CHARS "-_.:@ ")) {
				*why = "content without a usable name";
				goto out;
			}
			if (creator && strcmp(creator, "initiator") && strcmp(creator, "responder")) {
				*why = "content creator is not initiator or responder";
				goto out;
			}
			copy(c.creator, sizeof c.creator, creator ? creator : "initiator", false);
			const char *senders = attr(e, "senders");
			if (senders && !copy(c.senders, sizeof c.senders, senders, false)) {
				*why = "bad senders";
				goto out;
			}
			xmpp_stanza_t *d = xmpp_stanza_get_child_by_name_and_ns(e, "description",
										XG_NS_RTP);
			xmpp_stanza_t *t = xmpp_stanza_get_child_by_name_and_ns(e, "transport",
										XG_NS_ICE);
			const char *media = d ? attr(d, "media") : NULL;
			if (d && (!media || strcmp(media, "audio")))
				continue;   /* video: not ours to answer */
			if (d && parse_description(d, &c, why))
				goto out;
			if (t && parse_transport(t, &c, why))
				goto out;
			/* transport-info carries no description: a content of the session, by name */
			if (!m->audio.present && (d || (t && m->action != XG_J_INITIATE &&
							m->action != XG_J_ACCEPT))) {
				c.present = true;
				m->audio = c;
			}
		} else if (is(e, "group", XG_NS_GROUP)) {
			const char *sem = attr(e, "semantics");
			if (sem && !strcmp(sem, "BUNDLE"))
				m->bundle = true;
		} else if (is(e, "reason", NULL)) {
			for (xmpp_stanza_t *r = xmpp_stanza_get_children(e); r;
			     r = xmpp_stanza_get_next(r))
				if (xmpp_stanza_is_tag(r) && strcmp(xmpp_stanza_get_name(r), "text")) {
					copy(m->reason, sizeof m->reason, xmpp_stanza_get_name(r),
					     false);
					break;
				}
		} else if (xmpp_stanza_is_tag(e) && xmpp_stanza_get_ns(e) &&
			   !strcmp(xmpp_stanza_get_ns(e), XG_NS_RTP_INFO)) {
			copy(m->info, sizeof m->info, xmpp_stanza_get_name(e), false);
		}
	}
	*out = *m;
	rc = 0;
out:
	g_free(m);
	return rc;
}

/* ---- choice ---- */

static const struct xg_jpt *find_pt(const struct xg_jcontent *c, const char *name,
				    unsigned clock, int static_id)
{
	for (unsigned i = 0; i < c->n_pts; i++) {
		const struct xg_jpt *p = &c->pts[i];
		if (p->name[0] ? !g_ascii_strcasecmp(p->name, name) &&
					 (!p->clock || p->clock == clock)
			       : p->id == static_id)
			return p;
	}
	return NULL;
}

int xg_jingle_choose(const struct xg_jcontent *c, struct xg_jchoice *ch)
{
	struct xg_jchoice r = { 0 };
	const struct xg_jpt *opus = find_pt(c, "opus", 48000, -1);
	if (opus) {
		r.codec = "opus";
		r.pt = opus;
	} else {
		for (unsigned i = 0; i < c->n_pts && !r.pt; i++) {
			const struct xg_jpt *p = &c->pts[i];
			if (p == find_pt(c, "G722", 8000, 9))
				r.codec = "g722";
			else if (p == find_pt(c, "PCMU", 8000, 0))
				r.codec = "pcmu";
			else if (p == find_pt(c, "PCMA", 8000, 8))
				r.codec = "pcma";
			if (r.codec)
				r.pt = p;
		}
	}
	if (!r.pt)
		return -ENOTSUP;
	/* RFC 4733 events run at the codec's RTP clock: 48000 for Opus, 8000 for the rest
	 * (G.722's RTP clock is 8000 by RFC 3551's old mistake) */
	unsigned clock = strcmp(r.codec, "opus") ? 8000 : 48000;
	for (unsigned i = 0; i < c->n_pts && !r.dtmf; i++)
		if (!g_ascii_strcasecmp(c->pts[i].name, "telephone-event") &&
		    c->pts[i].clock == clock && c->pts[i].id != r.pt->id)
			r.dtmf = &c->pts[i];
	*ch = r;
	return 0;
}

bool xg_jingle_we_are_active(const struct xg_jcontent *c)
{
	return strcmp(c->setup, "active") != 0;
}

/* ---- building ---- */

static void set_uint(xmpp_stanza_t *e, const char *name, unsigned v)
{
	char buf[16];
	snprintf(buf, sizeof buf, "%u", v);
	xmpp_stanza_set_attribute(e, name, buf);
}

static void add_text(xmpp_ctx_t *ctx, xmpp_stanza_t *e, const char *text)
{
	xmpp_stanza_t *t = xmpp_stanza_new(ctx);
	xmpp_stanza_set_text(t, text);
	xmpp_stanza_add_child_ex(e, t, 0);
}

xmpp_stanza_t *xg_jingle_el(xmpp_ctx_t *ctx, const char *action, const char *sid)
{
	xmpp_stanza_t *j = xg_el(ctx, NULL, "jingle", XG_NS_JINGLE);
	xmpp_stanza_set_attribute(j, "action", action);
	xmpp_stanza_set_attribute(j, "sid", sid);
	return j;
}

static void add_pt(xmpp_ctx_t *ctx, xmpp_stanza_t *desc, const struct xg_jpt *p, bool opus)
{
	xmpp_stanza_t *e = xg_el(ctx, desc, "payload-type", NULL);
	set_uint(e, "id", (unsigned)p->id);
	if (p->name[0])
		xmpp_stanza_set_attribute(e, "name", p->name);
	if (p->clock)
		set_uint(e, "clockrate", p->clock);
	if (p->channels)
		set_uint(e, "channels", p->channels);
	if (opus) {
		xmpp_stanza_t *f = xg_el(ctx, e, "parameter", NULL);
		xmpp_stanza_set_attribute(f, "name", "useinbandfec");
		xmpp_stanza_set_attribute(f, "value", "1");
		f = xg_el(ctx, e, "parameter", NULL);
		xmpp_stanza_set_attribute(f, "name", "minptime");
		xmpp_stanza_set_attribute(f, "value", "10");
	}
}

/* "sha-256 AB:CD" -> the <fingerprint/> of XEP-0320 with our setup. */
static void add_fingerprint(xmpp_ctx_t *ctx, xmpp_stanza_t *t, const char *fingerprint,
			    bool active)
{
	const char *sp = strchr(fingerprint, ' ');
	char hash[16] = "sha-256";
	if (sp && (size_t)(sp - fingerprint) < sizeof hash) {
		memcpy(hash, fingerprint, (size_t)(sp - fingerprint));
		hash[sp - fingerprint] = '\0';
	}
	xmpp_stanza_t *f = xg_el(ctx, t, "fingerprint", XG_NS_DTLS);
	xmpp_stanza_set_attribute(f, "hash", hash);
	xmpp_stanza_set_attribute(f, "setup", active ? "active" : "passive");
	add_text(ctx, f, sp ? sp + 1 : fingerprint);
}

xmpp_stanza_t *xg_jingle_answer(xmpp_ctx_t *ctx, const struct xg_jmsg *offer,
				const struct xg_jchoice *ch, const char *responder,
				const char *ufrag, const char *pwd, const char *fingerprint,
				bool active)
{
	const struct xg_jcontent *c = &offer->audio;
	xmpp_stanza_t *j = xg_jingle_el(ctx, "session-accept", offer->sid);
	if (offer->initiator[0])
		xmpp_stanza_set_attribute(j, "initiator", offer->initiator);
	if (responder)
		xmpp_stanza_set_attribute(j, "responder", responder);
	xmpp_stanza_t *content = xg_el(ctx, j, "content", NULL);
	xmpp_stanza_set_attribute(content, "creator", c->creator);
	xmpp_stanza_set_attribute(content, "name", c->name);
	xmpp_stanza_set_attribute(content, "senders", "both");
	xmpp_stanza_t *d = xg_el(ctx, content, "description", XG_NS_RTP);
	xmpp_stanza_set_attribute(d, "media", "audio");
	add_pt(ctx, d, ch->pt, !strcmp(ch->codec, "opus"));
	if (ch->dtmf)
		add_pt(ctx, d, ch->dtmf, false);
	if (c->level_ext_id) {
		xmpp_stanza_t *h = xg_el(ctx, d, "rtp-hdrext", XG_NS_HDREXT);
		set_uint(h, "id", (unsigned)c->level_ext_id);
		xmpp_stanza_set_attribute(h, "uri", XG_URI_AUDIO_LEVEL);
	}
	xg_el(ctx, d, "rtcp-mux", NULL);   /* always: the leg has one component */
	xmpp_stanza_t *t = xg_el(ctx, content, "transport", XG_NS_ICE);
	xmpp_stanza_set_attribute(t, "ufrag", ufrag);
	xmpp_stanza_set_attribute(t, "pwd", pwd);
	add_fingerprint(ctx, t, fingerprint, active);
	if (offer->bundle) {
		xmpp_stanza_t *g = xg_el(ctx, j, "group", XG_NS_GROUP);
		xmpp_stanza_set_attribute(g, "semantics", "BUNDLE");
		xmpp_stanza_t *gc = xg_el(ctx, g, "content", NULL);
		xmpp_stanza_set_attribute(gc, "name", c->name);
	}
	return j;
}

xmpp_stanza_t *xg_jingle_terminate(xmpp_ctx_t *ctx, const char *sid, const char *cond,
				   const char *text)
{
	xmpp_stanza_t *j = xg_jingle_el(ctx, "session-terminate", sid);
	xmpp_stanza_t *r = xg_el(ctx, j, "reason", NULL);
	xg_el(ctx, r, cond, NULL);
	if (text)
		add_text(ctx, xg_el(ctx, r, "text", NULL), text);
	return j;
}

xmpp_stanza_t *xg_jingle_transport_info(xmpp_ctx_t *ctx, const char *sid, const char *name,
					const char *creator, const char *ufrag,
					const char *pwd, const char *cand)
{
	char id[16];   /* unique enough within a session, and pure: from the line itself */
	snprintf(id, sizeof id, "c%08x", g_str_hash(cand ? cand : ""));
	xmpp_stanza_t *ce = xg_jcand_from_sdp(ctx, cand, id);
	if (!ce)
		return NULL;
	xmpp_stanza_t *j = xg_jingle_el(ctx, "transport-info", sid);
	xmpp_stanza_t *content = xg_el(ctx, j, "content", NULL);
	xmpp_stanza_set_attribute(content, "creator", creator);
	xmpp_stanza_set_attribute(content, "name", name);
	xmpp_stanza_t *t = xg_el(ctx, content, "transport", XG_NS_ICE);
	xmpp_stanza_set_attribute(t, "ufrag", ufrag);
	xmpp_stanza_set_attribute(t, "pwd", pwd);
	xmpp_stanza_add_child_ex(t, ce, 0);
	return j;
}
