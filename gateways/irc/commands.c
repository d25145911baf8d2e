/* commands.c: the bridge's commands typed in a bridged IRC channel: !who, !hand and the
 * moderators' !mute, !unmute, !muteall, !kick, !lower, !lock, !unlock, !record and !end.
 *
 * Every moderator action goes through the core's moderate() with the member's own
 * participant as the actor: the core alone decides who may (TT_PS_MODERATOR; channel
 * operators get it in meeting.c) and tells every network, this channel included, through
 * on_meeting. So a success has no reply here: the channel's notice from on_meeting is the
 * answer. Refusals, errors and "nothing to do" go to the person alone (a NOTICE to the
 * nick), which keeps the channel quiet and the bot's paced send queue short. */
#define TT_LOG_DOMAIN "irc"
#include "gw.h"

#include <string.h>
#include <tutti/errno.h>
#include <tutti/log.h>

/* ---- !who ---- */

struct who_ctx {
	GString *out;
	int n;
	GArray *hands;          /* struct hand */
	GPtrArray *names;       /* owned copies for hands */
};

struct hand {
	uint32_t seq;
	const char *name;       /* in who_ctx.names */
};

static int hand_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct hand *)a)->seq, y = ((const struct hand *)b)->seq;
	return x < y ? -1 : x > y;
}

static void who_line(const struct tt_roster_entry *e, void *arg)
{
	struct who_ctx *w = arg;
	g_string_append_printf(w->out, "%s%s (%s", w->n ? ", " : "", e->name, e->network);
	if (e->state & TT_PS_MODERATOR)
		g_string_append(w->out, ", moderator");
	if (e->state & TT_PS_MUTED)
		g_string_append(w->out, (e->state & TT_PS_MOD_MUTED) ? ", muted by a moderator"
								     : ", muted");
	if (e->state & TT_PS_TALKING)
		g_string_append(w->out, ", talking");
	if (e->state & TT_PS_HAND) {
		g_string_append(w->out, ", hand up");
		char *name = g_strdup(e->name);
		g_ptr_array_add(w->names, name);
		struct hand h = {e->hand_seq, name};
		g_array_append_val(w->hands, h);
	}
	g_string_append_c(w->out, ')');
	w->n++;
}

static void cmd_who(struct tt__irc_chan *ch)
{
	struct tt__irc_gw *gw = ch->net->gw;
	struct who_ctx w = {.out = g_string_new(NULL),
			    .hands = g_array_new(FALSE, FALSE, sizeof(struct hand)),
			    .names = g_ptr_array_new_with_free_func(g_free)};
	int err = gw->api->room_roster(gw->core, ch->room, who_line, &w);
	GString *t = g_string_new(NULL);
	if (err) {
		g_string_printf(t, "room %s: %s", ch->room, tt_strerror(err));
	} else {
		g_string_printf(t, "%d in room %s: %s", w.n, ch->room, w.n ? w.out->str : "nobody");
		if (w.hands->len) {
			g_array_sort(w.hands, hand_cmp);
			g_string_append(t, "; hands up in order: ");
			for (guint i = 0; i < w.hands->len; i++)
				g_string_append_printf(t, "%s%u. %s", i ? ", " : "", i + 1,
						       g_array_index(w.hands, struct hand, i).name);
		}
		struct tt_room_info info;
		if (gw->api->room_info(gw->core, ch->room, &info) == 0) {
			if (info.locked)
				g_string_append(t, "; the room is locked");
			if (info.recording)
				g_string_append(t, "; the meeting is being recorded");
		}
	}
	tt__irc_notice(ch, t->str);
	g_string_free(t, TRUE);
	g_string_free(w.out, TRUE);
	g_array_free(w.hands, TRUE);
	g_ptr_array_free(w.names, TRUE);
}

/* ---- replies to one person ---- */

static void reply(struct tt__irc_chan *ch, struct tt__irc_member *from, const char *fmt, ...)
	G_GNUC_PRINTF(3, 4);

static void reply(struct tt__irc_chan *ch, struct tt__irc_member *from, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *t = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	tt__irc_notice_to(ch->net, from->nick, t);
	g_free(t);
}

/* ---- moderator actions ---- */

struct action {
	const char *verb;          /* "!mute" without the "!" */
	enum tt_mod_action a;
	bool target;               /* takes a NAME */
	const char *what;          /* "mute someone": for a refusal */
	const char *unchanged;     /* when the core changed nothing; %s: the target's name */
};

static const struct action actions[] = {
	{"mute", TT_MOD_MUTE, true, "mute someone", "%s is already muted"},
	{"unmute", TT_MOD_UNMUTE, true, "unmute someone", "%s is not muted"},
	{"muteall", TT_MOD_MUTE_ALL, false, "mute everyone", NULL},
	{"kick", TT_MOD_KICK, true, "remove someone from the room", NULL},
	{"lower", TT_MOD_LOWER_HAND, true, "lower someone's hand", "%s has no hand up"},
	{"lock", TT_MOD_LOCK, false, "lock the room", "the room is already locked"},
	{"unlock", TT_MOD_UNLOCK, false, "unlock the room", "the room is not locked"},
	{"end", TT_MOD_END, false, "end the meeting", NULL},
	{"record start", TT_MOD_RECORD_START, false, "start a recording",
	 "the meeting is already being recorded"},
	{"record stop", TT_MOD_RECORD_STOP, false, "stop the recording",
	 "no recording is running"},
};

static bool member_gone(struct tt__irc_chan *ch, struct tt__irc_member *from)
{
	if (from->p && ch->net->gw->api->participant_alive(from->p))
		return false;
	reply(ch, from, "you no longer reach room %s: leave and rejoin %s to take part again",
	      ch->room, ch->name);
	return true;
}

static void do_action(struct tt__irc_chan *ch, struct tt__irc_member *from,
		      const struct action *act, const char *name)
{
	struct tt__irc_gw *gw = ch->net->gw;
	const struct tt_core_api *api = gw->api;
	if (member_gone(ch, from))
		return;
	struct tt_participant *t = NULL;
	if (act->target) {
		t = api->participant_find(gw->core, ch->room, name);
		if (!t) {
			reply(ch, from, "nobody called %s in room %s (!who lists everyone)", name,
			      ch->room);
			return;
		}
	}
	/* The nick and the target's name outlive the call: an !end or a !kick of oneself
	 * hangs the member's participant up within it. */
	char *nick = g_strdup(from->nick);
	char *tname = t ? g_strdup(api->participant_name(t)) : NULL;
	unsigned before = gw->meeting_events;
	int err = api->moderate(from->p, act->a, t, NULL);
	t = t ? api->participant_unref(t) : NULL;
	tt_info("%s %s: %s !%s%s%s: %s", ch->net->name, ch->name, nick, act->verb,
		tname ? " " : "", tname ? tname : "", err ? tt_strerror(err) : "done");
	if (err == -EPERM)
		reply(ch, from, "sorry, only the room's moderators can %s%s", act->what,
		      ch->net->operators_moderate ? " (channel operators are moderators here)"
						  : "");
	else if (err == -ENOTSUP)
		reply(ch, from, "recording is not configured on this bridge");
	else if (err == -ENOENT)
		reply(ch, from, "%s is no longer in the room", tname ? tname : "that person");
	else if (err)
		reply(ch, from, "could not %s: %s", act->what, tt_strerror(err));
	else if (gw->meeting_events == before && act->unchanged)
		reply(ch, from, act->unchanged, tname ? tname : "");
	g_free(tname);
	g_free(nick);
}

/* !hand raises the member's own hand, !hand down (or !lower alone) lowers it: anyone may. */
static void do_hand(struct tt__irc_chan *ch, struct tt__irc_member *from, bool up)
{
	const struct tt_core_api *api = ch->net->gw->api;
	if (member_gone(ch, from))
		return;
	bool is_up = api->participant_state(from->p) & TT_PS_HAND;
	if (is_up == up) {
		reply(ch, from, up ? "your hand is already up (!hand down lowers it)"
				   : "your hand is not up");
		return;
	}
	int err = api->participant_set_state(from->p, TT_PS_HAND, up);
	if (err)
		reply(ch, from, "could not %s your hand: %s", up ? "raise" : "lower",
		      tt_strerror(err));
}

static void do_help(struct tt__irc_chan *ch, struct tt__irc_member *from)
{
	reply(ch, from, "room %s: !who, !hand, !hand down; moderators%s: !mute NAME, "
	      "!unmute NAME, !muteall, !kick NAME, !lower NAME, !lock, !unlock, "
	      "!record start|stop, !end", ch->room,
	      ch->net->operators_moderate ? " (channel operators are)" : "");
}

/* "!verb rest": true when verb (and, for two-word verbs, its second word) matches; *rest
 * points past it and its spaces. */
static bool verb_is(const char *text, const char *verb, const char **rest)
{
	size_t n = strlen(verb);
	if (strncmp(text + 1, verb, n) != 0 || (text[n + 1] && text[n + 1] != ' '))
		return false;
	const char *r = text + n + 1;
	while (*r == ' ')
		r++;
	*rest = r;
	return true;
}

bool tt__irc_command(struct tt__irc_chan *ch, struct tt__irc_member *from, const char *text)
{
	const char *rest;
	if (text[0] != '!')
		return false;
	if (verb_is(text, "who", &rest)) {
		cmd_who(ch);
		return true;
	}
	if (verb_is(text, "help", &rest)) {
		do_help(ch, from);
		return true;
	}
	if (verb_is(text, "hand", &rest)) {
		if (!*rest || strcmp(rest, "up") == 0)
			do_hand(ch, from, true);
		else if (strcmp(rest, "down") == 0)
			do_hand(ch, from, false);
		else
			reply(ch, from, "!hand raises your hand, !hand down lowers it");
		return true;
	}
	if (verb_is(text, "lower", &rest) && !*rest) {
		do_hand(ch, from, false);
		return true;
	}
	if (verb_is(text, "record", &rest) && strcmp(rest, "start") != 0 &&
	    strcmp(rest, "stop") != 0) {
		reply(ch, from, "!record start or !record stop");
		return true;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(actions); i++) {
		if (!verb_is(text, actions[i].verb, &rest))
			continue;
		char *name = g_strstrip(g_strdup(rest));
		if (actions[i].target && !*name)
			reply(ch, from, "!%s NAME (a name from !who)", actions[i].verb);
		else if (!actions[i].target && *name)
			reply(ch, from, "!%s takes no name", actions[i].verb);
		else
			do_action(ch, from, &actions[i], name);
		g_free(name);
		return true;
	}
	return false;
}
