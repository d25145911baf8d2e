/* muc_message.c: messages in a room: groupchat lines of XMPP occupants (to the text bus,
 * reflected to the sender, delivered to the other XMPP occupants), lines of the other
 * networks (from the bus), private messages between occupants, and the room's history. */
#define TT_LOG_DOMAIN "xmpp"
#include <errno.h>
#include <string.h>
#include <tutti/errno.h>
#include <tutti/log.h>

#include "muc_priv.h"

void xg_muc_history_free(struct muc_hist *h)
{
	g_free(h->nick);
	g_free(h->body);
	g_free(h->id);
	g_free(h);
}

static void history_add(struct muc_room *r, const char *nick, const char *body, const char *id)
{
	unsigned max = r->muc->gw->cfg.history;   /* reloadable: trim to the current value */
	if (max) {
		struct muc_hist *h = g_new0(struct muc_hist, 1);
		h->nick = g_strdup(nick);
		h->body = g_strdup(body);
		h->id = g_strdup(id);
		h->stamp_us = g_get_real_time();
		g_queue_push_tail(&r->history, h);
	}
	while (r->history.length > max)
		xg_muc_history_free(g_queue_pop_head(&r->history));
}

/* A groupchat line of the room, without 'to' (nick NULL: the room's own notice). */
static xmpp_stanza_t *line_new(struct muc_room *r, const char *nick, const char *body,
			       const char *id)
{
	struct xg_gw *gw = r->muc->gw;
	char *from = nick ? g_strdup_printf("%s/%s", r->jid, nick) : NULL;
	xmpp_stanza_t *st = xg_st_new(gw, "message", "groupchat", from ? from : r->jid, NULL,
				      id);
	g_free(from);
	xg_st_text_child(gw, st, "body", NULL, body);
	return st;
}

static unsigned attr_uint(xmpp_stanza_t *st, const char *name, unsigned dflt)
{
	const char *v = st ? xmpp_stanza_get_attribute(st, name) : NULL;
	char *end = NULL;
	unsigned long n = v ? strtoul(v, &end, 10) : 0;
	if (!v || !*v || *end || v[0] == '-')
		return dflt;
	return n > G_MAXUINT ? G_MAXUINT : (unsigned)n;
}

void xg_muc_history_send(struct muc_room *r, struct muc_occ *to, xmpp_stanza_t *join)
{
	struct xg_gw *gw = r->muc->gw;
	xmpp_stanza_t *want = join ? xg_st_find(join, "history", NULL) : NULL;
	unsigned n = attr_uint(want, "maxstanzas", G_MAXUINT);
	unsigned secs = attr_uint(want, "seconds", G_MAXUINT);
	if (attr_uint(want, "maxchars", 1) == 0)
		n = 0;   /* the one maxchars value clients use: none */
	if (n > r->history.length)
		n = r->history.length;
	gint64 oldest = secs == G_MAXUINT ? 0 : g_get_real_time() - (gint64)secs * G_USEC_PER_SEC;
	GList *l = r->history.tail;
	for (unsigned i = 1; i < n && l; i++)
		l = l->prev;
	for (; n && l; l = l->next) {
		struct muc_hist *h = l->data;
		if (h->stamp_us < oldest)
			continue;
		xmpp_stanza_t *st = line_new(r, h->nick, h->body, h->id);
		xmpp_stanza_set_to(st, to->real_jid);
		xmpp_stanza_t *d = xg_st_child(gw, st, "delay", NS_DELAY);
		xmpp_stanza_set_attribute(d, "from", r->jid);
		GDateTime *t = g_date_time_new_from_unix_utc(h->stamp_us / G_USEC_PER_SEC);
		char *stamp = t ? g_date_time_format(t, "%Y-%m-%dT%H:%M:%SZ") : NULL;
		xmpp_stanza_set_attribute(d, "stamp", stamp ? stamp : "1970-01-01T00:00:00Z");
		g_free(stamp);
		if (t)
			g_date_time_unref(t);
		xg_send(gw, st);
		xmpp_stanza_release(st);
	}
}

void xg_muc_tell(struct muc_occ *o, const char *body, const char *const *codes)
{
	struct muc_room *r = o->room;
	char *id = g_uuid_string_random();
	xmpp_stanza_t *st = line_new(r, NULL, body, id);
	xg_st_codes(r->muc->gw, st, codes);
	xmpp_stanza_set_to(st, o->real_jid);
	xg_send(r->muc->gw, st);
	xmpp_stanza_release(st);
	g_free(id);
}

void xg_muc_room_notice(struct muc_room *r, const char *body, const char *const *codes)
{
	char *id = g_uuid_string_random();
	xmpp_stanza_t *st = line_new(r, NULL, body, id);
	xg_st_codes(r->muc->gw, st, codes);
	xg_st_fanout(r, st, NULL);
	xmpp_stanza_release(st);
	history_add(r, NULL, body, id);
	g_free(id);
}

/* ---- from XMPP ---- */

static void groupchat(struct muc_occ *o, xmpp_stanza_t *st)
{
	struct muc_room *r = o->room;
	struct xg_gw *gw = r->muc->gw;
	if (xg_st_find(st, "subject", NULL)) {
		xg_reply_error(gw, st, "auth", "forbidden",
			       "The subject of a tutti room cannot be set.");
		return;
	}
	xmpp_stanza_t *b = xg_st_find(st, "body", NULL);
	char *body = b ? xmpp_stanza_get_text(b) : NULL;
	if (!body)
		return;   /* chat states and the like: nothing for the other networks */
	if (body[0] == '!' && xg_muc_command(o, body)) {
		xmpp_free(gw->ctx, body);   /* o may be gone (!end, a kick of itself) */
		return;
	}
	const char *text = body;
	unsigned flags = 0;
	if (!strncmp(text, "/me ", 4)) {
		text += 4;
		flags = TT_TEXT_ACTION;
	}
	int rc = gw->api->text_post(o->p, text, strlen(text), flags);
	if (rc) {
		xg_reply_error(gw, st, "modify", "not-acceptable",
			       rc == -EMSGSIZE ? "The message is too long."
			       : rc == -EINVAL ? "The message is empty."
			       : rc == -EILSEQ ? "The message has control characters."
			       : tt_strerror(rc));
		xmpp_free(gw->ctx, body);
		return;
	}
	/* reflected to the sender with its id and origin-id (XEP-0359): that is how clients
	 * know it was sent; the same stanza goes to the other XMPP occupants */
	const char *id = xmpp_stanza_get_id(st);
	char *made = id ? NULL : g_uuid_string_random();
	xmpp_stanza_t *out = line_new(r, o->nick, body, id ? id : made);
	xmpp_stanza_t *oid = xg_st_find(st, "origin-id", NS_SID);
	const char *oid_v = oid ? xmpp_stanza_get_attribute(oid, "id") : NULL;
	if (oid_v)
		xmpp_stanza_set_attribute(xg_st_child(gw, out, "origin-id", NS_SID), "id", oid_v);
	xmpp_stanza_set_attribute(xg_st_child(gw, out, "occupant-id", NS_OCCUPANT_ID), "id",
				  o->occupant_id);
	xg_st_fanout(r, out, NULL);
	xmpp_stanza_release(out);
	history_add(r, o->nick, body, id ? id : made);
	g_free(made);
	xmpp_free(gw->ctx, body);
}

static void private_message(struct muc_occ *o, xmpp_stanza_t *st, const char *nick)
{
	struct muc_room *r = o->room;
	struct xg_gw *gw = r->muc->gw;
	struct muc_occ *t = xg_muc_occ_by_nick(r, nick);
	if (!t) {
		xg_reply_error(gw, st, "cancel", "item-not-found", "Nobody has that nickname here.");
		return;
	}
	if (!t->xmpp) {
		char *why = g_strdup_printf("%s is on %s, where private messages from XMPP do not "
					    "reach: write in the room instead.", t->nick,
					    t->network);
		xg_reply_error(gw, st, "cancel", "feature-not-implemented", why);
		g_free(why);
		return;
	}
	xmpp_stanza_t *out = xmpp_stanza_copy(st);
	char *from = g_strdup_printf("%s/%s", r->jid, o->nick);
	xmpp_stanza_set_from(out, from);
	xmpp_stanza_set_to(out, t->real_jid);
	g_free(from);
	if (!xg_st_find(out, "x", NS_MUC_USER))
		xg_st_child(gw, out, "x", NS_MUC_USER);
	xg_send(gw, out);
	xmpp_stanza_release(out);
}

void xg_muc_message_in(struct xg_muc *m, xmpp_stanza_t *st, const char *room,
		       const char *nick)
{
	struct xg_gw *gw = m->gw;
	const char *type = xmpp_stanza_get_type(st);
	if (type && !strcmp(type, "error"))
		return;   /* a bounce of ours: its presence, if gone, will bounce too */
	if (!room) {
		xg_reply_error(gw, st, "cancel", "service-unavailable",
			       "The service takes messages in its rooms only.");
		return;
	}
	struct muc_room *r = xg_muc_room_get(m, room);
	struct muc_occ *o = r ? xg_muc_occ_by_real(r, xmpp_stanza_get_from(st)) : NULL;
	bool gc = type && !strcmp(type, "groupchat");
	if (!o) {
		xg_reply_error(gw, st, "cancel", "not-acceptable",
			       "You are not in this room: join it first.");
		return;
	}
	if (!nick && gc)
		groupchat(o, st);
	else if (!nick && xg_muc_voice_request(o, st))
		;   /* answered there */
	else if (!nick)
		xg_reply_error(gw, st, "cancel", "feature-not-implemented",
			       "Invitations and requests are not supported by this service.");
	else if (gc)
		xg_reply_error(gw, st, "modify", "bad-request",
			       "A groupchat message goes to the room, not to an occupant.");
	else
		private_message(o, st, nick);
}

/* ---- from the other networks ---- */

void xg_muc_medium_text(struct xg_gw *gw, void *medium_data, const struct tt_text *msg)
{
	struct muc_room *r = medium_data;
	if (!gw->muc || !r || xg_muc_room_get(gw->muc, r->name) != r)
		return;
	/* a notice has no sender and id ""; a line from another node has no local sender
	 * either, but its id and name (textbus.h tt__text_from_link) */
	bool notice = (msg->flags & TT_TEXT_NOTICE) || !msg->from.name || !msg->from.id ||
		      !*msg->from.id;
	char *body = msg->flags & TT_TEXT_ACTION ? g_strconcat("/me ", msg->text, NULL)
						 : g_strdup(msg->text);
	const char *nick = notice ? NULL : msg->from.name;
	char *id = g_uuid_string_random();
	xmpp_stanza_t *st = line_new(r, nick, body, id);
	struct muc_occ *o = msg->from.id ? g_hash_table_lookup(r->by_pid, msg->from.id) : NULL;
	if (o && !notice)
		xmpp_stanza_set_attribute(xg_st_child(gw, st, "occupant-id", NS_OCCUPANT_ID), "id",
					  o->occupant_id);
	xg_st_fanout(r, st, NULL);
	xmpp_stanza_release(st);
	history_add(r, nick, body, id);
	g_free(id);
	g_free(body);
}
