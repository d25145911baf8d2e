/* muc_meeting.c: a meeting event (core API moderate, from any network) shown in the MUC:
 * a line from the room saying who did what, with status 170 / 171 when a recording starts
 * or stops (XEP-0045: "room logging is now enabled / disabled"); the target's next
 * presence carries the actor and the reason (its role changes with the roster event that
 * follows), and a kicked occupant of any network leaves with 307. And the room's doors:
 * its MUC address, and its call address when calls are on. */
#define TT_LOG_DOMAIN "xmpp"
#include <string.h>
#include <tutti/log.h>

#include "muc_priv.h"

static void set_str(char **dst, const char *v)
{
	g_free(*dst);
	*dst = v && *v ? g_strdup(v) : NULL;
}

/* The words for the event; codes for 170 / 171. New string. */
static char *describe(const struct tt_meeting_event *ev, const char *const **codes)
{
	static const char *const on[] = {"170", NULL}, *const off[] = {"171", NULL};
	const char *by = ev->by.id ? ev->by.name
		       : ev->by.name ? "The administrator" : "The bridge";
	const char *t = ev->target.name ? ev->target.name : "?";
	const char *why = ev->reason && *ev->reason ? ev->reason : NULL;
	*codes = NULL;
	switch (ev->action) {
	case TT_MOD_MUTE:
		return g_strdup_printf("%s muted %s.", by, t);
	case TT_MOD_UNMUTE:
		return g_strdup_printf("%s unmuted %s.", by, t);
	case TT_MOD_ASK_UNMUTE:
		return g_strdup_printf("%s asks %s to unmute: they may unmute themselves now.",
				       by, t);
	case TT_MOD_MUTE_ALL:
		return g_strdup_printf("%s muted everyone but the moderators (%u).", by,
				       ev->count);
	case TT_MOD_KICK:
		return why ? g_strdup_printf("%s removed %s: %s", by, t, why)
			   : g_strdup_printf("%s removed %s.", by, t);
	case TT_MOD_LOCK:
		return g_strdup_printf("%s locked the room: nobody new may join.", by);
	case TT_MOD_UNLOCK:
		return g_strdup_printf("%s unlocked the room.", by);
	case TT_MOD_LOWER_HAND:
		if (ev->by.id && ev->target.id && !strcmp(ev->by.id, ev->target.id))
			return g_strdup_printf("%s lowered their hand.", by);
		return g_strdup_printf("%s lowered the hand of %s.", by, t);
	case TT_MOD_RECORD_START:
		*codes = on;
		return g_strdup_printf("%s started recording: this meeting is being recorded.",
				       by);
	case TT_MOD_RECORD_STOP:
		*codes = off;
		return why ? g_strdup_printf("The recording stopped (%s).", why)
			   : g_strdup("The recording stopped.");
	case TT_MOD_END:
		return g_strdup_printf("%s ended the meeting.", by);
	case TT_MOD_GRANT:
		return g_strdup_printf("%s made %s a moderator.", by, t);
	case TT_MOD_REVOKE:
		return g_strdup_printf("%s took the moderator role from %s.", by, t);
	default:
		return NULL;
	}
}

void xg_muc_meeting(struct xg_muc *m, const struct tt_meeting_event *ev)
{
	struct muc_room *r = xg_muc_room_get(m, ev->room);
	if (!r)
		return;   /* no XMPP occupants there */
	struct muc_occ *t = ev->target.id ? g_hash_table_lookup(r->by_pid, ev->target.id)
					  : NULL;
	/* only for an action that changes the target's role (an unmute of a participant who
	 * muted itself does not), so that no later presence carries a stale actor */
	bool role_changes = ev->action == TT_MOD_MUTE || ev->action == TT_MOD_KICK ||
			    ev->action == TT_MOD_GRANT || ev->action == TT_MOD_REVOKE ||
			    ((ev->action == TT_MOD_UNMUTE || ev->action == TT_MOD_ASK_UNMUTE) &&
			     (ev->target.state & TT_PS_MOD_MUTED));
	if (t && role_changes) {
		/* XEP-0045 8.2, 8.4: the presence that shows the change says who and why */
		set_str(&t->actor_nick, ev->by.id ? ev->by.name : NULL);
		set_str(&t->mod_reason, ev->action == TT_MOD_KICK ? ev->reason : NULL);
		t->kicked = ev->action == TT_MOD_KICK;
	}
	const char *const *codes;
	char *text = describe(ev, &codes);
	struct tt_room_info info;
	if (text && ev->action == TT_MOD_RECORD_START &&
	    !m->gw->api->room_info(m->gw->core, ev->room, &info) && info.recording_decline) {
		char *more = g_strconcat(text, " Say !decline to be muted and left out of it.",
					 NULL);
		g_free(text);
		text = more;
	}
	if (text)
		xg_muc_room_notice(r, text, codes);
	g_free(text);
}

void xg_muc_on_meeting(struct xg_gw *gw, const struct tt_meeting_event *ev)
{
	if (gw->muc && !gw->stopping && ev && ev->room)
		xg_muc_meeting(gw->muc, ev);
}

/* Every XMPP server folds a JID's local part to lower case (nodeprep / UsernameCaseMapped):
 * a room whose name has capitals cannot be reached over XMPP, so it has no XMPP door. */
static bool reachable(const char *room)
{
	for (const char *c = room; *c; c++)
		if (g_ascii_isupper(*c))
			return false;
	return true;
}

void xg_doors(struct xg_gw *gw, const char *room, tt_door_h fn, void *arg)
{
	if (!room || !reachable(room))
		return;
	/* room names are [A-Za-z0-9._-]: nothing in them needs escaping in a JID or URI */
	char *uri = g_strdup_printf("xmpp:%s@%s?join", room, gw->cfg.domain);
	char *text = g_strdup_printf("join %s@%s from an XMPP client", room, gw->cfg.domain);
	struct tt_door d = {XG_NETWORK, "XMPP group chat", uri, text};
	fn(&d, arg);
	g_free(uri);
	g_free(text);
	if (!gw->cfg.call_domain)
		return;
	uri = g_strdup_printf("xmpp:%s@%s", room, gw->cfg.call_domain);
	text = g_strdup_printf("call %s@%s from an XMPP client with audio calls (Jingle)", room,
			       gw->cfg.call_domain);
	d = (struct tt_door){XG_NETWORK, "XMPP call", uri, text};
	fn(&d, arg);
	g_free(uri);
	g_free(text);
}
