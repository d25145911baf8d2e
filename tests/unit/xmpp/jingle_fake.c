/* jingle_fake.c: a fake core for the jingle files (jingle_fake.h). */
#include "jingle_fake.h"

#include <errno.h>
#include <string.h>
#include <tutti/ice.h>

#include "tt_test.h"

struct fake F;

/* ---- what the jingle files take from the rest of the gateway ---- */

void xg_reply_error(struct xg_gw *gw, xmpp_stanza_t *st, const char *type, const char *cond,
		    const char *text)
{
	xmpp_stanza_t *r = xg_reply(gw, st);
	xmpp_stanza_set_type(r, "error");
	xmpp_stanza_t *e = xg_el(gw->ctx, r, "error", NULL);
	xmpp_stanza_set_type(e, type);
	xg_el(gw->ctx, e, cond, "urn:ietf:params:xml:ns:xmpp-stanzas");
	(void)text;
	xg_send(gw, r);
	xmpp_stanza_release(r);
}

struct tt_participant *xg_muc_occupant_by_jid(struct xg_gw *gw, const char *room,
					      const char *real_jid)
{
	(void)gw;
	(void)room;
	(void)real_jid;
	return F.occupant;
}

void xg_muc_tell_participant(struct xg_gw *gw, struct tt_participant *p, const char *text)
{
	(void)gw;
	(void)p;
	(void)text;
}

/* ---- the core ---- */

static struct tt_participant *part_new(const char *name, const char *room, unsigned caps)
{
	struct tt_participant *p = g_new0(struct tt_participant, 1);
	g_snprintf(p->id, sizeof p->id, "p%u", F.n_parts + 1);
	g_strlcpy(p->name, name, sizeof p->name);
	g_strlcpy(p->room, room, sizeof p->room);
	p->caps = caps;
	p->refs = 1;
	p->cands = g_ptr_array_new_with_free_func(g_free);
	TT_ASSERT(F.n_parts < G_N_ELEMENTS(F.parts));
	F.parts[F.n_parts++] = p;
	return p;
}

struct tt_participant *fake_occupant(const char *name)
{
	struct tt_participant *p = part_new(name, "r", TT_CAP_TEXT);
	F.occupant = p;
	return p;
}

static int room_check(struct tt_core *c, const char *room, const char *pin)
{
	return strcmp(room, "r") ? -ENOENT : F.room_rc;
}

static int join(struct tt_gw_handle *gw, const struct tt_join *req, struct tt_participant **pp)
{
	int rc = room_check(NULL, req->room, req->pin);
	if (rc)
		return rc;
	struct tt_participant *p = part_new(req->name, req->room, req->caps);
	p->gw_data = req->gw_data;
	p->refs++;   /* the fake's own, kept for the checks */
	*pp = p;
	return 0;
}

static struct tt_participant *leave(struct tt_participant *p, int reason)
{
	p->left = true;
	p->refs--;
	return NULL;
}

static struct tt_participant *ref(struct tt_participant *p)
{
	p->refs++;
	return p;
}

static struct tt_participant *unref(struct tt_participant *p)
{
	p->refs--;
	return NULL;
}

static const char *pid(const struct tt_participant *p) { return p->id; }

static int set_state(struct tt_participant *p, unsigned bits, bool on)
{
	p->state = on ? p->state | bits : p->state & ~bits;
	return 0;
}

static int attach(struct tt_participant *p, const struct tt_audio_leg *leg,
		  tt_audio_attached_h cb, void *arg)
{
	if (p->left)
		return -ENOENT;
	if (!(p->caps & TT_CAP_AUDIO))
		return -EPERM;
	p->leg = *leg;
	p->has_leg = true;
	p->cb = cb;
	p->cb_arg = arg;
	return 0;
}

static int ice_candidate(struct tt_participant *p, const char *cand)
{
	if (!(p->caps & TT_CAP_AUDIO))
		return -EPERM;
	if (cand && *cand && tt_ice_candidate_check(cand) < 0)
		return -EINVAL;
	g_ptr_array_add(p->cands, g_strdup(cand ? cand : ""));
	return 0;
}

static int ice_credentials(struct tt_participant *p, const char *ufrag, const char *pwd,
			   const char *fp, bool active)
{
	int rc = tt_ice_credentials_check(ufrag, pwd, fp);
	if (!rc)
		g_strlcpy(p->cred_ufrag, ufrag, sizeof p->cred_ufrag);
	return rc;
}

static int audio_add(struct tt_participant *p, tt_audio_ended_h ended, void *arg)
{
	if (p->caps & TT_CAP_AUDIO)
		return -EALREADY;
	p->caps |= TT_CAP_AUDIO;
	p->added = true;
	p->ended = ended;
	p->ended_arg = arg;
	return 0;
}

static int audio_remove(struct tt_participant *p)
{
	if (!(p->caps & TT_CAP_AUDIO))
		return -EALREADY;
	p->caps &= ~(unsigned)TT_CAP_AUDIO;
	p->added = false;
	p->has_leg = false;
	return 0;
}

static const struct tt_core_api api = {
	.api_version = TT_CORE_API_VERSION,
	.room_check = room_check,
	.participant_join = join,
	.participant_leave = leave,
	.participant_ref = ref,
	.participant_unref = unref,
	.participant_id = pid,
	.participant_set_state = set_state,
	.audio_attach = attach,
	.audio_ice_candidate = ice_candidate,
	.audio_ice_credentials = ice_credentials,
	.audio_add = audio_add,
	.audio_remove = audio_remove,
};

void fake_attach_done(struct tt_participant *p, int err)
{
	TT_ASSERT(p->cb);
	struct tt_audio_attached r = { .err = err, .kind = TT_LEG_ICE };
	g_strlcpy(r.ice.ufrag, "OurU", sizeof r.ice.ufrag);
	g_strlcpy(r.ice.pwd, "OurPasswordOf22CharsXY", sizeof r.ice.pwd);
	g_strlcpy(r.ice.fingerprint,
		  tt_dtls_cert_fingerprint(tt_ice_policy_cert(F.gw.policy)),
		  sizeof r.ice.fingerprint);
	tt_audio_attached_h cb = p->cb;
	p->cb = NULL;
	cb(p->cb_arg, p, &r);
}

/* ---- the gateway ---- */

static void capture(struct xg_gw *gw, xmpp_stanza_t *st)
{
	char *buf = NULL;
	size_t len = 0;
	TT_ASSERT(xmpp_stanza_to_text(st, &buf, &len) == 0);
	/* a component's stanzas need a 'from' on its domain, or the server drops them */
	const char *from = xmpp_stanza_get_from(st);
	TT_ASSERT_MSG(from && (g_str_has_suffix(from, "@call.test") || strstr(from, "@call.test/") ||
			       !strcmp(from, "call.test")), "from %s: %s", from, buf);
	g_ptr_array_add(F.sent, g_strndup(buf, len));
	xmpp_free(gw->ctx, buf);
}

void fake_setup(void)
{
	memset(&F, 0, sizeof F);
	F.sent = g_ptr_array_new_with_free_func(g_free);
	xmpp_initialize();
	F.gw.ctx = xmpp_ctx_new(NULL, NULL);
	F.gw.api = &api;
	F.gw.send = capture;
	F.gw.cfg.domain = g_strdup("conf.test");
	F.gw.cfg.call_domain = g_strdup("call.test");
	struct tt_dtls_cert *cert = NULL;
	TT_ASSERT_INT_EQ(tt_dtls_cert_generate(&cert), 0);
	struct tt_ice_settings s = { .allow_loopback = true, .cert = cert };
	TT_ASSERT_INT_EQ(tt_ice_policy_alloc(&F.gw.policy, &s), 0);
	tt_dtls_cert_unref(cert);
	TT_ASSERT_INT_EQ(xg_jingle_new(&F.gw), 0);
}

void fake_teardown(void)
{
	/* the core runs every attach's callback, also after the participant left */
	for (unsigned i = 0; i < F.n_parts; i++)
		if (F.parts[i]->cb)
			fake_attach_done(F.parts[i], -ENOENT);
	xg_jingle_free(&F.gw);
	tt_ice_policy_unref(F.gw.policy);
	xmpp_ctx_free(F.gw.ctx);
	xmpp_shutdown();
	g_free(F.gw.cfg.domain);
	g_free(F.gw.cfg.call_domain);
	for (unsigned i = 0; i < F.n_parts; i++) {
		g_ptr_array_free(F.parts[i]->cands, TRUE);
		g_free(F.parts[i]);
	}
	g_ptr_array_free(F.sent, TRUE);
}

void fake_in(const char *xml)
{
	xmpp_stanza_t *st = xmpp_stanza_new_from_string(F.gw.ctx, xml);
	TT_ASSERT_MSG(st, "not XML: %s", xml);
	if (!xg_jingle_stanza(&F.gw, st))
		xg_reply_error(&F.gw, st, "cancel", "service-unavailable", NULL);
	xmpp_stanza_release(st);
}

const char *fake_sent(unsigned i)
{
	return i < F.sent->len ? g_ptr_array_index(F.sent, i) : NULL;
}

int fake_find(unsigned from, const char *needle)
{
	for (unsigned i = from; i < F.sent->len; i++)
		if (strstr(g_ptr_array_index(F.sent, i), needle))
			return (int)i;
	return -1;
}

/* ---- matching stanzas whatever the attribute order ---- */

static bool el_matches(xmpp_stanza_t *e, const char *name, gchar **kv, const char *text)
{
	if (!xmpp_stanza_is_tag(e) || strcmp(xmpp_stanza_get_name(e), name))
		return false;
	for (gchar **p = kv; *p; p++) {
		gchar **pair = g_strsplit(*p, "=", 2);
		const char *v = pair[0] && pair[1] ? (!strcmp(pair[0], "xmlns")
							       ? xmpp_stanza_get_ns(e)
							       : xmpp_stanza_get_attribute(e, pair[0]))
						   : NULL;
		bool ok = v && !strcmp(v, pair[1]);
		g_strfreev(pair);
		if (!ok)
			return false;
	}
	if (text) {
		char *t = xmpp_stanza_get_text(e);
		bool ok = t && !strcmp(t, text);
		xmpp_free(xmpp_stanza_get_context(e), t);
		return ok;
	}
	return true;
}

static bool find_el(xmpp_stanza_t *e, const char *name, gchar **kv, const char *text)
{
	if (el_matches(e, name, kv, text))
		return true;
	for (xmpp_stanza_t *c = xmpp_stanza_get_children(e); c; c = xmpp_stanza_get_next(c))
		if (xmpp_stanza_is_tag(c) && find_el(c, name, kv, text))
			return true;
	return false;
}

bool xml_has(const char *xml, const char *name, const char *attrs, const char *text)
{
	if (!xml)
		return false;
	xmpp_ctx_t *ctx = xmpp_ctx_new(NULL, NULL);
	xmpp_stanza_t *st = xmpp_stanza_new_from_string(ctx, xml);
	gchar **kv = g_strsplit(attrs ? attrs : "", ";", 0);
	if (kv[0] && !kv[0][0]) {
		g_strfreev(kv);
		kv = g_new0(gchar *, 1);
	}
	bool ok = st && find_el(st, name, kv, text);
	g_strfreev(kv);
	if (st)
		xmpp_stanza_release(st);
	xmpp_ctx_free(ctx);
	return ok;
}

int fake_find_el(unsigned from, const char *name, const char *attrs)
{
	for (unsigned i = from; i < F.sent->len; i++)
		if (xml_has(g_ptr_array_index(F.sent, i), name, attrs, NULL))
			return (int)i;
	return -1;
}
