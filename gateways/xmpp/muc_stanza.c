/* muc_stanza.c: small helpers to build and read stanzas for the MUC service. */
#include <string.h>

#include "muc_priv.h"

xmpp_stanza_t *xg_st_new(struct xg_gw *gw, const char *name, const char *type,
			 const char *from, const char *to, const char *id)
{
	xmpp_stanza_t *st = xmpp_stanza_new(gw->ctx);
	xmpp_stanza_set_name(st, name);
	if (type)
		xmpp_stanza_set_type(st, type);
	if (from)
		xmpp_stanza_set_from(st, from);
	if (to)
		xmpp_stanza_set_to(st, to);
	if (id)
		xmpp_stanza_set_id(st, id);
	return st;
}

xmpp_stanza_t *xg_st_child(struct xg_gw *gw, xmpp_stanza_t *parent, const char *name,
			   const char *ns)
{
	xmpp_stanza_t *c = xmpp_stanza_new(gw->ctx);
	xmpp_stanza_set_name(c, name);
	if (ns)
		xmpp_stanza_set_ns(c, ns);
	xmpp_stanza_add_child_ex(parent, c, 0);   /* the parent takes our reference */
	return c;
}

xmpp_stanza_t *xg_st_text_child(struct xg_gw *gw, xmpp_stanza_t *parent, const char *name,
				const char *ns, const char *text)
{
	xmpp_stanza_t *c = xg_st_child(gw, parent, name, ns);
	xmpp_stanza_t *t = xmpp_stanza_new(gw->ctx);
	xmpp_stanza_set_text(t, text);
	xmpp_stanza_add_child_ex(c, t, 0);
	return c;
}

xmpp_stanza_t *xg_st_find(xmpp_stanza_t *st, const char *name, const char *ns)
{
	for (xmpp_stanza_t *c = st ? xmpp_stanza_get_children(st) : NULL; c;
	     c = xmpp_stanza_get_next(c)) {
		if (!xmpp_stanza_is_tag(c))
			continue;
		const char *n = xmpp_stanza_get_name(c), *s = xmpp_stanza_get_ns(c);
		if ((!name || (n && !strcmp(n, name))) && (!ns || (s && !strcmp(s, ns))))
			return c;
	}
	return NULL;
}

#define JID_PART_MAX 1023

bool xg_jid_split(const char *jid, char **local, char **domain, char **resource)
{
	if (!jid)
		return false;
	const char *slash = strchr(jid, '/');
	size_t bare = slash ? (size_t)(slash - jid) : strlen(jid);
	const char *at = memchr(jid, '@', bare);
	const char *dom = at ? at + 1 : jid;
	size_t dlen = bare - (size_t)(dom - jid);
	if (dlen == 0 || dlen > JID_PART_MAX || (at && (at == jid || at - jid > JID_PART_MAX)))
		return false;
	if (slash && (slash[1] == '\0' || strlen(slash + 1) > JID_PART_MAX))
		return false;
	*local = at ? g_strndup(jid, (gsize)(at - jid)) : NULL;
	*domain = g_strndup(dom, dlen);
	*resource = slash ? g_strdup(slash + 1) : NULL;
	return true;
}

void xg_st_codes(struct xg_gw *gw, xmpp_stanza_t *st, const char *const *codes)
{
	if (!codes || !*codes)
		return;
	xmpp_stanza_t *x = xg_st_child(gw, st, "x", NS_MUC_USER);
	for (; *codes; codes++)
		xmpp_stanza_set_attribute(xg_st_child(gw, x, "status", NULL), "code", *codes);
}

void xg_st_fanout(struct muc_room *r, xmpp_stanza_t *st, const struct muc_occ *skip)
{
	for (GList *l = r->ours.head; l; l = l->next) {
		struct muc_occ *o = l->data;
		if (o == skip)
			continue;
		xmpp_stanza_set_to(st, o->real_jid);
		xg_send(r->muc->gw, st);
	}
}
