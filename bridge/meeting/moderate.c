/* moderate.c: a moderator's actions, checked and applied once for every network. */
#define TT_LOG_DOMAIN "meeting"
#include "meeting/meeting.h"

#include <string.h>
#include <tutti/errno.h>
#include <tutti/log.h>

#include "core/core_priv.h"
#include "events/events.h"
#include "participant/participant.h"
#include "record/record.h"
#include "room/room.h"

static const char *const action_names[TT_MOD_ACTIONS] = {
	[TT_MOD_NONE] = "none",
	[TT_MOD_MUTE] = "mute",
	[TT_MOD_UNMUTE] = "unmute",
	[TT_MOD_MUTE_ALL] = "mute_all",
	[TT_MOD_KICK] = "kick",
	[TT_MOD_LOCK] = "lock",
	[TT_MOD_UNLOCK] = "unlock",
	[TT_MOD_LOWER_HAND] = "lower_hand",
	[TT_MOD_RECORD_START] = "record_start",
	[TT_MOD_RECORD_STOP] = "record_stop",
	[TT_MOD_END] = "end",
	[TT_MOD_GRANT] = "grant",
	[TT_MOD_REVOKE] = "revoke",
	[TT_MOD_ASK_UNMUTE] = "ask_unmute",
};

const char *tt__mod_action_name(enum tt_mod_action a)
{
	return (unsigned)a < TT_MOD_ACTIONS && action_names[a] ? action_names[a] : "none";
}

enum tt_mod_action tt__mod_action_parse(const char *name)
{
	for (unsigned a = 1; name && a < TT_MOD_ACTIONS; a++)
		if (strcmp(action_names[a], name) == 0)
			return (enum tt_mod_action)a;
	return TT_MOD_NONE;
}

static bool needs_target(enum tt_mod_action a)
{
	return a == TT_MOD_MUTE || a == TT_MOD_UNMUTE || a == TT_MOD_KICK ||
	       a == TT_MOD_LOWER_HAND || a == TT_MOD_GRANT || a == TT_MOD_REVOKE;
}

void tt__meeting_emit(struct tt_room *room, const struct tt_meeting_event *ev)
{
	GPtrArray *gws = tt__room_present_gateways(room);
	for (guint i = 0; i < gws->len; i++) {
		struct tt_gw_handle *h = g_ptr_array_index(gws, i);
		if (h->gw->on_meeting)
			h->gw->on_meeting(h->state, ev);
	}
	g_ptr_array_free(gws, TRUE);
	tt__events_meeting(room->core, ev);
}

static void fill_by(struct tt_meeting_event *ev, const struct tt_participant *actor)
{
	if (actor)
		tt__participant_entry(actor, &ev->by);
	else
		ev->by.name = "admin";
}

static void log_action(const struct tt_room *room, const struct tt_meeting_event *ev)
{
	tt_info("%s: %s by %s%s%s", room->name, tt__mod_action_name(ev->action),
		ev->by.name ? ev->by.name : "the bridge", ev->target.id ? " on " : "",
		ev->target.id ? ev->target.name : "");
}

/* The state change an action makes on its target (after the event, so that gateways show
 * the action before the roster changes it caused). */
static void apply_state(struct tt_participant *t, unsigned bits, bool on)
{
	tt__room_set_state(t, bits, on);
}

static int mute_all(struct tt_room *room, struct tt_meeting_event *ev)
{
	GPtrArray *copy = g_ptr_array_new_with_free_func(
		(GDestroyNotify)(void (*)(void))tt__participant_unref);
	for (guint i = 0; i < room->parts->len; i++) {
		struct tt_participant *p = g_ptr_array_index(room->parts, i);
		unsigned st = (unsigned)g_atomic_int_get(&p->state);
		if (!p->lobby && (p->caps & TT_CAP_AUDIO) && !(st & TT_PS_MODERATOR) &&
		    !(st & TT_PS_MOD_MUTED))
			g_ptr_array_add(copy, tt__participant_ref(p));
	}
	ev->count = copy->len;
	log_action(room, ev);
	tt__meeting_emit(room, ev);
	for (guint i = 0; i < copy->len; i++)
		apply_state(g_ptr_array_index(copy, i), TT_PS_MUTED | TT_PS_MOD_MUTED, true);
	g_ptr_array_free(copy, TRUE);
	return 0;
}

int tt__meeting_record_start(struct tt_room *room, struct tt_participant *actor, bool tracks)
{
	if (room->rec)
		return 0;
	struct tt_record_opts o = { .tracks = tracks };
	int rc = tt__record_start(room, &o);
	if (rc)
		return rc;
	struct tt_meeting_event ev = { .room = room->name, .action = TT_MOD_RECORD_START,
				       .recording_id = tt__record_id(room->rec) };
	fill_by(&ev, actor);
	log_action(room, &ev);
	tt__meeting_emit(room, &ev);
	/* those who declined it are muted while it runs */
	GPtrArray *decl = g_ptr_array_new_with_free_func(
		(GDestroyNotify)(void (*)(void))tt__participant_unref);
	for (guint i = 0; i < room->parts->len; i++) {
		struct tt_participant *p = g_ptr_array_index(room->parts, i);
		if ((unsigned)g_atomic_int_get(&p->state) & TT_PS_NO_RECORD)
			g_ptr_array_add(decl, tt__participant_ref(p));
	}
	for (guint i = 0; i < decl->len; i++)
		apply_state(g_ptr_array_index(decl, i), TT_PS_MUTED, true);
	g_ptr_array_free(decl, TRUE);
	return 0;
}

static void stopped_event(struct tt_room *room, const struct tt_participant *actor,
			  bool by_bridge, const char *id, const char *why)
{
	struct tt_meeting_event ev = { .room = room->name, .action = TT_MOD_RECORD_STOP,
				       .recording_id = id, .reason = why };
	if (!by_bridge)
		fill_by(&ev, actor);
	log_action(room, &ev);
	tt__meeting_emit(room, &ev);
}

void tt__meeting_recording_stopped(struct tt_core *core, const char *name, const char *why)
{
	struct tt_room *room = tt__room_find(core, name);
	if (!room || !room->rec)
		return;
	char *id = g_strdup(tt__record_id(room->rec));
	tt_warn("%s: recording %s stopped: %s", name, id, why);
	tt__record_stop(room, why);
	stopped_event(room, NULL, true, id, why);
	g_free(id);
}

int tt__meeting_moderate(struct tt_core *core, const char *room_name,
			 struct tt_participant *actor, enum tt_mod_action a,
			 struct tt_participant *target, const char *reason)
{
	if (a <= TT_MOD_NONE || a >= TT_MOD_ASK_UNMUTE)
		return -EINVAL;
	if (actor && (!actor->room || tt__participant_left(actor) || actor->lobby))
		return -ENOENT;
	struct tt_room *room = actor ? actor->room : tt__room_find(core, room_name);
	if (!room || room->hidden)
		return -ENOENT;
	unsigned ast = actor ? (unsigned)g_atomic_int_get(&actor->state) : TT_PS_MODERATOR;
	bool own_hand = a == TT_MOD_LOWER_HAND && target == actor;
	if (!(ast & TT_PS_MODERATOR) && !own_hand)
		return -EPERM;
	if (needs_target(a) != (target != NULL))
		return -EINVAL;
	if (target) {
		if (tt__participant_left(target) || !target->room)
			return -ENOENT;
		if (target->room != room || target->lobby)
			return -EINVAL;
	}
	struct tt_meeting_event ev = { .room = room->name, .action = a, .reason = reason };
	fill_by(&ev, actor);
	if (target)
		tt__participant_entry(target, &ev.target);
	unsigned tst = target ? (unsigned)g_atomic_int_get(&target->state) : 0;

	switch (a) {
	case TT_MOD_MUTE:
		if ((tst & (TT_PS_MUTED | TT_PS_MOD_MUTED)) == (TT_PS_MUTED | TT_PS_MOD_MUTED))
			return 0;
		break;
	case TT_MOD_UNMUTE:
		if (!(tst & TT_PS_MUTED))
			return 0;
		if (room->unmute_asks)
			ev.action = TT_MOD_ASK_UNMUTE;
		break;
	case TT_MOD_MUTE_ALL:
		return mute_all(room, &ev);
	case TT_MOD_LOCK:
	case TT_MOD_UNLOCK:
		if (room->locked == (a == TT_MOD_LOCK))
			return 0;
		room->api_locked = a == TT_MOD_LOCK;
		room->locked = a == TT_MOD_LOCK;
		break;
	case TT_MOD_LOWER_HAND:
		if (!(tst & TT_PS_HAND))
			return 0;
		break;
	case TT_MOD_GRANT:
	case TT_MOD_REVOKE:
		if (!(tst & TT_PS_MODERATOR) == (a == TT_MOD_REVOKE))
			return 0;
		break;
	case TT_MOD_RECORD_START:
		return tt__meeting_record_start(room, actor, false);
	case TT_MOD_RECORD_STOP: {
		if (!room->rec)
			return 0;
		char *id = g_strdup(tt__record_id(room->rec));
		char *why = reason ? g_strdup(reason)
				   : g_strdup_printf("stopped by %s", ev.by.name);
		tt__record_stop(room, why);
		stopped_event(room, actor, false, id, why);
		g_free(why);
		g_free(id);
		return 0;
	}
	default:
		break;
	}

	log_action(room, &ev);
	tt__meeting_emit(room, &ev);

	switch (a) {
	case TT_MOD_MUTE:
		apply_state(target, TT_PS_MUTED | TT_PS_MOD_MUTED, true);
		break;
	case TT_MOD_UNMUTE:
		if (room->unmute_asks)
			apply_state(target, TT_PS_MOD_MUTED, false);   /* free to unmute now */
		else
			apply_state(target, TT_PS_MUTED | TT_PS_MOD_MUTED, false);
		break;
	case TT_MOD_LOWER_HAND:
		apply_state(target, TT_PS_HAND, false);
		break;
	case TT_MOD_GRANT:
	case TT_MOD_REVOKE:
		apply_state(target, TT_PS_MODERATOR, a == TT_MOD_GRANT);
		break;
	case TT_MOD_KICK:
		if (!tt__participant_left(target) && target->gw->started) {
			char *why = reason ? g_strdup(reason)
					   : g_strdup_printf("removed by %s", ev.by.name);
			target->gw->gw->hang_up(target->gw->state, target, why);
			g_free(why);
		}
		break;
	case TT_MOD_END: {
		char *why = g_strdup_printf("the meeting was ended by %s", ev.by.name);
		if (room->rec) {
			char *id = g_strdup(tt__record_id(room->rec));
			tt__record_stop(room, why);
			stopped_event(room, actor, false, id, why);
			g_free(id);
		}
		room->api_locked = -1;   /* a moderator's lock lasts for the meeting */
		tt__room_apply_settings(room);
		tt__room_hang_up_all(room, why);   /* room may be freed from here */
		g_free(why);
		break;
	}
	default:
		break;
	}
	return 0;
}

void tt__meeting_ended(struct tt_room *room, struct tt_participant *actor, const char *why)
{
	struct tt_meeting_event ev = { .room = room->name, .action = TT_MOD_END, .reason = why };
	fill_by(&ev, actor);
	log_action(room, &ev);
	tt__meeting_emit(room, &ev);
	if (room->rec) {
		char *id = g_strdup(tt__record_id(room->rec));
		tt__record_stop(room, why);
		stopped_event(room, actor, false, id, why);
		g_free(id);
	}
}

int tt__meeting_self_state(struct tt_participant *p, unsigned bits, bool on)
{
	if (!p)
		return -EINVAL;
	if (bits & (TT_PS_TALKING | TT_PS_MOD_MUTED))
		return -EINVAL;   /* the mixer's and the moderators' to say */
	if (!p->room || tt__participant_left(p))
		return -ENOENT;
	unsigned st = (unsigned)g_atomic_int_get(&p->state);
	if (!on && (bits & TT_PS_MUTED)) {
		if ((st & TT_PS_MOD_MUTED) && !p->room->self_unmute)
			return -EPERM;
		if ((st & TT_PS_NO_RECORD) && !(bits & TT_PS_NO_RECORD) && p->room->rec)
			return -EPERM;
	}
	if (on && (bits & TT_PS_NO_RECORD) && !p->room->recording_decline)
		return -EPERM;
	return tt__room_set_state(p, bits, on);
}
