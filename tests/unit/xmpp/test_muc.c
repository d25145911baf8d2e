/* test_muc.c: the MUC service over the fake core: what an XMPP client sees, in order. */
#include <string.h>

#include "muc_env.h"
#include "tt_test.h"

#define R1 "r1@" ENV_DOMAIN
#define A "alice@example.org/phone"
#define C "carol@example.org/laptop"

static bool has(const char *s, const char *part)
{
	return s && strstr(s, part);
}

/* An attribute of tutti's presence element; a flag it leaves out is "false". */
static const char *tutti_attr(xmpp_stanza_t *st, const char *name)
{
	xmpp_stanza_t *t = xmpp_stanza_get_child_by_name_and_ns(st, "occupant",
								"urn:tutti:occupant:0");
	const char *v = t ? xmpp_stanza_get_attribute(t, name) : NULL;
	return t && !v && strcmp(name, "network") ? "false" : v;
}

static void assert_codes(xmpp_stanza_t *st, const char *want)
{
	TT_ASSERT(st);
	char *codes = env_codes(st);
	TT_ASSERT_STR_EQ(codes, want);
	g_free(codes);
}

static void assert_error(xmpp_stanza_t *st, const char *cond)
{
	TT_ASSERT(st);
	TT_ASSERT_STR_EQ(xmpp_stanza_get_type(st), "error");
	TT_ASSERT_STR_EQ(env_error(st), cond);
}

/* XEP-0045 7.2.3: the others' presence, then its own with 110, then history, then the
 * subject; the others see the newcomer. */
TT_TEST(muc_join_order)
{
	env_up(NULL);
	struct fake_p *bob = fake_other_join("r1", "bob", "phone");
	fake_set_state(bob, TT_PS_MUTED | TT_PS_HAND, true);
	env_join("r1", "alice", A, NULL);
	TT_ASSERT_INT_EQ(env_count(), 3);
	xmpp_stanza_t *p0 = env_sent(0);
	TT_ASSERT_STR_EQ(xmpp_stanza_get_from(p0), R1 "/bob");
	TT_ASSERT_STR_EQ(xmpp_stanza_get_to(p0), A);
	assert_codes(p0, "");
	char *status = env_child_text(p0, "status");
	TT_ASSERT_STR_EQ(status, "phone, muted, hand raised");
	g_free(status);
	TT_ASSERT_STR_EQ(tutti_attr(p0, "network"), "phone");
	TT_ASSERT_STR_EQ(tutti_attr(p0, "muted"), "true");
	TT_ASSERT_STR_EQ(tutti_attr(p0, "hand"), "true");
	TT_ASSERT_STR_EQ(tutti_attr(p0, "talking"), "false");
	TT_ASSERT(xmpp_stanza_get_child_by_name_and_ns(p0, "occupant-id",
						       "urn:xmpp:occupant-id:0"));
	xmpp_stanza_t *self = env_sent(1);
	TT_ASSERT_STR_EQ(xmpp_stanza_get_from(self), R1 "/alice");
	assert_codes(self, "110");
	xmpp_stanza_t *subj = env_sent(2);
	TT_ASSERT_STR_EQ(xmpp_stanza_get_name(subj), "message");
	TT_ASSERT_STR_EQ(xmpp_stanza_get_type(subj), "groupchat");
	TT_ASSERT_STR_EQ(xmpp_stanza_get_from(subj), R1);
	char *s = env_child_text(subj, "subject");
	TT_ASSERT_STR_EQ(s, "");
	g_free(s);
	struct fake_p *a = fake_find("r1", "alice");
	TT_ASSERT(a && a->caps == TT_CAP_TEXT && a->medium && a->medium->open);
	TT_ASSERT_INT_EQ(fake_media_open("r1"), 1);

	/* carol: sees bob and alice (any order), then herself; alice sees carol */
	env_clear();
	env_join("r1", "carol", C, NULL);
	guint i = 0;
	TT_ASSERT(env_find(&i, "presence", "", C, R1 "/bob"));
	i = 0;
	TT_ASSERT(env_find(&i, "presence", "", C, R1 "/alice"));
	guint self_at = i;
	self = env_find(&i, "presence", "", C, R1 "/carol");
	assert_codes(self, "110");
	TT_ASSERT(i > self_at);
	i = 0;
	xmpp_stanza_t *seen = env_find(&i, "presence", "", A, R1 "/carol");
	assert_codes(seen, "");
	TT_ASSERT_STR_EQ(tutti_attr(seen, "network"), "xmpp");
	/* the occupant id is stable for a user and differs between users */
	const char *id_c = xmpp_stanza_get_attribute(
		xmpp_stanza_get_child_by_name(seen, "occupant-id"), "id");
	TT_ASSERT(id_c && strlen(id_c) > 10);
	env_down();
}

TT_TEST(muc_join_renamed_210_and_conflict_409)
{
	env_up(NULL);
	fake_other_join("r1", "Bob", "irc");
	env_join("r1", "bob", A, NULL);   /* the core compares names case-folded */
	assert_error(env_sent(0), "conflict");
	TT_ASSERT_INT_EQ(env_count(), 1);
	TT_ASSERT_INT_EQ(fake_alive_count("r1"), 1);
	TT_ASSERT_INT_EQ(fake_media_open("r1"), 0);   /* nobody of ours: the medium closed */
	/* a tab is not part of a name: the core removes it, 210 says so */
	env_clear();
	env_join("r1", "al&#9;ice", A, NULL);
	guint i = 0;
	xmpp_stanza_t *self = env_find(&i, "presence", "", A, R1 "/alice");
	assert_codes(self, "110,210");
	/* a second user asking for the same nick */
	env_clear();
	env_join("r1", "ALICE", C, NULL);
	assert_error(env_sent(0), "conflict");
	TT_ASSERT_STR_EQ(xmpp_stanza_get_from(env_sent(0)), R1 "/ALICE");
	TT_ASSERT_INT_EQ(fake_alive_count("r1"), 2);
	env_down();
}

static unsigned count_bodies(const char *to, const char *from, const char *body)
{
	unsigned n = 0;
	for (guint i = 0; i < env_count(); i++) {
		xmpp_stanza_t *st = env_sent(i);
		char *b = env_child_text(st, "body");
		n += b && !strcmp(b, body) && (!to || !strcmp(xmpp_stanza_get_to(st), to)) &&
		     (!from || !strcmp(xmpp_stanza_get_from(st), from));
		g_free(b);
	}
	return n;
}

TT_TEST(muc_history_with_delays)
{
	env_up(NULL);   /* history = 5 */
	struct fake_p *bob = fake_other_join("r1", "bob", "irc");
	env_join("r1", "alice", A, NULL);
	for (int i = 1; i <= 7; i++) {
		char line[16];
		g_snprintf(line, sizeof line, "line %d", i);
		fake_say(bob, line, 0);
	}
	fake_say(bob, "waves", TT_TEXT_ACTION);
	env_clear();
	env_join("r1", "carol", C, NULL);
	guint i = 0;
	xmpp_stanza_t *self = env_find(&i, "presence", "", C, R1 "/carol");
	TT_ASSERT(self);
	const char *want[] = {"line 4", "line 5", "line 6", "line 7", "/me waves"};
	for (int k = 0; k < 5; k++) {
		xmpp_stanza_t *m = env_find(&i, "message", "groupchat", C, R1 "/bob");
		TT_ASSERT_MSG(m, "history line %d", k);
		char *b = env_child_text(m, "body");
		TT_ASSERT_STR_EQ(b, want[k]);
		g_free(b);
		xmpp_stanza_t *d = xmpp_stanza_get_child_by_name_and_ns(m, "delay",
									"urn:xmpp:delay");
		TT_ASSERT(d);
		TT_ASSERT_STR_EQ(xmpp_stanza_get_attribute(d, "from"), R1);
		const char *stamp = xmpp_stanza_get_attribute(d, "stamp");
		TT_ASSERT(stamp && strlen(stamp) == 20 && stamp[19] == 'Z');
	}
	xmpp_stanza_t *subj = env_find(&i, "message", "groupchat", C, R1);
	TT_ASSERT(subj && xmpp_stanza_get_child_by_name(subj, "subject"));
	TT_ASSERT_INT_EQ(i, env_count());   /* the subject is last */
	/* a client asking for 2 lines gets 2, for none gets none */
	env_in("<presence from='" C "' to='" R1 "/carol' type='unavailable'/>");
	env_clear();
	env_in("<presence from='" C "' to='" R1 "/carol'><x xmlns='http://jabber.org/protocol/"
	       "muc'><history maxstanzas='2'/></x></presence>");
	TT_ASSERT_INT_EQ(count_bodies(C, NULL, "line 7") + count_bodies(C, NULL, "/me waves") +
			 count_bodies(C, NULL, "line 6"), 2);
	env_in("<presence from='" C "' to='" R1 "/carol' type='unavailable'/>");
	env_clear();
	env_in("<presence from='" C "' to='" R1 "/carol'><x xmlns='http://jabber.org/protocol/"
	       "muc'><history maxchars='0'/></x></presence>");
	TT_ASSERT_INT_EQ(count_bodies(C, NULL, "/me waves"), 0);
	env_down();
}

TT_TEST(muc_message_reflection_and_other_networks)
{
	env_up(NULL);
	struct fake_p *bob = fake_other_join("r1", "bob", "irc");
	env_join("r1", "alice", A, NULL);
	env_join("r1", "carol", C, NULL);
	env_clear();
	env_in("<message from='" A "' to='" R1 "' type='groupchat' id='m1'><body>hello</body>"
	       "<origin-id xmlns='urn:xmpp:sid:0' id='o1'/></message>");
	TT_ASSERT_INT_EQ(fake_posted_count("alice|0|hello"), 1);
	TT_ASSERT_INT_EQ(env_count(), 2);   /* to alice (reflection) and carol, nothing else */
	guint i = 0;
	xmpp_stanza_t *refl = env_find(&i, "message", "groupchat", A, R1 "/alice");
	TT_ASSERT(refl);
	TT_ASSERT_STR_EQ(xmpp_stanza_get_id(refl), "m1");
	xmpp_stanza_t *oid = xmpp_stanza_get_child_by_name_and_ns(refl, "origin-id",
								  "urn:xmpp:sid:0");
	TT_ASSERT(oid);
	TT_ASSERT_STR_EQ(xmpp_stanza_get_attribute(oid, "id"), "o1");
	TT_ASSERT_INT_EQ(count_bodies(C, R1 "/alice", "hello"), 1);
	/* /me is an action on the bus */
	env_in("<message from='" A "' to='" R1 "' type='groupchat' id='m2'><body>/me waves"
	       "</body></message>");
	TT_ASSERT_INT_EQ(fake_posted_count("alice|1|waves"), 1);
	/* from another network: once to each XMPP occupant, from the sender's occupant JID */
	env_clear();
	fake_say(bob, "hi from irc", 0);
	TT_ASSERT_INT_EQ(env_count(), 2);
	TT_ASSERT_INT_EQ(count_bodies(A, R1 "/bob", "hi from irc"), 1);
	TT_ASSERT_INT_EQ(count_bodies(C, R1 "/bob", "hi from irc"), 1);
	env_clear();
	fake_notice("r1", "bob joined by phone");
	TT_ASSERT_INT_EQ(count_bodies(A, R1, "bob joined by phone"), 1);
	TT_ASSERT_INT_EQ(count_bodies(C, R1, "bob joined by phone"), 1);
	/* a line the bus refuses is an error, reflected to nobody */
	env_clear();
	guint posted = fake.posted->len;
	char *big = g_strnfill(1001, 'x');   /* the fake bus takes 1000 bytes */
	env_in("<message from='" A "' to='" R1 "' type='groupchat' id='m3'><body>%s</body>"
	       "</message>", big);
	g_free(big);
	TT_ASSERT_INT_EQ(env_count(), 1);
	assert_error(env_sent(0), "not-acceptable");
	TT_ASSERT_INT_EQ(fake.posted->len, posted);
	/* the subject is not ours to set */
	env_clear();
	env_in("<message from='" A "' to='" R1 "' type='groupchat'><subject>x</subject>"
	       "</message>");
	assert_error(env_sent(0), "forbidden");
	env_down();
}

TT_TEST(muc_private_messages)
{
	env_up(NULL);
	fake_other_join("r1", "bob", "phone");
	env_join("r1", "alice", A, NULL);
	env_join("r1", "carol", C, NULL);
	env_clear();
	env_in("<message from='" A "' to='" R1 "/carol' type='chat' id='p1'><body>psst</body>"
	       "</message>");
	TT_ASSERT_INT_EQ(env_count(), 1);
	TT_ASSERT_INT_EQ(count_bodies(C, R1 "/alice", "psst"), 1);
	TT_ASSERT_INT_EQ(fake.posted->len, 0);   /* private: not on the bus */
	env_clear();
	env_in("<message from='" A "' to='" R1 "/bob' type='chat' id='p2'><body>psst</body>"
	       "</message>");
	assert_error(env_sent(0), "feature-not-implemented");
	TT_ASSERT(has(env.sent_text->pdata[0], "bob is on phone"));
	env_clear();
	env_in("<message from='" A "' to='" R1 "/nobody' type='chat'><body>x</body></message>");
	assert_error(env_sent(0), "item-not-found");
	env_down();
}

TT_TEST(muc_pin_is_the_password)
{
	env_up(NULL);
	fake_room_set("sec", "1234", false, 0);
	fake.on_demand = false;
	env_join("sec", "alice", A, "999");
	assert_error(env_sent(0), "not-authorized");
	TT_ASSERT_INT_EQ(env_count(), 1);
	env_clear();
	env_join("nosuchroom", "alice", A, "999");
	assert_error(env_sent(0), "not-authorized");
	TT_ASSERT_INT_EQ(env_count(), 1);
	/* alike, word for word */
	xmpp_stanza_t *e1 = xmpp_stanza_get_child_by_name(env_sent(0), "error");
	char *t1 = NULL;
	size_t n;
	xmpp_stanza_to_text(e1, &t1, &n);
	env_clear();
	env_join("sec", "alice", A, NULL);
	char *t2 = NULL;
	xmpp_stanza_to_text(xmpp_stanza_get_child_by_name(env_sent(0), "error"), &t2, &n);
	TT_ASSERT_STR_EQ(t1, t2);
	xmpp_free(env.gw.ctx, t1);
	xmpp_free(env.gw.ctx, t2);
	TT_ASSERT_INT_EQ(fake_alive_count("sec"), 0);
	TT_ASSERT_INT_EQ(fake_media_open("sec"), 0);
	env_clear();
	env_join("sec", "alice", A, "1234");
	guint i = 0;
	assert_codes(env_find(&i, "presence", "", A, "sec@" ENV_DOMAIN "/alice"), "110");
	TT_ASSERT_INT_EQ(fake_alive_count("sec"), 1);
	env_down();
}

TT_TEST(muc_locked_and_full)
{
	env_up(NULL);
	fake_room_set("locked", NULL, true, 0);
	fake_room_set("small", NULL, false, 1);
	env_join("locked", "alice", A, NULL);
	assert_error(env_sent(0), "not-allowed");
	fake_other_join("small", "bob", "phone");
	env_clear();
	env_join("small", "alice", A, NULL);
	assert_error(env_sent(0), "service-unavailable");
	TT_ASSERT_STR_EQ(xmpp_stanza_get_attribute(
				 xmpp_stanza_get_child_by_name(env_sent(0), "error"), "type"),
			 "wait");
	TT_ASSERT_INT_EQ(fake_alive_count("locked") + fake_alive_count("small"), 1);
	TT_ASSERT_INT_EQ(fake_media_open("small") + fake_media_open("locked"), 0);
	env_down();
}

static bool has_feature(xmpp_stanza_t *iq, const char *var)
{
	xmpp_stanza_t *q = xmpp_stanza_get_child_by_name(iq, "query");
	for (xmpp_stanza_t *c = q ? xmpp_stanza_get_children(q) : NULL; c;
	     c = xmpp_stanza_get_next(c)) {
		const char *v = xmpp_stanza_get_attribute(c, "var");
		if (v && !strcmp(v, var))
			return true;
	}
	return false;
}

static bool has_item(xmpp_stanza_t *iq, const char *jid)
{
	xmpp_stanza_t *q = xmpp_stanza_get_child_by_name(iq, "query");
	for (xmpp_stanza_t *c = q ? xmpp_stanza_get_children(q) : NULL; c;
	     c = xmpp_stanza_get_next(c)) {
		const char *v = xmpp_stanza_get_attribute(c, "jid");
		if (v && !strcmp(v, jid))
			return true;
	}
	return false;
}

TT_TEST(muc_disco)
{
	env_up("[room.public]\n[room.sec]\npin = 1234\n");
	fake_room_set("sec", "1234", false, 0);
	env_in("<iq from='" A "' to='" ENV_DOMAIN "' type='get' id='d1'>"
	       "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
	xmpp_stanza_t *r = env_sent(0);
	TT_ASSERT_STR_EQ(xmpp_stanza_get_type(r), "result");
	TT_ASSERT_STR_EQ(xmpp_stanza_get_id(r), "d1");
	xmpp_stanza_t *id = xmpp_stanza_get_child_by_name(
		xmpp_stanza_get_child_by_name(r, "query"), "identity");
	TT_ASSERT_STR_EQ(xmpp_stanza_get_attribute(id, "category"), "conference");
	TT_ASSERT_STR_EQ(xmpp_stanza_get_attribute(id, "type"), "text");
	TT_ASSERT(has_feature(r, "http://jabber.org/protocol/muc"));
	env_clear();
	env_in("<iq from='" A "' to='public@" ENV_DOMAIN "' type='get' id='d2'>"
	       "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
	r = env_sent(0);
	TT_ASSERT(has_feature(r, "muc_open") && has_feature(r, "muc_unsecured") &&
		  has_feature(r, "muc_semianonymous") && has_feature(r, "muc_persistent") &&
		  has_feature(r, "urn:xmpp:occupant-id:0"));
	env_clear();
	env_in("<iq from='" A "' to='sec@" ENV_DOMAIN "' type='get' id='d3'>"
	       "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
	TT_ASSERT(has_feature(env_sent(0), "muc_passwordprotected"));
	/* an unknown room looks like a PIN room */
	fake.on_demand = false;
	env_in("<iq from='" A "' to='nosuch@" ENV_DOMAIN "' type='get' id='d4'>"
	       "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
	TT_ASSERT(has_feature(env_sent(1), "muc_passwordprotected"));
	fake.on_demand = true;
	env_join("adhoc", "alice", A, NULL);
	env_clear();
	env_in("<iq from='" A "' to='" ENV_DOMAIN "' type='get' id='d5'>"
	       "<query xmlns='http://jabber.org/protocol/disco#items'/></iq>");
	r = env_sent(0);
	TT_ASSERT(has_item(r, "public@" ENV_DOMAIN));
	TT_ASSERT(has_item(r, "adhoc@" ENV_DOMAIN));
	TT_ASSERT(!has_item(r, "sec@" ENV_DOMAIN));
	env_down();
}

TT_TEST(muc_self_ping)
{
	env_up(NULL);
	env_join("r1", "alice", A, NULL);
	env_clear();
	env_in("<iq from='" A "' to='" R1 "/alice' type='get' id='sp1'>"
	       "<ping xmlns='urn:xmpp:ping'/></iq>");
	TT_ASSERT_STR_EQ(xmpp_stanza_get_type(env_sent(0)), "result");
	TT_ASSERT_STR_EQ(xmpp_stanza_get_id(env_sent(0)), "sp1");
	TT_ASSERT_STR_EQ(xmpp_stanza_get_from(env_sent(0)), R1 "/alice");
	env_in("<iq from='" C "' to='" R1 "/carol' type='get' id='sp2'>"
	       "<ping xmlns='urn:xmpp:ping'/></iq>");
	assert_error(env_sent(1), "not-acceptable");
	/* after the link dropped, the occupant is gone: its self-ping says so, it rejoins */
	xg_muc_link(&env.gw, false);
	TT_ASSERT(!fake_find("r1", "alice"));
	TT_ASSERT_INT_EQ(fake_media_open("r1"), 0);
	env_clear();
	env_in("<iq from='" A "' to='" R1 "/alice' type='get' id='sp3'>"
	       "<ping xmlns='urn:xmpp:ping'/></iq>");
	assert_error(env_sent(0), "not-acceptable");
	env_down();
}

TT_TEST(muc_bounce_removes)
{
	env_up(NULL);
	env_join("r1", "alice", A, NULL);
	env_join("r1", "carol", C, NULL);
	env_clear();
	env_in("<presence from='" A "' to='" R1 "/carol' type='error'><error type='cancel'>"
	       "<remote-server-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>"
	       "</presence>");
	TT_ASSERT(!fake_find("r1", "alice"));
	TT_ASSERT(fake_find("r1", "carol"));
	TT_ASSERT_INT_EQ(env_count(), 1);   /* nothing to alice: it is gone */
	guint i = 0;
	TT_ASSERT(env_find(&i, "presence", "unavailable", C, R1 "/alice"));
	env_down();
}

TT_TEST(muc_leave_kick_and_shutdown)
{
	env_up(NULL);
	struct fake_p *bob = fake_other_join("r1", "bob", "phone");
	env_join("r1", "alice", A, NULL);
	env_join("r1", "carol", C, NULL);
	env_join("r2", "alice", A, NULL);
	/* a kick: 307 to the kicked one and to the others */
	env_clear();
	fake_api.participant_kick((struct tt_participant *)fake_find("r1", "carol"), "spam");
	guint i = 0;
	assert_codes(env_find(&i, "presence", "unavailable", C, R1 "/carol"), "110,307");
	i = 0;
	assert_codes(env_find(&i, "presence", "unavailable", A, R1 "/carol"), "307");
	TT_ASSERT(!fake_find("r1", "carol"));
	/* another network's participant leaving */
	env_clear();
	fake_other_leave(bob);
	i = 0;
	TT_ASSERT(env_find(&i, "presence", "unavailable", A, R1 "/bob"));
	/* nick change refused, nothing changes */
	env_clear();
	env_in("<presence from='" A "' to='" R1 "/alicia'/>");
	assert_error(env_sent(0), "not-acceptable");
	TT_ASSERT(fake_find("r1", "alice"));
	/* shutdown: 332 to each of ours, about themselves */
	env_clear();
	xg_muc_stop(&env.gw);
	i = 0;
	assert_codes(env_find(&i, "presence", "unavailable", A, R1 "/alice"), "110,332");
	i = 0;
	assert_codes(env_find(&i, "presence", "unavailable", A, "r2@" ENV_DOMAIN "/alice"),
		     "110,332");
	TT_ASSERT_INT_EQ(env_count(), 2);
	TT_ASSERT_INT_EQ(fake_alive_count("r1") + fake_alive_count("r2"), 0);
	TT_ASSERT_INT_EQ(fake_media_open("r1") + fake_media_open("r2"), 0);
	env_down();
}

TT_TEST(muc_leave)
{
	env_up(NULL);
	env_join("r1", "alice", A, NULL);
	env_join("r1", "carol", C, NULL);
	env_clear();
	env_in("<presence from='" C "' to='" R1 "/carol' type='unavailable'/>");
	guint i = 0;
	assert_codes(env_find(&i, "presence", "unavailable", C, R1 "/carol"), "110");
	i = 0;
	assert_codes(env_find(&i, "presence", "unavailable", A, R1 "/carol"), "");
	TT_ASSERT(!fake_find("r1", "carol"));
	TT_ASSERT_INT_EQ(fake_media_open("r1"), 1);
	env_in("<presence from='" A "' to='" R1 "/alice' type='unavailable'/>");
	TT_ASSERT_INT_EQ(fake_media_open("r1"), 0);
	TT_ASSERT(xg_muc_occupant_by_jid(&env.gw, "r1", A) == NULL);
	env_down();
}

TT_TEST(muc_occupant_by_jid)
{
	env_up(NULL);
	env_join("r1", "alice", A, NULL);
	struct tt_participant *p = (struct tt_participant *)fake_find("r1", "alice");
	TT_ASSERT(xg_muc_occupant_by_jid(&env.gw, "r1", A) == p);
	TT_ASSERT(xg_muc_occupant_by_jid(&env.gw, "r1", "alice@example.org") == p);
	TT_ASSERT(xg_muc_occupant_by_jid(&env.gw, "r1", "alice@example.org/other") == NULL);
	TT_ASSERT(xg_muc_occupant_by_jid(&env.gw, "r1", "alice@example.or") == NULL);
	TT_ASSERT(xg_muc_occupant_by_jid(&env.gw, "r2", A) == NULL);
	env_down();
}

static void run_loop_until(unsigned *count, unsigned want)
{
	gint64 end = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
	while (*count < want && g_get_monotonic_time() < end)
		g_main_context_iteration(NULL, TRUE);
}

static unsigned presences_from(const char *to, const char *from)
{
	unsigned n = 0;
	guint i = 0;
	while (env_find(&i, "presence", "", to, from))
		n++;
	return n;
}

TT_TEST(muc_talking_rate_limited)
{
	env_up(NULL);   /* talking_interval = 1 */
	struct fake_p *bob = fake_other_join("r1", "bob", "phone");
	env_join("r1", "alice", A, NULL);
	env_clear();
	fake_set_state(bob, TT_PS_TALKING, true);    /* the first: now */
	TT_ASSERT_INT_EQ(presences_from(A, R1 "/bob"), 1);
	TT_ASSERT_STR_EQ(tutti_attr(env_sent(0), "talking"), "true");
	fake_set_state(bob, TT_PS_TALKING, false);   /* within the interval: later */
	fake_set_state(bob, TT_PS_TALKING, true);
	fake_set_state(bob, TT_PS_TALKING, false);
	TT_ASSERT_INT_EQ(presences_from(A, R1 "/bob"), 1);
	/* a mute is news now, and carries the talking state */
	fake_set_state(bob, TT_PS_MUTED, true);
	TT_ASSERT_INT_EQ(presences_from(A, R1 "/bob"), 2);
	TT_ASSERT_STR_EQ(tutti_attr(env_sent(1), "muted"), "true");
	TT_ASSERT_STR_EQ(tutti_attr(env_sent(1), "talking"), "false");
	fake_set_state(bob, TT_PS_TALKING, true);
	unsigned n = 2;
	gint64 end = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
	while (n < 3 && g_get_monotonic_time() < end) {
		g_main_context_iteration(NULL, TRUE);
		n = presences_from(A, R1 "/bob");
	}
	TT_ASSERT_INT_EQ(n, 3);   /* the timer told the last state */
	TT_ASSERT_STR_EQ(tutti_attr(env_sent(2), "talking"), "true");
	(void)run_loop_until;
	env_down();
}

/* Bad input gets an error reply and changes nothing. */
TT_TEST(muc_malformed_answered_nothing_changed)
{
	env_up(NULL);
	env_join("r1", "alice", A, NULL);
	env_clear();
	struct {
		const char *xml, *cond;
	} cases[] = {
		{"<presence from='" C "' to='" R1 "'/>", "jid-malformed"},
		{"<presence from='" C "' to='" R1 "/'/>", "jid-malformed"},
		{"<presence from='" C "' to='@" ENV_DOMAIN "/x'/>", "jid-malformed"},
		{"<presence from='dave@example.org/d' to='r1@" ENV_DOMAIN "/x'>"
		 "<x xmlns='http://jabber.org/protocol/muc'><password>"
		 "</password></x></presence>", NULL},   /* joins: no PIN needed */
		{"<presence from='" C "' to='BAD ROOM@" ENV_DOMAIN "/x'/>", "not-authorized"},
		{"<message from='" C "' to='" R1 "' type='groupchat'><body>x</body></message>",
		 "not-acceptable"},
		{"<message from='" A "' to='" R1 "' type='groupchat'><body></body></message>",
		 NULL},   /* no text: nothing to post, nothing said */
		{"<message from='" A "' to='" R1 "' type='groupchat'><body>/me </body></message>",
		 "not-acceptable"},
		{"<message from='" A "' to='" R1 "/alice' type='groupchat'><body>x</body>"
		 "</message>", "bad-request"},
		{"<message from='" A "' to='" R1 "'><body>x</body></message>",
		 "feature-not-implemented"},
		{"<message from='" A "' to='" ENV_DOMAIN "'><body>x</body></message>",
		 "service-unavailable"},
		{"<iq from='" A "' to='" R1 "' type='get'><ping xmlns='urn:xmpp:ping'/></iq>",
		 "bad-request"},
		{"<iq from='" A "' to='" R1 "' id='i1'><ping xmlns='urn:xmpp:ping'/></iq>",
		 "bad-request"},
		{"<iq from='" A "' to='" R1 "' type='get' id='i2'/>", "bad-request"},
		{"<iq from='" A "' to='" R1 "' type='get' id='i3'><ping xmlns='urn:xmpp:ping'/>"
		 "<ping xmlns='urn:xmpp:ping'/></iq>", "bad-request"},
		{"<iq from='" A "' to='" R1 "' type='set' id='i4'><query xmlns='http://jabber."
		 "org/protocol/muc#admin'><item nick='x' role='none'/></query></iq>",
		 "forbidden"},   /* alice is no moderator */
		{"<iq from='" A "' to='" R1 "' type='get' id='i5'><vCard xmlns='vcard-temp'/></iq>",
		 "service-unavailable"},
		{"<iq from='" A "' to='" R1 "' type='result' id='i6'/>", NULL},
		{"<foo from='" A "' to='" R1 "'/>", "service-unavailable"},
		{"<message to='" R1 "' type='groupchat'><body>x</body></message>", NULL},
		{"<presence from='" A "' to='" R1 "/alice' type='subscribe'/>", NULL},
	};
	for (size_t k = 0; k < G_N_ELEMENTS(cases); k++) {
		env_clear();
		guint posted = fake.posted->len;
		TT_ASSERT_MSG(env_in("%s", cases[k].xml), "case %zu parses", k);
		if (cases[k].cond) {
			TT_ASSERT_MSG(env_count() == 1, "case %zu: %u replies", k, env_count());
			TT_ASSERT_STR_EQ(env_error(env_sent(0)), cases[k].cond);
		} else if (k != 3) {
			TT_ASSERT_MSG(env_count() == 0, "case %zu: %u replies", k, env_count());
		}
		TT_ASSERT_INT_EQ(fake.posted->len, posted);
	}
	TT_ASSERT_INT_EQ(fake_alive_count("r1"), 2);   /* alice, and x from case 3 */
	TT_ASSERT(fake_find("r1", "alice"));
	env_down();
}

static unsigned counted;
static void count_send(struct xg_gw *gw, xmpp_stanza_t *st)
{
	(void)gw;
	(void)st;
	counted++;
}

/* 500 XMPP users join one room: each join costs the XEP-0045 fan-out (the others'
 * presence to the newcomer, the newcomer's to the others, its own and the subject) and
 * nothing more; the time is printed for docs/benchmarks.md, never asserted. */
TT_TEST(muc_500_joins_fanout_only)
{
	env_up(NULL);
	env.gw.send = count_send;
	const unsigned n = 500;
	gint64 t0 = g_get_monotonic_time();
	for (unsigned k = 0; k < n; k++) {
		char jid[64], nick[32];
		g_snprintf(jid, sizeof jid, "u%u@example.org/r", k);
		g_snprintf(nick, sizeof nick, "user%u", k);
		env_join("big", nick, jid, NULL);
	}
	gint64 t1 = g_get_monotonic_time();
	TT_ASSERT_INT_EQ(counted, n * (n - 1) + 2 * n);
	TT_ASSERT_INT_EQ(fake_alive_count("big"), n);
	counted = 0;
	env_in("<message from='u7@example.org/r' to='big@" ENV_DOMAIN "' type='groupchat' "
	       "id='x'><body>hi all</body></message>");
	TT_ASSERT_INT_EQ(counted, n);   /* one line: one stanza per occupant */
	printf("  %u joins: %.1f ms, %u stanzas for the last join\n", n,
	       (double)(t1 - t0) / 1000.0, 2 * (n - 1) + 2);
	env_down();
}

/* An XMPP occupant raises its hand with our presence element; a plain presence update
 * gets its own presence back and changes nothing. */
TT_TEST(muc_hand_from_xmpp)
{
	env_up(NULL);
	env_join("r1", "alice", A, NULL);
	env_join("r1", "carol", C, NULL);
	env_clear();
	env_in("<presence from='" A "' to='" R1 "/alice'><show>away</show></presence>");
	TT_ASSERT_INT_EQ(env_count(), 1);
	assert_codes(env_sent(0), "110");
	TT_ASSERT_STR_EQ(xmpp_stanza_get_to(env_sent(0)), A);
	env_clear();
	env_in("<presence from='" A "' to='" R1 "/alice'><occupant xmlns='urn:tutti:occupant:0' "
	       "hand='true'/></presence>");
	TT_ASSERT(fake_find("r1", "alice")->state & TT_PS_HAND);
	guint i = 0;
	xmpp_stanza_t *seen = env_find(&i, "presence", "", C, R1 "/alice");
	TT_ASSERT(seen);
	TT_ASSERT_STR_EQ(tutti_attr(seen, "hand"), "true");
	char *status = env_child_text(seen, "status");
	TT_ASSERT_STR_EQ(status, "hand raised");
	g_free(status);
	i = 0;
	assert_codes(env_find(&i, "presence", "", A, R1 "/alice"), "110");
	env_in("<presence from='" A "' to='" R1 "/alice'><occupant xmlns='urn:tutti:occupant:0' "
	       "hand='false'/></presence>");
	TT_ASSERT(!(fake_find("r1", "alice")->state & TT_PS_HAND));
	env_down();
}

/* An occupant who calls the room (audio_add) is "in the call" for everyone at once. */
TT_TEST(muc_in_the_call)
{
	env_up(NULL);
	env_join("r1", "alice", A, NULL);
	env_join("r1", "carol", C, NULL);
	env_clear();
	struct fake_p *a = fake_find("r1", "alice");
	fake_set_caps(a, TT_CAP_TEXT | TT_CAP_AUDIO);
	guint i = 0;
	xmpp_stanza_t *seen = env_find(&i, "presence", "", C, R1 "/alice");
	TT_ASSERT(seen);
	TT_ASSERT_STR_EQ(tutti_attr(seen, "audio"), "true");
	char *status = env_child_text(seen, "status");
	TT_ASSERT_STR_EQ(status, "xmpp, in the call");
	g_free(status);
	i = 0;
	TT_ASSERT(env_find(&i, "presence", "", A, R1 "/alice"));
	env_clear();
	fake_set_caps(a, TT_CAP_TEXT);
	i = 0;
	seen = env_find(&i, "presence", "", C, R1 "/alice");
	TT_ASSERT(seen && !xmpp_stanza_get_child_by_name(seen, "status"));
	TT_ASSERT_STR_EQ(tutti_attr(seen, "audio"), "false");
	env_down();
}
