/* test_gateway.c: the whole IRC gateway against a real ngircd, with an in-process fake
 * core standing in for the bridge (fake_core.c) and raw IRC clients as the people on IRC. */
#include "tt_test.h"
#include "fake_core.h"
#include "irc_env.h"

#include <signal.h>
#include <tutti/gateway.h>

#include "gw.h"

extern const struct tt_gateway tt_gateway_irc;

static void gw_start(const char *extra, int port, const char *channels)
{
	fake.parts = g_ptr_array_new();
	fake.posted = g_ptr_array_new_with_free_func(g_free);
	fake.watched = g_ptr_array_new_with_free_func(g_free);
	fake.gw_desc = &tt_gateway_irc;
	/* fast pacing unless the test sets its own */
	bool paced = extra && strstr(extra, "flood_burst");
	char *ini = g_strdup_printf("[irc.test]\nserver = 127.0.0.1\nport = %d\n"
				    "channels = %s\n%s"
				    "reconnect_min = 1\nreconnect_max = 2\n%s",
				    port, channels,
				    paced ? "" : "flood_burst = 50\nflood_interval = 10\n",
				    extra ? extra : "");
	fake_conf_load(ini);
	g_free(ini);
	TT_ASSERT_INT_EQ(tt_gateway_irc.start(fake_gw(), &fake_api, fake_conf(), &fake.gw_state),
			 0);
	TT_ASSERT_INT_EQ(fake.watched->len, 1);
}

static bool gw_is_stopped(void *arg)
{
	return tt_gateway_irc.stopped(fake.gw_state);
}

static void gw_stop(void)
{
	tt_gateway_irc.stop(fake.gw_state);
	TT_ASSERT(pump_until(gw_is_stopped, NULL, 10));
	tt_gateway_irc.free(fake.gw_state);
	fake.gw_state = NULL;
	TT_ASSERT_INT_EQ(fake.watched->len, 0);
}

struct posted_want {
	const char *entry;
	int n;
};

static bool posted_n(void *arg)
{
	struct posted_want *w = arg;
	return fake_posted_count(w->entry) >= w->n;
}

static void wait_posted(const char *entry)
{
	struct posted_want w = {entry, 1};
	TT_ASSERT_MSG(pump_until(posted_n, &w, 10), "not posted: %s", entry);
}

static bool irc_member(void *arg)
{
	return fake_find_irc("room1", arg) != NULL;
}

static bool no_irc_member(void *arg)
{
	return fake_find_irc("room1", arg) == NULL;
}

static bool not_hand(void *arg)
{
	struct fake_p *p = fake_find_irc("room1", arg);
	return p && !(p->state & TT_PS_HAND);
}

/* alice joins #test first, so she is its operator. */
static void alice_setup(struct rawc *alice, int port)
{
	rawc_connect(alice, port, "alice");
	rawc_send(alice, "JOIN #test");
	guint from = 0;
	rawc_wait(alice, &from, 10, "JOIN", "#test", NULL);
}

/* ngircd, alice (operator of #test), the gateway bridging #test to room1, and the bot
 * seen in the channel and alice seen in the room. Returns the index after the bot's JOIN. */
static guint bridged(struct ngircd *srv, struct rawc *alice, const char *extra)
{
	ngircd_start(srv, 0, false);
	alice_setup(alice, srv->port);
	gw_start(extra, srv->port, "#test=room1");
	guint from = 0;
	rawc_wait(alice, &from, 15, ":tutti!", "JOIN", NULL);
	TT_ASSERT(pump_until(irc_member, "alice", 10));  /* the bot has seen its JOIN too */
	return from;
}

static void unbridge(struct ngircd *srv, struct rawc *alice)
{
	gw_stop();
	rawc_free(alice);
	ngircd_free(srv);
}

/* People come and go while the bot's send queue is busy (the server takes a line a second):
 * their join and leave notices wait and are said together, one line per kind, after what
 * was already waiting, so they never crowd out what people say. One notice per event made a
 * busy room's chat fall minutes behind (the soak: 269 calls in ten minutes). */
TT_TEST(irc_gw_notices_gathered_while_the_queue_is_busy)
{
	struct ngircd srv = {0};
	struct rawc alice = {0};
	/* the default pacing: a burst of 4, then a line a second */
	guint from = bridged(&srv, &alice, "flood_burst = 4\nflood_interval = 1000\n");
	struct fake_p *bob = fake_voice_join("room1", "bob");
	rawc_wait(&alice, &from, 10, "NOTICE #test :bob joined the room (phone)", NULL);
	char t[32];
	for (int i = 0; i < 8; i++) {
		snprintf(t, sizeof t, "busy line %d", i);
		fake_say(bob, t, 0);
	}
	struct fake_p *callers[8];
	for (int i = 0; i < 8; i++) {
		snprintf(t, sizeof t, "caller%d", i);
		callers[i] = fake_voice_join("room1", t);
	}
	for (int i = 0; i < 8; i++)
		fake_voice_leave(callers[i]);
	guint chat = from;
	rawc_wait(&alice, &chat, 30, "<bob@phone> busy line 7", NULL);
	guint at = from;
	const char *joined = rawc_wait(&alice, &at, 30, "NOTICE #test :joined the room: ", NULL);
	char *j = g_strdup(joined);
	const char *left = rawc_wait(&alice, &at, 30, "NOTICE #test :left the room: ", NULL);
	for (int i = 0; i < 8; i++) {
		snprintf(t, sizeof t, "caller%d (phone)", i);
		TT_ASSERT_MSG(strstr(j, t) && strstr(left, t), "%s missing: %s / %s", t, j, left);
	}
	g_free(j);
	pump_for_ms(300);
	TT_ASSERT_INT_EQ(rawc_count(&alice, "caller"), 2);   /* two lines said all sixteen */
	TT_ASSERT_INT_EQ(rawc_count(&alice, "busy line "), 8);
	unbridge(&srv, &alice);
}

TT_TEST(irc_gw_relay_both_ways)
{
	struct ngircd srv = {0};
	struct rawc alice = {0};
	guint from = bridged(&srv, &alice, NULL);

	/* IRC -> room, once; formatting stripped; /me as an action */
	rawc_send(&alice, "PRIVMSG #test :hello from irc");
	rawc_send(&alice, "PRIVMSG #test :\001ACTION waves\001");
	rawc_send(&alice, "PRIVMSG #test :\002bold\002 \0034red\003 text");
	wait_posted("alice|0|hello from irc");
	wait_posted("alice|1|waves");
	wait_posted("alice|0|bold red text");
	pump_for_ms(300);
	TT_ASSERT_INT_EQ(fake_posted_count("alice|0|hello from irc"), 1);

	/* room -> IRC, once, in the relay format; joins announced */
	struct fake_p *bob = fake_voice_join("room1", "bob");
	rawc_wait(&alice, &from, 10, "NOTICE #test :bob joined the room (phone)", NULL);
	fake_say(bob, "hi there", 0);
	rawc_wait(&alice, &from, 10, "PRIVMSG #test :<bob@phone> hi there", NULL);
	fake_say(bob, "line one\nline two", 0);
	rawc_wait(&alice, &from, 10, "PRIVMSG #test :<bob@phone> line one", NULL);
	rawc_wait(&alice, &from, 10, "PRIVMSG #test :<bob@phone> line two", NULL);
	fake_say(bob, "dances", TT_TEXT_ACTION);
	rawc_wait(&alice, &from, 10, "PRIVMSG #test :\001ACTION bob@phone dances\001", NULL);
	pump_for_ms(300);
	TT_ASSERT_INT_EQ(rawc_count(&alice, "<bob@phone> hi there"), 1);
	/* the bridge's own lines never come back into the room */
	TT_ASSERT_INT_EQ(fake_posted_count("tutti|0|<bob@phone> hi there"), 0);
	TT_ASSERT(fake_find_irc("room1", "tutti") == NULL);

	fake_voice_leave(bob);
	rawc_wait(&alice, &from, 10, "NOTICE #test :bob left the room (phone)", NULL);

	/* alice leaves the channel: her participant leaves the room */
	rawc_send(&alice, "PART #test");
	TT_ASSERT(pump_until(no_irc_member, "alice", 10));
	unbridge(&srv, &alice);
}

TT_TEST(irc_gw_utf8_long_line_split)
{
	struct ngircd srv = {0};
	struct rawc alice = {0};
	guint from = bridged(&srv, &alice, NULL);
	struct fake_p *bob = fake_voice_join("room1", "bob");
	GString *s = g_string_new(NULL);
	while (s->len < 2000)
		g_string_append(s, "é€😀ü");
	fake_say(bob, s->str, 0);
	GString *got = g_string_new(NULL);
	int pieces = 0;
	while (got->len < s->len) {
		const char *l = rawc_wait(&alice, &from, 10, "PRIVMSG #test :<bob@phone> ", NULL);
		const char *text = strstr(l, "<bob@phone> ") + strlen("<bob@phone> ");
		TT_ASSERT_MSG(g_utf8_validate(text, -1, NULL), "broken character in piece %d",
			      pieces);
		TT_ASSERT(strlen(l) + 2 <= 512);
		g_string_append(got, text);
		pieces++;
	}
	TT_ASSERT_STR_EQ(got->str, s->str);
	TT_ASSERT(pieces >= 4);
	g_string_free(got, TRUE);
	g_string_free(s, TRUE);
	unbridge(&srv, &alice);
}

static void carol_setup(struct rawc *carol, int port)
{
	rawc_connect(carol, port, "carol");
	rawc_send(carol, "JOIN #test");
	guint from = 0;
	rawc_wait(carol, &from, 10, "JOIN", "#test", NULL);
}

static bool is_moderator(void *arg)
{
	struct fake_p *p = fake_find_irc("room1", arg);
	return p && (p->state & TT_PS_MODERATOR);
}

static bool not_moderator(void *arg)
{
	struct fake_p *p = fake_find_irc("room1", arg);
	return p && !(p->state & TT_PS_MODERATOR);
}

/* Commands go through the core's moderate() with the member as actor; the channel hears
 * what happened from on_meeting; refusals and "nothing to do" go to the person alone. */
TT_TEST(irc_gw_who_mute_kick)
{
	struct ngircd srv = {0};
	ngircd_start(&srv, 0, false);
	struct rawc alice = {0}, carol = {0};
	alice_setup(&alice, srv.port);
	carol_setup(&carol, srv.port);
	gw_start("events = none\n", srv.port, "#test=room1");
	guint from = 0;
	rawc_wait(&alice, &from, 15, ":tutti!", "JOIN", NULL);
	TT_ASSERT(pump_until(irc_member, "carol", 10));
	/* the operator is a moderator, carol is not */
	TT_ASSERT(pump_until(is_moderator, "alice", 10));
	TT_ASSERT(not_moderator("carol"));
	struct fake_p *bob = fake_voice_join("room1", "bob");

	rawc_send(&carol, "PRIVMSG #test :!who");
	const char *l = rawc_wait(&alice, &from, 10, "NOTICE #test :3 in room room1", NULL);
	TT_ASSERT(strstr(l, "bob (phone)") && strstr(l, "alice (irc, moderator)") &&
		  strstr(l, "carol (irc)"));

	guint cf = 0;
	rawc_send(&carol, "PRIVMSG #test :!mute bob");
	rawc_wait(&carol, &cf, 10, "NOTICE carol :sorry, only the room's moderators can mute",
		  "channel operators are moderators here", NULL);
	TT_ASSERT(!(bob->state & TT_PS_MUTED));
	TT_ASSERT(fake.meeting == NULL);

	rawc_send(&alice, "PRIVMSG #test :!mute bob");
	rawc_wait(&carol, &cf, 10, "NOTICE #test :alice muted bob", NULL);
	TT_ASSERT((bob->state & (TT_PS_MUTED | TT_PS_MOD_MUTED)) ==
		  (TT_PS_MUTED | TT_PS_MOD_MUTED));
	guint af = 0;
	rawc_send(&alice, "PRIVMSG #test :!mute bob");
	rawc_wait(&alice, &af, 10, "NOTICE alice :bob is already muted", NULL);
	rawc_send(&alice, "PRIVMSG #test :!who");
	rawc_wait(&carol, &cf, 10, "bob (phone, muted by a moderator)", NULL);
	rawc_send(&alice, "PRIVMSG #test :!mute nobody");
	rawc_wait(&alice, &af, 10, "NOTICE alice :nobody called nobody in room room1", NULL);
	rawc_send(&alice, "PRIVMSG #test :!mute");
	rawc_wait(&alice, &af, 10, "NOTICE alice :!mute NAME", NULL);

	/* +o makes carol a moderator, -o takes it back */
	rawc_send(&alice, "MODE #test +o carol");
	TT_ASSERT(pump_until(is_moderator, "carol", 10));
	rawc_send(&carol, "PRIVMSG #test :!unmute bob");
	rawc_wait(&alice, &af, 10, "NOTICE #test :carol unmuted bob", NULL);
	TT_ASSERT(!(bob->state & TT_PS_MUTED));
	rawc_send(&alice, "MODE #test -o carol");
	TT_ASSERT(pump_until(not_moderator, "carol", 10));

	/* lock, and the room actions' "nothing to do" */
	rawc_send(&alice, "PRIVMSG #test :!lock");
	rawc_wait(&carol, &cf, 10, "NOTICE #test :alice locked the room", NULL);
	TT_ASSERT(fake.locked);
	rawc_send(&alice, "PRIVMSG #test :!lock");
	rawc_wait(&alice, &af, 10, "NOTICE alice :the room is already locked", NULL);
	rawc_send(&alice, "PRIVMSG #test :!who");
	rawc_wait(&carol, &cf, 10, "the room is locked", NULL);
	rawc_send(&alice, "PRIVMSG #test :!unlock");
	rawc_wait(&carol, &cf, 10, "NOTICE #test :alice unlocked the room", NULL);
	TT_ASSERT(!fake.locked);

	/* !record: this fake core, like a build without recording, says -ENOTSUP */
	rawc_send(&alice, "PRIVMSG #test :!record start");
	rawc_wait(&alice, &af, 10, "NOTICE alice :recording is not configured", NULL);
	rawc_send(&alice, "PRIVMSG #test :!record");
	rawc_wait(&alice, &af, 10, "NOTICE alice :!record start or !record stop", NULL);

	/* anyone of the room, IRC members too, may be a target; the channel hears it once */
	rawc_send(&alice, "PRIVMSG #test :!kick bob");
	rawc_wait(&carol, &cf, 10, "NOTICE #test :alice removed bob from the room", NULL);
	TT_ASSERT_INT_EQ(bob->kicked, 1);
	rawc_send(&alice, "PRIVMSG #test :!kick carol");
	rawc_wait(&carol, &cf, 10, "NOTICE #test :alice removed carol from the room", NULL);
	TT_ASSERT(pump_until(no_irc_member, "carol", 10));
	pump_for_ms(300);
	TT_ASSERT_INT_EQ(rawc_count(&carol, "carol no longer reaches the room"), 0);
	guint before = carol.lines->len;
	rawc_send(&carol, "PRIVMSG #test :!hand");
	rawc_wait(&carol, &cf, 10, "NOTICE carol :you no longer reach room room1", NULL);
	TT_ASSERT(carol.lines->len > before);
	/* commands are for the bridge, not relayed into the room */
	TT_ASSERT_INT_EQ(fake_posted_count("alice|0|!kick bob"), 0);
	TT_ASSERT_INT_EQ(fake_posted_count("alice|0|!lock"), 0);
	gw_stop();
	rawc_free(&alice);
	rawc_free(&carol);
	ngircd_free(&srv);
}

/* Hands from IRC and from another network: said in the channel, queued in !who. */
TT_TEST(irc_gw_hands_queue)
{
	struct ngircd srv = {0};
	struct rawc alice = {0}, carol = {0};
	bridged(&srv, &alice, "events = none\n");
	carol_setup(&carol, srv.port);
	TT_ASSERT(pump_until(irc_member, "carol", 10));
	struct fake_p *bob = fake_voice_join("room1", "bob");
	guint af = 0, cf = 0;
	rawc_send(&carol, "PRIVMSG #test :!hand");
	rawc_wait(&alice, &af, 10, "NOTICE #test :carol raised a hand", NULL);
	TT_ASSERT(fake_find_irc("room1", "carol")->state & TT_PS_HAND);
	rawc_send(&carol, "PRIVMSG #test :!hand");
	rawc_wait(&carol, &cf, 10, "NOTICE carol :your hand is already up", NULL);
	fake_set_state(bob, TT_PS_HAND, true);
	rawc_wait(&alice, &af, 10, "NOTICE #test :bob raised a hand (2 hands up", NULL);
	rawc_send(&carol, "PRIVMSG #test :!who");
	const char *l = rawc_wait(&alice, &af, 10, "hands up in order: 1. carol, 2. bob", NULL);
	TT_ASSERT(strstr(l, "carol (irc, hand up)"));
	/* a non-moderator cannot lower someone else's hand, but may lower their own */
	rawc_send(&carol, "PRIVMSG #test :!lower bob");
	rawc_wait(&carol, &cf, 10, "NOTICE carol :sorry, only the room's moderators can lower",
		  NULL);
	rawc_send(&carol, "PRIVMSG #test :!hand down");
	TT_ASSERT(pump_until(not_hand, "carol", 10));
	rawc_send(&alice, "PRIVMSG #test :!lower bob");
	rawc_wait(&carol, &cf, 10, "NOTICE #test :alice lowered bob's hand", NULL);
	TT_ASSERT(!(bob->state & TT_PS_HAND));

	/* !end: said once; the phone is hung up; the channel's members, still in the bridged
	 * channel, are in the room again afterwards (new participants), alice a moderator */
	struct fake_p *carol_before = fake_find_irc("room1", "carol");
	rawc_send(&carol, "PRIVMSG #test :!end");
	rawc_wait(&carol, &cf, 10, "NOTICE carol :sorry, only the room's moderators can end",
		  NULL);
	rawc_send(&alice, "PRIVMSG #test :!end");
	rawc_wait(&carol, &cf, 10, "NOTICE #test :alice ended the meeting", NULL);
	TT_ASSERT(!bob->alive);
	TT_ASSERT(pump_until(is_moderator, "alice", 10));
	TT_ASSERT(pump_until(irc_member, "carol", 10));
	TT_ASSERT(fake_find_irc("room1", "carol") != carol_before);
	pump_for_ms(300);
	TT_ASSERT_INT_EQ(rawc_count(&carol, "no longer reaches the room"), 0);
	rawc_send(&carol, "PRIVMSG #test :still here");
	wait_posted("carol|0|still here");
	rawc_free(&carol);
	unbridge(&srv, &alice);
}

/* A recording started elsewhere: the channel hears it once; who joins while it runs is
 * told alone; a stop is said too. */
TT_TEST(irc_gw_recording_told)
{
	struct ngircd srv = {0};
	struct rawc alice = {0}, carol = {0};
	guint af = bridged(&srv, &alice, "events = none\n");
	struct fake_p *bob = fake_voice_join("room1", "bob");
	bob->state |= TT_PS_MODERATOR;
	fake_meeting(TT_MOD_RECORD_START, "room1", bob, NULL, NULL);
	rawc_wait(&alice, &af, 10, "NOTICE #test :bob started recording: this meeting is being "
		  "recorded from now on", NULL);
	carol_setup(&carol, srv.port);
	guint cf = 0;
	rawc_wait(&carol, &cf, 10, "NOTICE carol :this meeting (room room1) is being recorded "
		  "since ", "UTC", NULL);
	pump_for_ms(300);
	TT_ASSERT_INT_EQ(rawc_count(&alice, "NOTICE alice :this meeting"), 0);
	fake_meeting(TT_MOD_RECORD_STOP, "room1", NULL, NULL, NULL);
	rawc_wait(&carol, &cf, 10, "NOTICE #test :the bridge stopped the recording", NULL);
	/* an admin's action names no participant */
	fake_meeting(TT_MOD_MUTE_ALL, "room1", NULL, "admin", NULL);
	rawc_wait(&carol, &cf, 10, "NOTICE #test :an administrator muted everyone", NULL);
	rawc_free(&carol);
	unbridge(&srv, &alice);
}

/* operators_moderate = false: +o is no right in the room. */
TT_TEST(irc_gw_operators_not_moderators)
{
	struct ngircd srv = {0};
	struct rawc alice = {0};
	guint af = bridged(&srv, &alice, "operators_moderate = false\n");
	struct fake_p *bob = fake_voice_join("room1", "bob");
	TT_ASSERT(not_moderator("alice"));
	rawc_send(&alice, "PRIVMSG #test :!mute bob");
	const char *l = rawc_wait(&alice, &af, 10, "NOTICE alice :sorry, only the room's "
				  "moderators can mute someone", NULL);
	TT_ASSERT(!strstr(l, "channel operators"));
	TT_ASSERT(!(bob->state & TT_PS_MUTED));
	unbridge(&srv, &alice);
}

struct doors_got {
	GPtrArray *all;
};

static void door_cb(const struct tt_door *d, void *arg)
{
	g_ptr_array_add(arg, g_strdup_printf("%s|%s|%s|%s", d->network, d->label, d->uri,
					     d->text));
}

/* doors(): every channel of the room, on its server, '#' encoded; no key shown. */
TT_TEST(irc_gw_doors)
{
	fake.parts = g_ptr_array_new();
	fake.posted = g_ptr_array_new_with_free_func(g_free);
	fake.watched = g_ptr_array_new_with_free_func(g_free);
	fake.gw_desc = &tt_gateway_irc;
	/* nothing listens there: the bots only retry, and nothing leaves 127.0.0.1 */
	fake_conf_load("[irc.libera]\nserver = localhost\nport = 6697\ntls = true\n"
		       "channels = #standup=standup:sekrit, #ops=ops\n"
		       "[irc.oftc]\nserver = 127.0.0.1\nport = 1\n"
		       "channels = &standup=standup\n");
	TT_ASSERT_INT_EQ(tt_gateway_irc.start(fake_gw(), &fake_api, fake_conf(), &fake.gw_state),
			 0);
	GPtrArray *got = g_ptr_array_new_with_free_func(g_free);
	tt_gateway_irc.doors(fake.gw_state, "standup", door_cb, got);
	TT_ASSERT_INT_EQ(got->len, 2);
	TT_ASSERT_STR_EQ(got->pdata[0], "irc|IRC (libera)|ircs://localhost/%23standup|"
			 "join #standup on localhost, port 6697 (TLS), a channel key is needed");
	TT_ASSERT_STR_EQ(got->pdata[1], "irc|IRC (oftc)|irc://127.0.0.1:1/%26standup|"
			 "join &standup on 127.0.0.1, port 1");
	TT_ASSERT(!strstr(got->pdata[0], "sekrit"));
	g_ptr_array_set_size(got, 0);
	tt_gateway_irc.doors(fake.gw_state, "nosuch", door_cb, got);
	TT_ASSERT_INT_EQ(got->len, 0);
	g_ptr_array_free(got, TRUE);
	gw_stop();
}

TT_TEST(irc_gw_puppets)
{
	struct ngircd srv = {0};
	struct rawc alice = {0};
	guint from = bridged(&srv, &alice, "mode = puppet\npuppet_limit = 2\n");
	struct fake_p *ann = fake_voice_join("room1", "Ann Lee");
	struct fake_p *bo = fake_voice_join("room1", "Bo");
	guint f1 = from, f2 = from;
	rawc_wait(&alice, &f1, 15, ":Ann_Lee!", "JOIN", NULL);
	rawc_wait(&alice, &f2, 15, ":Bo!", "JOIN", NULL);
	rawc_send(&alice, "NAMES #test");
	const char *names = rawc_wait(&alice, &from, 10, " 353 ", NULL);
	TT_ASSERT_MSG(strstr(names, "Ann_Lee") && strstr(names, "Bo"), "NAMES: %s", names);
	TT_ASSERT(fake_find_irc("room1", "Ann_Lee") == NULL);  /* puppets are not members */

	fake_say(ann, "hello as myself", 0);
	rawc_wait(&alice, &from, 10, ":Ann_Lee!", "PRIVMSG #test :hello as myself", NULL);
	fake_say(ann, "waves", TT_TEXT_ACTION);
	rawc_wait(&alice, &from, 10, ":Ann_Lee!", "\001ACTION waves\001", NULL);

	/* beyond the limit: relayed by the bot */
	struct fake_p *cy = fake_voice_join("room1", "Cy");
	rawc_wait(&alice, &from, 10, "NOTICE #test :Cy joined the room (phone)", NULL);
	fake_say(cy, "via bot", 0);
	rawc_wait(&alice, &from, 10, ":tutti!", "<Cy@phone> via bot", NULL);

	fake_voice_leave(bo);
	rawc_wait(&alice, &from, 10, ":Bo!", "QUIT", NULL);
	rawc_send(&alice, "NAMES #test");
	names = rawc_wait(&alice, &from, 10, " 353 ", NULL);
	TT_ASSERT_MSG(strstr(names, "Ann_Lee") && !strstr(names, " Bo"), "NAMES: %s", names);
	(void)cy;
	unbridge(&srv, &alice);
}

TT_TEST(irc_gw_reconnects_and_rejoins)
{
	struct ngircd srv = {0};
	struct rawc alice = {0};
	guint from = bridged(&srv, &alice, NULL);

	ngircd_stop(&srv);
	rawc_close(&alice);
	TT_ASSERT(pump_until(no_irc_member, "alice", 10));  /* members leave with the link */
	/* Room text meanwhile is not queued for later, but the room hears so, once. */
	struct fake_p *bob = fake_voice_join("room1", "bob");
	fake_say(bob, "anyone there?", 0);
	fake_say(bob, "hello?", 0);
	const char *away = "-|notice|IRC #test (test) is not connected right now: text does "
			   "not reach it until the bridge is back";
	TT_ASSERT_INT_EQ(fake_posted_count(away), 1);
	ngircd_start(&srv, srv.port, false);
	alice_setup(&alice, srv.port);
	/* backoff 1..2 s, jittered: generous bound. The bot may be back before or after
	 * alice, so ask NAMES rather than wait for its JOIN. */
	bool back = false;
	for (int i = 0; i < 30 && !back; i++) {
		from = alice.lines->len;
		rawc_send(&alice, "NAMES #test");
		rawc_wait(&alice, &from, 10, " 366 ", NULL);
		for (guint j = alice.lines->len; j-- > 0 && !back;) {
			const char *l = alice.lines->pdata[j];
			back = strstr(l, " 353 ") && strstr(l, "tutti");
			if (strstr(l, " 366 ") && j + 1 < alice.lines->len)
				break;
		}
		if (!back)
			pump_for_ms(1000);
	}
	TT_ASSERT_MSG(back, "the bridge did not rejoin #test within 30 s");
	TT_ASSERT(pump_until(irc_member, "alice", 10));
	rawc_send(&alice, "PRIVMSG #test :back again");
	wait_posted("alice|0|back again");
	fake_say(bob, "there you are", 0);
	rawc_wait(&alice, &from, 10, "there you are", NULL);
	TT_ASSERT_INT_EQ(fake_posted_count(away), 1);
	fake_voice_leave(bob);
	unbridge(&srv, &alice);
}

TT_TEST(irc_gw_tls_verified_with_ca)
{
	struct ngircd srv = {0};
	ngircd_start(&srv, 0, true);
	struct rawc alice = {0};
	alice_setup(&alice, srv.port);   /* plain port; the bridge uses the TLS one */
	char *extra = g_strdup_printf("tls = true\ntls_verify = true\ntls_ca = %s/ca.pem\n",
				      srv.dir);
	gw_start(extra, srv.tls_port, "#test=room1");
	g_free(extra);
	guint from = 0;
	rawc_wait(&alice, &from, 15, ":tutti!", "JOIN", NULL);
	rawc_send(&alice, "WHOIS tutti");
	/* 671 on most servers, 275 "is connected via SSL (secure link)" on ngircd */
	rawc_wait(&alice, &from, 10, "tutti", "secure", NULL);
	rawc_send(&alice, "PRIVMSG #test :over tls");
	wait_posted("alice|0|over tls");
	unbridge(&srv, &alice);
}

TT_TEST(irc_gw_talking_notices_rate_limited)
{
	struct ngircd srv = {0};
	struct rawc alice = {0};
	guint from = bridged(&srv, &alice,
			     "talking = true\ntalking_interval = 3600\nevents = none\n");
	struct fake_p *bob = fake_voice_join("room1", "bob");
	fake_set_state(bob, TT_PS_TALKING, true);
	rawc_wait(&alice, &from, 10, "NOTICE #test :bob is talking", NULL);
	fake_set_state(bob, TT_PS_TALKING, false);
	fake_set_state(bob, TT_PS_TALKING, true);   /* again within the interval: quiet */
	fake_set_state(bob, TT_PS_MUTED, true);     /* other state changes: quiet */
	fake_say(bob, "marker", 0);
	rawc_wait(&alice, &from, 10, "<bob@phone> marker", NULL);
	TT_ASSERT_INT_EQ(rawc_count(&alice, "is talking"), 1);
	unbridge(&srv, &alice);
}

TT_TEST(irc_gw_hang_up_irc_member)
{
	struct ngircd srv = {0};
	struct rawc alice = {0};
	guint from = bridged(&srv, &alice, NULL);
	struct fake_p *a = fake_find_irc("room1", "alice");
	fake_api.participant_kick((struct tt_participant *)a, "moderator said so");
	TT_ASSERT(!a->alive);
	rawc_wait(&alice, &from, 10, "alice no longer reaches the room (moderator said so)", NULL);
	rawc_send(&alice, "PRIVMSG #test :still here?");
	rawc_send(&alice, "PRIVMSG #test :!who");
	rawc_wait(&alice, &from, 10, "NOTICE #test :0 in room room1", NULL);
	TT_ASSERT_INT_EQ(fake_posted_count("alice|0|still here?"), 0);
	unbridge(&srv, &alice);
}

TT_TEST(irc_gw_two_networks_bridge_each_other)
{
	/* two [irc.*] networks (here: one server, two channels, two bots whose nicks
	 * collide) in one room: a line in one channel reaches the room and the other once */
	struct ngircd srv = {0};
	ngircd_start(&srv, 0, false);
	struct rawc alice = {0}, bob = {0};
	alice_setup(&alice, srv.port);
	rawc_connect(&bob, srv.port, "bob");
	rawc_send(&bob, "JOIN #other");
	fake.parts = g_ptr_array_new();
	fake.posted = g_ptr_array_new_with_free_func(g_free);
	fake.watched = g_ptr_array_new_with_free_func(g_free);
	fake.gw_desc = &tt_gateway_irc;
	char *ini = g_strdup_printf(
		"[irc.one]\nserver = 127.0.0.1\nport = %d\nchannels = #test=room1\n"
		"[irc.two]\nserver = 127.0.0.1\nport = %d\nchannels = #other=room1\n",
		srv.port, srv.port);
	fake_conf_load(ini);
	g_free(ini);
	TT_ASSERT_INT_EQ(tt_gateway_irc.start(fake_gw(), &fake_api, fake_conf(), &fake.gw_state),
			 0);
	guint fa = 0, fb = 0;
	rawc_wait(&alice, &fa, 15, "JOIN", "#test", ":tutti", NULL);
	rawc_wait(&bob, &fb, 15, "JOIN", "#other", ":tutti", NULL);
	TT_ASSERT(pump_until(irc_member, "alice", 10));
	TT_ASSERT(pump_until(irc_member, "bob", 10));
	rawc_send(&alice, "PRIVMSG #test :hello other network");
	rawc_wait(&bob, &fb, 10, "PRIVMSG #other :<alice@irc> hello other network", NULL);
	wait_posted("alice|0|hello other network");
	rawc_send(&bob, "PRIVMSG #other :\001ACTION nods\001");
	rawc_wait(&alice, &fa, 10, "PRIVMSG #test :\001ACTION bob@irc nods\001", NULL);
	pump_for_ms(500);
	TT_ASSERT_INT_EQ(rawc_count(&bob, "hello other network"), 1);
	TT_ASSERT_INT_EQ(rawc_count(&alice, "hello other network"), 0);  /* not echoed back */
	TT_ASSERT_INT_EQ(fake_posted_count("alice|0|hello other network"), 1);
	gw_stop();
	rawc_free(&alice);
	rawc_free(&bob);
	ngircd_free(&srv);
}

/* No server: lines fed straight into the bot's connection (tt__irc_conn_feed). */
static struct tt__irc_net *fed_gateway(const char *extra)
{
	gw_start(extra, 1, "#test=room1");   /* port 1: the real connect fails, unused */
	struct tt__irc_gw *g = fake.gw_state;
	return g->nets->pdata[0];
}

static void feed(struct tt__irc_net *net, const char *line)
{
	tt__irc_conn_feed(net->bot, line, strlen(line));
}

TT_TEST(irc_gw_tagged_lines_posted_once)
{
	/* server-time is informational: an old stamp (clock skew looks the same as a replay)
	 * does not drop a line, and tags never leak into the text */
	struct tt__irc_net *net = fed_gateway(NULL);
	feed(net, ":tutti!u@h JOIN #test");
	feed(net, ":srv 353 tutti = #test :@alice bob");
	TT_ASSERT(fake_find_irc("room1", "alice") && fake_find_irc("room1", "bob"));
	feed(net, "@time=2001-02-03T04:05:06.000Z;+draft/reply=x\\sy :alice!a@h PRIVMSG #test :hi");
	feed(net, "@time=not-a-time :bob!b@h PRIVMSG #test :\001ACTION waves\001");
	feed(net, ":tutti!u@h PRIVMSG #test :an echo of our own line");
	feed(net, ":carol!c@h PRIVMSG #test :not a member (-n channel)");
	TT_ASSERT_INT_EQ(fake_posted_count("alice|0|hi"), 1);
	TT_ASSERT_INT_EQ(fake_posted_count("bob|1|waves"), 1);
	TT_ASSERT_INT_EQ(fake.posted->len, 2);
	gw_stop();
}

TT_TEST(irc_gw_membership_from_server_lines)
{
	struct tt__irc_net *net = fed_gateway(NULL);
	feed(net, ":srv 005 tutti PREFIX=(qov)~@+ CHANMODES=b,k,l,imnst :are supported");
	feed(net, ":tutti!u@h JOIN #test");
	feed(net, ":srv 353 tutti = #test :~@owner +voiced plain");
	feed(net, ":owner!o@h MODE #test +o-v+b+l plain voiced *!*@spam 5");
	struct fake_p *plain = fake_find_irc("room1", "plain");
	TT_ASSERT(plain != NULL);
	struct tt__irc_chan *ch = net->chans->pdata[0];
	struct tt__irc_member *m = plain->gw_data;
	TT_ASSERT_STR_EQ(m->prefixes, "@");
	TT_ASSERT(tt__irc_member_is_op(net, m));
	TT_ASSERT(tt__irc_member_is_op(net, fake_find_irc("room1", "owner")->gw_data));
	TT_ASSERT(!tt__irc_member_is_op(net, fake_find_irc("room1", "voiced")->gw_data));
	feed(net, ":plain!p@h NICK renamed");
	TT_ASSERT(!plain->alive);
	TT_ASSERT(fake_find_irc("room1", "renamed") != NULL);
	feed(net, ":owner!o@h KICK #test renamed :bye");
	feed(net, ":voiced!v@h QUIT :gone");
	TT_ASSERT(fake_find_irc("room1", "renamed") == NULL);
	TT_ASSERT(fake_find_irc("room1", "voiced") == NULL);
	TT_ASSERT_INT_EQ(g_hash_table_size(ch->members), 1);
	feed(net, ":owner!o@h KICK #test tutti :out");   /* the bot itself: everyone leaves */
	TT_ASSERT(fake_find_irc("room1", "owner") == NULL);
	TT_ASSERT(!ch->joined);
	gw_stop();
}

TT_TEST(irc_gw_channel_specs)
{
	char *c = NULL, *r = NULL, *k = NULL;
	TT_ASSERT_INT_EQ(tt__irc_chan_spec_parse("#a=room", &c, &r, &k), 0);
	TT_ASSERT_STR_EQ(c, "#a");
	TT_ASSERT_STR_EQ(r, "room");
	TT_ASSERT(k == NULL);
	g_free(c);
	g_free(r);
	TT_ASSERT_INT_EQ(tt__irc_chan_spec_parse(" &b = standup:s3cret ", &c, &r, &k), 0);
	TT_ASSERT_STR_EQ(c, "&b");
	TT_ASSERT_STR_EQ(r, "standup");
	TT_ASSERT_STR_EQ(k, "s3cret");
	g_free(c);
	g_free(r);
	g_free(k);
	const char *bad[] = {"#a", "=room", "#a=", "a=room", "#a b=room", "#a,b=room",
			     "#a=room:bad key", ":x=room"};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		c = r = k = (char *)"untouched";
		TT_ASSERT_MSG(tt__irc_chan_spec_parse(bad[i], &c, &r, &k) == -EINVAL, "%s", bad[i]);
		TT_ASSERT_STR_EQ(c, "untouched");
	}
}
