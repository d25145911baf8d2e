/* test_legs.c: leg kinds through the core's API, on a real worker. A fake kind registered
 * from the test (its transport only counts what the tick hands it) is attached, gets the
 * tick's packets, is updated and closed, and takes the ICE extras; an ICE leg attached
 * without the peer's credentials connects to a libnice peer once audio_ice_credentials
 * gives them, after every candidate. */
#include "tt_test.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>
#include <tutti/errno.h>
#include <tutti/gateway.h>
#include <tutti/ice.h>

#include "core/core_priv.h"
#include "core_fixture.h"
#include "media/leg_kind.h"
#include "transport_impl.h"

#define FAKE_KIND TT_LEG_KINDS   /* the first row without a kind of its own */

static const struct tt_core_api *api;
static struct tt_gw_handle *gw;

static int f_start(struct tt_gw_handle *h, const struct tt_core_api *a,
		   const struct tt_conf *conf, void **statep)
{
	gw = h;
	api = a;
	*statep = NULL;
	return 0;
}
static void f_stop(void *s) { (void)s; }
static void f_free(void *s) { (void)s; }
static void f_hang_up(void *s, struct tt_participant *p, const char *why) { (void)p; }

static const struct tt_gateway gw_legs = {
	.api_version = TT_GATEWAY_API_VERSION, .name = "legs", .network = "test",
	.start = f_start, .stop = f_stop, .free = f_free, .hang_up = f_hang_up,
};

static struct tt_core *make_core(void)
{
	static const struct tt_gateway *const table[] = { &gw_legs, NULL };
	return tt_test_core_make(table, "[media]\naddress = 127.0.0.1\n");
}

static struct tt_participant *join(const char *name, unsigned caps)
{
	struct tt_join j = { .room = "r", .name = name, .caps = caps };
	struct tt_participant *p = NULL;
	TT_ASSERT_INT_EQ(api->participant_join(gw, &j, &p), 0);
	return p;
}

/* Run the core's loop (and ctx, when not NULL) until *flag is set or ms have passed. */
static void pump(GMainContext *ctx, const gint *flag, int ms)
{
	gint64 end = g_get_monotonic_time() + (gint64)ms * 1000;
	while (!g_atomic_int_get(flag) && g_get_monotonic_time() < end) {
		bool busy = g_main_context_iteration(NULL, FALSE);
		if (ctx)
			busy |= g_main_context_iteration(ctx, FALSE);
		if (!busy)
			g_usleep(1000);
	}
}

static void on_worker_ping(void *w, void *arg)
{
	g_atomic_int_set((gint *)arg, 1);
}

/* Every message posted to the worker before has run. */
static void sync_worker(struct tt_core *core)
{
	gint done = 0;
	tt_worker_post(tt_workers_get(core->workers, 0), on_worker_ping, &done);
	pump(NULL, &done, 5000);
	TT_ASSERT(g_atomic_int_get(&done));
}

struct result {
	gint done;
	int err;
	enum tt_leg_kind kind;
	struct tt_audio_attached_ice ice;
};

static void on_result(void *arg, struct tt_participant *p, const struct tt_audio_attached *r)
{
	struct result *res = arg;
	res->err = r->err;
	res->kind = r->kind;
	if (!r->err && r->kind == TT_LEG_ICE)
		res->ice = r->ice;
	g_atomic_int_set(&res->done, 1);
}

static int wait_result(struct result *r)
{
	pump(NULL, &r->done, 5000);
	TT_ASSERT_MSG(g_atomic_int_get(&r->done), "no attach/update result");
	g_atomic_int_set(&r->done, 0);
	return r->err;
}

/* ---- a fake kind: its transport counts the RTP the tick sends ---- */

static struct {
	gint checks, holds, releases, opens, updates, closes, destroyed;
	gint rtp, last_pt, seq_breaks, end_of_cands, creds;
	int last_seq;                 /* worker thread only */
} F;

static int fake_send_batch(void *impl, const struct tt_transport_out *out, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *d = out[i].data;
		if (out[i].len < 12 || (d[1] >= 200 && d[1] <= 206))
			continue;   /* RTCP */
		int seq = d[2] << 8 | d[3];
		if (g_atomic_int_get(&F.rtp) && seq != ((F.last_seq + 1) & 0xffff))
			g_atomic_int_inc(&F.seq_breaks);
		F.last_seq = seq;
		g_atomic_int_set(&F.last_pt, d[1] & 0x7f);
		g_atomic_int_inc(&F.rtp);
	}
	return (int)n;
}

static void fake_destroy(void *impl)
{
	g_atomic_int_inc(&F.destroyed);
}

static const struct tt_transport_ops fake_transport = {
	.kind = "fake",
	.send_batch = fake_send_batch,
	.destroy = fake_destroy,
};

static int fake_check(const struct tt_audio_leg *al, bool update)
{
	g_atomic_int_inc(&F.checks);
	return 0;
}
static void fake_hold(struct tt_audio_leg *al) { g_atomic_int_inc(&F.holds); }
static void fake_release(struct tt_audio_leg *al) { g_atomic_int_inc(&F.releases); }

static int fake_open(struct leg *l, const struct tt_transport_cfg *tc,
		     const struct tt_audio_leg *al, struct tt_audio_attached *res)
{
	g_atomic_int_inc(&F.opens);
	g_strlcpy(l->remote, "fake", sizeof l->remote);
	return tt__transport_alloc(&l->t, tc, &fake_transport, &F);
}

static int fake_update(struct leg *l, const struct tt_audio_leg *al,
		       struct tt_audio_attached *res)
{
	g_atomic_int_inc(&F.updates);
	return 0;
}

static void fake_close(struct leg *l)
{
	TT_ASSERT(l->t);   /* leg.c frees the transport after the kind */
	g_atomic_int_inc(&F.closes);
}

static int fake_add_candidate(struct leg *l, const char *cand)
{
	if (!*cand)
		g_atomic_int_inc(&F.end_of_cands);
	return 0;
}

static int fake_set_credentials(struct leg *l, const char *ufrag, const char *pwd,
				const char *fp, bool dtls_active)
{
	g_atomic_int_inc(&F.creds);
	return 0;
}

static const struct tt__leg_kind_ops fake_ops = {
	.name = "fake",
	.check = fake_check,
	.hold = fake_hold,
	.release = fake_release,
	.open = fake_open,
	.update = fake_update,
	.close = fake_close,
	.add_candidate = fake_add_candidate,
	.set_credentials = fake_set_credentials,
};

static bool rtp_at_least(int n, int pt)
{
	gint flag = 0;
	gint64 end = g_get_monotonic_time() + 3 * G_USEC_PER_SEC;
	int from = g_atomic_int_get(&F.rtp);
	while (g_get_monotonic_time() < end) {
		if (g_atomic_int_get(&F.rtp) - from >= n && g_atomic_int_get(&F.last_pt) == pt)
			return true;
		pump(NULL, &flag, 20);
	}
	return false;
}

TT_TEST(legs_fake_kind_attach_tick_update_close)
{
	memset(&F, 0, sizeof F);
	TT_ASSERT(tt__leg_kind_register(FAKE_KIND, &fake_ops) == NULL);
	struct tt_core *core = make_core();
	struct tt_participant *p = join("alice", TT_CAP_AUDIO);
	struct tt_audio_leg leg = { .kind = FAKE_KIND, .codec = "pcmu", .pt = 0, .dtmf_pt = -1 };
	struct result r = { 0 };
	TT_ASSERT_INT_EQ(api->audio_attach(p, &leg, on_result, &r), 0);
	TT_ASSERT_INT_EQ(wait_result(&r), 0);
	TT_ASSERT_INT_EQ(r.kind, FAKE_KIND);
	TT_ASSERT_INT_EQ(F.opens, 1);
	TT_ASSERT_INT_EQ(F.holds, 1);      /* the posted copy held, and released with the result */
	TT_ASSERT_INT_EQ(F.releases, 1);

	/* the tick sends through the kind's transport: PCMU, one stream */
	TT_ASSERT_MSG(rtp_at_least(5, 0), "rtp %d, last pt %d", F.rtp, F.last_pt);
	TT_ASSERT_INT_EQ(F.seq_breaks, 0);

	/* an update: the codec side (leg.c), then the kind */
	leg.codec = "pcma";
	leg.pt = 8;
	TT_ASSERT_INT_EQ(api->audio_update(p, &leg, on_result, &r), 0);
	TT_ASSERT_INT_EQ(wait_result(&r), 0);
	TT_ASSERT_INT_EQ(F.updates, 1);
	TT_ASSERT_MSG(rtp_at_least(2, 8), "rtp %d, last pt %d", F.rtp, F.last_pt);
	TT_ASSERT_INT_EQ(F.seq_breaks, 0);   /* the same sender state across the codec change */

	/* an update of another kind is refused by the worker, a kind without a row at once */
	struct tt_audio_leg udp = { .kind = TT_LEG_UDP, .codec = "pcma", .pt = 8, .dtmf_pt = -1,
				    .udp.srtp_suite = -1 };
	TT_ASSERT_INT_EQ(api->audio_update(p, &udp, on_result, &r), 0);
	TT_ASSERT_INT_EQ(wait_result(&r), -EINVAL);
	TT_ASSERT_INT_EQ(F.updates, 1);
	struct tt_audio_leg none = leg;
	none.kind = FAKE_KIND + 1;
	TT_ASSERT_INT_EQ(api->audio_update(p, &none, on_result, &r), -EINVAL);
	none.kind = (enum tt_leg_kind)-1;
	TT_ASSERT_INT_EQ(api->audio_attach(p, &none, on_result, &r), -EINVAL);

	/* the ICE extras reach a kind that has them */
	TT_ASSERT_INT_EQ(api->audio_ice_candidate(p, ""), 0);
	sync_worker(core);
	TT_ASSERT_INT_EQ(F.end_of_cands, 1);

	/* leaving closes the leg: the kind first, then its transport */
	api->participant_leave(p, 0);
	sync_worker(core);
	TT_ASSERT_INT_EQ(F.closes, 1);
	TT_ASSERT_INT_EQ(F.destroyed, 1);
	tt__core_free(core);
	TT_ASSERT(tt__leg_kind_register(FAKE_KIND, NULL) == &fake_ops);
	TT_ASSERT_INT_EQ(F.holds, F.releases);
}

TT_TEST(legs_kind_check_runs_before_posting)
{
	struct tt_core *core = make_core();
	struct tt_participant *p = join("bob", TT_CAP_AUDIO);
	struct tt_participant *t = join("carol", TT_CAP_TEXT);
	struct result r = { 0 };
	struct tt_audio_leg bad_udp = { .kind = TT_LEG_UDP, .codec = "pcmu", .dtmf_pt = -1,
					.udp.srtp_suite = 7 };
	TT_ASSERT_INT_EQ(api->audio_attach(p, &bad_udp, on_result, &r), -EINVAL);
	/* ICE: a policy, and the peer's credentials all given or all empty */
	struct tt_audio_leg ice = { .kind = TT_LEG_ICE, .codec = "opus", .pt = 111, .dtmf_pt = -1 };
	TT_ASSERT_INT_EQ(api->audio_attach(p, &ice, on_result, &r), -EINVAL);
	g_strlcpy(ice.ice.ufrag, "abcd", sizeof ice.ice.ufrag);
	TT_ASSERT_INT_EQ(api->audio_update(p, &ice, on_result, &r), -EINVAL);
	memset(ice.ice.fingerprint, 'A', sizeof ice.ice.fingerprint);   /* no NUL */
	TT_ASSERT_INT_EQ(api->audio_update(p, &ice, on_result, &r), -EINVAL);
	/* audio_ice_credentials checks as attach does */
	TT_ASSERT_INT_EQ(api->audio_ice_credentials(t, "abcd", "0123456789abcdefghijkl",
						    "sha-256 00", true), -EPERM);
	TT_ASSERT_INT_EQ(api->audio_ice_credentials(p, "abcd", "0123456789abcdefghijkl",
						    "sha-256 00", true), -EINVAL);
	TT_ASSERT_INT_EQ(api->audio_ice_credentials(p, "abcd", NULL, NULL, true), -EINVAL);
	api->participant_leave(t, 0);
	api->participant_leave(p, 0);
	tt__core_free(core);
}

/* ---- ICE: the peer's credentials after the attach and after its candidates ---- */

#ifdef TT_TEST_HAVE_NICE
struct peer {
	struct tt_transport *t;
	struct tt_ice *ice;
	struct tt_participant *p;     /* the bridge's participant this peer talks to */
	GPtrArray *ours;              /* our candidates that came before the peer existed */
	gint gathered, rx;
	int closed;                   /* the reason the peer's transport ended, or 0 */
};

static void peer_cand(void *arg, const char *cand)
{
	struct peer *pr = arg;
	TT_ASSERT_INT_EQ(api->audio_ice_candidate(pr->p, cand), 0);   /* NULL: end */
	if (!cand)
		g_atomic_int_set(&pr->gathered, 1);
}

static void peer_rx(void *arg, const struct tt_transport_pkt *pkt)
{
	struct peer *pr = arg;
	if (!pkt->is_rtcp)
		g_atomic_int_inc(&pr->rx);
}

static void peer_closed(void *arg, int reason)
{
	struct peer *pr = arg;
	pr->closed = reason ? reason : -EIO;
}

/* Our trickled candidates, on the core thread. */
static void our_cand(void *arg, struct tt_participant *p, const char *cand)
{
	struct peer *pr = arg;
	if (pr->ice)
		TT_ASSERT(tt_ice_add_candidate(pr->ice, cand) == 0);
	else
		g_ptr_array_add(pr->ours, g_strdup(cand ? cand : ""));
}

static struct tt_ice_policy *make_policy(void)
{
	struct tt_dtls_cert *cert = NULL;
	TT_ASSERT_INT_EQ(tt_dtls_cert_generate(&cert), 0);
	struct tt_ice_settings s = { .allow_loopback = true, .cert = cert };
	struct tt_ice_policy *pol = NULL;
	TT_ASSERT_INT_EQ(tt_ice_policy_alloc(&pol, &s), 0);
	tt_dtls_cert_unref(cert);
	return pol;
}

static bool peer_has_media(struct peer *pr)
{
	struct tt_ice_info info;
	tt_ice_info(pr->ice, &info);
	return info.connected && info.dtls_done && g_atomic_int_get(&pr->rx) >= 5;
}

TT_TEST(legs_ice_credentials_after_attach)
{
	struct tt_core *core = make_core();
	struct tt_ice_policy *ours = make_policy(), *theirs = make_policy();
	struct peer pr = { .ours = g_ptr_array_new_with_free_func(g_free) };
	pr.p = join("web", TT_CAP_AUDIO);
	/* we answer as the DTLS client and the ICE controlled side, as for a browser's offer */
	struct tt_audio_leg leg = {
		.kind = TT_LEG_ICE, .codec = "opus", .pt = 111, .ptime = 20, .fec = true,
		.dtmf_pt = -1,
		.ice = { .policy = ours, .controlling = false, .dtls_active = true,
			 .cand_h = our_cand, .cand_arg = &pr },
	};
	struct result r = { 0 };
	TT_ASSERT_INT_EQ(api->audio_attach(pr.p, &leg, on_result, &r), 0);
	TT_ASSERT_INT_EQ(wait_result(&r), 0);
	TT_ASSERT_INT_EQ(r.kind, TT_LEG_ICE);
	TT_ASSERT_INT_EQ(tt_ice_credentials_check(r.ice.ufrag, r.ice.pwd, r.ice.fingerprint), 0);
	char our_ufrag[sizeof r.ice.ufrag];
	g_strlcpy(our_ufrag, r.ice.ufrag, sizeof our_ufrag);

	/* the peer knows all of ours from the start */
	GMainContext *pctx = g_main_context_new();
	struct tt_transport_cfg cfg = { .ctx = pctx, .recv_h = peer_rx, .close_h = peer_closed,
					.arg = &pr, .clock_rate = 48000, .dtmf_pt = -1 };
	struct tt_ice_cfg icfg = { .policy = theirs, .controlling = true, .cand_h = peer_cand,
				   .cand_arg = &pr };
	TT_ASSERT_INT_EQ(tt_transport_ice_alloc(&pr.t, &pr.ice, &cfg, &icfg), 0);
	TT_ASSERT_INT_EQ(tt_ice_set_remote(pr.ice, r.ice.ufrag, r.ice.pwd, r.ice.fingerprint,
					   TT_DTLS_PASSIVE), 0);
	for (guint i = 0; i < pr.ours->len; i++) {
		const char *c = g_ptr_array_index(pr.ours, i);
		TT_ASSERT(tt_ice_add_candidate(pr.ice, *c ? c : NULL) == 0);
	}

	/* every candidate of the peer reaches the leg before its credentials do */
	pump(pctx, &pr.gathered, 5000);
	TT_ASSERT_MSG(g_atomic_int_get(&pr.gathered), "the peer did not finish gathering");
	sync_worker(core);
	gint never = 0;
	pump(pctx, &never, 300);
	struct tt_ice_info info;
	tt_ice_info(pr.ice, &info);
	TT_ASSERT_MSG(!info.dtls_done, "DTLS cannot finish before the leg knows a fingerprint");

	const char *fp = tt_dtls_cert_fingerprint(tt_ice_policy_cert(theirs));
	TT_ASSERT_INT_EQ(api->audio_ice_credentials(pr.p, tt_ice_ufrag(pr.ice), tt_ice_pwd(pr.ice),
						    fp, true), 0);
	gint64 end = g_get_monotonic_time() + 15 * G_USEC_PER_SEC;
	while (!peer_has_media(&pr) && g_get_monotonic_time() < end)
		pump(pctx, &never, 20);
	tt_ice_info(pr.ice, &info);
	TT_ASSERT_MSG(info.connected && info.dtls_done, "ICE %d, DTLS %d, ended %s",
		      info.connected, info.dtls_done, pr.closed ? tt_strerror(pr.closed) : "no");
	TT_ASSERT_MSG(g_atomic_int_get(&pr.rx) >= 5, "the peer got %d RTP packets", pr.rx);

	/* an update: the same credentials change nothing, others would be an ICE restart */
	g_strlcpy(leg.ice.ufrag, tt_ice_ufrag(pr.ice), sizeof leg.ice.ufrag);
	g_strlcpy(leg.ice.pwd, tt_ice_pwd(pr.ice), sizeof leg.ice.pwd);
	g_strlcpy(leg.ice.fingerprint, fp, sizeof leg.ice.fingerprint);
	TT_ASSERT_INT_EQ(api->audio_update(pr.p, &leg, on_result, &r), 0);
	TT_ASSERT_INT_EQ(wait_result(&r), 0);
	TT_ASSERT_STR_EQ(r.ice.ufrag, our_ufrag);   /* ours as they were */
	g_strlcpy(leg.ice.ufrag, "zzzz", sizeof leg.ice.ufrag);
	TT_ASSERT_INT_EQ(api->audio_update(pr.p, &leg, on_result, &r), 0);
	TT_ASSERT_INT_EQ(wait_result(&r), -EALREADY);
	/* and the media goes on */
	int rx = g_atomic_int_get(&pr.rx);
	end = g_get_monotonic_time() + 3 * G_USEC_PER_SEC;
	while (g_atomic_int_get(&pr.rx) < rx + 5 && g_get_monotonic_time() < end)
		pump(pctx, &never, 20);
	TT_ASSERT(g_atomic_int_get(&pr.rx) >= rx + 5);

	api->participant_leave(pr.p, 0);
	sync_worker(core);
	tt_transport_free(pr.t);
	tt__core_free(core);
	g_ptr_array_free(pr.ours, TRUE);
	tt_ice_policy_unref(ours);
	tt_ice_policy_unref(theirs);
	g_main_context_unref(pctx);
}
#endif
