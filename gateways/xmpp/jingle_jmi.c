/* jingle_jmi.c: XEP-0353 Jingle Message Initiation. A client rings the bare JID
 * ROOM@call_domain with <propose/>; the bridge answers at once, as a phone that picks up:
 * <ringing/> then <proceed/> from ROOM@call_domain/tutti, and the caller sends its
 * session-initiate there (jingle.c). <retract/> before that ends the proposal, <finish/>
 * follows the end of a session that began this way. */
#define TT_LOG_DOMAIN "xmpp"
#include <string.h>
#include <tutti/log.h>

#include "jingle_priv.h"

static void send_jmi(struct xg_gw *gw, const char *from, const char *to, const char *what,
		     const char *id, const char *cond, const char *text)
{
	xmpp_stanza_t *m = xg_el(gw->ctx, NULL, "message", NULL);
	xmpp_stanza_set_from(m, from);
	xmpp_stanza_set_to(m, to);
	xmpp_stanza_set_type(m, "chat");
	char mid[48];
	g_snprintf(mid, sizeof mid, "jmi%lu", ++gw->jingle->next_id);
	xmpp_stanza_set_id(m, mid);
	xmpp_stanza_t *e = xg_el(gw->ctx, m, what, XG_NS_JMI);
	xmpp_stanza_set_id(e, id);
	if (cond) {
		xmpp_stanza_t *r = xg_el(gw->ctx, e, "reason", XG_NS_JINGLE);
		xg_el(gw->ctx, r, cond, NULL);
		if (text) {
			xmpp_stanza_t *t = xg_el(gw->ctx, r, "text", NULL);
			xmpp_stanza_t *body = xmpp_stanza_new(gw->ctx);
			xmpp_stanza_set_text(body, text);
			xmpp_stanza_add_child_ex(t, body, 0);
		}
	}
	xg_el(gw->ctx, m, "store", "urn:xmpp:hints");   /* offline clients learn it ended */
	xg_send(gw, m);
	xmpp_stanza_release(m);
}

void xg_jmi_finish(struct xg_call *c, const char *cond)
{
	send_jmi(c->gw, c->local, c->caller, "finish", c->sid, cond ? cond : "success", NULL);
}

static gboolean propose_expired(gpointer arg)
{
	struct xg_call *c = arg;
	c->timer = 0;
	tt_info("call %s from %s: no session-initiate after proceed", c->sid, c->caller);
	xg_call_end(c, NULL, NULL);
	return G_SOURCE_REMOVE;
}

static bool has_audio(xmpp_stanza_t *propose)
{
	for (xmpp_stanza_t *d = xmpp_stanza_get_children(propose); d; d = xmpp_stanza_get_next(d)) {
		const char *n = xmpp_stanza_is_tag(d) ? xmpp_stanza_get_name(d) : NULL;
		const char *ns = xmpp_stanza_get_ns(d);
		const char *media = xmpp_stanza_get_attribute(d, "media");
		if (n && !strcmp(n, "description") && ns && !strcmp(ns, XG_NS_RTP) && media &&
		    !strcmp(media, "audio"))
			return true;
	}
	return false;
}

static void propose(struct xg_gw *gw, xmpp_stanza_t *st, xmpp_stanza_t *e, const char *id)
{
	const char *from = xmpp_stanza_get_from(st), *to = xmpp_stanza_get_to(st);
	char *room = xg_call_room_of(gw, to);
	char *local = room ? g_strdup_printf("%s@%s/%s", room, gw->cfg.call_domain,
					     XG_CALL_RESOURCE) : NULL;
	if (!room || gw->api->room_check(gw->core, room, NULL) != 0) {
		/* unknown and PIN rooms alike: a call cannot give a PIN */
		send_jmi(gw, to, from, "reject", id, "decline", "no such room");
	} else if (!has_audio(e)) {
		send_jmi(gw, local, from, "reject", id, "unsupported-applications",
			 "the room takes audio calls");
	} else if (xg_call_find(gw, from, id)) {
		/* a repeated propose (a client resending): answer it again, change nothing */
		send_jmi(gw, local, from, "proceed", id, NULL, NULL);
	} else {
		struct xg_call *c = xg_call_new(gw, from, id, local, room);
		if (!c) {
			send_jmi(gw, local, from, "reject", id, "busy", "too many calls");
			g_free(local);
			g_free(room);
			return;
		}
		c->jmi = true;
		c->timer = g_timeout_add_seconds(XG_CALL_PROPOSE_S, propose_expired, c);
		send_jmi(gw, local, from, "ringing", id, NULL, NULL);
		send_jmi(gw, local, from, "proceed", id, NULL, NULL);
		tt_info("call %s from %s to %s proposed: proceed", id, from, room);
	}
	g_free(local);
	g_free(room);
}

bool xg_jmi_message(struct xg_gw *gw, xmpp_stanza_t *st)
{
	xmpp_stanza_t *e = xmpp_stanza_get_child_by_ns(st, XG_NS_JMI);
	const char *from = xmpp_stanza_get_from(st);
	const char *type = xmpp_stanza_get_type(st);
	if (!e || !xmpp_stanza_is_tag(e))
		return false;
	if (type && !strcmp(type, "error")) {
		/* our JMI message bounced: the caller is gone */
		xg_calls_end_for(gw, from);
		return true;
	}
	const char *what = xmpp_stanza_get_name(e);
	const char *id = xmpp_stanza_get_id(e);
	if (!from || !id || !*id || strlen(id) >= 128) {
		xg_reply_error(gw, st, "modify", "bad-request", "JMI element without a usable id");
		return true;
	}
	struct xg_call *c = xg_call_find(gw, from, id);
	if (!strcmp(what, "propose")) {
		propose(gw, st, e, id);
	} else if (!strcmp(what, "retract") || !strcmp(what, "reject")) {
		/* before the session only: afterwards session-terminate ends it */
		if (c && c->state == XG_CALL_PROPOSED) {
			tt_info("call %s from %s: %s", id, from, what);
			c->jmi = false;   /* nothing to finish */
			xg_call_end(c, NULL, NULL);
		}
	} else if (!strcmp(what, "finish")) {
		if (c) {
			c->jmi = false;   /* the caller said it */
			xg_call_end(c, c->state == XG_CALL_PROPOSED ? NULL : "success", NULL);
		}
	}
	/* ringing, proceed, accept from a caller's other devices: nothing to do */
	return true;
}
