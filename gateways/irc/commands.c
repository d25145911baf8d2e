/* commands.c: !who, !mute, !unmute and !kick typed in a bridged IRC channel. */
#define TT_LOG_DOMAIN "irc"
#include "gw.h"

#include <string.h>
#include <tutti/errno.h>
#include <tutti/log.h>

struct who_ctx {
	GString *out;
	int n;
	const char *find_id;               /* lookup mode: the entry with this id */
	unsigned found_caps;
};

static void who_line(const struct tt_roster_entry *e, void *arg)
{
	struct who_ctx *w = arg;
	if (w->find_id) {
		if (strcmp(e->id, w->find_id) == 0)
			w->found_caps = e->caps;
		return;
	}
	g_string_append_printf(w->out, "%s%s (%s", w->n ? ", " : "", e->name, e->network);
	if (e->state & TT_PS_MUTED)
		g_string_append(w->out, ", muted");
	if (e->state & TT_PS_TALKING)
		g_string_append(w->out, ", talking");
	g_string_append_c(w->out, ')');
	w->n++;
}

static void cmd_who(struct tt__irc_chan *ch)
{
	struct tt__irc_gw *gw = ch->net->gw;
	struct who_ctx w = {.out = g_string_new(NULL)};
	int err = gw->api->room_roster(gw->core, ch->room, who_line, &w);
	char *t = err ? g_strdup_printf("room %s: %s", ch->room, tt_strerror(err))
		      : g_strdup_printf("%d in room %s: %s", w.n, ch->room,
					w.n ? w.out->str : "nobody");
	tt__irc_notice(ch, t);
	g_free(t);
	g_string_free(w.out, TRUE);
}

static void cmd_moderate(struct tt__irc_chan *ch, struct tt__irc_member *from,
			 const char *verb, const char *name)
{
	struct tt__irc_gw *gw = ch->net->gw;
	char *reply = NULL;
	if (!tt__irc_member_is_op(ch->net, from)) {
		reply = g_strdup_printf("%s: only channel operators (+o) can %s", from->nick, verb);
		goto out;
	}
	struct tt_participant *p = gw->api->participant_find(gw->core, ch->room, name);
	if (!p) {
		reply = g_strdup_printf("%s: nobody called %s in the room", from->nick, name);
		goto out;
	}
	/* Only voice participants: IRC users are moderated with IRC's own /kick. */
	struct who_ctx w = {.find_id = gw->api->participant_id(p)};
	gw->api->room_roster(gw->core, ch->room, who_line, &w);
	if (!(w.found_caps & TT_CAP_AUDIO)) {
		reply = g_strdup_printf("%s: %s is not in the call", from->nick, name);
	} else if (strcmp(verb, "kick") == 0) {
		char *why = g_strdup_printf("kicked from IRC by %s", from->nick);
		int err = gw->api->participant_kick(p, why);
		g_free(why);
		reply = err ? g_strdup_printf("%s: kick failed: %s", from->nick, tt_strerror(err))
			    : g_strdup_printf("%s was kicked by %s", name, from->nick);
	} else {
		bool on = strcmp(verb, "mute") == 0;
		int err = gw->api->participant_set_state(p, TT_PS_MUTED, on);
		reply = err ? g_strdup_printf("%s: %s failed: %s", from->nick, verb,
					      tt_strerror(err))
			    : g_strdup_printf("%s was %s by %s", name, on ? "muted" : "unmuted",
					      from->nick);
	}
	tt_info("%s %s: %s %s: %s", ch->net->name, ch->name, from->nick, verb, reply);
	gw->api->participant_unref(p);
out:
	tt__irc_notice(ch, reply);
	g_free(reply);
}

bool tt__irc_command(struct tt__irc_chan *ch, struct tt__irc_member *from, const char *text)
{
	static const char *const verbs[] = {"mute", "unmute", "kick"};
	if (text[0] != '!')
		return false;
	if (strcmp(text, "!who") == 0 || g_str_has_prefix(text, "!who ")) {
		cmd_who(ch);
		return true;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(verbs); i++) {
		size_t n = strlen(verbs[i]);
		if (strncmp(text + 1, verbs[i], n) != 0 || text[n + 1] != ' ')
			continue;
		char *name = g_strstrip(g_strdup(text + n + 2));
		if (*name)
			cmd_moderate(ch, from, verbs[i], name);
		g_free(name);
		return true;
	}
	return false;
}
