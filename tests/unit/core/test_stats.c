/* test_stats.c: the one stats path, in-process: counters a media worker counts reach the
 * API's JSON (a plain RTP leg's packets, the room's mixer, the worker's ticks), a gateway's
 * own counters are shown under it, field tables are rendered and checked; and the media
 * side's reports (DTMF here) reach the gateway through the core's callback table. */
#include "tt_test.h"

#include <arpa/inet.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <tutti/errno.h>
#include <tutti/gateway.h>
#include <tutti/stats.h>

#include "core/core_priv.h"
#include "core_fixture.h"
#include "http/http.h"
#include "stats/stats.h"

/* ---- a gateway with counters of its own ---- */

struct fake_stats {
	uint64_t pings;
	uint32_t peers;
	char mood[8];
	bool ok;
	double load;
	int32_t delta;
	int64_t since;
};

#define ROW(m, ty, grp, name, fl) \
	TT_STAT_FIELD(struct fake_stats, m, ty, grp, name, fl, "test")
static const struct tt_stat_field fake_fields[] = {
	ROW(pings, U64, NULL, "pings", TT_STAT_COUNTER),
	ROW(peers, U32, "now", "peers", 0),
	ROW(mood, STR, "now", "mood", 0),
	ROW(ok, BOOL, NULL, "ok", 0),
	ROW(load, DOUBLE, NULL, "load", 0),
	ROW(delta, I32, NULL, "delta", 0),
	ROW(since, I64, NULL, "since", 0),
	{ 0 },
};

struct fake {
	struct tt_gw_handle *h;
	const struct tt_core_api *api;
	uint64_t pings;
	char digits[16];
	int ndigits;
};

static struct fake *the_fake;

static int f_start(struct tt_gw_handle *h, const struct tt_core_api *api,
		   const struct tt_conf *conf, void **statep)
{
	struct fake *f = g_new0(struct fake, 1);
	f->h = h;
	f->api = api;
	the_fake = f;
	*statep = f;
	return 0;
}
static void f_stop(void *s) { (void)s; }
static void f_free(void *s) { g_free(s); }
static void f_hang_up(void *s, struct tt_participant *p, const char *why)
{
	struct fake *f = s;
	f->api->participant_leave(f->api->participant_ref(p), 0);
}
static void f_dtmf(void *s, struct tt_participant *p, char digit)
{
	struct fake *f = s;
	if (f->ndigits < (int)sizeof f->digits - 1)
		f->digits[f->ndigits++] = digit;
}
static void f_stats(void *s, void *out)
{
	struct fake *f = s;
	struct fake_stats *st = out;
	st->pings = f->pings;
	st->peers = 2;
	g_strlcpy(st->mood, "calm", sizeof st->mood);
	st->ok = true;
	st->load = 0.5;
	st->delta = -3;
	st->since = -1;
}

struct fake_link {
	bool up;
	uint64_t drops;
};
static const struct tt_stat_field fake_link_fields[] = {
	TT_STAT_FIELD(struct fake_link, up, BOOL, NULL, "link_up", 0, "up"),
	TT_STAT_FIELD(struct fake_link, drops, U64, NULL, "drops", TT_STAT_COUNTER, "drops"),
	{ 0 },
};
static void f_instances(void *s, tt_gw_instance_h fn, void *arg)
{
	struct fake *f = s;
	struct fake_link a = { .up = true, .drops = f->pings }, b = { .drops = 3 };
	fn(arg, "one", &a);
	fn(arg, "two", &b);
}

static const struct tt_gateway gw_stats = {
	.api_version = TT_GATEWAY_API_VERSION, .name = "fakes", .network = "web",
	.start = f_start, .stop = f_stop, .free = f_free, .hang_up = f_hang_up,
	.on_dtmf = f_dtmf,
	.stat_fields = fake_fields, .stats_size = sizeof(struct fake_stats), .stats = f_stats,
	.instance_label = "network", .instance_stat_fields = fake_link_fields,
	.instance_stats_size = sizeof(struct fake_link), .instances = f_instances,
};
static int plain_start(struct tt_gw_handle *h, const struct tt_core_api *api,
		       const struct tt_conf *conf, void **statep)
{
	*statep = NULL;
	return 0;
}
static void plain_free(void *s) { (void)s; }
static const struct tt_gateway gw_plain = {
	.api_version = TT_GATEWAY_API_VERSION, .name = "plain", .network = "irc",
	.start = plain_start, .stop = f_stop, .free = plain_free, .hang_up = f_hang_up,
};

/* The same table every time: the core makes the gateways' implicit `enabled` rows once per
 * process. */
static struct tt_core *make_core(void)
{
	static const struct tt_gateway *const table[] = { &gw_stats, &gw_plain, NULL };
	return tt_test_core_make(table, "[media]\naddress = 127.0.0.1\n");
}

/* Run the core loop (the workers' reports land there) until done(arg) or 5 s. */
static bool run_until(bool (*done)(void *), void *arg)
{
	for (int i = 0; i < 5000; i++) {
		while (g_main_context_iteration(NULL, FALSE))
			;
		if (done(arg))
			return true;
		g_usleep(1000);
	}
	return false;
}

static json_t *get(struct tt_core *core, void (*fn)(struct tt_core *,
		   const struct tt_http_req *, struct tt_http_resp *), const char *a, const char *b)
{
	struct tt_http_req req = { .method = "GET", .path = "/", .params = { a, b } };
	struct tt_http_resp resp = { 0 };
	fn(core, &req, &resp);
	return resp.json;
}

/* ---- a plain RTP leg, with us as its peer ---- */

struct peer {
	int fd;
	struct sockaddr_in me;
	struct tt_audio_attached res;
	bool attached;
	uint16_t seq;
	uint32_t ts;
};

static void on_attached(void *arg, struct tt_participant *p, const struct tt_audio_attached *r)
{
	struct peer *pe = arg;
	pe->res = *r;
	pe->attached = true;
}

static bool is_attached(void *arg)
{
	return ((struct peer *)arg)->attached;
}

static void peer_open(struct peer *pe, struct fake *f, struct tt_participant *p)
{
	pe->fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	TT_ASSERT(pe->fd >= 0 && bind(pe->fd, (struct sockaddr *)&a, sizeof a) == 0);
	socklen_t l = sizeof pe->me;
	getsockname(pe->fd, (struct sockaddr *)&pe->me, &l);
	struct tt_audio_leg leg = { .kind = TT_LEG_UDP, .codec = "pcmu", .pt = 0, .ptime = 20,
				    .dtmf_pt = 101, .udp.srtp_suite = -1 };
	memcpy(&leg.udp.remote, &pe->me, sizeof pe->me);
	leg.udp.remote_len = sizeof pe->me;
	TT_ASSERT_INT_EQ(f->api->audio_attach(p, &leg, on_attached, pe), 0);
	TT_ASSERT(run_until(is_attached, pe));
	TT_ASSERT_INT_EQ(pe->res.err, 0);
}

static void peer_send(struct peer *pe, uint8_t pt, const uint8_t *payload, size_t len)
{
	uint8_t pkt[12 + 200] = { 0x80, pt, (uint8_t)(pe->seq >> 8), (uint8_t)pe->seq,
				  (uint8_t)(pe->ts >> 24), (uint8_t)(pe->ts >> 16),
				  (uint8_t)(pe->ts >> 8), (uint8_t)pe->ts, 0x12, 0x34, 0x56, 0x78 };
	memcpy(pkt + 12, payload, len);
	pe->seq++;
	TT_ASSERT(sendto(pe->fd, pkt, 12 + len, 0, (struct sockaddr *)&pe->res.udp.local,
			 pe->res.udp.local_len) == (ssize_t)(12 + len));
}

struct watch {
	struct tt_core *core;
	const char *id;
	json_t *part, *room;
};

static bool counted(void *arg)
{
	struct watch *w = arg;
	json_decref(w->part);
	json_decref(w->room);
	w->part = get(w->core, tt__api_part_get, "r", w->id);
	w->room = get(w->core, tt__api_room_get, "r", NULL);
	json_t *in = json_object_get(json_object_get(w->part, "media"), "packets_in");
	json_t *mix = json_object_get(w->room, "mixer");
	return json_integer_value(in) >= 50 &&
	       json_integer_value(json_object_get(mix, "decodes")) > 0;
}

struct health {
	struct tt_core *core;
	json_t *health;
};

static bool worker_reported(void *arg)
{
	struct health *h = arg;
	json_decref(h->health);
	h->health = get(h->core, tt__api_health, NULL, NULL);
	json_t *w0 = json_array_get(json_object_get(h->health, "workers"), 0);
	json_t *port = json_object_get(w0, "shared_port");
	return json_integer_value(json_object_get(port, "members")) == 1;
}

static bool got_digit(void *arg)
{
	return ((struct fake *)arg)->ndigits > 0;
}

TT_TEST(stats_leg_counters_reach_the_api)
{
	struct tt_core *core = make_core();
	struct fake *f = the_fake;
	struct tt_join j = { .room = "r", .name = "alice", .caps = TT_CAP_AUDIO };
	struct tt_participant *p = NULL;
	TT_ASSERT_INT_EQ(f->api->participant_join(f->h, &j, &p), 0);
	struct peer pe = { .seq = 1000, .ts = 160000 };
	peer_open(&pe, f, p);
	uint8_t audio[160];
	memset(audio, 0xff, sizeof audio);   /* mu-law silence */
	for (int i = 0; i < 50; i++, pe.ts += 160)
		peer_send(&pe, 0, audio, sizeof audio);

	/* counted on the worker, reported once a second, rendered from the field table */
	struct watch w = { .core = core, .id = f->api->participant_id(p) };
	TT_ASSERT_MSG(run_until(counted, &w), "no statistics: %s",
		      json_dumps(w.part, JSON_COMPACT));
	json_t *m = json_object_get(w.part, "media");
	TT_ASSERT_INT_EQ(json_integer_value(json_object_get(m, "packets_in")), 50);
	TT_ASSERT_INT_EQ(json_integer_value(json_object_get(m, "bytes_in")), 50 * (12 + 160));
	TT_ASSERT_STR_EQ(json_string_value(json_object_get(m, "codec")), "pcmu");
	TT_ASSERT(json_is_false(json_object_get(m, "srtp")));
	TT_ASSERT(json_is_real(json_object_get(m, "jitter_ms")));
	json_t *jb = json_object_get(m, "jitter_buffer");
	TT_ASSERT(json_is_object(jb) && json_integer_value(json_object_get(jb, "received")) > 0);
	TT_ASSERT(json_is_integer(json_object_get(jb, "depth_ms")));
	/* the room's mixer travelled with it */
	json_t *mix = json_object_get(w.room, "mixer");
	TT_ASSERT_INT_EQ(json_integer_value(json_object_get(mix, "inputs")), 1);
	TT_ASSERT(json_integer_value(json_object_get(mix, "ticks")) >= 50);
	TT_ASSERT(json_is_integer(json_object_get(mix, "encodes_shared")));
	TT_ASSERT(json_is_integer(json_object_get(mix, "lost")));

	/* the workers' own reports render from their tables too (they come once a second on
	 * their own clock: wait for one that saw the leg) */
	struct health h = { .core = core };
	TT_ASSERT_MSG(run_until(worker_reported, &h), "no worker report: %s",
		      json_dumps(h.health, JSON_COMPACT));
	json_t *w0 = json_array_get(json_object_get(h.health, "workers"), 0);
	TT_ASSERT_INT_EQ(json_integer_value(json_object_get(w0, "index")), 0);
	TT_ASSERT(json_integer_value(json_object_get(w0, "ticks")) >= 50);
	TT_ASSERT_INT_EQ(json_integer_value(json_object_get(w0, "rooms")), 1);
	json_t *port = json_object_get(w0, "shared_port");   /* [media] shared_port = true */
	TT_ASSERT(g_str_has_prefix(json_string_value(json_object_get(port, "local")),
				   "127.0.0.1:"));
	json_decref(h.health);

	/* a digit goes worker -> core callbacks -> the gateway registry -> on_dtmf */
	const uint8_t ev5[4] = { 5, 0x0a, 0x00, 0xa0 }, end5[4] = { 5, 0x8a, 0x03, 0x20 };
	peer_send(&pe, 101, ev5, 4);
	for (int i = 0; i < 3; i++)
		peer_send(&pe, 101, end5, 4);
	TT_ASSERT(run_until(got_digit, f));
	TT_ASSERT_STR_EQ(f->digits, "5");

	json_decref(w.part);
	json_decref(w.room);
	close(pe.fd);
	f->api->participant_leave(p, 0);
	tt__core_free(core);
}

TT_TEST(stats_gateway_counters_shown)
{
	struct tt_core *core = make_core();
	the_fake->pings = 7;
	json_t *o = get(core, tt__api_gateways, NULL, NULL);
	json_t *fakes = NULL, *rtp = NULL, *plain = NULL;
	size_t i;
	json_t *g;
	json_array_foreach(json_object_get(o, "gateways"), i, g) {
		const char *name = json_string_value(json_object_get(g, "name"));
		if (!strcmp(name, "fakes"))
			fakes = g;
		if (!strcmp(name, "rtp"))
			rtp = g;
		if (!strcmp(name, "plain"))
			plain = g;
	}
	TT_ASSERT(fakes && rtp && plain);
	TT_ASSERT(json_is_true(json_object_get(fakes, "running")));
	json_t *st = json_object_get(fakes, "stats");
	TT_ASSERT_INT_EQ(json_integer_value(json_object_get(st, "pings")), 7);
	json_t *now = json_object_get(st, "now");
	TT_ASSERT_INT_EQ(json_integer_value(json_object_get(now, "peers")), 2);
	TT_ASSERT_STR_EQ(json_string_value(json_object_get(now, "mood")), "calm");
	TT_ASSERT(json_is_true(json_object_get(st, "ok")));
	TT_ASSERT(json_real_value(json_object_get(st, "load")) == 0.5);
	TT_ASSERT_INT_EQ(json_integer_value(json_object_get(st, "delta")), -3);
	TT_ASSERT_INT_EQ(json_integer_value(json_object_get(st, "since")), -1);
	/* its labelled instances, the label a member of each */
	TT_ASSERT_STR_EQ(json_string_value(json_object_get(fakes, "instance_label")), "network");
	json_t *ins = json_object_get(fakes, "instances");
	TT_ASSERT_INT_EQ(json_array_size(ins), 2);
	json_t *one = json_array_get(ins, 0), *two = json_array_get(ins, 1);
	TT_ASSERT_STR_EQ(json_string_value(json_object_get(one, "network")), "one");
	TT_ASSERT(json_is_true(json_object_get(one, "link_up")));
	TT_ASSERT_INT_EQ(json_integer_value(json_object_get(one, "drops")), 7);
	TT_ASSERT_STR_EQ(json_string_value(json_object_get(two, "network")), "two");
	TT_ASSERT(json_is_false(json_object_get(two, "link_up")));
	TT_ASSERT_INT_EQ(json_integer_value(json_object_get(two, "drops")), 3);
	TT_ASSERT(json_object_get(plain, "instances") == NULL);
	/* the built-in plain RTP gateway reports through the same op */
	json_t *rs = json_object_get(rtp, "stats");
	TT_ASSERT_INT_EQ(json_integer_value(json_object_get(rs, "participants")), 0);
	TT_ASSERT(json_is_integer(json_object_get(rs, "joined")));
	/* a gateway without the op shows none */
	TT_ASSERT(json_is_true(json_object_get(plain, "running")));
	TT_ASSERT(json_object_get(plain, "stats") == NULL);
	json_decref(o);
	tt__core_free(core);
}

TT_TEST(stats_gateway_tables_are_checked)
{
	static const struct tt_stat_field past_end[] = {
		{ .name = "x", .type = TT_STAT_U64, .offset = sizeof(struct fake_stats) - 4 },
		{ 0 },
	};
	static const struct tt_stat_field bad_name[] = {
		{ .name = "Bad-Name", .type = TT_STAT_U64, .offset = 0 },
		{ 0 },
	};
	static const struct tt_stat_field twice[] = {
		{ .name = "x", .type = TT_STAT_U64, .offset = 0 },
		{ .name = "x", .group = "g", .type = TT_STAT_U64, .offset = 8 },   /* fine */
		{ .name = "x", .type = TT_STAT_U32, .offset = 8 },
		{ 0 },
	};
	/* an instance row named like a stat_fields row: one metric name for both */
	static const struct tt_stat_field clash[] = {
		{ .name = "pings", .type = TT_STAT_U64, .offset = 0 },
		{ 0 },
	};
	struct tt_gateway nofields = gw_stats, nofn = gw_stats, end = gw_stats,
			  name = gw_stats, dup = gw_stats, nolabel = gw_stats,
			  badlabel = gw_stats, gwlabel = gw_stats, inend = gw_stats,
			  inclash = gw_stats, noinfn = gw_stats, labelrow = gw_stats;
	nofields.stat_fields = NULL;
	nofn.stats = NULL;
	end.stat_fields = past_end;
	name.stat_fields = bad_name;
	dup.stat_fields = twice;
	nolabel.instance_label = NULL;
	badlabel.instance_label = "9net";
	gwlabel.instance_label = "gateway";
	inend.instance_stat_fields = past_end;
	inend.instance_stats_size = sizeof(struct fake_stats);
	inclash.instance_stat_fields = clash;
	noinfn.instances = NULL;
	labelrow.instance_label = "drops";   /* a row's name: one JSON member for both */
	const struct tt_gateway *bad[] = { &nofields, &nofn, &end, &name, &dup, &nolabel,
					   &badlabel, &gwlabel, &inend, &inclash, &noinfn,
					   &labelrow };
	const char *says[] = { "together", "together", "past", "[a-z0-9_]", "twice",
			       "together", "instance_label", "instance_label", "past", "twice",
			       "together", "twice" };
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		char *why = NULL;
		TT_ASSERT_INT_EQ(tt__gateway_check(bad[i], &why), -EINVAL);
		TT_ASSERT_MSG(why && strstr(why, says[i]), "%zu: %s", i, why);
		g_free(why);
	}
	char *why = NULL;
	TT_ASSERT_INT_EQ(tt__gateway_check(&gw_stats, &why), 0);
	TT_ASSERT(why == NULL);
	/* the core's own tables pass the same check */
	TT_ASSERT_INT_EQ(tt__stats_check(tt_leg_stat_fields, sizeof(struct tt_leg_stats), &why), 0);
	TT_ASSERT_INT_EQ(tt__stats_check(tt_mixer_room_stat_fields,
					 sizeof(struct tt_mixer_room_stats), &why), 0);
}

/* The renderer knows nothing of legs: one row is one member, groups become objects. */
TT_TEST(stats_json_from_a_table)
{
	struct tt_leg_stats s = { .codec = "opus", .srtp = true, .rx_jitter_ms = 1.5 };
	s.transport.pkts_in = 123;
	s.transport.rtt_us = -1;
	s.transport.peer_fraction_lost = -1;
	s.mixer.late = 4;
	s.mixer.level_dbov = -40;
	json_t *o = tt__stats_json(tt_leg_stat_fields, &s);
	TT_ASSERT_INT_EQ(json_integer_value(json_object_get(o, "packets_in")), 123);
	TT_ASSERT_INT_EQ(json_integer_value(json_object_get(o, "rtt_us")), -1);
	TT_ASSERT_INT_EQ(json_integer_value(json_object_get(o, "peer_fraction_lost")), -1);
	TT_ASSERT_INT_EQ(json_integer_value(json_object_get(o, "level_dbov")), -40);
	TT_ASSERT_STR_EQ(json_string_value(json_object_get(o, "codec")), "opus");
	TT_ASSERT(json_is_true(json_object_get(o, "srtp")));
	TT_ASSERT(json_real_value(json_object_get(o, "jitter_ms")) == 1.5);
	json_t *jb = json_object_get(o, "jitter_buffer");
	TT_ASSERT_INT_EQ(json_integer_value(json_object_get(jb, "late")), 4);
	/* every row is shown, each once */
	size_t rows = 0, shown = json_object_size(o) - 1 + json_object_size(jb);
	for (const struct tt_stat_field *f = tt_leg_stat_fields; f->name; f++)
		rows++;
	TT_ASSERT_INT_EQ(shown, rows);
	json_decref(o);
}
