/* muc_presence.c: joins and leaves of XMPP occupants, and every occupant's presence: what
 * it says (role, network, muted, talking, raised hand and its place in the queue), who gets
 * it, and when (talking changes are rate-limited per occupant). */
#define TT_LOG_DOMAIN "xmpp"
#include <errno.h>
#include <string.h>
#include <tutti/errno.h>
#include <tutti/log.h>

#include "muc_priv.h"

/* "phone, muted, talking, hand raised": for clients that show only the status text. An XMPP
 * occupant with nothing to say has no status. */
static char *status_text(const struct muc_occ *o)
{
	GString *s = g_string_new(NULL);
	bool ours = !strcmp(o->network, XG_NETWORK);
	if (!ours || (o->caps & TT_CAP_AUDIO))
		g_string_append(s, o->network);
	if (ours && (o->caps & TT_CAP_AUDIO))
		g_string_append(s, ", in the call");
	if (o->state & TT_PS_MOD_MUTED)
		g_string_append(s, ", muted by a moderator");
	else if (o->state & TT_PS_MUTED)
		g_string_append(s, ", muted");
	if (o->state & TT_PS_TALKING)
		g_string_append(s, ", talking");
	if (o->state & TT_PS_HAND)
		g_string_append(s, ", hand raised");
	if (s->len && s->str[0] == ',')
		g_string_erase(s, 0, 2);
	return g_string_free(s, s->len == 0);
}

static void add_codes(struct xg_gw *gw, xmpp_stanza_t *x, const char *const *codes)
{
	for (; codes && *codes; codes++)
		xmpp_stanza_set_attribute(xg_st_child(gw, x, "status", NULL), "code", *codes);
}

/* o's presence, without 'to'. */
static xmpp_stanza_t *presence_of(const struct muc_occ *o, bool unavailable,
				  const char *const *codes, bool self, const char *reason)
{
	struct muc_room *r = o->room;
	struct xg_gw *gw = r->muc->gw;
	char *from = g_strdup_printf("%s/%s", r->jid, o->nick);
	xmpp_stanza_t *st = xg_st_new(gw, "presence", unavailable ? "unavailable" : NULL, from,
				      NULL, NULL);
	g_free(from);
	char *status = unavailable ? NULL : status_text(o);
	if (status)
		xg_st_text_child(gw, st, "status", NULL, status);
	g_free(status);
	xmpp_stanza_t *x = xg_st_child(gw, st, "x", NS_MUC_USER);
	xmpp_stanza_t *item = xg_st_child(gw, x, "item", NULL);
	/* affiliations are long-lived rights tutti does not keep: every occupant's is none,
	 * and a moderator (PIN, IRC operator, API) is one by role, for this visit */
	xmpp_stanza_set_attribute(item, "affiliation", "none");
	xmpp_stanza_set_attribute(item, "role", unavailable ? "none" : xg_muc_role(o->state));
	if (o->actor_nick)
		xmpp_stanza_set_attribute(xg_st_child(gw, item, "actor", NULL), "nick",
					  o->actor_nick);
	if (!reason || !*reason)
		reason = o->mod_reason;
	if (reason && *reason)
		xg_st_text_child(gw, item, "reason", NULL, reason);
	if (self)
		add_codes(gw, x, (const char *const[]){"110", NULL});
	add_codes(gw, x, codes);
	xmpp_stanza_set_attribute(xg_st_child(gw, st, "occupant-id", NS_OCCUPANT_ID), "id",
				  o->occupant_id);
	if (!unavailable) {
		/* flags only when true: a join's fan-out is n^2 of these, and the server parses
		 * every byte of each (measured: Prosody's routing is most of the cost) */
		xmpp_stanza_t *t = xg_st_child(gw, st, "occupant", NS_TUTTI);
		xmpp_stanza_set_attribute(t, "network", o->network);
		if (o->caps & TT_CAP_AUDIO)
			xmpp_stanza_set_attribute(t, "audio", "true");
		if (o->state & TT_PS_MUTED)
			xmpp_stanza_set_attribute(t, "muted", "true");
		if (o->state & TT_PS_TALKING)
			xmpp_stanza_set_attribute(t, "talking", "true");
		if (o->state & TT_PS_HAND) {
			char seq[16];
			g_snprintf(seq, sizeof seq, "%u", (unsigned)o->hand_seq);
			xmpp_stanza_set_attribute(t, "hand", "true");
			/* the queue: raised hands in the order of this number, every network */
			if (o->hand_seq)
				xmpp_stanza_set_attribute(t, "hand-seq", seq);
		}
	}
	return st;
}

void xg_muc_presence_broadcast(struct muc_occ *o, bool unavailable, const char *const *codes,
			       const char *reason)
{
	if (!o->room->ours.length || (o->xmpp && o->room->ours.length == 1))
		return;
	xmpp_stanza_t *st = presence_of(o, unavailable, codes, false, reason);
	xg_st_fanout(o->room, st, o);
	xmpp_stanza_release(st);
}

void xg_muc_presence_self(struct muc_occ *o, bool unavailable, const char *const *codes,
			  const char *reason)
{
	xmpp_stanza_t *st = presence_of(o, unavailable, codes, true, reason);
	xmpp_stanza_set_to(st, o->real_jid);
	xg_send(o->room->muc->gw, st);
	xmpp_stanza_release(st);
}

void xg_muc_occ_leave(struct muc_occ *o, const char *const *codes, const char *reason,
		      int err)
{
	if (o->xmpp)
		xg_muc_presence_self(o, true, codes, reason);
	xg_muc_presence_broadcast(o, true, codes, reason);
	if (o->xmpp)
		xg_muc_occ_end(o, err);
	else
		xg_muc_occ_free(o);
}

/* ---- state changes, talking rate-limited ---- */

static void announce(struct muc_occ *o)
{
	o->shown = o->state;
	xg_muc_presence_broadcast(o, false, NULL, NULL);
	if (o->xmpp)
		xg_muc_presence_self(o, false, NULL, NULL);
	/* the actor and reason of a role change go with the presence that shows it only */
	g_clear_pointer(&o->actor_nick, g_free);
	g_clear_pointer(&o->mod_reason, g_free);
}

static gboolean talk_due(gpointer data)
{
	struct muc_occ *o = data;
	o->talk_timer = 0;
	if (o->state != o->shown) {
		o->talk_sent_us = g_get_monotonic_time();
		announce(o);
	}
	return G_SOURCE_REMOVE;
}

/* Talking flips every few seconds in a lively room: at most one presence per occupant per
 * talking_interval says so, and the last state always gets out (a timer sends it when the
 * interval is over), so nobody is left "talking" after they stopped. */
static void state_changed(struct muc_occ *o, unsigned changed)
{
	if (o->state == o->shown)
		return;
	gint64 now = g_get_monotonic_time();
	gint64 interval = (gint64)o->room->muc->gw->cfg.talking_interval_s * G_USEC_PER_SEC;
	if (changed & ~(unsigned)TT_PS_TALKING) {
		announce(o);   /* muted, hand: now (it carries the talking state too) */
		return;
	}
	if (o->talk_timer)
		return;
	if (!o->talk_sent_us || now - o->talk_sent_us >= interval) {
		o->talk_sent_us = now;
		announce(o);
		return;
	}
	guint ms = (guint)((o->talk_sent_us + interval - now) / 1000) + 1;
	o->talk_timer = g_timeout_add(ms, talk_due, o);
}

void xg_muc_presence_roster(struct xg_muc *m, const struct tt_roster_event *ev)
{
	struct muc_room *r = xg_muc_room_get(m, ev->room);
	if (!r)
		return;
	struct muc_occ *o = ev->who.id ? g_hash_table_lookup(r->by_pid, ev->who.id) : NULL;
	switch (ev->type) {
	case TT_ROSTER_JOINED:
		/* ours: announced when participant_join returns, with the name it got */
		if (o || !ev->who.name ||
		    (m->joining && ev->who.gateway && !strcmp(ev->who.gateway, XG_GW_NAME)))
			return;
		o = xg_muc_occ_add(r, NULL, ev->who.id, ev->who.name, ev->who.network,
				   ev->who.caps, ev->who.state, NULL);
		o->hand_seq = ev->who.hand_seq;
		xg_muc_presence_broadcast(o, false, NULL, NULL);
		break;
	case TT_ROSTER_LEFT:
		if (o) {   /* ours only when the core ended it: ours leaving through us are gone */
			static const char *const kicked[] = {"307", NULL};
			xg_muc_occ_leave(o, o->kicked ? kicked : NULL, NULL, 0);
		}
		break;
	case TT_ROSTER_STATE:
		if (!o)
			return;
		o->hand_seq = ev->who.hand_seq;
		if (o->caps != ev->who.caps) {   /* audio_add/remove: "in the call", at once */
			o->caps = ev->who.caps;
			o->state = ev->who.state;
			announce(o);
			break;
		}
		o->state = ev->who.state;
		state_changed(o, ev->changed);
		break;
	case TT_ROSTER_ROOM_ENDED:
		for (guint n = r->ours.length; n > 0; n--)   /* r is freed with the last */
			xg_muc_occ_leave(r->ours.head->data, NULL, NULL, 0);
		break;
	}
}

/* ---- presence from XMPP users ---- */

static void join_error(struct xg_gw *gw, xmpp_stanza_t *st, int rc)
{
	switch (rc) {
	case -ENOENT:
	case -EACCES:
		/* the same answer, word for word: an outsider cannot tell them apart */
		xg_reply_error(gw, st, "auth", "not-authorized",
			       "This room needs a password (its PIN), or does not exist.");
		break;
	case -EBUSY:
		xg_reply_error(gw, st, "cancel", "not-allowed", "The room is locked.");
		break;
	case -EUSERS:
		xg_reply_error(gw, st, "wait", "service-unavailable", "The room is full.");
		break;
	case -EINVAL:
		xg_reply_error(gw, st, "modify", "not-acceptable", "This nickname is not usable.");
		break;
	default:
		xg_reply_error(gw, st, "cancel", "service-unavailable", tt_strerror(rc));
		break;
	}
}

/* XEP-0045 history limits the joining client asked for (maxstanzas, seconds). */
static void join(struct xg_muc *m, xmpp_stanza_t *st, const char *room, const char *nick)
{
	struct xg_gw *gw = m->gw;
	const struct tt_core_api *api = gw->api;
	const char *from = xmpp_stanza_get_from(st);
	xmpp_stanza_t *x = xg_st_find(st, "x", NS_MUC);
	xmpp_stanza_t *pw = x ? xg_st_find(x, "password", NULL) : NULL;
	char *pin = pw ? xmpp_stanza_get_text(pw) : NULL;
	struct muc_room *r = NULL;
	int rc = api->room_check(gw->core, room, pin);
	if (!rc && !g_utf8_validate(nick, -1, NULL))
		rc = -EINVAL;
	if (!rc) {
		r = xg_muc_room_get(m, room);
		if (!r)
			r = xg_muc_room_open(m, room, &rc);
	}
	if (r && xg_muc_occ_by_nick(r, nick)) {
		xg_reply_error(gw, st, "cancel", "conflict",
			       "That nickname is taken in this room: choose another.");
		xg_muc_room_maybe_free(r);
		goto out;
	}
	struct tt_participant *p = NULL;
	struct muc_occ *o = g_new0(struct muc_occ, 1);
	o->peer.kind = XG_PEER_OCCUPANT;
	if (r) {
		struct tt_join req = {.room = room, .name = nick, .caps = TT_CAP_TEXT, .pin = pin,
				      .gw_data = o, .medium = r->medium};
		m->joining = true;
		rc = api->participant_join(gw->h, &req, &p);
		m->joining = false;
	}
	if (rc) {
		g_free(o);
		join_error(gw, st, rc);
		if (r)
			xg_muc_room_maybe_free(r);
		goto out;
	}
	const char *name = api->participant_name(p);
	bool renamed = strcmp(name, nick) != 0;
	xg_muc_occ_add(r, o, api->participant_id(p), name, XG_NETWORK, TT_CAP_TEXT,
		       api->participant_state(p), from);
	o->p = p;
	tt_info("%s joined %s as %s", from, r->jid, name);
	/* XEP-0045 7.2.3: the others first, then its own (110), then history, then subject */
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, r->by_pid);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		if (v == o)
			continue;
		xmpp_stanza_t *ps = presence_of(v, false, NULL, false, NULL);
		xmpp_stanza_set_to(ps, from);
		xg_send(gw, ps);
		xmpp_stanza_release(ps);
	}
	xg_muc_presence_broadcast(o, false, NULL, NULL);
	/* 170: the room is being recorded (XEP-0045 "room logging is enabled"), told on
	 * entering, and in words after the history (below) */
	struct tt_room_info info;
	bool recorded = !api->room_info(gw->core, room, &info) && info.recording;
	const char *codes[3] = {NULL, NULL, NULL};
	int nc = 0;
	if (renamed)
		codes[nc++] = "210";
	if (recorded)
		codes[nc++] = "170";
	xg_muc_presence_self(o, false, codes, NULL);
	xg_muc_history_send(r, o, x);
	if (recorded)
		xg_muc_tell(o, info.recording_decline
			    ? "This meeting is being recorded: what you say is recorded. Say "
			      "!decline to be muted and left out of it."
			    : "This meeting is being recorded: what you say is recorded.",
			    (const char *const[]){"170", NULL});
	/* clients count the subject as "joined"; tutti rooms have none: an empty one */
	xmpp_stanza_t *subj = xg_st_new(gw, "message", "groupchat", r->jid, from, NULL);
	xg_st_child(gw, subj, "subject", NULL);
	xg_send(gw, subj);
	xmpp_stanza_release(subj);
out:
	if (pin)
		xmpp_free(gw->ctx, pin);
}

/* A joined occupant's presence again: a raised or lowered hand in our element
 * (<occupant xmlns='urn:tutti:occupant:0' hand='true'/>) is set on its participant, and
 * the state change announces it everywhere; anything else (XMPP status and show, which
 * tutti does not keep) gets its own presence back, as it stands. */
static void presence_update(struct muc_occ *o, xmpp_stanza_t *st)
{
	const struct tt_core_api *api = o->room->muc->gw->api;
	xmpp_stanza_t *t = xg_st_find(st, "occupant", NS_TUTTI);
	const char *hand = t ? xmpp_stanza_get_attribute(t, "hand") : NULL;
	bool up = hand && (!strcmp(hand, "true") || !strcmp(hand, "1"));
	bool down = hand && (!strcmp(hand, "false") || !strcmp(hand, "0"));
	if ((up || down) && !(api->participant_state(o->p) & TT_PS_HAND) != !up) {
		api->participant_set_state(o->p, TT_PS_HAND, up);   /* announced by its event */
		return;
	}
	xg_muc_presence_self(o, false, NULL, NULL);
}

void xg_muc_presence_in(struct xg_muc *m, xmpp_stanza_t *st, const char *room,
			const char *nick)
{
	struct xg_gw *gw = m->gw;
	const char *type = xmpp_stanza_get_type(st);
	const char *from = xmpp_stanza_get_from(st);
	struct muc_room *r = room ? xg_muc_room_get(m, room) : NULL;
	struct muc_occ *o = r ? xg_muc_occ_by_real(r, from) : NULL;
	if (!room)
		return;   /* to the service itself: nothing to do */
	if (type && !strcmp(type, "error")) {
		/* our presence bounced: its client or server is gone; the others see it leave */
		if (o) {
			tt_info("%s bounced presence from %s: removed", from, r->jid);
			xg_muc_presence_broadcast(o, true, NULL, NULL);
			xg_muc_occ_end(o, -ECONNRESET);
		}
		return;
	}
	if (type && !strcmp(type, "unavailable")) {
		if (o)
			xg_muc_occ_leave(o, NULL, NULL, 0);
		return;
	}
	if (type)
		return;   /* probes and subscriptions: a room has no roster */
	if (!nick) {
		xg_reply_error(gw, st, "modify", "jid-malformed",
			       "Join with a nickname: room@service/nickname.");
		return;
	}
	if (o) {
		char *key = xg_muc_nick_key(nick);
		bool same = !strcmp(key, o->key);
		g_free(key);
		if (same)
			presence_update(o, st);
		else
			xg_reply_error(gw, st, "cancel", "not-acceptable",
				       "Nickname changes are not supported here: leave the room "
				       "and join again with the new one.");
		return;
	}
	join(m, st, room, nick);
}
