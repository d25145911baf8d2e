/* test_muc_roles.c: meetings in the MUC over the fake core: roles shown and changed
 * (muc#admin), the groupchat commands, meeting events from anywhere, recording status
 * codes 170 / 171, the hand queue and the doors. */
#include <string.h>

#include "muc_env.h"
#include "tt_test.h"

#define R1 "r1@" ENV_DOMAIN
#define A "alice@example.org/phone"
#define C "carol@example.org/laptop"
#define ADMIN_NS "http://jabber.org/protocol/muc#admin"

/* r1 has moderator PIN 999; alice joins with it, carol without; bob is on the phone. */
static struct fake_p *setup(void)
{
	env_up(NULL);
	fake_room_set("r1", NULL, false, 0);
	fake_room_mod_pin("r1", "999");
	struct fake_p *bob = fake_other_join("r1", "bob", "phone");
	env_join("r1", "alice", A, "999");
	env_join("r1", "carol", C, NULL);
	env_clear();
	return bob;
}

static xmpp_stanza_t *item_of(xmpp_stanza_t *st)
{
	xmpp_stanza_t *x = xmpp_stanza_get_child_by_name_and_ns(
		st, "x", "http://jabber.org/protocol/muc#user");
	return x ? xmpp_stanza_get_child_by_name(x, "item") : NULL;
}

static const char *role_of(xmpp_stanza_t *st)
{
	xmpp_stanza_t *it = item_of(st);
	return it ? xmpp_stanza_get_attribute(it, "role") : NULL;
}

static bool codes_are(xmpp_stanza_t *st, const char *want)
{
	char *c = st ? env_codes(st) : NULL;
	bool ok = c && !strcmp(c, want);
	g_free(c);
	return ok;
}

/* The last presence of `nick` sent to `to`, or NULL. */
static xmpp_stanza_t *last_presence(const char *to, const char *nick)
{
	char *from = g_strdup_printf(R1 "/%s", nick);
	xmpp_stanza_t *st, *last = NULL;
	guint i = 0;
	while ((st = env_find(&i, "presence", NULL, to, from)))
		last = st;
	g_free(from);
	return last;
}

/* How many groupchat lines from the room itself with this body went to `to`. */
static unsigned notices(const char *to, const char *body)
{
	unsigned n = 0;
	guint i = 0;
	xmpp_stanza_t *st;
	while ((st = env_find(&i, "message", "groupchat", to, R1))) {
		char *b = env_child_text(st, "body");
		n += b && !strcmp(b, body);
		g_free(b);
	}
	return n;
}

static void assert_error_of(xmpp_stanza_t *st, const char *cond)
{
	TT_ASSERT(st);
	TT_ASSERT_STR_EQ(xmpp_stanza_get_type(st), "error");
	TT_ASSERT_STR_EQ(env_error(st), cond);
}

static void iq_set(const char *from, const char *id, const char *items)
{
	env_in("<iq from='%s' to='" R1 "' type='set' id='%s'><query xmlns='" ADMIN_NS "'>%s"
	       "</query></iq>", from, id, items);
}

static void assert_reply(const char *to, const char *id, const char *cond)
{
	guint i = 0;
	xmpp_stanza_t *r = env_find(&i, "iq", NULL, to, R1);
	TT_ASSERT_MSG(r, "a reply to %s", id);
	TT_ASSERT_STR_EQ(xmpp_stanza_get_id(r), id);
	if (cond) {
		TT_ASSERT_STR_EQ(xmpp_stanza_get_type(r), "error");
		TT_ASSERT_STR_EQ(env_error(r), cond);
	} else {
		TT_ASSERT_STR_EQ(xmpp_stanza_get_type(r), "result");
	}
}

TT_TEST(muc_roles_shown)
{
	env_up(NULL);
	fake_room_set("r1", NULL, false, 0);
	fake_room_mod_pin("r1", "999");
	struct fake_p *bob = fake_other_join("r1", "bob", "phone");
	struct fake_p *dan = fake_other_join("r1", "dan", "web");
	fake_set_state(bob, TT_PS_MUTED | TT_PS_MOD_MUTED, true);
	fake_set_state(dan, TT_PS_MUTED, true);   /* muted itself: keeps its voice */
	env_join("r1", "alice", A, "999");
	TT_ASSERT(fake_find("r1", "alice")->state & TT_PS_MODERATOR);
	TT_ASSERT_STR_EQ(role_of(last_presence(A, "alice")), "moderator");
	TT_ASSERT_STR_EQ(xmpp_stanza_get_attribute(item_of(last_presence(A, "alice")),
						   "affiliation"), "none");
	TT_ASSERT_STR_EQ(role_of(last_presence(A, "bob")), "visitor");
	char *status = env_child_text(last_presence(A, "bob"), "status");
	TT_ASSERT_STR_EQ(status, "phone, muted by a moderator");
	g_free(status);
	TT_ASSERT_STR_EQ(role_of(last_presence(A, "dan")), "participant");
	env_join("r1", "carol", C, NULL);
	TT_ASSERT_STR_EQ(role_of(last_presence(C, "carol")), "participant");
	TT_ASSERT_STR_EQ(role_of(last_presence(C, "alice")), "moderator");
	/* a moderator made elsewhere (the admin API) becomes one here at once */
	env_clear();
	fake_set_state(dan, TT_PS_MODERATOR, true);
	TT_ASSERT_STR_EQ(role_of(last_presence(A, "dan")), "moderator");
	TT_ASSERT_STR_EQ(role_of(last_presence(C, "dan")), "moderator");
	env_down();
}

TT_TEST(muc_hand_queue_order)
{
	struct fake_p *bob = setup();
	fake_set_state(bob, TT_PS_HAND, true);
	env_in("<presence from='" C "' to='" R1 "/carol'><occupant xmlns='urn:tutti:occupant:0'"
	       " hand='true'/></presence>");
	xmpp_stanza_t *pb = last_presence(A, "bob"), *pc = last_presence(A, "carol");
	xmpp_stanza_t *tb = xmpp_stanza_get_child_by_name_and_ns(pb, "occupant",
								 "urn:tutti:occupant:0");
	xmpp_stanza_t *tc = xmpp_stanza_get_child_by_name_and_ns(pc, "occupant",
								 "urn:tutti:occupant:0");
	TT_ASSERT(tb && tc);
	const char *sb = xmpp_stanza_get_attribute(tb, "hand-seq");
	const char *sc = xmpp_stanza_get_attribute(tc, "hand-seq");
	TT_ASSERT(sb && sc);
	TT_ASSERT(atoi(sb) > 0 && atoi(sc) > atoi(sb));   /* bob's went up first */
	char *bob_seq = g_strdup(sb);   /* the stanzas go with env_clear */
	/* a newcomer sees the same queue */
	env_clear();
	env_join("r1", "erin", "erin@example.org/x", NULL);
	tb = xmpp_stanza_get_child_by_name_and_ns(last_presence("erin@example.org/x", "bob"),
						  "occupant", "urn:tutti:occupant:0");
	TT_ASSERT_STR_EQ(xmpp_stanza_get_attribute(tb, "hand-seq"), bob_seq);
	g_free(bob_seq);
	/* !lower: carol's own hand; a moderator's !lower bob */
	env_clear();
	env_in("<message from='" C "' to='" R1 "' type='groupchat'><body>!lower</body>"
	       "</message>");
	TT_ASSERT(!(fake_find("r1", "carol")->state & TT_PS_HAND));
	TT_ASSERT_INT_EQ(notices(A, "carol lowered their hand."), 1);
	env_in("<message from='" A "' to='" R1 "' type='groupchat'><body>!lower bob</body>"
	       "</message>");
	TT_ASSERT(!(bob->state & TT_PS_HAND));
	TT_ASSERT_INT_EQ(notices(C, "alice lowered the hand of bob."), 1);
	TT_ASSERT_INT_EQ(fake.posted->len, 0);   /* commands are not room text */
	env_down();
}

TT_TEST(muc_admin_role_changes)
{
	struct fake_p *bob = setup();
	/* visitor: muted by a moderator, with actor and reason-less presence to everyone */
	iq_set(A, "v1", "<item nick='bob' role='visitor'/>");
	assert_reply(A, "v1", NULL);
	TT_ASSERT((bob->state & (TT_PS_MUTED | TT_PS_MOD_MUTED)) ==
		  (TT_PS_MUTED | TT_PS_MOD_MUTED));
	xmpp_stanza_t *pb = last_presence(C, "bob");
	TT_ASSERT_STR_EQ(role_of(pb), "visitor");
	xmpp_stanza_t *actor = xmpp_stanza_get_child_by_name(item_of(pb), "actor");
	TT_ASSERT(actor);
	TT_ASSERT_STR_EQ(xmpp_stanza_get_attribute(actor, "nick"), "alice");
	TT_ASSERT_INT_EQ(notices(A, "alice muted bob."), 1);
	TT_ASSERT_INT_EQ(notices(C, "alice muted bob."), 1);
	/* the same again changes nothing and is fine */
	env_clear();
	iq_set(A, "v2", "<item nick='BOB' role='visitor'/>");
	assert_reply(A, "v2", NULL);
	TT_ASSERT_INT_EQ(env_count(), 1);
	/* participant: voice back */
	env_clear();
	iq_set(A, "p1", "<item nick='bob' role='participant'/>");
	assert_reply(A, "p1", NULL);
	TT_ASSERT(!(bob->state & (TT_PS_MUTED | TT_PS_MOD_MUTED)));
	TT_ASSERT_STR_EQ(role_of(last_presence(C, "bob")), "participant");
	/* moderator, then participant again: grant and revoke */
	env_clear();
	iq_set(A, "m1", "<item nick='carol' role='moderator'/>");
	assert_reply(A, "m1", NULL);
	TT_ASSERT(fake_find("r1", "carol")->state & TT_PS_MODERATOR);
	TT_ASSERT_STR_EQ(role_of(last_presence(C, "carol")), "moderator");
	TT_ASSERT_INT_EQ(notices(C, "alice made carol a moderator."), 1);
	env_clear();
	iq_set(C, "m2", "<item nick='carol' role='participant'/>");
	assert_reply(C, "m2", NULL);
	TT_ASSERT(!(fake_find("r1", "carol")->state & TT_PS_MODERATOR));
	/* none: a kick, 307 with the reason, for an occupant of another network */
	env_clear();
	iq_set(A, "k1", "<item nick='bob' role='none'><reason>too loud</reason></item>");
	assert_reply(A, "k1", NULL);
	TT_ASSERT(!bob->alive);
	xmpp_stanza_t *gone = last_presence(C, "bob");
	TT_ASSERT_STR_EQ(xmpp_stanza_get_type(gone), "unavailable");
	TT_ASSERT(codes_are(gone, "307"));
	char *why = env_child_text(item_of(gone), "reason");
	TT_ASSERT_STR_EQ(why, "too loud");
	g_free(why);
	TT_ASSERT_INT_EQ(notices(C, "alice removed bob: too loud"), 1);
	/* and an XMPP occupant: its own unavailable presence says 110 and 307 */
	env_clear();
	iq_set(A, "k2", "<item nick='carol' role='none'/>");
	assert_reply(A, "k2", NULL);
	TT_ASSERT(!fake_find("r1", "carol"));
	TT_ASSERT(codes_are(last_presence(C, "carol"), "110,307"));
	TT_ASSERT(codes_are(last_presence(A, "carol"), "307"));
	env_down();
}

TT_TEST(muc_admin_refusals_change_nothing)
{
	struct fake_p *bob = setup();
	/* a non-moderator: forbidden, before the nick is even looked up */
	iq_set(C, "f1", "<item nick='bob' role='visitor'/>");
	assert_reply(C, "f1", "forbidden");
	TT_ASSERT_INT_EQ(env_count(), 1);
	env_clear();
	iq_set(C, "f2", "<item nick='nobody' role='none'/>");
	assert_reply(C, "f2", "forbidden");
	TT_ASSERT_INT_EQ(env_count(), 1);
	TT_ASSERT_INT_EQ(bob->state, 0);
	TT_ASSERT_INT_EQ(fake.moderated->len, 0);
	/* not an occupant at all */
	env_clear();
	iq_set("eve@example.org/x", "f3", "<item nick='bob' role='none'/>");
	assert_reply("eve@example.org/x", "f3", "forbidden");
	/* a moderator: unknown nick, bad role, an affiliation, no item */
	struct { const char *items, *cond; } bad[] = {
		{"<item nick='nobody' role='visitor'/>", "item-not-found"},
		{"<item nick='bob' role='king'/>", "bad-request"},
		{"<item role='visitor'/>", "bad-request"},
		{"<item nick='bob' affiliation='outcast'/>", "not-allowed"},
		{"", "bad-request"},
		/* one bad item: the good one before it is not applied either */
		{"<item nick='bob' role='visitor'/><item nick='zed' role='visitor'/>",
		 "item-not-found"},
	};
	for (size_t k = 0; k < G_N_ELEMENTS(bad); k++) {
		env_clear();
		iq_set(A, "b", bad[k].items);
		TT_ASSERT_MSG(env_count() == 1, "case %zu: %u stanzas", k, env_count());
		assert_reply(A, "b", bad[k].cond);
	}
	TT_ASSERT_INT_EQ(bob->state, 0);
	TT_ASSERT_INT_EQ(fake.moderated->len, 0);
	/* muc#owner stays unimplemented */
	env_clear();
	env_in("<iq from='" A "' to='" R1 "' type='get' id='o1'><query xmlns='http://jabber.org"
	       "/protocol/muc#owner'/></iq>");
	assert_reply(A, "o1", "feature-not-implemented");
	env_down();
}

#define VOICE_REQUEST(role)                                                                 \
	"<message from='" C "' to='" R1 "'><x xmlns='jabber:x:data' type='submit'>"        \
	"<field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#request</value></field>" \
	"<field var='muc#role'><value>" role "</value></field></x></message>"

/* XEP-0045 7.13: a visitor's voice request raises its hand */
TT_TEST(muc_voice_request_raises_the_hand)
{
	setup();
	struct fake_p *carol = fake_find("r1", "carol");
	env_in(VOICE_REQUEST("participant"));
	TT_ASSERT_INT_EQ(notices(C, "You have voice already."), 1);
	TT_ASSERT(!(carol->state & TT_PS_HAND));
	env_in("<message from='" A "' to='" R1 "' type='groupchat'><body>!mute carol</body>"
	       "</message>");
	env_clear();
	env_in(VOICE_REQUEST("participant"));
	TT_ASSERT(carol->state & TT_PS_HAND);
	xmpp_stanza_t *pc = last_presence(A, "carol");
	TT_ASSERT_STR_EQ(role_of(pc), "visitor");
	TT_ASSERT(xmpp_stanza_get_attribute(xmpp_stanza_get_child_by_name_and_ns(
		pc, "occupant", "urn:tutti:occupant:0"), "hand-seq"));
	env_clear();
	env_in(VOICE_REQUEST("moderator"));
	assert_error_of(env_sent(0), "not-acceptable");
	/* other requests and invitations stay unsupported */
	env_clear();
	env_in("<message from='" C "' to='" R1 "'><x xmlns='http://jabber.org/protocol/muc#user'>"
	       "<invite to='x@y'/></x></message>");
	assert_error_of(env_sent(0), "feature-not-implemented");
	env_down();
}

TT_TEST(muc_admin_role_lists)
{
	struct fake_p *bob = setup();
	fake_set_state(bob, TT_PS_MUTED | TT_PS_MOD_MUTED, true);
	env_clear();
	env_in("<iq from='" A "' to='" R1 "' type='get' id='l1'><query xmlns='" ADMIN_NS "'>"
	       "<item role='visitor'/></query></iq>");
	assert_reply(A, "l1", NULL);
	xmpp_stanza_t *q = xmpp_stanza_get_child_by_name(env_sent(0), "query");
	xmpp_stanza_t *it = q ? xmpp_stanza_get_child_by_name(q, "item") : NULL;
	TT_ASSERT(it);
	TT_ASSERT_STR_EQ(xmpp_stanza_get_attribute(it, "nick"), "bob");
	TT_ASSERT(!xmpp_stanza_get_next(it));
	env_clear();
	env_in("<iq from='" C "' to='" R1 "' type='get' id='l2'><query xmlns='" ADMIN_NS "'>"
	       "<item role='moderator'/></query></iq>");
	assert_reply(C, "l2", "forbidden");
	env_down();
}

TT_TEST(muc_commands)
{
	struct fake_p *bob = setup();
	struct fake_p *bob2 = fake_other_join("r1", "bob (2)", "web");
	env_clear();
	/* a non-moderator: refused to it alone, nothing changes, nothing posted */
	env_in("<message from='" C "' to='" R1 "' type='groupchat'><body>!mute bob</body>"
	       "</message>");
	TT_ASSERT_INT_EQ(notices(C, "Only moderators may use !mute."), 1);
	TT_ASSERT_INT_EQ(env_count(), 1);
	TT_ASSERT_INT_EQ(bob->state, 0);
	/* a moderator: the longest nickname that starts the arguments */
	env_clear();
	env_in("<message from='" A "' to='" R1 "' type='groupchat'><body>!mute bob (2)</body>"
	       "</message>");
	TT_ASSERT(bob2->state & TT_PS_MOD_MUTED);
	TT_ASSERT_INT_EQ(bob->state, 0);
	TT_ASSERT_INT_EQ(notices(C, "alice muted bob (2)."), 1);
	env_clear();
	env_in("<message from='" A "' to='" R1 "' type='groupchat'><body>!kick bob go away"
	       "</body></message>");
	TT_ASSERT(!bob->alive && bob2->alive);
	TT_ASSERT(codes_are(last_presence(C, "bob"), "307"));
	TT_ASSERT_INT_EQ(notices(A, "alice removed bob: go away"), 1);
	env_clear();
	env_in("<message from='" A "' to='" R1 "' type='groupchat'><body>!mute zed</body>"
	       "</message>");
	TT_ASSERT_INT_EQ(notices(A, "Nobody here is called zed."), 1);
	env_in("<message from='" A "' to='" R1 "' type='groupchat'><body>!lock</body>"
	       "</message>");
	TT_ASSERT_INT_EQ(notices(C, "alice locked the room: nobody new may join."), 1);
	env_in("<message from='" A "' to='" R1 "' type='groupchat'><body>!muteall</body>"
	       "</message>");
	TT_ASSERT_INT_EQ(notices(C, "alice muted everyone but the moderators (0)."), 1);
	env_clear();
	env_in("<message from='" A "' to='" R1 "' type='groupchat'><body>!record start</body>"
	       "</message>");
	TT_ASSERT_INT_EQ(notices(A, "Recording is not configured on this bridge."), 1);
	TT_ASSERT_INT_EQ(env_count(), 1);
	env_in("<message from='" A "' to='" R1 "' type='groupchat'><body>!help</body>"
	       "</message>");
	TT_ASSERT_INT_EQ(env_count(), 2);
	TT_ASSERT_INT_EQ(fake.posted->len, 0);
	/* not a command: room text as written */
	env_in("<message from='" A "' to='" R1 "' type='groupchat'><body>!!! wow</body>"
	       "</message>");
	env_in("<message from='" A "' to='" R1 "' type='groupchat'><body>!locked out</body>"
	       "</message>");
	TT_ASSERT_INT_EQ(fake_posted_count("alice|0|!!! wow"), 1);
	TT_ASSERT_INT_EQ(fake_posted_count("alice|0|!locked out"), 1);
	/* !end: everyone goes, ours with their own unavailable presence */
	env_clear();
	env_in("<message from='" A "' to='" R1 "' type='groupchat'><body>!end</body>"
	       "</message>");
	TT_ASSERT_INT_EQ(notices(C, "alice ended the meeting."), 1);
	env_down();
}

TT_TEST(muc_recording_status_codes)
{
	setup();
	fake.can_record = true;
	env_in("<message from='" A "' to='" R1 "' type='groupchat'><body>!record start</body>"
	       "</message>");
	TT_ASSERT(fake.recording);
	const char *started = "alice started recording: this meeting is being recorded.";
	TT_ASSERT_INT_EQ(notices(A, started), 1);
	TT_ASSERT_INT_EQ(notices(C, started), 1);
	guint i = 0;
	xmpp_stanza_t *m = env_find(&i, "message", "groupchat", C, R1);
	TT_ASSERT(codes_are(m, "170"));
	/* a newcomer: 170 in its self-presence, then the notice in words */
	env_clear();
	env_join("r1", "erin", "erin@example.org/x", NULL);
	TT_ASSERT(codes_are(last_presence("erin@example.org/x", "erin"), "110,170"));
	TT_ASSERT_INT_EQ(notices("erin@example.org/x",
				 "This meeting is being recorded: what you say is recorded."), 1);
	/* stopped by the bridge (the disk): 171 and why */
	env_clear();
	fake.recording = false;
	fake_meeting("r1", TT_MOD_RECORD_STOP, NULL, NULL, "disk full: No space left on device");
	i = 0;
	m = env_find(&i, "message", "groupchat", A, R1);
	TT_ASSERT(codes_are(m, "171"));
	TT_ASSERT_INT_EQ(notices(A, "The recording stopped (disk full: No space left on "
				 "device)."), 1);
	/* the admin API's actions are the administrator's */
	env_clear();
	fake_meeting("r1", TT_MOD_UNLOCK, NULL, NULL, NULL);
	TT_ASSERT_INT_EQ(notices(C, "The administrator unlocked the room."), 1);
	env_down();
}

TT_TEST(muc_recording_decline)
{
	setup();
	struct fake_p *alice = fake_find("r1", "alice"), *carol = fake_find("r1", "carol");
	/* a room that does not allow it: refused, nothing set */
	env_in("<message from='" C "' to='" R1 "' type='groupchat'><body>!decline</body>"
	       "</message>");
	TT_ASSERT_INT_EQ(notices(C, "This room does not let participants decline the "
				 "recording."), 1);
	TT_ASSERT(!(carol->state & TT_PS_NO_RECORD));
	/* one that does: the start line says how, !decline sets it, !consent clears it */
	fake.recording_decline = true;
	fake.can_record = true;
	env_clear();
	env_in("<message from='" A "' to='" R1 "' type='groupchat'><body>!record start</body>"
	       "</message>");
	TT_ASSERT_INT_EQ(notices(C, "alice started recording: this meeting is being recorded. "
				 "Say !decline to be muted and left out of it."), 1);
	env_in("<message from='" C "' to='" R1 "' type='groupchat'><body>!decline</body>"
	       "</message>");
	TT_ASSERT(carol->state & TT_PS_NO_RECORD);
	fake_set_state(carol, TT_PS_MUTED, true);   /* the core mutes who declined */
	env_in("<message from='" C "' to='" R1 "' type='groupchat'><body>!consent</body>"
	       "</message>");
	TT_ASSERT(!(carol->state & (TT_PS_NO_RECORD | TT_PS_MUTED)));
	/* a moderator's mute holds where self_unmute = false: consent keeps it */
	fake.self_unmute = false;
	env_in("<message from='" A "' to='" R1 "' type='groupchat'><body>!mute carol</body>"
	       "</message>");
	fake_set_state(carol, TT_PS_NO_RECORD, true);
	env_in("<message from='" C "' to='" R1 "' type='groupchat'><body>!consent</body>"
	       "</message>");
	TT_ASSERT((carol->state & (TT_PS_NO_RECORD | TT_PS_MUTED)) == TT_PS_MUTED);
	TT_ASSERT(!(alice->state & TT_PS_NO_RECORD));
	TT_ASSERT_INT_EQ(fake.posted->len, 0);
	env_down();
}

static unsigned serialised, serialised_bytes;
static void serialise_only(struct xg_gw *gw, xmpp_stanza_t *st)
{
	char *buf = NULL;
	size_t len = 0;
	if (xmpp_stanza_to_text(st, &buf, &len) == XMPP_EOK) {
		serialised++;
		serialised_bytes += (unsigned)len;
		xmpp_free(gw->ctx, buf);
	}
}

/* Mute all in a room of 200 phones and 50 XMPP occupants: one room line and one presence
 * per muted phone to each XMPP occupant, nothing more (a measure of the fan-out, too). */
TT_TEST(muc_mute_all_fanout)
{
	enum { PHONES = 200, OURS = 50 };
	env_up(NULL);
	fake_room_set("r1", NULL, false, 0);
	fake_room_mod_pin("r1", "999");
	for (int i = 0; i < PHONES; i++) {
		char name[16];
		g_snprintf(name, sizeof name, "phone%d", i);
		fake_other_join("r1", name, "phone");
	}
	env_join("r1", "alice", A, "999");
	for (int i = 1; i < OURS; i++) {
		char nick[16], jid[48];
		g_snprintf(nick, sizeof nick, "x%d", i);
		g_snprintf(jid, sizeof jid, "x%d@example.org/r", i);
		env_join("r1", nick, jid, NULL);
	}
	env_clear();
	/* serialised as the stream would, not parsed back: the gateway's own cost */
	void (*capture)(struct xg_gw *, xmpp_stanza_t *) = env.gw.send;
	env.gw.send = serialise_only;
	gint64 t0 = g_get_monotonic_time();
	env_in("<message from='" A "' to='" R1 "' type='groupchat'><body>!muteall</body>"
	       "</message>");
	gint64 us = g_get_monotonic_time() - t0;
	env.gw.send = capture;
	TT_ASSERT_INT_EQ(serialised, OURS + PHONES * OURS);
	TT_ASSERT(fake_find("r1", "phone7")->state & TT_PS_MOD_MUTED);
	g_print("mute all, %d phones, %d XMPP occupants: %u stanzas, %u bytes, in %.1f ms\n",
		PHONES, OURS, serialised, serialised_bytes, us / 1000.0);
	env_down();
}

static void collect(const struct tt_door *d, void *arg)
{
	g_ptr_array_add(arg, g_strdup_printf("%s|%s|%s", d->network, d->label, d->uri));
}

TT_TEST(muc_doors)
{
	env_up(NULL);
	GPtrArray *got = g_ptr_array_new_with_free_func(g_free);
	xg_doors(&env.gw, "standup", collect, got);
	TT_ASSERT_INT_EQ(got->len, 1);
	TT_ASSERT_STR_EQ(got->pdata[0], "xmpp|XMPP group chat|xmpp:standup@" ENV_DOMAIN "?join");
	env.gw.cfg.call_domain = g_strdup("call.test");
	g_ptr_array_set_size(got, 0);
	xg_doors(&env.gw, "standup", collect, got);
	TT_ASSERT_INT_EQ(got->len, 2);
	TT_ASSERT_STR_EQ(got->pdata[1], "xmpp|XMPP call|xmpp:standup@call.test");
	g_ptr_array_set_size(got, 0);
	xg_doors(&env.gw, "StandUp", collect, got);   /* XMPP cannot reach capitals */
	TT_ASSERT_INT_EQ(got->len, 0);
	g_clear_pointer(&env.gw.cfg.call_domain, g_free);
	g_ptr_array_unref(got);
	env_down();
}
