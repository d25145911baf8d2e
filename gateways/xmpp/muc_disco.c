/* muc_disco.c: IQs to the service, a room or an occupant: service discovery (XEP-0030),
 * pings and XEP-0410 self-pings, muc#admin handed to muc_admin.c; everything else is
 * answered with an error. */
#define TT_LOG_DOMAIN "xmpp"
#include <errno.h>
#include <string.h>
#include <tutti/conf.h>
#include <tutti/log.h>

#include "muc_priv.h"

static xmpp_stanza_t *result_new(struct xg_gw *gw, xmpp_stanza_t *st)
{
	return xg_st_new(gw, "iq", "result", xmpp_stanza_get_to(st), xmpp_stanza_get_from(st),
			 xmpp_stanza_get_id(st));
}

static void send_release(struct xg_gw *gw, xmpp_stanza_t *st)
{
	xg_send(gw, st);
	xmpp_stanza_release(st);
}

static void identity(struct xg_gw *gw, xmpp_stanza_t *q, const char *name)
{
	xmpp_stanza_t *id = xg_st_child(gw, q, "identity", NULL);
	xmpp_stanza_set_attribute(id, "category", "conference");
	xmpp_stanza_set_attribute(id, "type", "text");
	xmpp_stanza_set_attribute(id, "name", name);
}

static void features(struct xg_gw *gw, xmpp_stanza_t *q, const char *const *vars)
{
	for (; *vars; vars++)
		xmpp_stanza_set_attribute(xg_st_child(gw, q, "feature", NULL), "var", *vars);
}

static bool is_configured(struct xg_gw *gw, const char *room)
{
	const struct tt_conf *c = gw->api->conf(gw->core);
	for (const char *const *i = tt_conf_instances(c, "room"); i && *i; i++)
		if (!strcmp(*i, room))
			return true;
	return false;
}

static void service_info(struct xg_gw *gw, xmpp_stanza_t *st)
{
	static const char *const vars[] = {NS_DISCO_INFO, NS_DISCO_ITEMS, NS_MUC, NS_PING,
					   NULL};
	xmpp_stanza_t *r = result_new(gw, st);
	xmpp_stanza_t *q = xg_st_child(gw, r, "query", NS_DISCO_INFO);
	identity(gw, q, "tutti rooms");
	features(gw, q, vars);
	send_release(gw, r);
}

/* A room's features. An unknown room (rooms are not made on demand) is described as a PIN
 * room is, as a join to it is answered as one: disco must not tell them apart either. */
static void room_info(struct xg_gw *gw, xmpp_stanza_t *st, const char *room)
{
	int rc = gw->api->room_check(gw->core, room, NULL);
	bool locked_out = rc == -ENOENT || rc == -EACCES;
	xmpp_stanza_t *r = result_new(gw, st);
	xmpp_stanza_t *q = xg_st_child(gw, r, "query", NS_DISCO_INFO);
	identity(gw, q, room);
	const char *const vars[] = {
		NS_DISCO_INFO, NS_MUC, NS_OCCUPANT_ID,
		"http://jabber.org/protocol/muc#self-ping-optimization",
		locked_out ? "muc_passwordprotected" : "muc_unsecured",
		locked_out ? "muc_hidden" : "muc_public",
		!locked_out && is_configured(gw, room) ? "muc_persistent" : "muc_temporary",
		"muc_open", "muc_unmoderated",
		/* real JIDs stay hidden, as phone numbers and IRC hosts do */
		"muc_semianonymous", NULL};
	features(gw, q, vars);
	send_release(gw, r);
}

static void add_item(struct xg_gw *gw, xmpp_stanza_t *q, GHashTable *seen, const char *room)
{
	if (g_hash_table_contains(seen, room))
		return;
	g_hash_table_add(seen, (gpointer)room);
	int rc = gw->api->room_check(gw->core, room, NULL);
	if (rc == -ENOENT || rc == -EACCES)
		return;   /* PIN rooms are not listed */
	char *jid = g_strdup_printf("%s@%s", room, gw->cfg.domain);
	xmpp_stanza_t *it = xg_st_child(gw, q, "item", NULL);
	xmpp_stanza_set_attribute(it, "jid", jid);
	xmpp_stanza_set_attribute(it, "name", room);
	g_free(jid);
}

/* The rooms the service knows of: configured ones and those with XMPP occupants (the core
 * API lists no others). */
static void service_items(struct xg_gw *gw, xmpp_stanza_t *st)
{
	xmpp_stanza_t *r = result_new(gw, st);
	xmpp_stanza_t *q = xg_st_child(gw, r, "query", NS_DISCO_ITEMS);
	GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
	const struct tt_conf *c = gw->api->conf(gw->core);
	for (const char *const *i = tt_conf_instances(c, "room"); i && *i; i++)
		add_item(gw, q, seen, *i);
	GHashTableIter it;
	gpointer k;
	g_hash_table_iter_init(&it, gw->muc->rooms);
	while (g_hash_table_iter_next(&it, &k, NULL))
		add_item(gw, q, seen, k);
	g_hash_table_destroy(seen);
	send_release(gw, r);
}

static void empty_result(struct xg_gw *gw, xmpp_stanza_t *st, const char *ns)
{
	xmpp_stanza_t *r = result_new(gw, st);
	if (ns)
		xg_st_child(gw, r, "query", ns);
	send_release(gw, r);
}

void xg_muc_iq_in(struct xg_muc *m, xmpp_stanza_t *st, const char *room, const char *nick)
{
	struct xg_gw *gw = m->gw;
	const char *type = xmpp_stanza_get_type(st);
	if (!type || (strcmp(type, "get") && strcmp(type, "set"))) {
		if (!type)
			xg_reply_error(gw, st, "modify", "bad-request", "An iq needs a type.");
		return;   /* results and errors: we ask nothing */
	}
	if (!xmpp_stanza_get_id(st)) {
		xg_reply_error(gw, st, "modify", "bad-request", "An iq needs an id.");
		return;
	}
	xmpp_stanza_t *q = NULL;
	for (xmpp_stanza_t *c = xmpp_stanza_get_children(st); c; c = xmpp_stanza_get_next(c))
		if (xmpp_stanza_is_tag(c)) {
			if (q) {   /* RFC 6120 8.2.3: exactly one payload */
				xg_reply_error(gw, st, "modify", "bad-request",
					       "An iq has one payload.");
				return;
			}
			q = c;
		}
	const char *ns = q ? xmpp_stanza_get_ns(q) : NULL;
	bool get = !strcmp(type, "get");
	const char *node = q ? xmpp_stanza_get_attribute(q, "node") : NULL;
	if (!ns) {
		xg_reply_error(gw, st, "modify", "bad-request", "An iq needs a payload.");
	} else if (nick) {
		/* XEP-0410: a ping to an occupant JID is answered by the service: joined or not */
		struct muc_room *r = xg_muc_room_get(m, room);
		struct muc_occ *from = r ? xg_muc_occ_by_real(r, xmpp_stanza_get_from(st)) : NULL;
		if (get && !strcmp(ns, NS_PING) && from && xg_muc_occ_by_nick(r, nick))
			empty_result(gw, st, NULL);
		else if (get && !strcmp(ns, NS_PING))
			xg_reply_error(gw, st, "modify", "not-acceptable",
				       from ? "Nobody has that nickname here." : "You are not in "
				       "this room.");
		else
			xg_reply_error(gw, st, "cancel", "service-unavailable", NULL);
	} else if (get && !strcmp(ns, NS_DISCO_INFO) && !node) {
		if (room)
			room_info(gw, st, room);
		else
			service_info(gw, st);
	} else if (get && !strcmp(ns, NS_DISCO_ITEMS) && !node) {
		if (room)
			empty_result(gw, st, NS_DISCO_ITEMS);   /* occupants are not listed */
		else
			service_items(gw, st);
	} else if (get && !strcmp(ns, NS_PING)) {
		empty_result(gw, st, NULL);
	} else if (room && !strcmp(ns, NS_MUC "#admin")) {
		struct muc_room *r = xg_muc_room_get(m, room);
		struct muc_occ *from = r ? xg_muc_occ_by_real(r, xmpp_stanza_get_from(st)) : NULL;
		if (r)
			xg_muc_admin_iq(r, from, st, q, get);
		else
			xg_reply_error(gw, st, "auth", "forbidden", "You are not in this room.");
	} else if (room && !strcmp(ns, NS_MUC "#owner")) {
		xg_reply_error(gw, st, "cancel", "feature-not-implemented",
			       "Rooms are configured in tutti, not over XMPP.");
	} else {
		xg_reply_error(gw, st, "cancel", "service-unavailable", NULL);
	}
}
