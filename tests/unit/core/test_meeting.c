/* test_meeting.c: a moderator's actions (core.h moderate) and the rules they put on what a
 * participant may do to itself, checked in the core once for every network; two fake
 * gateways see every meeting event and the roster events that follow it. */
#include "tt_test.h"

#include <glib.h>
#include <string.h>
#include <tutti/errno.h>
#include <tutti/gateway.h>

#include "core/core_priv.h"
#include "core_fixture.h"
#include "participant/participant.h"
#include "room/room.h"

struct fake {
	struct tt_gw_handle *h;
	const struct tt_core_api *api;
	int meetings, hangups, state_events;
	enum tt_mod_action last_action;
	char last_by[64], last_target[64], last_reason[128];
	unsigned last_count;
	GString *order;   /* "M:mute S:..." meeting and state events in the order they came */
};

static struct fake *fakes[2];
static int nfakes;

static int f_start(struct tt_gw_handle *h, const struct tt_core_api *api,
		   const struct tt_conf *conf, void **statep)
{
	(void)conf;
	struct fake *f = g_new0(struct fake, 1);
	f->h = h;
	f->api = api;
	f->order = g_string_new(NULL);
	fakes[nfakes++] = f;
	*statep = f;
	return 0;
}
static void f_stop(void *s) { (void)s; }
static void f_free(void *s)
{
	struct fake *f = s;
	g_string_free(f->order, TRUE);
	g_free(f);
}
static void f_hang_up(void *s, struct tt_participant *p, const char *why)
{
	struct fake *f = s;
	f->hangups++;
	g_strlcpy(f->last_reason, why ? why : "", sizeof f->last_reason);
	f->api->participant_leave(f->api->participant_ref(p), 0);
}
static void f_roster(void *s, const struct tt_roster_event *ev)
{
	struct fake *f = s;
	if (ev->type == TT_ROSTER_STATE) {
		f->state_events++;
		g_string_append(f->order, "S ");
	}
}
static void f_meeting(void *s, const struct tt_meeting_event *ev)
{
	struct fake *f = s;
	f->meetings++;
	f->last_action = ev->action;
	g_strlcpy(f->last_by, ev->by.name ? ev->by.name : "(bridge)", sizeof f->last_by);
	g_strlcpy(f->last_target, ev->target.name ? ev->target.name : "", sizeof f->last_target);
	f->last_count = ev->count;
	g_string_append(f->order, "M ");
}
static void f_doors(void *s, const char *room, tt_door_h fn, void *arg)
{
	(void)s;
	char *uri = g_strdup_printf("sip:%s@example.org", room);
	struct tt_door d = { .network = "phone", .label = "SIP", .uri = uri };
	fn(&d, arg);
	g_free(uri);
}

static const struct tt_gateway gw_a = {
	.api_version = TT_GATEWAY_API_VERSION, .name = "fakea", .network = "phone",
	.start = f_start, .stop = f_stop, .free = f_free, .hang_up = f_hang_up,
	.on_roster = f_roster, .on_meeting = f_meeting, .doors = f_doors,
};
static const struct tt_gateway gw_b = {
	.api_version = TT_GATEWAY_API_VERSION, .name = "fakeb", .network = "irc",
	.start = f_start, .stop = f_stop, .free = f_free, .hang_up = f_hang_up,
	.on_roster = f_roster, .on_meeting = f_meeting,
};

static struct tt_core *make_core(const char *extra)
{
	static const struct tt_gateway *const table[] = { &gw_a, &gw_b, NULL };
	nfakes = 0;
	return tt_test_core_make(table, extra);
}

static struct tt_participant *join(struct fake *f, const char *room, const char *name,
				   const char *pin)
{
	struct tt_join j = { .room = room, .name = name, .caps = TT_CAP_AUDIO | TT_CAP_TEXT,
			     .pin = pin };
	struct tt_participant *p = NULL;
	TT_ASSERT_INT_EQ(f->api->participant_join(f->h, &j, &p), 0);
	return p;
}

static void end_core(struct tt_core *core)
{
	tt__core_free(core);
}

static void count_door(const struct tt_door *d, void *arg)
{
	(void)d;
	(*(int *)arg)++;
}

#define ROOM "[room.m]\nmoderator_pin = 99\n"

TT_TEST(meeting_only_moderators_moderate_and_everyone_is_told)
{
	struct tt_core *core = make_core(ROOM);
	struct fake *a = fakes[0], *b = fakes[1];
	const struct tt_core_api *api = a->api;
	struct tt_participant *mod = join(a, "m", "mod", "99");
	struct tt_participant *bob = join(a, "m", "bob", NULL);
	struct tt_participant *carol = join(b, "m", "carol", NULL);
	TT_ASSERT(api->participant_state(mod) & TT_PS_MODERATOR);
	TT_ASSERT(!(api->participant_state(bob) & TT_PS_MODERATOR));
	/* a non-moderator can do nothing, and nothing changes */
	int before = a->meetings;
	TT_ASSERT_INT_EQ(api->moderate(bob, TT_MOD_MUTE, carol, NULL), -EPERM);
	TT_ASSERT_INT_EQ(api->moderate(bob, TT_MOD_LOCK, NULL, NULL), -EPERM);
	TT_ASSERT_INT_EQ(a->meetings, before);
	TT_ASSERT(!(api->participant_state(carol) & TT_PS_MUTED));
	/* targets: wanted where needed, refused where not */
	TT_ASSERT_INT_EQ(api->moderate(mod, TT_MOD_MUTE, NULL, NULL), -EINVAL);
	TT_ASSERT_INT_EQ(api->moderate(mod, TT_MOD_LOCK, bob, NULL), -EINVAL);
	TT_ASSERT_INT_EQ(api->moderate(mod, TT_MOD_ASK_UNMUTE, bob, NULL), -EINVAL);
	TT_ASSERT_INT_EQ(api->moderate(mod, (enum tt_mod_action)99, bob, NULL), -EINVAL);
	/* a moderator's mute: both gateways hear of it first, then the roster change */
	g_string_truncate(b->order, 0);
	TT_ASSERT_INT_EQ(api->moderate(mod, TT_MOD_MUTE, carol, NULL), 0);
	TT_ASSERT_STR_EQ(b->order->str, "M S ");
	TT_ASSERT_INT_EQ(a->last_action, TT_MOD_MUTE);
	TT_ASSERT_STR_EQ(a->last_by, "mod");
	TT_ASSERT_STR_EQ(b->last_target, "carol");
	unsigned st = api->participant_state(carol);
	TT_ASSERT((st & TT_PS_MUTED) && (st & TT_PS_MOD_MUTED));
	/* twice is nothing */
	before = a->meetings;
	TT_ASSERT_INT_EQ(api->moderate(mod, TT_MOD_MUTE, carol, NULL), 0);
	TT_ASSERT_INT_EQ(a->meetings, before);
	/* self_unmute = true (the default): carol may unmute herself, and the moderator's
	 * mark goes with it */
	TT_ASSERT_INT_EQ(api->participant_set_state(carol, TT_PS_MUTED, false), 0);
	TT_ASSERT_INT_EQ(api->participant_state(carol) & (TT_PS_MUTED | TT_PS_MOD_MUTED), 0);
	/* gateways cannot claim the moderator's mark */
	TT_ASSERT_INT_EQ(api->participant_set_state(carol, TT_PS_MOD_MUTED, true), -EINVAL);
	/* mute all: everyone with audio but moderators */
	TT_ASSERT_INT_EQ(api->moderate(mod, TT_MOD_MUTE_ALL, NULL, NULL), 0);
	TT_ASSERT_INT_EQ(a->last_count, 2);
	TT_ASSERT(api->participant_state(bob) & TT_PS_MOD_MUTED);
	TT_ASSERT(!(api->participant_state(mod) & TT_PS_MUTED));
	/* grant: bob moderates now */
	TT_ASSERT_INT_EQ(api->moderate(mod, TT_MOD_GRANT, bob, NULL), 0);
	TT_ASSERT_INT_EQ(api->moderate(bob, TT_MOD_UNMUTE, carol, NULL), 0);
	TT_ASSERT(!(api->participant_state(carol) & TT_PS_MUTED));
	TT_ASSERT_INT_EQ(api->moderate(mod, TT_MOD_REVOKE, bob, NULL), 0);
	TT_ASSERT_INT_EQ(api->moderate(bob, TT_MOD_MUTE, carol, NULL), -EPERM);
	/* kick: the target's own gateway hangs it up with the reason */
	TT_ASSERT_INT_EQ(api->moderate(mod, TT_MOD_KICK, carol, "too loud"), 0);
	TT_ASSERT_INT_EQ(b->hangups, 1);
	TT_ASSERT_STR_EQ(b->last_reason, "too loud");
	TT_ASSERT(!api->participant_alive(carol));
	TT_ASSERT_INT_EQ(api->moderate(mod, TT_MOD_MUTE, carol, NULL), -ENOENT);
	api->participant_unref(carol);
	/* recording is not in this build: a clear -ENOTSUP, nobody told */
	before = a->meetings;
	TT_ASSERT(api->moderate(mod, TT_MOD_RECORD_START, NULL, NULL) != 0);
	TT_ASSERT_INT_EQ(a->meetings, before);
	mod = api->participant_leave(mod, 0);
	bob = api->participant_leave(bob, 0);
	end_core(core);
}

TT_TEST(meeting_self_unmute_off_and_unmute_that_asks)
{
	struct tt_core *core = make_core(ROOM "self_unmute = false\n"
					 "[room.ask]\nmoderator_pin = 1\nunmute = ask\n");
	struct fake *a = fakes[0];
	const struct tt_core_api *api = a->api;
	struct tt_participant *mod = join(a, "m", "mod", "99");
	struct tt_participant *bob = join(a, "m", "bob", NULL);
	TT_ASSERT_INT_EQ(api->moderate(mod, TT_MOD_MUTE, bob, NULL), 0);
	TT_ASSERT_INT_EQ(api->participant_set_state(bob, TT_PS_MUTED, false), -EPERM);
	TT_ASSERT(api->participant_state(bob) & TT_PS_MUTED);
	/* muting oneself still works; the moderator's unmute frees bob */
	TT_ASSERT_INT_EQ(api->moderate(mod, TT_MOD_UNMUTE, bob, NULL), 0);
	TT_ASSERT(!(api->participant_state(bob) & TT_PS_MUTED));
	/* unmute = ask: the moderator's unmute only asks, and lets bob unmute */
	struct tt_participant *amod = join(a, "ask", "amod", "1");
	struct tt_participant *ann = join(a, "ask", "ann", NULL);
	TT_ASSERT_INT_EQ(api->moderate(amod, TT_MOD_MUTE, ann, NULL), 0);
	TT_ASSERT_INT_EQ(api->moderate(amod, TT_MOD_UNMUTE, ann, NULL), 0);
	TT_ASSERT_INT_EQ(a->last_action, TT_MOD_ASK_UNMUTE);
	unsigned st = api->participant_state(ann);
	TT_ASSERT((st & TT_PS_MUTED) && !(st & TT_PS_MOD_MUTED));
	TT_ASSERT_INT_EQ(api->participant_set_state(ann, TT_PS_MUTED, false), 0);
	/* room info says so */
	struct tt_room_info ri;
	TT_ASSERT_INT_EQ(api->room_info(a->api->core_of(a->h), "ask", &ri), 0);
	TT_ASSERT(ri.unmute_asks && ri.self_unmute && !ri.locked && !ri.recording);
	TT_ASSERT_INT_EQ(api->room_info(a->api->core_of(a->h), "nope", &ri), -ENOENT);
	mod = api->participant_leave(mod, 0);
	bob = api->participant_leave(bob, 0);
	amod = api->participant_leave(amod, 0);
	ann = api->participant_leave(ann, 0);
	end_core(core);
}

TT_TEST(meeting_lock_hands_in_order_and_end)
{
	struct tt_core *core = make_core(ROOM);
	struct fake *a = fakes[0];
	const struct tt_core_api *api = a->api;
	struct tt_core *c = a->api->core_of(a->h);
	struct tt_participant *mod = join(a, "m", "mod", "99");
	struct tt_participant *bob = join(a, "m", "bob", NULL);
	struct tt_participant *ann = join(a, "m", "ann", NULL);
	TT_ASSERT_INT_EQ(api->moderate(mod, TT_MOD_LOCK, NULL, NULL), 0);
	TT_ASSERT_INT_EQ(api->room_check(c, "m", NULL), -EBUSY);
	TT_ASSERT_INT_EQ(api->room_check(c, "m", "99"), 0);   /* moderators still may */
	struct tt_room_info ri;
	TT_ASSERT_INT_EQ(api->room_info(c, "m", &ri), 0);
	TT_ASSERT(ri.locked);
	TT_ASSERT_INT_EQ(api->moderate(mod, TT_MOD_UNLOCK, NULL, NULL), 0);
	TT_ASSERT_INT_EQ(api->room_check(c, "m", NULL), 0);
	/* hands: ann first, then bob; the queue is hand_seq order */
	TT_ASSERT_INT_EQ(api->participant_set_state(ann, TT_PS_HAND, true), 0);
	TT_ASSERT_INT_EQ(api->participant_set_state(bob, TT_PS_HAND, true), 0);
	struct tt_room *room = tt__room_find(c, "m");
	struct tt_roster_entry ea, eb;
	for (guint i = 0; i < room->parts->len; i++) {
		struct tt_participant *p = g_ptr_array_index(room->parts, i);
		if (p == ann)
			tt__participant_entry(p, &ea);
		if (p == bob)
			tt__participant_entry(p, &eb);
	}
	TT_ASSERT(ea.hand_seq > 0 && eb.hand_seq > ea.hand_seq);
	TT_ASSERT_INT_EQ(api->room_info(c, "m", &ri), 0);
	TT_ASSERT_INT_EQ(ri.hands, 2);
	/* anyone lowers their own hand; only a moderator lowers another's */
	TT_ASSERT_INT_EQ(api->moderate(bob, TT_MOD_LOWER_HAND, ann, NULL), -EPERM);
	TT_ASSERT_INT_EQ(api->moderate(bob, TT_MOD_LOWER_HAND, bob, NULL), 0);
	TT_ASSERT_INT_EQ(api->moderate(mod, TT_MOD_LOWER_HAND, ann, NULL), 0);
	TT_ASSERT_INT_EQ(api->room_info(c, "m", &ri), 0);
	TT_ASSERT_INT_EQ(ri.hands, 0);
	/* doors come from every running gateway that has some */
	int n = 0;
	TT_ASSERT_INT_EQ(api->room_doors(c, "m", count_door, &n), 0);
	TT_ASSERT_INT_EQ(n, 1);
	TT_ASSERT_INT_EQ(api->room_doors(c, "../x", count_door, &n), -EINVAL);
	/* the lock lasts for the meeting: end hangs everyone up and forgets it */
	TT_ASSERT_INT_EQ(api->moderate(mod, TT_MOD_LOCK, NULL, NULL), 0);
	TT_ASSERT_INT_EQ(api->moderate(mod, TT_MOD_END, NULL, NULL), 0);
	TT_ASSERT_INT_EQ(a->hangups, 3);
	TT_ASSERT(!api->participant_alive(bob));
	TT_ASSERT_INT_EQ(api->room_check(c, "m", NULL), 0);
	api->participant_unref(mod);
	api->participant_unref(bob);
	api->participant_unref(ann);
	end_core(core);
}

/* The SIP lobby of a room with a moderator PIN and no PIN: "" admits as a participant,
 * the moderator PIN as a moderator, any other PIN is wrong and leaves the caller waiting. */
TT_TEST(meeting_lobby_of_a_moderator_pin_only_room)
{
	struct tt_core *core = make_core(ROOM);
	struct fake *a = fakes[0];
	const struct tt_core_api *api = a->api;
	struct tt_join j = { .room = "m", .name = "ann", .caps = TT_CAP_AUDIO };
	struct tt_participant *ann = NULL, *bob = NULL;
	TT_ASSERT_INT_EQ(api->lobby_join(a->h, &j, &ann), 0);
	j.name = "bob";
	TT_ASSERT_INT_EQ(api->lobby_join(a->h, &j, &bob), 0);
	TT_ASSERT_INT_EQ(api->room_count(api->core_of(a->h), "m"), 0);
	TT_ASSERT_INT_EQ(api->lobby_admit(ann, "12"), -EACCES);
	TT_ASSERT_INT_EQ(api->room_count(api->core_of(a->h), "m"), 0);
	TT_ASSERT_INT_EQ(api->lobby_admit(ann, ""), 0);
	TT_ASSERT(!(api->participant_state(ann) & TT_PS_MODERATOR));
	TT_ASSERT_INT_EQ(api->lobby_admit(bob, "99"), 0);
	TT_ASSERT(api->participant_state(bob) & TT_PS_MODERATOR);
	TT_ASSERT_INT_EQ(api->room_count(api->core_of(a->h), "m"), 2);
	api->participant_leave(ann, 0);
	api->participant_leave(bob, 0);
	end_core(core);
}
