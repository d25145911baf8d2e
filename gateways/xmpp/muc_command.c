/* muc_command.c: the groupchat commands, the same set as IRC's (docs/meetings.md): a line
 * that starts with one of them is a command, not room text; any other line, "!!!" or
 * "!foo" included, goes to the room as written.
 *
 *   !help               the list, to the one who asked
 *   !hand, !lower       raise or lower one's own hand (anyone)
 *   !decline, !consent  decline the recording (muted while one runs, left out of its
 *                       tracks) where the room allows it, or accept it again (anyone)
 *   !lower NICK         lower someone's hand            (moderators, as the rest)
 *   !mute NICK, !unmute NICK, !muteall, !kick NICK [reason]
 *   !lock, !unlock, !record start|stop, !end
 *
 * The core checks the right (moderate); what a command did is told to the whole room by
 * the meeting event it causes (muc_meeting.c), a refusal to its sender alone. NICK is any
 * occupant's nickname, of any network; nicknames may have spaces ("bob (2)"), so the
 * longest nickname that starts the arguments is the one meant. */
#define TT_LOG_DOMAIN "xmpp"
#include <errno.h>
#include <string.h>
#include <tutti/errno.h>
#include <tutti/log.h>

#include "muc_priv.h"

enum arg { NONE, NICK, NICK_REASON, START_STOP, OPT_NICK };

struct command {
	const char *name;
	enum tt_mod_action action;   /* TT_MOD_NONE: handled apart (help, hand, record) */
	enum arg arg;
};

static const struct command commands[] = {
	{"help", TT_MOD_NONE, NONE},
	{"hand", TT_MOD_NONE, NONE},
	{"decline", TT_MOD_NONE, NONE},
	{"consent", TT_MOD_NONE, NONE},
	{"lower", TT_MOD_LOWER_HAND, OPT_NICK},
	{"mute", TT_MOD_MUTE, NICK},
	{"unmute", TT_MOD_UNMUTE, NICK},
	{"muteall", TT_MOD_MUTE_ALL, NONE},
	{"kick", TT_MOD_KICK, NICK_REASON},
	{"lock", TT_MOD_LOCK, NONE},
	{"unlock", TT_MOD_UNLOCK, NONE},
	{"record", TT_MOD_NONE, START_STOP},
	{"end", TT_MOD_END, NONE},
};

static const char help[] =
	"Commands: !hand and !lower (your own hand), !decline and !consent (the recording, "
	"where the room lets you decline it); for moderators: !lower NICK, !mute NICK, "
	"!unmute NICK, !muteall, !kick NICK [reason], !lock, !unlock, !record start|stop, "
	"!end. A MUC moderator role, voice (visitor) and kick work too.";

/* The occupant whose nickname starts args and is followed by a space or the end (the
 * longest such); *rest: what follows it, spaces skipped. */
static struct muc_occ *target_of(struct muc_room *r, const char *args, const char **rest)
{
	struct muc_occ *best = NULL;
	size_t best_n = 0, len = strlen(args);
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, r->by_pid);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		struct muc_occ *o = v;
		size_t n = strlen(o->nick);
		if (n > len || n <= best_n || (args[n] && args[n] != ' '))
			continue;
		char *head = g_strndup(args, n);
		char *key = xg_muc_nick_key(head);
		if (!strcmp(key, o->key)) {
			best = o;
			best_n = n;
		}
		g_free(key);
		g_free(head);
	}
	if (best && rest) {
		*rest = args + best_n;
		while (**rest == ' ')
			(*rest)++;
	}
	return best;
}

static void refused(struct muc_occ *o, const char *cmd, int rc)
{
	char *text;
	switch (rc) {
	case -EPERM:
		text = g_strdup_printf("Only moderators may use !%s.", cmd);
		break;
	case -ENOTSUP:
		text = g_strdup("Recording is not configured on this bridge.");
		break;
	case -ENOENT:
		text = g_strdup("That participant has left.");
		break;
	case -EINVAL:
		text = g_strdup_printf("!%s cannot do that here.", cmd);
		break;
	default:
		text = g_strdup_printf("!%s failed: %s", cmd, tt_strerror(rc));
		break;
	}
	xg_muc_tell(o, text, NULL);
	g_free(text);
}

bool xg_muc_command(struct muc_occ *o, const char *body)
{
	const struct tt_core_api *api = o->room->muc->gw->api;
	const char *word = body + 1;
	size_t wlen = strcspn(word, " ");
	const struct command *c = NULL;
	for (size_t i = 0; i < G_N_ELEMENTS(commands) && !c; i++)
		if (strlen(commands[i].name) == wlen && !strncmp(commands[i].name, word, wlen))
			c = &commands[i];
	if (!c)
		return false;
	const char *args = word + wlen;
	while (*args == ' ')
		args++;
	const char *rest = "";
	struct muc_occ *t = NULL;
	enum tt_mod_action action = c->action;
	if (!strcmp(c->name, "help")) {
		xg_muc_tell(o, help, NULL);
		return true;
	}
	if (!strcmp(c->name, "decline")) {
		int rc = api->participant_set_state(o->p, TT_PS_NO_RECORD, true);
		xg_muc_tell(o, rc == -EPERM ? "This room does not let participants decline the "
			    "recording." : rc ? tt_strerror(rc) : "You declined the recording: "
			    "you are muted while one runs, and left out of its tracks. !consent "
			    "undoes it.", NULL);
		return true;
	}
	if (!strcmp(c->name, "consent")) {
		/* accepting again also unmutes, when declining was the only reason for the mute
		 * (the core refuses that while a moderator's mute holds: then only accept) */
		if (api->participant_set_state(o->p, TT_PS_NO_RECORD | TT_PS_MUTED, false))
			api->participant_set_state(o->p, TT_PS_NO_RECORD, false);
		xg_muc_tell(o, "You accept the recording.", NULL);
		return true;
	}
	if (!strcmp(c->name, "hand")) {
		int rc = api->participant_set_state(o->p, TT_PS_HAND, true);
		if (rc)
			refused(o, c->name, rc);
		return true;   /* the presence that follows says it */
	}
	if (c->arg == START_STOP) {
		if (!strcmp(args, "start"))
			action = TT_MOD_RECORD_START;
		else if (!strcmp(args, "stop"))
			action = TT_MOD_RECORD_STOP;
		else {
			xg_muc_tell(o, "Use !record start or !record stop.", NULL);
			return true;
		}
	} else if (c->arg == NICK || c->arg == NICK_REASON || (c->arg == OPT_NICK && *args)) {
		t = *args ? target_of(o->room, args, &rest) : NULL;
		if (!t || (c->arg != NICK_REASON && *rest)) {
			char *text = *args ? g_strdup_printf("Nobody here is called %s.", args)
					   : g_strdup_printf("Use !%s NICK.", c->name);
			xg_muc_tell(o, text, NULL);
			g_free(text);
			return true;
		}
	} else if (c->arg == OPT_NICK) {
		t = o;   /* !lower: one's own hand */
	} else if (*args) {
		char *text = g_strdup_printf("!%s takes no arguments.", c->name);
		xg_muc_tell(o, text, NULL);
		g_free(text);
		return true;
	}
	struct tt_participant *target = t ? api->participant_find(o->room->muc->gw->core,
								  o->room->name, t->pid) : NULL;
	if (t && !target) {
		refused(o, c->name, -ENOENT);
		return true;
	}
	/* o may be gone after this (!end, kicking oneself): only a refusal, which changed
	 * nothing, is answered */
	int rc = api->moderate(o->p, action, target, *rest ? rest : NULL);
	if (target)
		api->participant_unref(target);
	if (rc)
		refused(o, c->name, rc);
	return true;
}
