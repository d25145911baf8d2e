/* meeting.c: a SIP caller in a meeting. The key table's commands (keys.h) become core
 * moderate() calls, so the core alone decides who may do what; the caller hears what
 * happened as a prompt. Meeting events (on_meeting) are said to the SIP callers they
 * concern, and doors() gives the room's SIP addresses. Core thread, like all of the
 * gateway.
 *
 * Naming another participant on a keypad: N is the participant's position in the room's
 * roster (the order they joined) as *1 says it and sends it as a MESSAGE; "*7 #" without
 * a number names whoever is talking now (the first other participant with voice activity
 * in that order), which is what a moderator wants for a noisy line. Positions move up
 * when someone before leaves: *1 again gives the list as it is now. */
#define TT_LOG_DOMAIN "sip"
#include "sip.h"

#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>

#include <string.h>

#include <tutti/errno.h>
#include <tutti/log.h>

#include "speech.h"

#define LIST_MAX 20        /* *1 says at most this many entries (the MESSAGE has them all) */
#define NAME_SAID_MAX 16   /* characters of a name spelled on *1 */

struct entry {
	char *id, *name, *network;
	unsigned state;
	uint32_t hand_seq;
};

static void entry_free(gpointer data)
{
	struct entry *e = data;
	g_free(e->id);
	g_free(e->name);
	g_free(e->network);
	g_free(e);
}

static void add_entry(const struct tt_roster_entry *r, void *arg)
{
	struct entry *e = g_new0(struct entry, 1);
	e->id = g_strdup(r->id);
	e->name = g_strdup(r->name);
	e->network = g_strdup(r->network);
	e->state = r->state;
	e->hand_seq = r->hand_seq;
	g_ptr_array_add(arg, e);
}

/* The room's participants in roster order (the *1 numbering). */
static GPtrArray *roster(struct sipgw *gw, const char *room)
{
	GPtrArray *a = g_ptr_array_new_with_free_func(entry_free);
	gw->core->room_roster(gw->core->core_of(gw->h), room, add_entry, a);
	return a;
}

static struct tt_participant *find(struct sipgw *gw, const char *room, const struct entry *e)
{
	return e ? gw->core->participant_find(gw->core->core_of(gw->h), room, e->id) : NULL;
}

static void say1(struct sipgw *gw, struct sip_call *c, enum sip_prompt_id id)
{
	tt__sip_prompt_play(gw, c, id);
}

static void say_clips(struct sipgw *gw, struct sip_call *c, GPtrArray *clips)
{
	tt__sip_say(gw, c, clips);
	g_ptr_array_free(clips, TRUE);
}

static bool is_moderator(struct sipgw *gw, struct sip_call *c)
{
	return gw->core->participant_state(c->p) & TT_PS_MODERATOR;
}

/* The prompt for what moderate() answered, when it was not 0. */
static void refused(struct sipgw *gw, struct sip_call *c, int rc)
{
	tt_info("%s: key refused: %s", gw->core->participant_id(c->p), tt_strerror(rc));
	say1(gw, c, rc == -EPERM			       ? SIP_PROMPT_NOT_MODERATOR
		    : rc == -ENOENT || rc == -EINVAL ? SIP_PROMPT_NO_SUCH
						     : SIP_PROMPT_NOT_AVAILABLE);
}

static void moderate(struct sipgw *gw, struct sip_call *c, enum tt_mod_action a,
		     struct tt_participant *target)
{
	int rc = gw->core->moderate(c->p, a, target, NULL);
	if (rc)
		refused(gw, c, rc);
}

struct door_say {
	GPtrArray *clips;
	unsigned n;
};

static void door_said(const struct tt_door *d, void *arg)
{
	struct door_say *s = arg;
	static const char *const nets[] = { "phone", "web", "irc", "xmpp" };
	if (!d->uri)
		return;
	g_ptr_array_add(s->clips, (gpointer)",");
	for (size_t i = 0; i < G_N_ELEMENTS(nets); i++)
		if (d->network && !strcmp(d->network, nets[i])) {
			/* the word clips "net_phone" ... say which network it is */
			static const char *const words[] = { "net_phone", "net_web", "net_irc",
							     "net_xmpp" };
			g_ptr_array_add(s->clips, (gpointer)words[i]);
		}
	tt_sip_speech_uri(s->clips, d->uri);
	s->n++;
}

static void help(struct sipgw *gw, struct sip_call *c)
{
	struct tt_room_info ri;
	bool have = gw->core->room_info(gw->core->core_of(gw->h), c->room, &ri) == 0;
	GPtrArray *clips = g_ptr_array_new();
	g_ptr_array_add(clips, (gpointer)tt__sip_prompt_name(SIP_PROMPT_HELP));
	if (have && ri.recording_decline)
		g_ptr_array_add(clips, (gpointer)tt__sip_prompt_name(SIP_PROMPT_HELP_DECLINE));
	if (is_moderator(gw, c))
		g_ptr_array_add(clips, (gpointer)tt__sip_prompt_name(SIP_PROMPT_HELP_MODERATOR));
	GPtrArray *doors = g_ptr_array_new();
	struct door_say s = { doors, 0 };
	gw->core->room_doors(gw->core->core_of(gw->h), c->room, door_said, &s);
	if (s.n) {
		g_ptr_array_add(clips, (gpointer)",");
		g_ptr_array_add(clips, (gpointer)tt__sip_prompt_name(SIP_PROMPT_DOORS));
		for (guint i = 0; i < doors->len; i++)
			g_ptr_array_add(clips, g_ptr_array_index(doors, i));
	}
	g_ptr_array_free(doors, TRUE);
	say_clips(gw, c, clips);
}

/* *1: "3 participants, 1 a l i c e, 2 b o b ..." and the same as a MESSAGE with their
 * networks and hands, when the phone takes MESSAGE. */
static void list(struct sipgw *gw, struct sip_call *c)
{
	GPtrArray *r = roster(gw, c->room);
	GPtrArray *clips = g_ptr_array_new();
	tt_sip_speech_number(clips, r->len);
	g_ptr_array_add(clips, (gpointer)(r->len == 1 ? "participant" : "participants"));
	GString *msg = g_string_new(NULL);
	g_string_printf(msg, "%u in %s:", r->len, c->room);
	for (guint i = 0; i < r->len; i++) {
		const struct entry *e = g_ptr_array_index(r, i);
		if (i < LIST_MAX) {
			g_ptr_array_add(clips, (gpointer)",");
			tt_sip_speech_number(clips, i + 1);
			g_ptr_array_add(clips, (gpointer)",");
			tt_sip_speech_spell(clips, e->name, NAME_SAID_MAX);
		}
		g_string_append_printf(msg, "\n%u %s (%s%s%s%s)", i + 1, e->name, e->network,
				       e->state & TT_PS_MODERATOR ? ", moderator" : "",
				       e->state & TT_PS_MUTED ? ", muted" : "",
				       e->state & TT_PS_HAND ? ", hand up" : "");
	}
	if (c->text && c->state == CALL_UP)
		nua_message(c->nh, SIPTAG_CONTENT_TYPE_STR("text/plain;charset=UTF-8"),
			    SIPTAG_PAYLOAD_STR(msg->str), TAG_END());
	g_string_free(msg, TRUE);
	g_ptr_array_free(r, TRUE);
	say_clips(gw, c, clips);
}

static void toggle_self(struct sipgw *gw, struct sip_call *c, unsigned bit,
			enum sip_prompt_id on_prompt, enum sip_prompt_id off_prompt)
{
	bool on = !(gw->core->participant_state(c->p) & bit);
	int rc = gw->core->participant_set_state(c->p, bit, on);
	if (rc == -EPERM)
		say1(gw, c, SIP_PROMPT_CANNOT_UNMUTE);
	else if (rc == 0)
		say1(gw, c, on ? on_prompt : off_prompt);
}

/* *9: decline the recording (muted while one runs, left out of its tracks), or accept it
 * again; where the room does not let participants decline, the core says -EPERM. */
static void decline(struct sipgw *gw, struct sip_call *c)
{
	unsigned st = gw->core->participant_state(c->p);
	if (!(st & TT_PS_NO_RECORD)) {
		int rc = gw->core->participant_set_state(c->p, TT_PS_NO_RECORD, true);
		say1(gw, c, rc ? SIP_PROMPT_NOT_AVAILABLE : SIP_PROMPT_DECLINED);
		return;
	}
	/* accepting again also unmutes, when declining was the only reason for the mute
	 * (the core refuses that while a moderator's mute holds: then only accept) */
	if (gw->core->participant_set_state(c->p, TT_PS_NO_RECORD | TT_PS_MUTED, false))
		gw->core->participant_set_state(c->p, TT_PS_NO_RECORD, false);
	say1(gw, c, SIP_PROMPT_ACCEPTED);
}

static void lower_next(struct sipgw *gw, struct sip_call *c)
{
	GPtrArray *r = roster(gw, c->room);
	const struct entry *next = NULL;
	for (guint i = 0; i < r->len; i++) {
		const struct entry *e = g_ptr_array_index(r, i);
		if ((e->state & TT_PS_HAND) && (!next || e->hand_seq < next->hand_seq))
			next = e;
	}
	struct tt_participant *t = find(gw, c->room, next);
	if (t)
		moderate(gw, c, TT_MOD_LOWER_HAND, t);
	else
		say1(gw, c, is_moderator(gw, c) ? SIP_PROMPT_NO_HANDS : SIP_PROMPT_NOT_MODERATOR);
	if (t)
		gw->core->participant_unref(t);
	g_ptr_array_free(r, TRUE);
}

/* *7 N #: N's mute the other way round; n 0: whoever else is talking. */
static void mute_one(struct sipgw *gw, struct sip_call *c, unsigned n)
{
	GPtrArray *r = roster(gw, c->room);
	const struct entry *e = NULL;
	const char *me = gw->core->participant_id(c->p);
	if (n >= 1 && n <= r->len)
		e = g_ptr_array_index(r, n - 1);
	for (guint i = 0; n == 0 && i < r->len && !e; i++) {
		const struct entry *x = g_ptr_array_index(r, i);
		if ((x->state & TT_PS_TALKING) && strcmp(x->id, me))
			e = x;
	}
	struct tt_participant *t = find(gw, c->room, e);
	if (!t)
		say1(gw, c, is_moderator(gw, c) ? SIP_PROMPT_NO_SUCH : SIP_PROMPT_NOT_MODERATOR);
	else
		moderate(gw, c, (e->state & TT_PS_MUTED) ? TT_MOD_UNMUTE : TT_MOD_MUTE, t);
	if (t)
		gw->core->participant_unref(t);
	g_ptr_array_free(r, TRUE);
}

void tt__sip_key_command(struct sipgw *gw, struct sip_call *c, enum sip_key_cmd cmd,
			 unsigned n)
{
	struct tt_room_info ri = { 0 };
	gw->core->room_info(gw->core->core_of(gw->h), c->room, &ri);
	switch (cmd) {
	case SIP_KEY_NONE:
		break;
	case SIP_KEY_HELP:
		help(gw, c);
		break;
	case SIP_KEY_LIST:
		list(gw, c);
		break;
	case SIP_KEY_HAND:
		toggle_self(gw, c, TT_PS_HAND, SIP_PROMPT_HAND_UP, SIP_PROMPT_HAND_DOWN);
		break;
	case SIP_KEY_MUTE_SELF:
		toggle_self(gw, c, TT_PS_MUTED, SIP_PROMPT_MUTED, SIP_PROMPT_UNMUTED);
		break;
	case SIP_KEY_DECLINE:
		decline(gw, c);
		break;
	case SIP_KEY_LOWER_NEXT:
		lower_next(gw, c);
		break;
	case SIP_KEY_MUTE_ALL:
		moderate(gw, c, TT_MOD_MUTE_ALL, NULL);
		break;
	case SIP_KEY_LOCK:
		moderate(gw, c, ri.locked ? TT_MOD_UNLOCK : TT_MOD_LOCK, NULL);
		break;
	case SIP_KEY_MUTE_ONE:
		mute_one(gw, c, n);
		break;
	case SIP_KEY_RECORD:
		moderate(gw, c, ri.recording ? TT_MOD_RECORD_STOP : TT_MOD_RECORD_START, NULL);
		break;
	case SIP_KEY_END_ASK:
		/* the core decides at the confirmation; a non-moderator hears no at once and
		 * its next key starts afresh */
		if (is_moderator(gw, c)) {
			say1(gw, c, SIP_PROMPT_END_CONFIRM);
		} else {
			c->keys.st = SIP_KS_IDLE;
			say1(gw, c, SIP_PROMPT_NOT_MODERATOR);
		}
		break;
	case SIP_KEY_END:
		moderate(gw, c, TT_MOD_END, NULL);
		break;
	case SIP_KEY_BAD_NUMBER:
		say1(gw, c, is_moderator(gw, c) ? SIP_PROMPT_NO_SUCH : SIP_PROMPT_NOT_MODERATOR);
		break;
	}
}

void tt__sip_admitted(struct sipgw *gw, struct sip_call *c, bool welcome)
{
	struct tt_room_info ri;
	GPtrArray *clips = g_ptr_array_new();
	if (welcome)
		g_ptr_array_add(clips, (gpointer)tt__sip_prompt_name(SIP_PROMPT_WELCOME));
	if (gw->core->room_info(gw->core->core_of(gw->h), c->room, &ri) == 0 && ri.recording) {
		if (welcome)
			g_ptr_array_add(clips, (gpointer)",");
		g_ptr_array_add(clips, (gpointer)tt__sip_prompt_name(SIP_PROMPT_RECORDING));
		if (ri.recording_decline)
			g_ptr_array_add(clips,
					(gpointer)tt__sip_prompt_name(SIP_PROMPT_RECORDING_DECLINE));
	}
	say_clips(gw, c, clips);
}

/* Our call of the participant an event names, or NULL (another network's, or gone). */
static struct sip_call *call_of(struct sipgw *gw, const struct tt_roster_entry *e)
{
	if (!e->id || !e->gateway || strcmp(e->gateway, "sip"))
		return NULL;
	GHashTableIter it;
	gpointer key;
	g_hash_table_iter_init(&it, gw->calls);
	while (g_hash_table_iter_next(&it, &key, NULL)) {
		struct sip_call *c = key;
		if (c->p && !c->lobby && !strcmp(gw->core->participant_id(c->p), e->id))
			return c;
	}
	return NULL;
}

void tt__sip_on_meeting(void *state, const struct tt_meeting_event *ev)
{
	struct sipgw *gw = state;
	struct sip_call *target = call_of(gw, &ev->target);
	struct sip_call *by = call_of(gw, &ev->by);
	switch (ev->action) {
	case TT_MOD_MUTE:
		if (target)
			say1(gw, target, SIP_PROMPT_MOD_MUTED);
		break;
	case TT_MOD_UNMUTE:
		if (target)
			say1(gw, target, SIP_PROMPT_MOD_UNMUTED);
		break;
	case TT_MOD_ASK_UNMUTE:
		if (target)
			say1(gw, target, SIP_PROMPT_ASK_UNMUTE);
		break;
	case TT_MOD_MUTE_ALL: {
		/* before the roster events: those about to be muted are the ones mute_all
		 * picks (audio, no moderator, not muted by one yet) */
		GHashTableIter it;
		gpointer key;
		g_hash_table_iter_init(&it, gw->calls);
		while (g_hash_table_iter_next(&it, &key, NULL)) {
			struct sip_call *c = key;
			if (!c->p || c->lobby || g_strcmp0(c->room, ev->room))
				continue;
			unsigned st = gw->core->participant_state(c->p);
			if (!(st & (TT_PS_MODERATOR | TT_PS_MOD_MUTED)))
				say1(gw, c, SIP_PROMPT_MOD_MUTED);
		}
		if (by)
			say1(gw, by, SIP_PROMPT_ALL_MUTED);
		return;
	}
	case TT_MOD_LOWER_HAND:
		if (target && target != by)
			say1(gw, target, SIP_PROMPT_HAND_LOWERED);
		break;
	case TT_MOD_GRANT:
		if (target)
			say1(gw, target, SIP_PROMPT_MODERATOR_NOW);
		break;
	case TT_MOD_REVOKE:
		if (target)
			say1(gw, target, SIP_PROMPT_MODERATOR_NO_MORE);
		break;
	case TT_MOD_LOCK:
	case TT_MOD_UNLOCK:
		if (by)
			say1(gw, by, ev->action == TT_MOD_LOCK ? SIP_PROMPT_LOCKED
							      : SIP_PROMPT_UNLOCKED);
		return;
	case TT_MOD_RECORD_STOP:
		if (by)
			say1(gw, by, SIP_PROMPT_RECORDING_STOPPED);
		return;
	default:
		/* RECORD_START: the core's notice in the mix tells everyone; KICK and END:
		 * the hang-up follows */
		return;
	}
	/* the moderator who did it to someone else hears that it is done */
	if (by && by != target)
		say1(gw, by, SIP_PROMPT_DONE);
}

void tt__sip_doors(void *state, const char *room, tt_door_h fn, void *arg)
{
	struct sipgw *gw = state;
	char *uri = g_strdup_printf("sip:%s@%s", room, gw->public_host);
	struct tt_door d = { .network = "phone", .label = "SIP", .uri = uri };
	fn(&d, arg);
	g_free(uri);
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, gw->aliases);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		if (strcmp(v, room))
			continue;
		char *u = g_strdup_printf("sip:%s@%s", (const char *)k, gw->public_host);
		char *text = g_strdup_printf("dial %s", (const char *)k);
		struct tt_door a = { .network = "phone", .label = "SIP dial-in number", .uri = u,
				     .text = text };
		fn(&a, arg);
		g_free(text);
		g_free(u);
	}
}
