/* leg_ice.c: the ICE kind of leg (TT_LEG_ICE): an ICE + DTLS-SRTP transport (transport/
 * ice.c) on the worker. Our trickled candidates go to the core; the peer's candidates and
 * credentials come from it (audio_ice_candidate, audio_ice_credentials), at any time after
 * the attach: the peer's credentials may come after its candidates. */
#define TT_LOG_DOMAIN "media"
#include "leg_kind.h"

#include <string.h>
#include <tutti/errno.h>
#include <tutti/ice.h>
#include <tutti/log.h>

/* core.h spells the ICE sizes out (it does not include ice.h); keep them in step. */
#define FIELD_SIZE(type, f) sizeof(((type *)0)->f)
_Static_assert(FIELD_SIZE(struct tt_audio_leg_ice, ufrag) == TT_ICE_UFRAG_MAX + 1, "ufrag");
_Static_assert(FIELD_SIZE(struct tt_audio_leg_ice, pwd) == TT_ICE_PWD_MAX + 1, "pwd");
_Static_assert(FIELD_SIZE(struct tt_audio_leg_ice, fingerprint) == TT_DTLS_FP_MAX, "fp");
_Static_assert(FIELD_SIZE(struct tt_audio_attached_ice, ufrag) == TT_ICE_UFRAG_MAX + 1, "ufrag");
_Static_assert(FIELD_SIZE(struct tt_audio_attached_ice, pwd) == TT_ICE_PWD_MAX + 1, "pwd");
_Static_assert(FIELD_SIZE(struct tt_audio_attached_ice, fingerprint) == TT_DTLS_FP_MAX, "fp");

/* The peer's credentials, as audio_ice_credentials or a leg description gives them. */
struct ice_creds {
	char ufrag[TT_ICE_UFRAG_MAX + 1];
	char pwd[TT_ICE_PWD_MAX + 1];
	char fp[TT_DTLS_FP_MAX];
	bool dtls_active;
};

struct ice_leg {
	struct tt_ice *ice;           /* the transport's ICE side (owned by l->t) */
	tt_audio_candidate_h cand_h;  /* core-thread callback for our trickled candidates */
	void *cand_arg;
	bool have_remote;
	struct ice_creds remote;      /* the peer's, once have_remote */
	struct tt_audio_attached_ice ours;
};

/* ---- core thread ---- */

static bool terminated(const char *s, size_t cap)
{
	return memchr(s, '\0', cap) != NULL;
}

/* All three empty (given later), or all three usable. */
static bool creds_usable(const char *ufrag, const char *pwd, const char *fp)
{
	if (!*ufrag && !*pwd && !*fp)
		return true;
	return tt_ice_credentials_check(ufrag, pwd, fp) == 0;
}

static int ice_check(const struct tt_audio_leg *al, bool update)
{
	const struct tt_audio_leg_ice *i = &al->ice;
	if ((!update && !i->policy) || !terminated(i->ufrag, sizeof i->ufrag) ||
	    !terminated(i->pwd, sizeof i->pwd) ||
	    !terminated(i->fingerprint, sizeof i->fingerprint))
		return -EINVAL;
	return creds_usable(i->ufrag, i->pwd, i->fingerprint) ? 0 : -EINVAL;
}

static void ice_hold(struct tt_audio_leg *al)
{
	al->ice.policy = tt_ice_policy_ref(al->ice.policy);
}

static void ice_release(struct tt_audio_leg *al)
{
	al->ice.policy = tt_ice_policy_unref(al->ice.policy);
}

/* ---- our candidates: worker -> core ---- */

struct cand_msg {
	struct tt_participant *p;      /* reference owned by the message */
	tt_audio_candidate_h cb;
	void *arg;
	char *cand;                    /* NULL: gathering done */
};

static void cand_on_core(void *core, void *arg)
{
	struct cand_msg *msg = arg;
	if (!tt__participant_left(msg->p) && msg->cb)
		msg->cb(msg->arg, msg->p, msg->cand);
	tt__participant_unref(msg->p);
	g_free(msg->cand);
	g_free(msg);
}

static void on_local_candidate(void *arg, const char *cand)
{
	struct leg *l = arg;
	struct ice_leg *il = l->ks;
	struct cand_msg *msg = g_new0(struct cand_msg, 1);
	msg->p = tt__participant_ref(l->mp->p);
	msg->cb = il->cand_h;
	msg->arg = il->cand_arg;
	msg->cand = g_strdup(cand);
	tt_mq_post(l->mp->m->core_mq, cand_on_core, msg);
}

/* ---- worker thread ---- */

/* The first credentials start the checks; the same again change nothing; others would be
 * an ICE restart, which the transport does not do. */
static int set_remote(struct leg *l, const char *ufrag, const char *pwd, const char *fp,
		      bool dtls_active)
{
	struct ice_leg *il = l->ks;
	if (il->have_remote)
		return !strcmp(il->remote.ufrag, ufrag) && !strcmp(il->remote.pwd, pwd) &&
		       !g_ascii_strcasecmp(il->remote.fp, fp) ? 0 : -EALREADY;
	int rc = tt_ice_set_remote(il->ice, ufrag, pwd, fp,
				   dtls_active ? TT_DTLS_ACTIVE : TT_DTLS_PASSIVE);
	if (rc)
		return rc;
	il->have_remote = true;
	g_strlcpy(il->remote.ufrag, ufrag, sizeof il->remote.ufrag);
	g_strlcpy(il->remote.pwd, pwd, sizeof il->remote.pwd);
	g_strlcpy(il->remote.fp, fp, sizeof il->remote.fp);
	il->remote.dtls_active = dtls_active;
	return 0;
}

/* audio_ice_credentials has no result to give: a refusal is logged, and the leg goes on
 * (without the peer's fingerprint DTLS never finishes, no media is accepted, and the
 * transport ends at [media] inactivity_s like any silent one). */
static int ice_set_credentials(struct leg *l, const char *ufrag, const char *pwd,
			       const char *fp, bool dtls_active)
{
	int rc = set_remote(l, ufrag, pwd, fp, dtls_active);
	const char *id = tt__participant_id(l->mp->p);
	if (rc == -EALREADY)
		tt_warn("%s: the peer changed its ICE credentials (an ICE restart); keeping the "
			"first", id);
	else if (rc)
		tt_warn("%s: cannot use the peer's ICE credentials: %s", id, tt_strerror(rc));
	return rc;
}

static int ice_open(struct leg *l, const struct tt_transport_cfg *tc,
		    const struct tt_audio_leg *al, struct tt_audio_attached *res)
{
	const struct tt_audio_leg_ice *i = &al->ice;
	struct ice_leg *il = g_new0(struct ice_leg, 1);
	il->cand_h = i->cand_h;
	il->cand_arg = i->cand_arg;
	l->ks = il;
	/* host candidates are signalled from inside the alloc: l->ks is set before the
	 * first, and they reach the gateway before the attach result */
	struct tt_ice_cfg ic = { .policy = i->policy, .controlling = i->controlling,
				 .cand_h = on_local_candidate, .cand_arg = l };
	/* ICE-lite shares the worker's port with plain RTP ([media] address and range) */
	const struct tt_media_cfg *mc = &l->mp->m->cfg;
	if (tt_ice_policy_lite(i->policy) && !i->controlling)
		ic.mux = tt_worker_udp_mux(l->mp->m->worker, mc->address, mc->port_min,
					   mc->port_max);
	int rc = tt_transport_ice_alloc(&l->t, &il->ice, tc, &ic);
	if (rc == 0 && i->ufrag[0])
		rc = set_remote(l, i->ufrag, i->pwd, i->fingerprint, i->dtls_active);
	if (rc) {
		l->t = tt_transport_free(l->t);
		g_free(il);
		l->ks = NULL;
		return rc;
	}
	g_strlcpy(il->ours.ufrag, tt_ice_ufrag(il->ice), sizeof il->ours.ufrag);
	g_strlcpy(il->ours.pwd, tt_ice_pwd(il->ice), sizeof il->ours.pwd);
	g_strlcpy(il->ours.fingerprint, tt_dtls_cert_fingerprint(tt_ice_policy_cert(i->policy)),
		  sizeof il->ours.fingerprint);
	struct tt_ice_info info;
	tt_ice_info(il->ice, &info);
	il->ours.lite = info.lite;
	res->ice = il->ours;
	l->srtp = true;
	g_strlcpy(l->remote, "ice", sizeof l->remote);
	return 0;
}

/* Only the peer's credentials can change here: the policy and the roles are the agent's
 * from its start. */
static int ice_update(struct leg *l, const struct tt_audio_leg *al,
		      struct tt_audio_attached *res)
{
	const struct tt_audio_leg_ice *i = &al->ice;
	struct ice_leg *il = l->ks;
	if (i->ufrag[0]) {
		int rc = set_remote(l, i->ufrag, i->pwd, i->fingerprint, i->dtls_active);
		if (rc)
			return rc;
	}
	res->ice = il->ours;
	return 0;
}

static void ice_close(struct leg *l)
{
	g_free(l->ks);   /* il->ice belongs to l->t */
	l->ks = NULL;
}

static int ice_add_candidate(struct leg *l, const char *cand)
{
	struct ice_leg *il = l->ks;
	return tt_ice_add_candidate(il->ice, cand);  /* unusable ones are skipped */
}

const struct tt__leg_kind_ops tt__leg_ice_ops = {
	.name = "ice",
	.check = ice_check,
	.hold = ice_hold,
	.release = ice_release,
	.open = ice_open,
	.update = ice_update,
	.close = ice_close,
	.add_candidate = ice_add_candidate,
	.set_credentials = ice_set_credentials,
};

/* ---- the peer's candidates and credentials: core -> worker ---- */

static void cand_on_worker(struct leg *l, void *cand)
{
	if (l->ops->add_candidate)
		l->ops->add_candidate(l, cand);
}

int tt__room_media_ice_candidate(struct tt_room_media *m, struct tt_participant *p,
				 const char *cand)
{
	/* checked here, on the caller's thread, so that the gateway can tell its client; the
	 * worker only drops what is well formed but unusable */
	if (cand && *cand && (strpbrk(cand, "\r\n") || tt_ice_candidate_check(cand) < 0))
		return -EINVAL;
	return tt__leg_post(m, p, cand_on_worker, g_strdup(cand && *cand ? cand : ""), g_free);
}

static void creds_on_worker(struct leg *l, void *arg)
{
	struct ice_creds *c = arg;
	if (l->ops->set_credentials)
		l->ops->set_credentials(l, c->ufrag, c->pwd, c->fp, c->dtls_active);
}

int tt__room_media_ice_credentials(struct tt_room_media *m, struct tt_participant *p,
				   const char *ufrag, const char *pwd, const char *fp,
				   bool dtls_active)
{
	if (!ufrag || !pwd || !fp || tt_ice_credentials_check(ufrag, pwd, fp))
		return -EINVAL;
	struct ice_creds *c = g_new0(struct ice_creds, 1);
	g_strlcpy(c->ufrag, ufrag, sizeof c->ufrag);
	g_strlcpy(c->pwd, pwd, sizeof c->pwd);
	g_strlcpy(c->fp, fp, sizeof c->fp);
	c->dtls_active = dtls_active;
	return tt__leg_post(m, p, creds_on_worker, c, g_free);
}
