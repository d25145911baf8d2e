/* jingle_caps.c: what makes a client show a call button for ROOM@call_domain: disco#info
 * with the Jingle RTP audio, ICE-UDP and DTLS features (XEP-0030), and available presence
 * from ROOM@call_domain/tutti with XEP-0115 caps, sent to probes, subscriptions and
 * directed presence. A JID of a room nobody may call (unknown, or PIN: a call cannot
 * give one) is answered as not found, alike. */
#define TT_LOG_DOMAIN "xmpp"
#include <errno.h>
#include <string.h>
#include <tutti/log.h>

#include "jingle_priv.h"

#define NS_DISCO_INFO "http://jabber.org/protocol/disco#info"
#define NS_CAPS "http://jabber.org/protocol/caps"
#define CAPS_NODE "https://tutti.example/caps"

static const char *const identities[] = { "client/pc//tutti" };
static const char *const features[] = {
	NS_CAPS,
	NS_DISCO_INFO,
	XG_NS_JINGLE,
	XG_NS_RTP,
	"urn:xmpp:jingle:apps:rtp:audio",
	XG_NS_RTP_INFO,
	XG_NS_HDREXT,
	XG_NS_ICE,
	XG_NS_DTLS,
	XG_NS_GROUP,
	XG_NS_JMI,
	"urn:ietf:rfc:5761",   /* rtcp-mux */
	"urn:ietf:rfc:5888",   /* grouping (BUNDLE) */
	"urn:xmpp:ping",
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char *xg_caps_ver(const char *const *ids, size_t n_ids, const char *const *feats,
		  size_t n_feats)
{
	/* identities sort by category/type/lang, which is their string up to the name: sorting
	 * the whole strings agrees (the name only breaks ties) */
	const char **si = g_new(const char *, n_ids + 1);
	const char **sf = g_new(const char *, n_feats + 1);
	memcpy(si, ids, n_ids * sizeof *si);
	memcpy(sf, feats, n_feats * sizeof *sf);
	qsort(si, n_ids, sizeof *si, cmp_str);
	qsort(sf, n_feats, sizeof *sf, cmp_str);
	GString *s = g_string_new(NULL);
	for (size_t i = 0; i < n_ids; i++)
		g_string_append_printf(s, "%s<", si[i]);
	for (size_t i = 0; i < n_feats; i++)
		g_string_append_printf(s, "%s<", sf[i]);
	guint8 digest[20];
	gsize dlen = sizeof digest;
	GChecksum *ck = g_checksum_new(G_CHECKSUM_SHA1);
	g_checksum_update(ck, (const guchar *)s->str, (gssize)s->len);
	g_checksum_get_digest(ck, digest, &dlen);
	g_checksum_free(ck);
	g_string_free(s, TRUE);
	g_free(si);
	g_free(sf);
	return g_base64_encode(digest, dlen);
}

const char *xg_jingle_caps_ver(void)
{
	static char *ver;   /* computed once, kept for the process (constant input) */
	if (!ver)
		ver = xg_caps_ver(identities, G_N_ELEMENTS(identities), features,
				  G_N_ELEMENTS(features));
	return ver;
}

/* Whether `room` may be called: it exists (or is made on demand) and has no PIN. */
static bool callable(struct xg_gw *gw, const char *room)
{
	return room && gw->api->room_check(gw->core, room, NULL) == 0;
}

bool xg_jingle_disco(struct xg_gw *gw, xmpp_stanza_t *st)
{
	const char *type = xmpp_stanza_get_type(st);
	xmpp_stanza_t *q = xmpp_stanza_get_child_by_name_and_ns(st, "query", NS_DISCO_INFO);
	if (!q || !type || strcmp(type, "get"))
		return false;
	const char *to = xmpp_stanza_get_to(st);
	char *room = xg_call_room_of(gw, to);
	bool domain = to && !strchr(to, '@');
	if (!domain && !callable(gw, room)) {
		g_free(room);
		xg_reply_error(gw, st, "cancel", "item-not-found", NULL);
		return true;
	}
	g_free(room);
	xmpp_stanza_t *r = xg_reply(gw, st);
	xmpp_stanza_set_type(r, "result");
	xmpp_stanza_t *rq = xg_el(gw->ctx, r, "query", NS_DISCO_INFO);
	const char *node = xmpp_stanza_get_attribute(q, "node");
	if (node)
		xmpp_stanza_set_attribute(rq, "node", node);
	xmpp_stanza_t *id = xg_el(gw->ctx, rq, "identity", NULL);
	xmpp_stanza_set_attribute(id, "category", "client");
	xmpp_stanza_set_attribute(id, "type", "pc");
	xmpp_stanza_set_attribute(id, "name", "tutti");
	for (size_t i = 0; i < G_N_ELEMENTS(features); i++) {
		xmpp_stanza_t *f = xg_el(gw->ctx, rq, "feature", NULL);
		xmpp_stanza_set_attribute(f, "var", features[i]);
	}
	xg_send(gw, r);
	xmpp_stanza_release(r);
	return true;
}

static void send_presence(struct xg_gw *gw, const char *from, const char *to, const char *type,
			  bool caps)
{
	xmpp_stanza_t *p = xg_el(gw->ctx, NULL, "presence", NULL);
	xmpp_stanza_set_from(p, from);
	xmpp_stanza_set_to(p, to);
	if (type)
		xmpp_stanza_set_type(p, type);
	if (caps) {
		xmpp_stanza_t *c = xg_el(gw->ctx, p, "c", NS_CAPS);
		xmpp_stanza_set_attribute(c, "hash", "sha-1");
		xmpp_stanza_set_attribute(c, "node", CAPS_NODE);
		xmpp_stanza_set_attribute(c, "ver", xg_jingle_caps_ver());
	}
	xg_send(gw, p);
	xmpp_stanza_release(p);
}

void xg_jingle_presence(struct xg_gw *gw, xmpp_stanza_t *st)
{
	const char *type = xmpp_stanza_get_type(st);
	const char *from = xmpp_stanza_get_from(st);
	const char *to = xmpp_stanza_get_to(st);
	if (!from || !to)
		return;
	if (type && !strcmp(type, "unavailable")) {
		xg_calls_end_for(gw, from);   /* a caller that went away ends its calls */
		return;
	}
	if (type && !strcmp(type, "error"))
		return;
	char *room = xg_call_room_of(gw, to);
	if (!room)
		return;   /* the domain itself has no presence */
	char *bare = g_strdup_printf("%s@%s", room, gw->cfg.call_domain);
	char *full = g_strdup_printf("%s/%s", bare, XG_CALL_RESOURCE);
	bool ok = callable(gw, room);
	char *from_bare = xmpp_jid_bare(gw->ctx, from);
	if (!type || !strcmp(type, "probe")) {
		/* a probe, or directed presence: our presence back, or unavailable */
		send_presence(gw, ok ? full : bare, type ? from_bare : from,
			      ok ? NULL : "unavailable", ok);
	} else if (!strcmp(type, "subscribe")) {
		send_presence(gw, bare, from_bare, ok ? "subscribed" : "unsubscribed", false);
		if (ok)
			send_presence(gw, full, from_bare, NULL, true);
	} else if (!strcmp(type, "unsubscribe")) {
		send_presence(gw, bare, from_bare, "unsubscribed", false);
	}
	xmpp_free(gw->ctx, from_bare);
	g_free(full);
	g_free(bare);
	g_free(room);
}
