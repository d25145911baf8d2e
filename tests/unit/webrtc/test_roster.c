/* test_roster.c: the WebRTC gateway's roster coalescing (gateways/webrtc/roster.c): what a
 * burst of events in one loop pass becomes on each browser's socket, that another message
 * sends the pending events first, and that a session which joins later gets none of the
 * earlier ones. The core is faked down to ws_send, which records what would be sent. */
#include <glib.h>
#include <string.h>

#include "tt_test.h"
#include "webrtc_priv.h"

static GPtrArray *sent[2];    /* per fake socket: the JSON texts, in order */
static struct tt_ws *const fake_ws[2] = { (struct tt_ws *)&sent[0], (struct tt_ws *)&sent[1] };

static int fake_send(struct tt_ws *ws, const char *text, size_t len)
{
	g_ptr_array_add(sent[ws == fake_ws[1]], g_strndup(text, len));
	return 0;
}

static const struct tt_core_api fake_core = { .ws_send = fake_send };

static struct wr_session *session(struct wr_gw *gw, int i)
{
	struct wr_session *s = g_new0(struct wr_session, 1);
	s->ref = 1;
	s->gw = gw;
	s->ws = fake_ws[i];
	GPtrArray *in_room = g_hash_table_lookup(gw->by_room, "r");
	if (!in_room) {
		in_room = g_ptr_array_new();
		g_hash_table_insert(gw->by_room, g_strdup("r"), in_room);
	}
	g_ptr_array_add(in_room, s);
	return s;
}

static void event(struct wr_gw *gw, enum tt_roster_type type, const char *id, unsigned state,
		  unsigned changed)
{
	struct tt_roster_event ev = {
		.type = type, .room = "r",
		.who = { .id = id, .name = id, .network = "test", .caps = TT_CAP_AUDIO,
			 .state = state },
		.changed = changed,
	};
	wr_roster_event(gw, &ev);
}

/* "event:id[:talking_changed]" for each message sent on socket i, joined by spaces */
static char *summary(int i)
{
	GString *out = g_string_new(NULL);
	for (guint k = 0; k < sent[i]->len; k++) {
		json_t *m = json_loads(g_ptr_array_index(sent[i], k), 0, NULL);
		const char *type = json_string_value(json_object_get(m, "type"));
		if (out->len)
			g_string_append_c(out, ' ');
		if (strcmp(type, "roster")) {
			g_string_append(out, type);
		} else {
			g_string_append_printf(out, "%s:%s",
				json_string_value(json_object_get(m, "event")),
				json_string_value(json_object_get(json_object_get(m, "who"), "id")));
			json_t *tc = json_object_get(m, "talking_changed");
			if (tc)
				g_string_append(out, json_is_true(tc) ? ":tc" : ":-");
		}
		json_decref(m);
	}
	g_ptr_array_set_size(sent[i], 0);
	return g_string_free(out, FALSE);
}

static struct wr_gw *gw_new(void)
{
	struct wr_gw *gw = g_new0(struct wr_gw, 1);
	gw->core = &fake_core;
	gw->by_room = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					    (GDestroyNotify)g_ptr_array_unref);
	gw->roster_dirty = g_ptr_array_new();
	for (int i = 0; i < 2; i++)
		sent[i] = g_ptr_array_new_with_free_func(g_free);
	return gw;
}

static void gw_free(struct wr_gw *gw, struct wr_session **s, int n)
{
	wr_roster_free(gw);
	for (int i = 0; i < n; i++)
		wr_session_unref(s[i]);
	g_hash_table_destroy(gw->by_room);
	g_free(gw);
	for (int i = 0; i < 2; i++)
		g_ptr_array_free(sent[i], TRUE);
}

static void run_pass(void)
{
	while (g_main_context_iteration(NULL, FALSE))
		;
}

TT_TEST(roster_burst_coalesced_per_pass)
{
	struct wr_gw *gw = gw_new();
	struct wr_session *s[1] = { session(gw, 0) };
	/* a churner joins and leaves, someone joins and changes state twice, someone else
	 * starts and stops talking, and someone leaves after a state change: one pass */
	event(gw, TT_ROSTER_JOINED, "churn", 0, 0);
	event(gw, TT_ROSTER_JOINED, "ann", 0, 0);
	event(gw, TT_ROSTER_STATE, "bob", TT_PS_TALKING, TT_PS_TALKING);
	event(gw, TT_ROSTER_LEFT, "churn", 0, 0);
	event(gw, TT_ROSTER_STATE, "ann", TT_PS_MUTED, TT_PS_MUTED);
	event(gw, TT_ROSTER_STATE, "bob", 0, TT_PS_TALKING);
	event(gw, TT_ROSTER_STATE, "cy", TT_PS_HAND, TT_PS_HAND);
	event(gw, TT_ROSTER_LEFT, "cy", 0, 0);
	event(gw, TT_ROSTER_STATE, "dee", TT_PS_TALKING, TT_PS_TALKING);
	event(gw, TT_ROSTER_STATE, "dee", TT_PS_TALKING | TT_PS_MUTED, TT_PS_MUTED);
	char *got = summary(0);
	TT_ASSERT_STR_EQ(got, "");   /* nothing before the pass ends */
	g_free(got);
	run_pass();
	got = summary(0);
	/* first-seen order; ann's join carries her muted state; bob talked and stopped: his
	 * state is sent with talking_changed false; dee's is true (silent before the pass) */
	TT_ASSERT_STR_EQ(got, "joined:ann state:bob:- left:cy state:dee:tc");
	g_free(got);
	json_t *m = NULL;
	event(gw, TT_ROSTER_JOINED, "eve", TT_PS_MUTED, 0);
	run_pass();
	TT_ASSERT_INT_EQ(sent[0]->len, 1);
	m = json_loads(g_ptr_array_index(sent[0], 0), 0, NULL);
	TT_ASSERT(json_is_true(json_object_get(json_object_get(m, "who"), "muted")));
	json_decref(m);
	gw_free(gw, s, 1);
}

TT_TEST(roster_flushed_before_other_messages)
{
	struct wr_gw *gw = gw_new();
	struct wr_session *s[2] = { session(gw, 0), NULL };
	event(gw, TT_ROSTER_JOINED, "ann", 0, 0);
	/* ann's chat line, sent in the same pass, must not overtake her join */
	wr_session_send(s[0], json_pack("{s:s}", "type", "chat"));
	char *got = summary(0);
	TT_ASSERT_STR_EQ(got, "joined:ann chat");
	g_free(got);
	/* a session that joins now gets nothing from before it joined */
	event(gw, TT_ROSTER_STATE, "ann", TT_PS_MUTED, TT_PS_MUTED);
	s[1] = session(gw, 1);
	event(gw, TT_ROSTER_STATE, "ann", 0, TT_PS_MUTED);
	/* a closed session's pending events are dropped, and nothing breaks at the flush */
	event(gw, TT_ROSTER_JOINED, "bob", 0, 0);
	s[0]->ws = NULL;
	wr_roster_drop(s[0]);
	run_pass();
	got = summary(0);
	TT_ASSERT_STR_EQ(got, "");
	g_free(got);
	got = summary(1);
	TT_ASSERT_STR_EQ(got, "state:ann:- joined:bob");
	g_free(got);
	gw_free(gw, s, 2);
}
