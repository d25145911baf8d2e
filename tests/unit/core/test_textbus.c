/* test_textbus.c: the text bus's rules by origin (bridge/textbus/textbus.h), one test per
 * rule, with three fake gateways through the same core API as real ones: "web" shows text
 * to each of its participants (on_text_to), "chan" has shared media like IRC channels on
 * two networks (on_medium_text), "watch" only watches (on_text). */
#include "tt_test.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>
#include <tutti/errno.h>
#include <tutti/gateway.h>

#include "core/core_priv.h"
#include "core_fixture.h"
#include "room/room.h"
#include "textbus/textbus.h"

struct fake {
	struct tt_gw_handle *h;
	const struct tt_core_api *api;
};

static struct fake web, chan, watch;
/* Every delivery, in order: "web:TO<FROM:TEXT", "chan:MEDIUM<FROM:TEXT", "watch<FROM:TEXT";
 * a notice is "...<tutti!:TEXT". */
static GPtrArray *seen;
/* Runs inside a delivery, once, before it is recorded (then cleared). */
static void (*during)(const char *where);

static void record(const char *where, const struct tt_text *m)
{
	void (*hook)(const char *) = during;
	during = NULL;
	if (hook)
		hook(where);
	g_ptr_array_add(seen, g_strdup_printf("%s<%s%s:%s", where, m->from.name,
					      m->flags & TT_TEXT_NOTICE ? "!" : "", m->text));
	/* the room's name outlives whatever the hook ended */
	TT_ASSERT_STR_EQ(m->room, "r");
}

static int no_state(void **statep)
{
	*statep = NULL;
	return 0;
}

static int web_start(struct tt_gw_handle *h, const struct tt_core_api *api,
		     const struct tt_conf *c, void **s)
{
	web = (struct fake){ h, api };
	return no_state(s);
}
static int chan_start(struct tt_gw_handle *h, const struct tt_core_api *api,
		      const struct tt_conf *c, void **s)
{
	chan = (struct fake){ h, api };
	return no_state(s);
}
static int watch_start(struct tt_gw_handle *h, const struct tt_core_api *api,
		       const struct tt_conf *c, void **s)
{
	watch = (struct fake){ h, api };
	return no_state(s);
}
static void f_stop(void *s) { (void)s; }
static void f_free(void *s) { (void)s; }
static void f_hang_up(void *s, struct tt_participant *p, const char *why)
{
	(void)s;
	(void)why;
	web.api->participant_leave(web.api->participant_ref(p), 0);
}

static void web_text_to(void *s, struct tt_participant *to, const struct tt_text *m)
{
	char *where = g_strdup_printf("web:%s", web.api->participant_name(to));
	record(where, m);
	g_free(where);
}
static void chan_text(void *s, void *medium, const struct tt_text *m)
{
	char *where = g_strdup_printf("chan:%s", (const char *)medium);
	record(where, m);
	g_free(where);
}
static void watch_text(void *s, const struct tt_text *m)
{
	record("watch", m);
}

static const struct tt_gateway gw_web = {
	.api_version = TT_GATEWAY_API_VERSION, .name = "web", .network = "web",
	.start = web_start, .stop = f_stop, .free = f_free, .hang_up = f_hang_up,
	.on_text_to = web_text_to,
};
static const struct tt_gateway gw_chan = {
	.api_version = TT_GATEWAY_API_VERSION, .name = "chan", .network = "irc",
	.start = chan_start, .stop = f_stop, .free = f_free, .hang_up = f_hang_up,
	.on_medium_text = chan_text,
};
static const struct tt_gateway gw_watch = {
	.api_version = TT_GATEWAY_API_VERSION, .name = "watch", .network = "test",
	.start = watch_start, .stop = f_stop, .free = f_free, .hang_up = f_hang_up,
	.on_text = watch_text,
};

static struct tt_core *make_core(const char *extra)
{
	static const struct tt_gateway *const table[] = { &gw_web, &gw_chan, &gw_watch, NULL };
	struct tt_core *core = tt_test_core_make(table, extra);
	seen = g_ptr_array_new_with_free_func(g_free);
	during = NULL;
	return core;
}

static void free_core(struct tt_core *core)
{
	tt__core_free(core);
	g_ptr_array_free(seen, TRUE);
}

static struct tt_participant *join(struct fake *f, const char *name,
				   struct tt_text_medium *m)
{
	struct tt_join j = { .room = "r", .name = name, .caps = TT_CAP_TEXT, .medium = m };
	struct tt_participant *p = NULL;
	TT_ASSERT_INT_EQ(f->api->participant_join(f->h, &j, &p), 0);
	return p;
}

static struct tt_text_medium *open_medium(const char *data)
{
	struct tt_text_medium *m = NULL;
	TT_ASSERT_INT_EQ(chan.api->text_medium_open(chan.h, "r", (void *)data, &m), 0);
	return m;
}

static void post(struct tt_participant *p, const char *text)
{
	TT_ASSERT_INT_EQ(web.api->text_post(p, text, strlen(text), 0), 0);
}

/* The watcher is present in "r" (it has nobody there). */
static void watch_room(void)
{
	TT_ASSERT_INT_EQ(watch.api->room_watch(watch.h, "r", true), 0);
}

static int by_text(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* What was delivered, sorted, joined by '|', and forgotten. */
static char *took(void)
{
	g_ptr_array_sort(seen, by_text);
	GString *s = g_string_new(NULL);
	for (guint i = 0; i < seen->len; i++)
		g_string_append_printf(s, "%s%s", i ? "|" : "", (char *)seen->pdata[i]);
	g_ptr_array_set_size(seen, 0);
	return g_string_free(s, FALSE);
}

#define TOOK(want)                                   \
	do {                                         \
		char *got_ = took();                 \
		TT_ASSERT_STR_EQ(got_, want);        \
		g_free(got_);                        \
	} while (0)

TT_TEST(textbus_never_back_to_the_origin_medium)
{
	struct tt_core *core = make_core(NULL);
	watch_room();
	struct tt_text_medium *a = open_medium("A");
	struct tt_participant *nick = join(&chan, "nick", a);
	struct tt_participant *ann = join(&web, "ann", NULL);
	post(nick, "hi");
	/* the channel showed it already; everyone else gets it once */
	TOOK("watch<nick:hi|web:ann<nick:hi");
	/* and a member's line never reaches the members one by one either */
	post(ann, "yo");
	TOOK("chan:A<ann:yo|watch<ann:yo");
	web.api->participant_leave(ann, 0);
	chan.api->participant_leave(nick, 0);
	chan.api->text_medium_close(a);
	free_core(core);
}

TT_TEST(textbus_other_media_of_the_same_gateway_get_it)
{
	/* two IRC networks' channels in one room: network B gets network A's line, from the
	 * bus, and A gets B's; neither gets its own */
	struct tt_core *core = make_core(NULL);
	watch_room();
	struct tt_text_medium *a = open_medium("A"), *b = open_medium("B");
	struct tt_participant *on_a = join(&chan, "alice", a);
	struct tt_participant *on_b = join(&chan, "bob", b);
	post(on_a, "hello other network");
	TOOK("chan:B<alice:hello other network|watch<alice:hello other network");
	post(on_b, "hi back");
	TOOK("chan:A<bob:hi back|watch<bob:hi back");
	chan.api->participant_leave(on_a, 0);
	chan.api->participant_leave(on_b, 0);
	chan.api->text_medium_close(a);
	chan.api->text_medium_close(b);
	free_core(core);
}

TT_TEST(textbus_never_to_the_sender)
{
	/* point-to-point: each text participant of the gateway but the sender, once; not one
	 * without TT_CAP_TEXT; the watcher sees the line once, its own too */
	struct tt_core *core = make_core(NULL);
	struct tt_participant *ann = join(&web, "ann", NULL);
	struct tt_participant *bo = join(&web, "bo", NULL);
	struct tt_participant *cy = join(&web, "cy", NULL);
	struct tt_join vj = { .room = "r", .name = "voice", .caps = TT_CAP_AUDIO };
	struct tt_participant *voice = NULL;
	TT_ASSERT_INT_EQ(web.api->participant_join(web.h, &vj, &voice), 0);
	struct tt_participant *w = join(&watch, "w", NULL);
	post(ann, "hi");
	TOOK("watch<ann:hi|web:bo<ann:hi|web:cy<ann:hi");
	TT_ASSERT_INT_EQ(watch.api->text_post(w, "mine", 4, TT_TEXT_ACTION), 0);
	TOOK("watch<w:mine|web:ann<w:mine|web:bo<w:mine|web:cy<w:mine");
	web.api->participant_leave(ann, 0);
	web.api->participant_leave(bo, 0);
	web.api->participant_leave(cy, 0);
	web.api->participant_leave(voice, 0);
	watch.api->participant_leave(w, 0);
	free_core(core);
}

TT_TEST(textbus_notices_follow_the_same_rules)
{
	struct tt_core *core = make_core(NULL);
	watch_room();
	struct tt_text_medium *a = open_medium("A"), *b = open_medium("B");
	struct tt_participant *ann = join(&web, "ann", NULL);
	/* about a medium ("lines for #a could not be delivered"): never back to it */
	TT_ASSERT_INT_EQ(chan.api->text_medium_notice(a, "A is down"), 0);
	TOOK("chan:B<tutti!:A is down|watch<tutti!:A is down|web:ann<tutti!:A is down");
	/* from a gateway about nothing in particular: everywhere */
	TT_ASSERT_INT_EQ(chan.api->text_notice(chan.h, "r", "all"), 0);
	TOOK("chan:A<tutti!:all|chan:B<tutti!:all|watch<tutti!:all|web:ann<tutti!:all");
	/* bad text delivers nothing; a closed medium hears nothing */
	TT_ASSERT_INT_EQ(chan.api->text_medium_notice(a, "bell\a"), -EILSEQ);
	chan.api->text_medium_close(b);
	TT_ASSERT_INT_EQ(chan.api->text_medium_notice(a, "B gone"), 0);
	TOOK("watch<tutti!:B gone|web:ann<tutti!:B gone");
	web.api->participant_leave(ann, 0);
	chan.api->text_medium_close(a);
	free_core(core);
}

TT_TEST(textbus_line_from_another_node)
{
	/* the cluster link (bridge/cluster/bus.c) is one shared medium: every local place gets
	 * the line once, the channel and each web participant included, with the remote
	 * sender's name and network; it is no notice; a room not here is not made for it */
	struct tt_core *core = make_core(NULL);
	watch_room();
	struct tt_text_medium *a = open_medium("A");
	struct tt_participant *ann = join(&web, "ann", NULL);
	struct tt_participant *bo = join(&web, "bo", NULL);
	TT_ASSERT_INT_EQ(tt__text_from_link(core, "r", "nodeb", "p4", "zed", "xmpp", TT_TEXT_ACTION,
					    "waves", 5), 0);
	TOOK("chan:A<zed:waves|watch<zed:waves|web:ann<zed:waves|web:bo<zed:waves");
	TT_ASSERT_INT_EQ(tt__text_from_link(core, "elsewhere", "nodeb", NULL, "zed", "xmpp", 0, "x",
					    1), -ENOENT);
	TT_ASSERT(tt__room_find(core, "elsewhere") == NULL);
	TT_ASSERT_INT_EQ(tt__text_from_link(core, "r", "nodeb", "p4", "zed", "xmpp", 0, "esc\x1b[1m",
					    7), -EILSEQ);
	TOOK("");
	web.api->participant_leave(ann, 0);
	web.api->participant_leave(bo, 0);
	chan.api->text_medium_close(a);
	free_core(core);
}

static struct tt_text_medium *closing[3];

static void close_all(const char *where)
{
	for (int i = 0; i < 3; i++)
		closing[i] = chan.api->text_medium_close(closing[i]);
}

TT_TEST(textbus_medium_closed_mid_delivery)
{
	/* B's callback closes every medium, the room ends with the last (nobody is in it):
	 * C, closed before its turn, is skipped, and nothing freed is touched (ASan) */
	struct tt_core *core = make_core(NULL);
	closing[0] = open_medium("A");
	closing[1] = open_medium("B");
	closing[2] = open_medium("C");
	struct tt_text_medium *a = closing[0];
	during = close_all;
	TT_ASSERT_INT_EQ(chan.api->text_medium_notice(a, "bye"), 0);
	TOOK("chan:B<tutti!:bye");
	TT_ASSERT(!tt__room_find(core, "r"));
	free_core(core);
}

static struct tt_participant *leaver;

static void make_leave(const char *where)
{
	leaver = web.api->participant_leave(leaver, 0);
}

TT_TEST(textbus_participant_gone_mid_delivery)
{
	/* the first recipient's callback makes the next one and the sender leave */
	struct tt_core *core = make_core(NULL);
	struct tt_participant *ann = join(&web, "ann", NULL);
	struct tt_participant *bo = join(&web, "bo", NULL);
	leaver = join(&web, "cy", NULL);
	during = make_leave;
	post(ann, "hi");
	TOOK("web:bo<ann:hi");  /* the watcher is not present: nobody of it in the room */
	during = make_leave;
	leaver = ann;
	post(ann, "last words");
	TOOK("web:bo<ann:last words");
	web.api->participant_leave(bo, 0);
	free_core(core);
}

TT_TEST(textbus_lobby_neither_hears_nor_speaks)
{
	struct tt_core *core = make_core("[room.r]\npin = 1234\n");
	struct tt_join j = { .room = "r", .name = "ann", .caps = TT_CAP_TEXT, .pin = "1234" };
	struct tt_participant *ann = NULL, *guest = NULL;
	TT_ASSERT_INT_EQ(web.api->participant_join(web.h, &j, &ann), 0);
	j.name = "guest";
	j.pin = NULL;
	TT_ASSERT_INT_EQ(web.api->lobby_join(web.h, &j, &guest), 0);
	TT_ASSERT_INT_EQ(web.api->text_post(guest, "let me in", 9, 0), -EPERM);
	post(ann, "secret");
	TOOK("");
	TT_ASSERT_INT_EQ(web.api->lobby_admit(guest, "1234"), 0);
	post(ann, "welcome");
	TOOK("web:guest<ann:welcome");
	web.api->participant_leave(ann, 0);
	web.api->participant_leave(guest, 0);
	free_core(core);
}

TT_TEST(textbus_media_checked_and_present)
{
	struct tt_core *core = make_core("[rooms]\non_demand = false\n"
					 "[room.other]\nspeakers = 3\n[room.r]\nspeakers = 3\n");
	struct tt_text_medium *m = NULL;
	TT_ASSERT_INT_EQ(chan.api->text_medium_open(chan.h, "nosuch", "X", &m), -ENOENT);
	TT_ASSERT_INT_EQ(web.api->text_medium_open(web.h, "other", "X", &m), -EOPNOTSUPP);
	TT_ASSERT(m == NULL);
	TT_ASSERT_INT_EQ(chan.api->text_medium_open(chan.h, "other", "O", &m), 0);
	/* a participant joins only through its own gateway's medium in its own room */
	struct tt_join j = { .room = "other", .name = "x", .caps = TT_CAP_TEXT, .medium = m };
	struct tt_participant *p = NULL;
	TT_ASSERT_INT_EQ(web.api->participant_join(web.h, &j, &p), -EINVAL);
	j.room = "r";
	TT_ASSERT_INT_EQ(chan.api->participant_join(chan.h, &j, &p), -EINVAL);
	TT_ASSERT(p == NULL);
	chan.api->text_medium_close(m);
	free_core(core);
}
