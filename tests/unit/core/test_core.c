/* test_core.c: rooms, participants, the text bus and gateway registration, in-process, with
 * fake gateways that use the same const core API as real ones. */
#include "tt_test.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>
#include <tutti/errno.h>
#include <tutti/gateway.h>

#include "core/core_priv.h"
#include "core_fixture.h"
#include "participant/participant.h"
#include "room/room.h"

struct fake {
	struct tt_gw_handle *h;
	const struct tt_core_api *api;
	int texts;
	char last_text[256];
	char last_from[64];
	int joined, left, state_events;
	int hangups;
	unsigned last_caps, last_caps_changed;   /* of the last TT_ROSTER_STATE */
	bool leave_on_hangup;
	struct tt_participant *pending;  /* hung up, to leave later */
};

static struct fake *fakes[4];
static int nfakes;

static int f_start(struct tt_gw_handle *h, const struct tt_core_api *api,
		   const struct tt_conf *conf, void **statep)
{
	struct fake *f = g_new0(struct fake, 1);
	f->h = h;
	f->api = api;
	f->leave_on_hangup = true;
	fakes[nfakes++] = f;
	*statep = f;
	return 0;
}
static void f_stop(void *s) { (void)s; }
static void f_free(void *s) { g_free(s); }
static void f_hang_up(void *s, struct tt_participant *p, const char *why)
{
	struct fake *f = s;
	f->hangups++;
	if (f->leave_on_hangup)
		f->api->participant_leave(f->api->participant_ref(p), 0);
}
static void f_text(void *s, const struct tt_text *m)
{
	struct fake *f = s;
	f->texts++;
	g_strlcpy(f->last_text, m->text, sizeof f->last_text);
	g_strlcpy(f->last_from, m->from.name, sizeof f->last_from);
}
static void f_medium_text(void *s, void *medium, const struct tt_text *m)
{
	f_text(s, m);
}
static void f_roster(void *s, const struct tt_roster_event *ev)
{
	struct fake *f = s;
	if (ev->type == TT_ROSTER_JOINED)
		f->joined++;
	else if (ev->type == TT_ROSTER_LEFT)
		f->left++;
	else if (ev->type == TT_ROSTER_STATE) {
		f->state_events++;
		f->last_caps = ev->who.caps;
		f->last_caps_changed = ev->caps_changed;
	}
}

static const struct tt_gateway gw_a = {
	.api_version = TT_GATEWAY_API_VERSION, .name = "fakea", .network = "web",
	.start = f_start, .stop = f_stop, .free = f_free, .hang_up = f_hang_up,
	.on_text = f_text, .on_roster = f_roster,
};
static const struct tt_gateway gw_b = {  /* a shared medium, like an IRC channel */
	.api_version = TT_GATEWAY_API_VERSION, .name = "fakeb", .network = "irc",
	.start = f_start, .stop = f_stop, .free = f_free, .hang_up = f_hang_up,
	.on_medium_text = f_medium_text, .on_roster = f_roster,
};

static struct tt_core *make_core(const char *extra)
{
	static const struct tt_gateway *const table[] = { &gw_a, &gw_b, NULL };
	nfakes = 0;
	return tt_test_core_make(table, extra);
}

static struct tt_participant *join(struct fake *f, const char *room, const char *name,
				   unsigned caps)
{
	struct tt_join j = { .room = room, .name = name, .caps = caps };
	struct tt_participant *p = NULL;
	TT_ASSERT_INT_EQ(f->api->participant_join(f->h, &j, &p), 0);
	return p;
}

TT_TEST(core_text_bus_fanout_and_loop_prevention)
{
	struct tt_core *core = make_core(NULL);
	struct fake *a = fakes[0], *b = fakes[1];
	struct tt_participant *web1 = join(a, "r", "web1", TT_CAP_AUDIO | TT_CAP_TEXT);
	struct tt_participant *web2 = join(a, "r", "web2", TT_CAP_AUDIO | TT_CAP_TEXT);
	/* gateway a watches every line (on_text); b is a channel: a shared medium */
	struct tt_text_medium *chan = NULL, *chan2 = NULL;
	TT_ASSERT_INT_EQ(b->api->text_medium_open(b->h, "r", b, &chan), 0);
	struct tt_join ij = { .room = "r", .name = "irc1", .caps = TT_CAP_TEXT, .medium = chan };
	struct tt_participant *irc1 = NULL;
	TT_ASSERT_INT_EQ(b->api->participant_join(b->h, &ij, &irc1), 0);
	/* from a point-to-point network: every present gateway once, its own included */
	TT_ASSERT_INT_EQ(a->api->text_post(web1, "hi", 2, 0), 0);
	TT_ASSERT_INT_EQ(a->texts, 1);
	TT_ASSERT_INT_EQ(b->texts, 1);
	TT_ASSERT_STR_EQ(b->last_from, "web1");
	/* from a shared medium: never back to it */
	TT_ASSERT_INT_EQ(b->api->text_post(irc1, "yo", 2, 0), 0);
	TT_ASSERT_INT_EQ(a->texts, 2);
	TT_ASSERT_INT_EQ(b->texts, 1);
	/* errors deliver nothing */
	TT_ASSERT_INT_EQ(a->api->text_post(web1, "\xc3\x28", 2, 0), -EILSEQ);
	TT_ASSERT_INT_EQ(a->api->text_post(web1, "a\rb", 3, 0), -EILSEQ);
	TT_ASSERT_INT_EQ(a->api->text_post(web1, "   ", 3, 0), -EINVAL);
	char big[4097];
	memset(big, 'x', sizeof big);
	TT_ASSERT_INT_EQ(a->api->text_post(web1, big, sizeof big, 0), -EMSGSIZE);
	TT_ASSERT_INT_EQ(a->api->text_post(web1, big, 4096, 0), 0);  /* the limit itself is ok */
	TT_ASSERT_INT_EQ(a->texts, 3);
	/* UTF-8 and newlines pass */
	TT_ASSERT_INT_EQ(a->api->text_post(web2, "gr\xc3\xbc\xc3\x9f\n2", 8, 0), 0);
	TT_ASSERT_STR_EQ(b->last_text, "gr\xc3\xbc\xc3\x9f\n2");
	/* text-less participants cannot post */
	struct tt_participant *mute = join(a, "r", "voiceonly", TT_CAP_AUDIO);
	TT_ASSERT_INT_EQ(a->api->text_post(mute, "x", 1, 0), -EPERM);
	/* a gateway with nobody in a room hears nothing from it, until it watches */
	struct tt_participant *other = join(a, "elsewhere", "o", TT_CAP_TEXT);
	TT_ASSERT_INT_EQ(a->api->text_post(other, "x", 1, 0), 0);
	TT_ASSERT_INT_EQ(b->texts, 3);
	TT_ASSERT_INT_EQ(b->api->room_watch(b->h, "elsewhere", true), 0);
	TT_ASSERT_INT_EQ(b->api->text_medium_open(b->h, "elsewhere", b, &chan2), 0);
	TT_ASSERT_INT_EQ(a->api->text_post(other, "x", 1, 0), 0);
	TT_ASSERT_INT_EQ(b->texts, 4);
	/* a participant that left cannot post */
	struct tt_participant *keep = a->api->participant_ref(web2);
	a->api->participant_leave(web2, 0);
	TT_ASSERT_INT_EQ(a->api->text_post(keep, "x", 1, 0), -ENOENT);
	a->api->participant_unref(keep);
	a->api->participant_leave(web1, 0);
	a->api->participant_leave(mute, 0);
	a->api->participant_leave(other, 0);
	b->api->participant_leave(irc1, 0);
	b->api->text_medium_close(chan);
	b->api->text_medium_close(chan2);
	tt__core_free(core);
}

TT_TEST(core_roster_events_reach_present_gateways)
{
	struct tt_core *core = make_core(NULL);
	struct fake *a = fakes[0], *b = fakes[1];
	struct tt_participant *p1 = join(a, "r", "alice", TT_CAP_AUDIO | TT_CAP_TEXT);
	TT_ASSERT_INT_EQ(a->joined, 1);
	TT_ASSERT_INT_EQ(b->joined, 0);  /* not present yet */
	struct tt_participant *p2 = join(b, "r", "bob", TT_CAP_TEXT);
	TT_ASSERT_INT_EQ(a->joined, 2);
	TT_ASSERT_INT_EQ(b->joined, 1);
	TT_ASSERT_INT_EQ(a->api->participant_set_state(p1, TT_PS_MUTED, true), 0);
	TT_ASSERT_INT_EQ(a->api->participant_set_state(p1, TT_PS_MUTED, true), 0); /* no change */
	TT_ASSERT_INT_EQ(b->state_events, 1);
	TT_ASSERT(a->api->participant_state(p1) & TT_PS_MUTED);
	TT_ASSERT_INT_EQ(a->api->participant_set_state(p1, TT_PS_TALKING, true), -EINVAL);
	a->api->participant_leave(p1, 0);
	TT_ASSERT_INT_EQ(b->left, 1);
	TT_ASSERT_INT_EQ(a->left, 1);  /* told even though it is no longer present */
	b->api->participant_leave(p2, 0);
	TT_ASSERT(tt__room_find(core, "r") == NULL);  /* on-demand rooms end when empty */
	tt__core_free(core);
}

/* Post to the worker and wait until it ran: proves the message path and lets a test know
 * the worker holds what was posted before. */
static void on_worker_ping(void *w, void *arg)
{
	g_atomic_int_set((gint *)arg, 1);
}

static void sync_worker(struct tt_core *core)
{
	gint done = 0;
	tt_worker_post(tt_workers_get(core->workers, 0), on_worker_ping, &done);
	for (int i = 0; i < 500 && !g_atomic_int_get(&done); i++)
		g_usleep(1000);
	TT_ASSERT(g_atomic_int_get(&done));
}

TT_TEST(core_leave_while_worker_holds_reference)
{
	struct tt_core *core = make_core(NULL);
	struct fake *a = fakes[0];
	struct tt_participant *p = join(a, "r", "alice", TT_CAP_AUDIO | TT_CAP_TEXT);
	sync_worker(core);  /* the worker now holds its own reference */
	TT_ASSERT_INT_EQ(g_atomic_int_get(&p->refs), 3);  /* gateway + room + worker */
	struct tt_participant *extra = a->api->participant_ref(p);  /* e.g. a transport */
	a->api->participant_leave(p, 0);  /* the gateway's reference is gone */
	TT_ASSERT(!a->api->participant_alive(extra));
	a->api->participant_leave(a->api->participant_ref(extra), 0);  /* twice: harmless */
	TT_ASSERT_INT_EQ(a->left, 1);
	sync_worker(core);  /* the worker dropped its reference between ticks */
	TT_ASSERT_INT_EQ(g_atomic_int_get(&extra->refs), 1);
	TT_ASSERT_STR_EQ(a->api->participant_name(extra), "alice");  /* memory still valid */
	a->api->participant_unref(extra);  /* freed here; ASan would see a use after */
	tt__core_free(core);
}

struct ended {
	int calls, reason;
	struct tt_participant *p;
};

static void on_audio_ended(void *arg, struct tt_participant *p, int reason)
{
	struct ended *e = arg;
	e->calls++;
	e->reason = reason;
	e->p = p;
}

/* An occupant of a chat who calls the room: audio comes and goes, the participant stays
 * one person (one roster entry) throughout, and its media's end is not a hang-up. */
TT_TEST(core_audio_added_to_text_participant)
{
	struct tt_core *core = make_core(NULL);
	struct fake *a = fakes[0], *b = fakes[1];
	struct tt_participant *w = join(b, "r", "watcher", TT_CAP_TEXT);  /* b is present */
	struct tt_participant *p = join(a, "r", "alice", TT_CAP_TEXT);
	struct tt_audio_leg leg = { .kind = TT_LEG_UDP, .codec = "pcmu", .dtmf_pt = -1,
				    .udp.srtp_suite = -1 };
	TT_ASSERT_INT_EQ(a->api->audio_attach(p, &leg, NULL, NULL), -EPERM);
	TT_ASSERT_INT_EQ(a->api->audio_remove(p), -EALREADY);
	struct ended e = { 0 };
	int before = b->state_events;
	TT_ASSERT_INT_EQ(a->api->audio_add(p, on_audio_ended, &e), 0);
	TT_ASSERT_INT_EQ(b->state_events, before + 1);
	TT_ASSERT_INT_EQ(b->last_caps_changed, TT_CAP_AUDIO);
	TT_ASSERT_INT_EQ(b->last_caps, TT_CAP_AUDIO | TT_CAP_TEXT);
	TT_ASSERT_INT_EQ(a->api->audio_add(p, on_audio_ended, &e), -EALREADY);
	sync_worker(core);
	TT_ASSERT_INT_EQ(g_atomic_int_get(&p->refs), 3);  /* gateway + room + worker */
	TT_ASSERT_INT_EQ(a->api->room_count(core, "r"), 2);  /* still one participant */

	/* its media ends by itself: the callback, not the gateway's hang_up; p stays */
	int hangups = a->hangups;
	tt__room_media_events.ended(core, p, -ETIMEDOUT);
	TT_ASSERT_INT_EQ(e.calls, 1);
	TT_ASSERT_INT_EQ(e.reason, -ETIMEDOUT);
	TT_ASSERT(e.p == p);
	TT_ASSERT_INT_EQ(a->hangups, hangups);
	TT_ASSERT(a->api->participant_alive(p));
	TT_ASSERT_INT_EQ(b->last_caps, TT_CAP_TEXT);
	TT_ASSERT_INT_EQ(a->api->audio_attach(p, &leg, NULL, NULL), -EPERM);
	sync_worker(core);
	TT_ASSERT_INT_EQ(g_atomic_int_get(&p->refs), 2);  /* the worker let go */
	tt__room_media_events.ended(core, p, -ETIMEDOUT);  /* a late report: nothing */
	TT_ASSERT_INT_EQ(e.calls, 1);
	TT_ASSERT_INT_EQ(a->hangups, hangups);

	/* a second call; this one the gateway ends: no callback */
	TT_ASSERT_INT_EQ(a->api->audio_add(p, on_audio_ended, &e), 0);
	TT_ASSERT_INT_EQ(a->api->audio_remove(p), 0);
	TT_ASSERT_INT_EQ(b->last_caps_changed, TT_CAP_AUDIO);
	TT_ASSERT_INT_EQ(b->last_caps, TT_CAP_TEXT);
	TT_ASSERT_INT_EQ(e.calls, 1);
	/* audio from the join ends by leaving, not here */
	struct tt_participant *phone = join(a, "r", "phone", TT_CAP_AUDIO);
	TT_ASSERT_INT_EQ(a->api->audio_remove(phone), -EPERM);
	TT_ASSERT_INT_EQ(a->api->audio_add(phone, NULL, NULL), -EALREADY);
	/* leaving with added audio frees everything (ASan) */
	TT_ASSERT_INT_EQ(a->api->audio_add(p, NULL, NULL), 0);
	a->api->participant_leave(phone, 0);
	a->api->participant_leave(a->api->participant_ref(p), 0);
	TT_ASSERT_INT_EQ(a->api->audio_add(p, NULL, NULL), -ENOENT);
	TT_ASSERT_INT_EQ(a->api->audio_remove(p), -ENOENT);
	a->api->participant_unref(p);
	b->api->participant_leave(w, 0);
	sync_worker(core);
	tt__core_free(core);
}

TT_TEST(core_hang_up_all_and_kick)
{
	struct tt_core *core = make_core(NULL);
	struct fake *a = fakes[0];
	struct tt_participant *p1 = join(a, "r", "alice", TT_CAP_TEXT);
	struct tt_participant *p2 = join(a, "r", "bob", TT_CAP_TEXT);
	struct tt_participant *found = a->api->participant_find(core, "r", "BOB");
	TT_ASSERT(found == p2);
	TT_ASSERT_INT_EQ(a->api->participant_kick(found, "test"), 0);
	a->api->participant_unref(found);
	TT_ASSERT_INT_EQ(a->hangups, 1);
	TT_ASSERT_INT_EQ(a->api->room_count(core, "r"), 1);
	a->api->participant_unref(p2);  /* the gateway's own reference from join */
	tt__room_hang_up_all(tt__room_find(core, "r"), "room ended");
	TT_ASSERT_INT_EQ(a->hangups, 2);
	TT_ASSERT(tt__room_find(core, "r") == NULL);
	a->api->participant_unref(p1);
	tt__core_free(core);
}

TT_TEST(core_room_settings_limits_and_names)
{
	struct tt_core *core = make_core("[rooms]\non_demand = false\n"
					 "[room.small]\nmax_participants = 1\n"
					 "[room.shut]\nlocked = true\nmoderator_pin = 77\n");
	struct fake *a = fakes[0];
	struct tt_join j = { .room = "free", .name = "x", .caps = TT_CAP_TEXT };
	struct tt_participant *p = NULL, *q = NULL;
	TT_ASSERT_INT_EQ(a->api->participant_join(a->h, &j, &p), -ENOENT);
	j.room = "bad/name";
	TT_ASSERT_INT_EQ(a->api->participant_join(a->h, &j, &p), -ENOENT);
	j.room = "small";
	TT_ASSERT_INT_EQ(a->api->participant_join(a->h, &j, &p), 0);
	TT_ASSERT_INT_EQ(a->api->participant_join(a->h, &j, &q), -EUSERS);
	j.room = "shut";
	TT_ASSERT_INT_EQ(a->api->participant_join(a->h, &j, &q), -EBUSY);
	j.pin = "77";
	TT_ASSERT_INT_EQ(a->api->participant_join(a->h, &j, &q), 0);
	TT_ASSERT(a->api->participant_state(q) & TT_PS_MODERATOR);
	/* names are cleaned: control characters gone, length capped on a character boundary */
	j.room = "small";
	a->api->participant_leave(p, 0);
	j.name = "\x01\xc3\xa9va\t\xe2\x80\x8b  ";
	j.pin = NULL;
	TT_ASSERT_INT_EQ(a->api->participant_join(a->h, &j, &p), 0);
	TT_ASSERT_STR_EQ(a->api->participant_name(p), "\xc3\xa9va");
	TT_ASSERT(tt__room_find(core, "small") != NULL);
	a->api->participant_leave(p, 0);
	TT_ASSERT(tt__room_find(core, "small") != NULL);  /* configured rooms stay */
	a->api->participant_leave(q, 0);
	tt__core_free(core);
}

/* Display names are unique in a room, whatever the case or Unicode form; hundreds of
 * callers with the same name (phones that all say "Anonymous") get numbered suffixes, and a
 * name that left is free again. */
TT_TEST(core_unique_names)
{
	struct tt_core *core = make_core("[rooms]\nmax_participants = 1000\n");
	struct fake *a = fakes[0];
	enum { N = 600 };
	struct tt_participant **ps = g_new0(struct tt_participant *, N);
	GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
	for (int i = 0; i < N; i++) {
		ps[i] = join(a, "hall", "Anonymous", TT_CAP_TEXT);
		const char *name = a->api->participant_name(ps[i]);
		TT_ASSERT(!g_hash_table_contains(seen, name));
		g_hash_table_add(seen, (gpointer)name);
	}
	TT_ASSERT_STR_EQ(a->api->participant_name(ps[0]), "Anonymous");
	TT_ASSERT_STR_EQ(a->api->participant_name(ps[1]), "Anonymous (2)");
	TT_ASSERT_STR_EQ(a->api->participant_name(ps[N - 1]), "Anonymous (600)");
	/* case and Unicode form: "ANONYMOUS" is taken too; NFC and NFD "Ana" are one name */
	struct tt_participant *up = join(a, "hall", "ANONYMOUS", TT_CAP_TEXT);
	TT_ASSERT_STR_EQ(a->api->participant_name(up), "ANONYMOUS (601)");
	struct tt_participant *nfc = join(a, "hall", "\xc3\x81na", TT_CAP_TEXT);
	struct tt_participant *nfd = join(a, "hall", "A\xcc\x81na", TT_CAP_TEXT);
	TT_ASSERT_STR_EQ(a->api->participant_name(nfd), "A\xcc\x81na (2)");
	/* the first one leaves: its name is free again */
	a->api->participant_leave(ps[0], 0);
	ps[0] = join(a, "hall", "anonymous", TT_CAP_TEXT);
	TT_ASSERT_STR_EQ(a->api->participant_name(ps[0]), "anonymous");
	g_hash_table_destroy(seen);
	for (int i = 0; i < N; i++)
		a->api->participant_leave(ps[i], 0);
	a->api->participant_leave(up, 0);
	a->api->participant_leave(nfc, 0);
	a->api->participant_leave(nfd, 0);
	g_free(ps);
	tt__core_free(core);
}

static int bad_start(struct tt_gw_handle *h, const struct tt_core_api *api,
		     const struct tt_conf *c, void **s)
{
	return 0;
}

static int no_problems(const struct tt_conf *c, char **errors)
{
	(void)c;
	*errors = NULL;
	return 0;
}

TT_TEST(core_refuses_bad_gateways)
{
	struct tt_gateway v2 = gw_a;
	v2.api_version = TT_GATEWAY_API_VERSION + 1;
	struct tt_gateway nohang = gw_a;
	nohang.hang_up = NULL;
	struct tt_gateway badname = gw_a;
	badname.name = "Bad Name";
	struct tt_gateway ok = gw_a;
	ok.start = bad_start;
	char *why = NULL;
	TT_ASSERT_INT_EQ(tt__gateway_check(&v2, &why), -EPROTO);
	TT_ASSERT(strstr(why, "API version"));
	g_free(why);
	TT_ASSERT_INT_EQ(tt__gateway_check(&nohang, &why), -EINVAL);
	TT_ASSERT(strstr(why, "hang_up"));
	g_free(why);
	TT_ASSERT_INT_EQ(tt__gateway_check(&badname, &why), -EINVAL);
	g_free(why);
	struct tt_gateway nokeys = gw_a;
	nokeys.conf_keys = NULL;
	nokeys.check_config = no_problems;
	TT_ASSERT_INT_EQ(tt__gateway_check(&nokeys, &why), -EINVAL);
	TT_ASSERT(strstr(why, "check_config"));
	g_free(why);
	why = NULL;
	TT_ASSERT_INT_EQ(tt__gateway_check(&ok, &why), 0);
	/* the core refuses to be built with one */
	const struct tt_gateway *table[] = { &gw_a, &v2, NULL };
	struct tt_core *core = NULL;
	TT_ASSERT_INT_EQ(tt__core_alloc(&core, table, NULL, "error"), -EPROTO);
	TT_ASSERT(core == NULL);
}
