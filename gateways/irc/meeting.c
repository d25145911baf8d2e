/* meeting.c: the meeting as IRC shows it. Channel operators become the room's moderators
 * ([irc.NAME] operators_moderate), the core's meeting events (moderate, on every network)
 * become channel notices, a raised hand is said in the channel, and a recording is told
 * to the channel when it starts and to each person who joins while it runs.
 *
 * Thread: core thread only. Ownership: nothing kept but the hang-up note below. */
#define TT_LOG_DOMAIN "irc"
#include "gw.h"

#include <string.h>
#include <tutti/errno.h>
#include <tutti/log.h>

/* ---- channel operators as moderators ---- */

void tt__irc_member_sync_moderator(struct tt__irc_member *m)
{
	struct tt__irc_net *net = m->chan->net;
	const struct tt_core_api *api = net->gw->api;
	if (!m->p) {
		m->op_moderator = false;
		return;
	}
	bool want = net->operators_moderate && tt__irc_member_is_op(net, m);
	if (want == m->op_moderator)
		return;
	bool is_mod = api->participant_state(m->p) & TT_PS_MODERATOR;
	int err = 0;
	if (want && !is_mod) {
		err = api->participant_set_state(m->p, TT_PS_MODERATOR, true);
		m->op_moderator = err == 0;
	} else if (!want) {
		/* only the right +o gave: one granted elsewhere stays */
		if (is_mod)
			err = api->participant_set_state(m->p, TT_PS_MODERATOR, false);
		m->op_moderator = false;
	}
	if (err)
		tt_warn("%s %s: %s as moderator: %s", net->name, m->chan->name, m->nick,
			tt_strerror(err));
	else if (want || is_mod)
		tt_debug("%s %s: %s %s a moderator", net->name, m->chan->name, m->nick,
			 want ? "is now" : "is no longer");
}

void tt__irc_net_sync_moderators(struct tt__irc_net *net)
{
	for (guint i = 0; i < net->chans->len; i++) {
		struct tt__irc_chan *ch = net->chans->pdata[i];
		GHashTableIter it;
		gpointer v;
		g_hash_table_iter_init(&it, ch->members);
		while (g_hash_table_iter_next(&it, NULL, &v))
			tt__irc_member_sync_moderator(v);
	}
}

/* ---- meeting events as notices ---- */

static const char *who_did(const struct tt_meeting_event *ev)
{
	if (!ev->by.name)
		return "the bridge";
	return ev->by.id ? ev->by.name : "an administrator";
}

static char *event_text(const struct tt_meeting_event *ev)
{
	const char *by = who_did(ev);
	const char *t = ev->target.name ? ev->target.name : "someone";
	switch (ev->action) {
	case TT_MOD_MUTE:
		return g_strdup_printf("%s muted %s", by, t);
	case TT_MOD_UNMUTE:
		return g_strdup_printf("%s unmuted %s", by, t);
	case TT_MOD_ASK_UNMUTE:
		return g_strdup_printf("%s asks %s to unmute (%s may unmute now)", by, t, t);
	case TT_MOD_MUTE_ALL:
		return g_strdup_printf("%s muted everyone but the moderators (%u muted)", by,
				       ev->count);
	case TT_MOD_KICK:
		return g_strdup_printf("%s removed %s from the room%s%s", by, t,
				       ev->reason ? ": " : "", ev->reason ? ev->reason : "");
	case TT_MOD_LOCK:
		return g_strdup_printf("%s locked the room: nobody new can join", by);
	case TT_MOD_UNLOCK:
		return g_strdup_printf("%s unlocked the room", by);
	case TT_MOD_LOWER_HAND:
		if (ev->by.id && ev->target.id && strcmp(ev->by.id, ev->target.id) == 0)
			return NULL;   /* one's own hand: the roster shows it, no need to say */
		return g_strdup_printf("%s lowered %s's hand", by, t);
	case TT_MOD_RECORD_START:
		return g_strdup_printf("%s started recording: this meeting is being recorded "
				       "from now on", by);
	case TT_MOD_RECORD_STOP:   /* the core gives why: "stopped by alice", "disk full" */
		if (ev->reason)
			return g_strdup_printf("the recording has stopped: %s", ev->reason);
		return g_strdup_printf("%s stopped the recording", by);
	case TT_MOD_END:
		return g_strdup_printf("%s ended the meeting", by);
	case TT_MOD_GRANT:
		return g_strdup_printf("%s made %s a moderator", by, t);
	case TT_MOD_REVOKE:
		return g_strdup_printf("%s is no longer a moderator (by %s)", t, by);
	default:
		return NULL;
	}
}

/* After an end: the channels of the room are still bridged and their members still in
 * them, so they are in the (new, empty) meeting again, as they would be after a rejoin. */
static void rejoin_ended(struct tt__irc_gw *gw, const char *room)
{
	for (guint i = 0; i < gw->nets->len; i++) {
		struct tt__irc_net *net = gw->nets->pdata[i];
		for (guint j = 0; j < net->chans->len; j++) {
			struct tt__irc_chan *ch = net->chans->pdata[j];
			if (strcmp(ch->room, room) != 0)
				continue;
			GHashTableIter it;
			gpointer v;
			g_hash_table_iter_init(&it, ch->members);
			while (g_hash_table_iter_next(&it, NULL, &v)) {
				struct tt__irc_member *m = v;
				if (m->ended && !m->p)
					tt__irc_member_join(m);
				m->ended = false;
			}
		}
	}
}

static gboolean forget_hangups(gpointer data)
{
	struct tt__irc_gw *gw = data;
	gw->quiet_hangup_idle = 0;
	if (gw->quiet_hangup_room && !gw->quiet_hangup_id && !gw->stopping)
		rejoin_ended(gw, gw->quiet_hangup_room);
	g_clear_pointer(&gw->quiet_hangup_room, g_free);
	g_clear_pointer(&gw->quiet_hangup_id, g_free);
	return G_SOURCE_REMOVE;
}

/* A KICK or an END hangs up within the same moderate() call, right after this event: the
 * notice just said why, so hang_up stays quiet for it (an !end of a busy channel would
 * otherwise be one notice per member, a minute of the bot's paced queue). */
static void expect_hangups(struct tt__irc_gw *gw, const struct tt_meeting_event *ev)
{
	if (gw->quiet_hangup_room && !gw->quiet_hangup_id)
		rejoin_ended(gw, gw->quiet_hangup_room);   /* an end, then a kick before idle */
	g_free(gw->quiet_hangup_room);
	g_free(gw->quiet_hangup_id);
	gw->quiet_hangup_room = g_strdup(ev->room);
	gw->quiet_hangup_id = ev->action == TT_MOD_KICK ? g_strdup(ev->target.id) : NULL;
	if (!gw->quiet_hangup_idle)
		gw->quiet_hangup_idle = g_idle_add(forget_hangups, gw);
}

int tt__irc_hangup_announced(struct tt__irc_gw *gw, const char *room, const char *pid)
{
	if (!gw->quiet_hangup_room || strcmp(gw->quiet_hangup_room, room) != 0)
		return 0;
	if (!gw->quiet_hangup_id)
		return 2;
	return strcmp(gw->quiet_hangup_id, pid) == 0;
}

void tt__irc_on_meeting(struct tt__irc_gw *gw, const struct tt_meeting_event *ev)
{
	gw->meeting_events++;
	if (gw->stopping || !ev->room)
		return;
	if (ev->action == TT_MOD_KICK || ev->action == TT_MOD_END)
		expect_hangups(gw, ev);
	char *text = event_text(ev);
	if (!text)
		return;
	for (guint i = 0; i < gw->nets->len; i++) {
		struct tt__irc_net *net = gw->nets->pdata[i];
		for (guint j = 0; j < net->chans->len; j++) {
			struct tt__irc_chan *ch = net->chans->pdata[j];
			if (strcmp(ch->room, ev->room) == 0)
				tt__irc_notice(ch, text);
		}
	}
	g_free(text);
}

/* ---- hands ---- */

void tt__irc_hand_notice(struct tt__irc_net *net, const struct tt_roster_event *ev)
{
	struct tt__irc_gw *gw = net->gw;
	struct tt_room_info info;
	unsigned up = gw->api->room_info(gw->core, ev->room, &info) == 0 ? info.hands : 0;
	char *t = up > 1 ? g_strdup_printf("%s raised a hand (%u hands up, !who for the order)",
					   ev->who.name, up)
			 : g_strdup_printf("%s raised a hand", ev->who.name);
	for (guint i = 0; i < net->chans->len; i++) {
		struct tt__irc_chan *ch = net->chans->pdata[i];
		if (strcmp(ch->room, ev->room) == 0)
			tt__irc_notice(ch, t);
	}
	g_free(t);
}

/* ---- recording ---- */

char *tt__irc_recording_text(struct tt__irc_gw *gw, const char *room)
{
	struct tt_room_info info;
	if (gw->api->room_info(gw->core, room, &info) != 0 || !info.recording)
		return NULL;
	GDateTime *dt = info.recording_since_us
		? g_date_time_new_from_unix_utc(info.recording_since_us / G_USEC_PER_SEC) : NULL;
	char *since = dt ? g_date_time_format(dt, " since %H:%M UTC") : NULL;
	char *t = g_strdup_printf("this meeting (room %s) is being recorded%s", room,
				  since ? since : "");
	g_free(since);
	if (dt)
		g_date_time_unref(dt);
	return t;
}

void tt__irc_recording_tell_joiner(struct tt__irc_chan *ch, const char *nick)
{
	char *t = tt__irc_recording_text(ch->net->gw, ch->room);
	if (t)
		tt__irc_notice_to(ch->net, nick, t);
	g_free(t);
}

void tt__irc_recording_tell_channel(struct tt__irc_chan *ch)
{
	char *t = tt__irc_recording_text(ch->net->gw, ch->room);
	if (t)
		tt__irc_notice(ch, t);
	g_free(t);
}
