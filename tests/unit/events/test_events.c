/* test_events.c: what bridge/events/ computes without a socket: the JSON of each kind of
 * event (docs/meetings.md's schema), ISO times, the history ring and its gaps, webhook
 * signatures (RFC 4231's HMAC-SHA256 vector) and URLs, and numbering in a real core. */
#include "tt_test.h"

#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <jansson.h>
#include <string.h>
#include <unistd.h>
#include <tutti/gateway.h>

#include "core_fixture.h"
#include "events/events.h"
#include "events/events_priv.h"

static const struct tt_roster_entry alice = {
	.id = "p1", .name = "alice", .network = "phone", .gateway = "sip",
	.caps = TT_CAP_AUDIO, .state = TT_PS_MUTED | TT_PS_MOD_MUTED,
};

static char *dump(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return s;
}

static json_t *roster(enum tt_roster_type type, unsigned state, unsigned changed, int reason)
{
	struct tt_roster_event ev = { .type = type, .room = "standup", .who = alice,
				      .changed = changed, .reason = reason };
	ev.who.state = state;
	ev.who.hand_seq = state & TT_PS_HAND ? 7 : 0;
	return tt__ev_roster_json(&ev);
}

TT_TEST(events_roster_json)
{
	json_t *o = roster(TT_ROSTER_JOINED, alice.state, 0, 0);
	TT_ASSERT_STR_EQ(json_string_value(json_object_get(o, "type")), "joined");
	TT_ASSERT_STR_EQ(json_string_value(json_object_get(o, "room")), "standup");
	json_t *p = json_object_get(o, "participant");
	TT_ASSERT_STR_EQ(json_string_value(json_object_get(p, "name")), "alice");
	TT_ASSERT(json_is_true(json_object_get(p, "muted")));
	TT_ASSERT(json_is_true(json_object_get(p, "muted_by_moderator")));
	TT_ASSERT(json_is_false(json_object_get(p, "hand")));
	TT_ASSERT(!json_object_get(p, "hand_seq"));
	char *s = dump(json_incref(json_object_get(p, "caps")));
	TT_ASSERT_STR_EQ(s, "[\"audio\"]");
	free(s);
	json_decref(o);

	o = roster(TT_ROSTER_LEFT, 0, 0, -ETIMEDOUT);
	TT_ASSERT_STR_EQ(json_string_value(json_object_get(o, "type")), "left");
	TT_ASSERT(json_is_string(json_object_get(o, "reason")));
	json_decref(o);
	o = roster(TT_ROSTER_LEFT, 0, 0, 0);
	TT_ASSERT(json_is_null(json_object_get(o, "reason")));
	json_decref(o);

	/* talking and hands have types of their own; other changes are "state" */
	o = roster(TT_ROSTER_STATE, TT_PS_TALKING, TT_PS_TALKING, 0);
	TT_ASSERT_STR_EQ(json_string_value(json_object_get(o, "type")), "talking");
	TT_ASSERT(json_is_true(json_object_get(o, "talking")));
	json_decref(o);
	o = roster(TT_ROSTER_STATE, TT_PS_HAND, TT_PS_HAND, 0);
	TT_ASSERT_STR_EQ(json_string_value(json_object_get(o, "type")), "hand");
	TT_ASSERT(json_is_true(json_object_get(o, "raised")));
	TT_ASSERT_INT_EQ(json_integer_value(json_object_get(json_object_get(o, "participant"),
							    "hand_seq")), 7);
	json_decref(o);
	o = roster(TT_ROSTER_STATE, TT_PS_MUTED | TT_PS_MOD_MUTED,
		   TT_PS_MUTED | TT_PS_MOD_MUTED, 0);
	TT_ASSERT_STR_EQ(json_string_value(json_object_get(o, "type")), "state");
	s = dump(json_incref(json_object_get(o, "changed")));
	TT_ASSERT_STR_EQ(s, "[\"muted\",\"muted_by_moderator\"]");
	free(s);
	json_decref(o);

	struct tt_roster_event end = { .type = TT_ROSTER_ROOM_ENDED, .room = "standup" };
	s = dump(tt__ev_roster_json(&end));
	TT_ASSERT_STR_EQ(s, "{\"room\":\"standup\",\"type\":\"room_ended\"}");
	free(s);
}

TT_TEST(events_meeting_json)
{
	struct tt_meeting_event ev = { .room = "standup", .action = TT_MOD_KICK, .by = alice,
				       .target = alice, .reason = "enough" };
	ev.target.name = "bob";
	json_t *o = tt__ev_meeting_json(&ev);
	TT_ASSERT_STR_EQ(json_string_value(json_object_get(o, "type")), "moderation");
	TT_ASSERT_STR_EQ(json_string_value(json_object_get(o, "action")), "kick");
	TT_ASSERT_STR_EQ(json_string_value(json_object_get(json_object_get(o, "by"), "name")),
			 "alice");
	TT_ASSERT_STR_EQ(json_string_value(json_object_get(json_object_get(o, "target"),
							   "name")), "bob");
	TT_ASSERT_STR_EQ(json_string_value(json_object_get(o, "reason")), "enough");
	json_decref(o);

	/* the admin API, and a room action: no target */
	struct tt_meeting_event all = { .room = "r", .action = TT_MOD_MUTE_ALL, .count = 4 };
	all.by.name = "admin";
	char *s = dump(tt__ev_meeting_json(&all));
	TT_ASSERT_STR_EQ(s, "{\"action\":\"mute_all\",\"by\":{\"id\":null,\"name\":\"admin\"},"
			    "\"count\":4,\"reason\":null,\"room\":\"r\",\"target\":null,"
			    "\"type\":\"moderation\"}");
	free(s);

	/* the bridge itself stopped a recording: by null */
	struct tt_meeting_event rec = { .room = "r", .action = TT_MOD_RECORD_STOP,
					.recording_id = "r-1", .reason = "disk full" };
	s = dump(tt__ev_meeting_json(&rec));
	TT_ASSERT_STR_EQ(s, "{\"action\":\"stop\",\"by\":null,\"reason\":\"disk full\","
			    "\"recording_id\":\"r-1\",\"room\":\"r\",\"type\":\"recording\"}");
	free(s);
}

TT_TEST(events_numbered_json_and_time)
{
	char t[32];
	tt__ev_time_iso(0, t);
	TT_ASSERT_STR_EQ(t, "1970-01-01T00:00:00.000Z");
	tt__ev_time_iso(1700000000123456, t);
	TT_ASSERT_STR_EQ(t, "2023-11-14T22:13:20.123Z");
	json_t *o = json_pack("{s:s, s:s}", "room", "r", "type", "joined");
	struct tt_ev *e = tt__ev_make(42, 1700000000123456, o);
	json_decref(o);
	/* seq and time first, so a reader sees the number at once */
	TT_ASSERT_STR_EQ(e->json, "{\"seq\":42,\"time\":\"2023-11-14T22:13:20.123Z\","
				  "\"room\":\"r\",\"type\":\"joined\"}");
	TT_ASSERT_STR_EQ(e->room, "r");
	TT_ASSERT_INT_EQ(e->len, strlen(e->json));
	tt__ev_unref(e);
}

TT_TEST(events_ring_keeps_the_last)
{
	struct tt_ev_ring r;
	tt__ev_ring_init(&r, 3);
	TT_ASSERT_INT_EQ(tt__ev_ring_first(&r), 0);
	TT_ASSERT(!tt__ev_ring_get(&r, 1));
	for (uint64_t seq = 1; seq <= 5; seq++) {
		json_t *o = json_pack("{s:s}", "room", "x");
		struct tt_ev *e = tt__ev_make(seq, 0, o);
		json_decref(o);
		tt__ev_ring_push(&r, e);
		tt__ev_unref(e);
	}
	TT_ASSERT_INT_EQ(tt__ev_ring_first(&r), 3);
	TT_ASSERT(!tt__ev_ring_get(&r, 2));
	TT_ASSERT(!tt__ev_ring_get(&r, 6));
	for (uint64_t seq = 3; seq <= 5; seq++)
		TT_ASSERT_INT_EQ(tt__ev_ring_get(&r, seq)->seq, seq);
	tt__ev_ring_clear(&r);
}

TT_TEST(events_signature_and_url)
{
	/* RFC 4231, test case 2 */
	const char *data = "what do ya want for nothing?";
	char *sig = tt__webhook_signature("Jefe", data, strlen(data));
	TT_ASSERT_STR_EQ(sig, "sha256=5bdcc146bf60754e6a042426089575c7"
			      "5a003f089d2739839dec58b964ec3843");
	g_free(sig);
	TT_ASSERT_INT_EQ(tt__webhook_check_url(NULL), 0);
	TT_ASSERT_INT_EQ(tt__webhook_check_url(""), 0);
	TT_ASSERT_INT_EQ(tt__webhook_check_url("http://127.0.0.1:9000/hook?a=1"), 0);
	TT_ASSERT_INT_EQ(tt__webhook_check_url("http://hooks.example.org"), 0);
	TT_ASSERT_INT_EQ(tt__webhook_check_url("https://hooks.example.org/x"), -EINVAL);
	TT_ASSERT_INT_EQ(tt__webhook_check_url("ftp://x/"), -EINVAL);
	TT_ASSERT_INT_EQ(tt__webhook_check_url("http://"), -EINVAL);
	TT_ASSERT_INT_EQ(tt__webhook_check_url("http://user:pw@x/"), -EINVAL);
	TT_ASSERT_INT_EQ(tt__webhook_check_url("not a url"), -EINVAL);
}

TT_TEST(events_core_numbers_and_keeps_history)
{
	static const struct tt_gateway *const none[] = { NULL };
	struct tt_core *core = tt_test_core_make(none, "[events]\nhistory = 3\n");
	TT_ASSERT(core->events);
	struct tt_roster_event ev = { .type = TT_ROSTER_JOINED, .room = "r", .who = alice };
	for (int i = 0; i < 4; i++)
		tt__events_roster(core, &ev);
	struct tt_meeting_event m = { .room = "r", .action = TT_MOD_LOCK };
	m.by.name = "admin";
	tt__events_meeting(core, &m);
	struct tt_events *evs = core->events;
	TT_ASSERT_INT_EQ(evs->seq, 5);
	TT_ASSERT_INT_EQ(tt__ev_ring_first(&evs->hist), 3);
	TT_ASSERT(g_str_has_prefix(tt__ev_ring_get(&evs->hist, 5)->json,
				   "{\"seq\":5,\"time\":\""));
	TT_ASSERT(strstr(tt__ev_ring_get(&evs->hist, 5)->json, "\"action\":\"lock\""));
	tt__core_shutdown(core);
	tt__core_free(core);
}

TT_TEST(events_bad_webhook_url_refuses_to_start)
{
	char *path = g_strdup("/tmp/tt-unit-XXXXXX");
	int fd = g_mkstemp(path);
	const char *text = "[bridge]\nworkers = 1\nlog_level = error\n[http]\nenabled = false\n"
			   "[events]\nwebhook_url = https://example.org/hook\n";
	TT_ASSERT(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	static const struct tt_gateway *const none[] = { NULL };
	struct tt_core *core = NULL;
	TT_ASSERT_INT_EQ(tt__core_alloc(&core, none, path, NULL), -EINVAL);
	TT_ASSERT(!core);
	g_unlink(path);
	g_free(path);
}
