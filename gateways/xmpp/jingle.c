/* jingle.c: calls to ROOM@call_domain. A session-initiate (after a JMI proceed or without
 * one) becomes an ICE leg: the caller's own participant (XG_PEER_CALLER, audio only), or
 * the audio of its MUC occupant when it is one (audio_add). Candidates travel one per
 * transport-info IQ both ways; either side's session-terminate, the caller's unavailable
 * presence, or the leg's end ends the call. Every stanza is described by jingle_parse.c
 * before anything changes; what is wrong gets an IQ error and changes nothing. */
#define TT_LOG_DOMAIN "xmpp"
#include <errno.h>
#include <string.h>
#include <tutti/conf.h>
#include <tutti/errno.h>
#include <tutti/log.h>

#include "jingle_priv.h"

/* ---- the call table ---- */

static char *call_key(const char *caller, const char *sid)
{
	return g_strdup_printf("%s\n%s", caller, sid);
}

struct xg_call *xg_call_find(struct xg_gw *gw, const char *caller, const char *sid)
{
	if (!gw->jingle || !caller || !sid)
		return NULL;
	char *k = call_key(caller, sid);
	struct xg_call *c = g_hash_table_lookup(gw->jingle->calls, k);
	g_free(k);
	return c;
}

static struct xg_call *call_ref(struct xg_call *c)
{
	c->ref++;
	return c;
}

static void call_unref(struct xg_call *c)
{
	if (--c->ref)
		return;
	if (c->timer)
		g_source_remove(c->timer);
	if (c->early_cands)
		g_ptr_array_free(c->early_cands, TRUE);
	g_free(c->offer);
	g_free(c->sid);
	g_free(c->caller);
	g_free(c->local);
	g_free(c->room);
	g_free(c);
}

struct xg_call *xg_call_new(struct xg_gw *gw, const char *caller, const char *sid,
			    const char *local, const char *room)
{
	char *k = call_key(caller, sid);
	if (g_hash_table_contains(gw->jingle->calls, k) ||
	    g_hash_table_size(gw->jingle->calls) >= XG_CALL_MAX) {
		g_free(k);
		return NULL;
	}
	struct xg_call *c = g_new0(struct xg_call, 1);
	c->peer.kind = XG_PEER_CALLER;
	c->gw = gw;
	c->ref = 1;
	c->state = XG_CALL_PROPOSED;
	c->sid = g_strdup(sid);
	c->caller = g_strdup(caller);
	c->local = g_strdup(local);
	c->room = g_strdup(room);
	g_hash_table_insert(gw->jingle->calls, k, c);
	return c;
}

static struct xg_call *call_of_participant(struct xg_gw *gw, const struct tt_participant *p)
{
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, gw->jingle->calls);
	while (g_hash_table_iter_next(&it, NULL, &v))
		if (((struct xg_call *)v)->p == p)
			return v;
	return NULL;
}

char *xg_call_room_of(struct xg_gw *gw, const char *jid)
{
	if (!jid || !gw->cfg.call_domain)
		return NULL;
	const char *at = strchr(jid, '@'), *slash = strchr(jid, '/');
	if (!at || (slash && slash < at) || at == jid || at - jid > 64)
		return NULL;
	const char *dom = at + 1;
	size_t dlen = slash ? (size_t)(slash - dom) : strlen(dom);
	if (dlen != strlen(gw->cfg.call_domain) ||
	    g_ascii_strncasecmp(dom, gw->cfg.call_domain, dlen))
		return NULL;
	return g_strndup(jid, (gsize)(at - jid));
}

/* ---- sending ---- */

void xg_call_iq(struct xg_call *c, xmpp_stanza_t *el)
{
	struct xg_gw *gw = c->gw;
	xmpp_stanza_t *iq = xg_el(gw->ctx, NULL, "iq", NULL);
	xmpp_stanza_set_type(iq, "set");
	char id[64];
	g_snprintf(id, sizeof id, "jq%lu", ++gw->jingle->next_id);
	xmpp_stanza_set_id(iq, id);
	xmpp_stanza_set_from(iq, c->local);
	xmpp_stanza_set_to(iq, c->caller);
	const char *action = xmpp_stanza_get_attribute(el, "action");
	if (action && !strcmp(action, "session-accept"))
		g_strlcpy(c->accept_id, id, sizeof c->accept_id);
	xmpp_stanza_add_child_ex(iq, el, 0);
	xg_send(gw, iq);
	xmpp_stanza_release(iq);
}

/* Not xmpp_stanza_reply: it copies every attribute of the request, and a parsed xml:lang
 * comes back as a second, unnamespaced lang='..' (clients ignore it; it is still wrong). */
xmpp_stanza_t *xg_reply(struct xg_gw *gw, xmpp_stanza_t *st)
{
	xmpp_stanza_t *r = xmpp_stanza_new(gw->ctx);
	xmpp_stanza_set_name(r, xmpp_stanza_get_name(st));
	const char *id = xmpp_stanza_get_id(st);
	if (id)
		xmpp_stanza_set_id(r, id);
	if (xmpp_stanza_get_from(st))
		xmpp_stanza_set_to(r, xmpp_stanza_get_from(st));
	if (xmpp_stanza_get_to(st))
		xmpp_stanza_set_from(r, xmpp_stanza_get_to(st));
	return r;
}

static void ack(struct xg_gw *gw, xmpp_stanza_t *st)
{
	xmpp_stanza_t *r = xg_reply(gw, st);
	xmpp_stanza_set_type(r, "result");
	xg_send(gw, r);
	xmpp_stanza_release(r);
}

/* An IQ error with a Jingle error condition (XEP-0166 section 10) beside the stanza one. */
static void jerror(struct xg_gw *gw, xmpp_stanza_t *st, const char *type, const char *cond,
		   const char *jcond, const char *text)
{
	xmpp_stanza_t *r = xg_reply(gw, st);
	xmpp_stanza_set_type(r, "error");
	xmpp_stanza_t *e = xg_el(gw->ctx, r, "error", NULL);
	xmpp_stanza_set_type(e, type);
	xg_el(gw->ctx, e, cond, "urn:ietf:params:xml:ns:xmpp-stanzas");
	if (jcond)
		xg_el(gw->ctx, e, jcond, XG_NS_JINGLE_ERRORS);
	if (text) {
		xmpp_stanza_t *t = xg_el(gw->ctx, e, "text", "urn:ietf:params:xml:ns:xmpp-stanzas");
		xmpp_stanza_t *body = xmpp_stanza_new(gw->ctx);
		xmpp_stanza_set_text(body, text);
		xmpp_stanza_add_child_ex(t, body, 0);
	}
	xg_send(gw, r);
	xmpp_stanza_release(r);
}

/* ---- ending ---- */

void xg_call_end(struct xg_call *c, const char *cond, const char *text)
{
	struct xg_gw *gw = c->gw;
	if (c->state == XG_CALL_ENDED)
		return;
	bool had_session = c->state != XG_CALL_PROPOSED;
	c->state = XG_CALL_ENDED;
	if (c->timer) {
		g_source_remove(c->timer);
		c->timer = 0;
	}
	if (cond && had_session)
		xg_call_iq(c, xg_jingle_terminate(gw->ctx, c->sid, cond, text));
	if (c->jmi && had_session)
		xg_jmi_finish(c, cond);
	tt_info("call %s from %s to %s ended (%s)", c->sid, c->caller, c->room,
		cond ? cond : "by the caller");
	call_ref(c);
	char *k = call_key(c->caller, c->sid);
	g_hash_table_remove(gw->jingle->calls, k);   /* the table's reference */
	g_free(k);
	/* out of the table first: the roster event of the leave must not find it */
	struct tt_participant *p = c->p;
	c->p = NULL;
	if (p && c->occupant) {
		gw->api->audio_remove(p);   /* -EALREADY when its leg's end removed it */
		gw->api->participant_unref(p);
	} else if (p) {
		gw->api->participant_leave(p, 0);
	}
	call_unref(c);
}

void xg_calls_end_for(struct xg_gw *gw, const char *caller)
{
	if (!gw->jingle || !caller)
		return;
	bool bare = !strchr(caller, '/');
	size_t n = strlen(caller);
	GPtrArray *ends = g_ptr_array_new();
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, gw->jingle->calls);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		struct xg_call *c = v;
		if (!strcmp(c->caller, caller) ||
		    (bare && !strncmp(c->caller, caller, n) && c->caller[n] == '/'))
			g_ptr_array_add(ends, call_ref(c));
	}
	for (guint i = 0; i < ends->len; i++) {
		struct xg_call *c = g_ptr_array_index(ends, i);
		xg_call_end(c, "gone", NULL);
		call_unref(c);
	}
	g_ptr_array_free(ends, TRUE);
}

/* ---- the leg ---- */

static void send_candidate(struct xg_gw *gw, struct xg_call *c, const char *cand)
{
	xmpp_stanza_t *j = xg_jingle_transport_info(gw->ctx, c->sid, c->offer->audio.name,
						    c->offer->audio.creator, c->ufrag, c->pwd,
						    cand);
	if (j)
		xg_call_iq(c, j);
	else
		tt_warn("call %s: our candidate not converted: %s", c->sid, cand);
}

static void on_candidate(void *arg, struct tt_participant *p, const char *cand)
{
	struct xg_gw *gw = arg;
	struct xg_call *c = call_of_participant(gw, p);
	if (!c || !cand)
		return;   /* the end of our candidates needs no stanza */
	if (c->state == XG_CALL_ATTACHING) {
		/* the answer carries our credentials: candidates wait for it */
		if (!c->early_cands)
			c->early_cands = g_ptr_array_new_with_free_func(g_free);
		if (c->early_cands->len < XG_CALL_MAX_CANDS)
			g_ptr_array_add(c->early_cands, g_strdup(cand));
		return;
	}
	if (c->state == XG_CALL_ACTIVE)
		send_candidate(gw, c, cand);
}

static void on_attached(void *arg, struct tt_participant *p, const struct tt_audio_attached *r)
{
	struct xg_call *c = arg;   /* the attach's reference */
	struct xg_gw *gw = c->gw;
	if (c->state == XG_CALL_ATTACHING && c->p == p) {
		if (r->err) {
			tt_warn("call %s: no leg: %s", c->sid, tt_strerror(r->err));
			xg_call_end(c, "failed-application", "no media for this call");
		} else {
			g_strlcpy(c->ufrag, r->ice.ufrag, sizeof c->ufrag);
			g_strlcpy(c->pwd, r->ice.pwd, sizeof c->pwd);
			struct xg_jchoice ch;
			xg_jingle_choose(&c->offer->audio, &ch);   /* chosen before: cannot fail */
			c->state = XG_CALL_ACTIVE;
			xg_call_iq(c, xg_jingle_answer(gw->ctx, c->offer, &ch, c->local,
						       r->ice.ufrag, r->ice.pwd,
						       r->ice.fingerprint,
						       xg_jingle_we_are_active(&c->offer->audio)));
			tt_info("call %s from %s to %s accepted (%s/%d)", c->sid, c->caller,
				c->room, ch.codec, ch.pt->id);
			for (guint i = 0; c->early_cands && i < c->early_cands->len; i++)
				send_candidate(gw, c, g_ptr_array_index(c->early_cands, i));
			if (c->early_cands) {
				g_ptr_array_free(c->early_cands, TRUE);
				c->early_cands = NULL;
			}
		}
	}
	call_unref(c);
}

/* Audio given to an occupant ended by itself (ICE consent, DTLS): the call ends. */
static void on_audio_ended(void *arg, struct tt_participant *p, int reason)
{
	struct xg_gw *gw = arg;
	struct xg_call *c = call_of_participant(gw, p);
	if (c)
		xg_call_end(c, reason == -ETIMEDOUT ? "connectivity-error" : "failed-transport",
			    tt_strerror(reason));
}

static bool all_credentials(const struct xg_jcontent *a)
{
	return a->ufrag[0] && a->pwd[0] && a->fingerprint[0];
}

/* The participant whose audio the call is: the caller's occupant given audio, or a new
 * participant of its own. 0, or the condition to terminate with. */
static const char *take_participant(struct xg_call *c)
{
	struct xg_gw *gw = c->gw;
	struct tt_participant *occ = xg_muc_occupant_by_jid(gw, c->room, c->caller);
	if (occ) {
		int rc = gw->api->audio_add(occ, on_audio_ended, gw);
		if (rc == -EALREADY)
			return "busy";   /* already in the room's audio (another call) */
		if (rc)
			return "failed-application";
		c->p = gw->api->participant_ref(occ);
		c->occupant = true;
		return NULL;
	}
	char *node = xmpp_jid_node(gw->ctx, c->caller);
	struct tt_join j = {
		.room = c->room,
		.name = node && *node ? node : "caller",
		.caps = TT_CAP_AUDIO,
		.gw_data = &c->peer,
	};
	int rc = gw->api->participant_join(gw->h, &j, &c->p);
	if (node)
		xmpp_free(gw->ctx, node);
	return !rc ? NULL : rc == -EUSERS ? "busy" : rc == -ENOENT || rc == -EACCES ? "decline"
								       : "failed-application";
}

static void on_initiate(struct xg_gw *gw, xmpp_stanza_t *st, const struct xg_jmsg *m)
{
	const char *from = xmpp_stanza_get_from(st), *to = xmpp_stanza_get_to(st);
	struct xg_call *c = xg_call_find(gw, from, m->sid);
	if (c && c->state != XG_CALL_PROPOSED) {
		jerror(gw, st, "cancel", "unexpected-request", "out-of-order",
		       "this session exists");
		return;
	}
	char *room = xg_call_room_of(gw, to);
	if (!room || gw->api->room_check(gw->core, room, NULL) != 0) {
		g_free(room);
		jerror(gw, st, "cancel", "item-not-found", NULL, "no such room");
		if (c)
			xg_call_end(c, NULL, NULL);
		return;
	}
	if (!c)
		c = xg_call_new(gw, from, m->sid, to, room);
	g_free(room);
	if (!c) {
		jerror(gw, st, "wait", "resource-constraint", NULL, "too many calls");
		return;
	}
	if (c->timer) {
		g_source_remove(c->timer);
		c->timer = 0;
	}
	g_free(c->local);
	c->local = g_strdup(to);   /* the JID the caller addressed is ours in this session */
	c->offer = g_memdup2(m, sizeof *m);
	c->state = XG_CALL_ATTACHING;
	ack(gw, st);   /* the session exists now; what we cannot do ends it */

	const struct xg_jcontent *a = &m->audio;
	struct xg_jchoice ch;
	const char *cond = NULL, *why = NULL;
	if (!a->present) {
		cond = "unsupported-applications";
		why = "the room takes audio (RTP) only";
	} else if (!a->has_transport) {
		cond = "unsupported-transports";
		why = "ICE-UDP only";
	} else if (!a->fingerprint[0] || tt_dtls_fingerprint_check(a->fingerprint)) {
		cond = "security-error";
		why = "DTLS-SRTP with a sha-256 fingerprint is required";
	} else if (xg_jingle_choose(a, &ch)) {
		cond = "incompatible-parameters";
		why = "no codec in common (Opus, G.722, PCMU, PCMA)";
	} else if ((cond = take_participant(c))) {
		why = "the room cannot take this call";
	}
	if (cond) {
		xg_call_end(c, cond, why);
		return;
	}
	struct tt_audio_leg leg = {
		.kind = TT_LEG_ICE,
		.codec = ch.codec,
		.pt = (uint8_t)ch.pt->id,
		.ptime = 20,
		.fec = !strcmp(ch.codec, "opus"),
		.dtmf_pt = ch.dtmf ? ch.dtmf->id : -1,
		.audio_level_ext_id = (uint8_t)a->level_ext_id,
		.ice = {
			.policy = gw->policy,
			.controlling = false,   /* the offerer controls */
			.dtls_active = xg_jingle_we_are_active(a),
			.cand_h = on_candidate,
			.cand_arg = gw,
		},
	};
	if (all_credentials(a)) {
		g_strlcpy(leg.ice.ufrag, a->ufrag, sizeof leg.ice.ufrag);
		g_strlcpy(leg.ice.pwd, a->pwd, sizeof leg.ice.pwd);
		g_strlcpy(leg.ice.fingerprint, a->fingerprint, sizeof leg.ice.fingerprint);
		c->creds_given = true;
	}
	int rc = gw->api->audio_attach(c->p, &leg, on_attached, call_ref(c));
	if (rc) {
		call_unref(c);
		tt_warn("call %s: audio_attach: %s", c->sid, tt_strerror(rc));
		xg_call_end(c, rc == -EINVAL ? "incompatible-parameters" : "failed-application",
			    "the offer's transport was refused");
		return;
	}
	for (unsigned i = 0; i < a->n_cands; i++)
		if (gw->api->audio_ice_candidate(c->p, a->cands[i]) == 0)
			c->n_cands++;
	tt_info("call %s from %s to %s: session-initiate (%u candidates, %u ignored)", c->sid,
		from, c->room, a->n_cands, a->n_ignored);
}

static void on_transport_info(struct xg_gw *gw, xmpp_stanza_t *st, struct xg_call *c,
			      const struct xg_jmsg *m)
{
	const struct xg_jcontent *a = &m->audio, *o = &c->offer->audio;
	if (!a->present) {
		jerror(gw, st, "modify", "bad-request", NULL, "transport-info without a transport");
		return;
	}
	if (strcmp(a->name, o->name)) {
		ack(gw, st);   /* a content we left out of the answer (video): nothing to do */
		return;
	}
	/* ICE credentials: given late once, never changed (an ICE restart is not supported:
	 * the leg keeps its first ones, and saying so is better than silence) */
	const char *ufrag = a->ufrag[0] ? a->ufrag : o->ufrag;
	const char *pwd = a->pwd[0] ? a->pwd : o->pwd;
	if (c->creds_given && (strcmp(ufrag, o->ufrag) || strcmp(pwd, o->pwd))) {
		jerror(gw, st, "modify", "not-acceptable", NULL,
		       "changing ICE credentials (an ICE restart) is not supported");
		return;
	}
	if (c->n_cands + a->n_cands > XG_CALL_MAX_CANDS) {
		jerror(gw, st, "wait", "resource-constraint", NULL, "too many candidates");
		return;
	}
	if (!c->creds_given && ufrag[0] && pwd[0] && o->fingerprint[0]) {
		int rc = gw->api->audio_ice_credentials(c->p, ufrag, pwd, o->fingerprint,
							xg_jingle_we_are_active(o));
		if (rc) {
			jerror(gw, st, "modify", "bad-request", NULL, "unusable ICE credentials");
			return;
		}
		g_strlcpy(c->offer->audio.ufrag, ufrag, sizeof c->offer->audio.ufrag);
		g_strlcpy(c->offer->audio.pwd, pwd, sizeof c->offer->audio.pwd);
		c->creds_given = true;
	}
	for (unsigned i = 0; i < a->n_cands; i++)
		if (gw->api->audio_ice_candidate(c->p, a->cands[i]) == 0)
			c->n_cands++;
	ack(gw, st);
}

static void on_jingle(struct xg_gw *gw, xmpp_stanza_t *st, xmpp_stanza_t *j)
{
	struct xg_jmsg *m = g_new(struct xg_jmsg, 1);
	const char *why = NULL;
	if (xg_jingle_parse(j, m, &why)) {
		jerror(gw, st, "modify", "bad-request", NULL, why);
		g_free(m);
		return;
	}
	const char *from = xmpp_stanza_get_from(st);
	if (m->action == XG_J_INITIATE) {
		on_initiate(gw, st, m);
		g_free(m);
		return;
	}
	struct xg_call *c = xg_call_find(gw, from, m->sid);
	if (!c || c->state == XG_CALL_PROPOSED) {
		jerror(gw, st, "cancel", "item-not-found", "unknown-session", NULL);
		g_free(m);
		return;
	}
	switch (m->action) {
	case XG_J_TRANSPORT_INFO:
		on_transport_info(gw, st, c, m);
		break;
	case XG_J_TERMINATE:
		ack(gw, st);
		tt_info("call %s: the caller ended it (%s)", c->sid, m->reason);
		xg_call_end(c, NULL, NULL);
		break;
	case XG_J_SESSION_INFO:
		ack(gw, st);
		if (c->p && (!strcmp(m->info, "mute") || !strcmp(m->info, "unmute")) &&
		    gw->api->participant_set_state(c->p, TT_PS_MUTED, !strcmp(m->info, "mute")) ==
		    -EPERM) {
			/* muted by a moderator (room self_unmute = false) or a declined recording:
			 * the call stays muted; an occupant is told why in the room */
			tt_info("call %s: unmute refused (muted by a moderator)", c->sid);
			xg_muc_tell_participant(gw, c->p, "You were muted by a moderator and cannot "
						"unmute yourself in this room: ask a moderator.");
		}
		break;
	case XG_J_ACCEPT:
		jerror(gw, st, "cancel", "unexpected-request", "out-of-order",
		       "we did not initiate this session");
		break;
	default:
		jerror(gw, st, "cancel", "feature-not-implemented", "unsupported-info",
		       "only session-initiate, transport-info, session-info and "
		       "session-terminate are taken");
		break;
	}
	g_free(m);
}

/* An IQ result or error for one of ours: an error for our session-accept ends the call. */
static void on_iq_answer(struct xg_gw *gw, xmpp_stanza_t *st)
{
	const char *type = xmpp_stanza_get_type(st), *id = xmpp_stanza_get_id(st);
	if (!type || strcmp(type, "error") || !id)
		return;
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, gw->jingle->calls);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		struct xg_call *c = v;
		if (!strcmp(c->accept_id, id) && !g_strcmp0(c->caller, xmpp_stanza_get_from(st))) {
			tt_info("call %s: the caller refused our session-accept", c->sid);
			xg_call_end(c, NULL, NULL);
			return;
		}
	}
}

bool xg_jingle_stanza(struct xg_gw *gw, xmpp_stanza_t *st)
{
	const char *name = xmpp_stanza_get_name(st);
	if (!gw->jingle || !name)
		return false;
	if (!strcmp(name, "presence")) {
		xg_jingle_presence(gw, st);
		return true;
	}
	if (!strcmp(name, "message"))
		return xg_jmi_message(gw, st);
	if (strcmp(name, "iq"))
		return false;
	const char *type = xmpp_stanza_get_type(st);
	if (!type || !xmpp_stanza_get_from(st))
		return false;
	if (!strcmp(type, "result") || !strcmp(type, "error")) {
		on_iq_answer(gw, st);
		return true;
	}
	if (xg_jingle_disco(gw, st))
		return true;
	if (!strcmp(type, "get") && xmpp_stanza_get_child_by_name_and_ns(st, "ping",
									 "urn:xmpp:ping")) {
		ack(gw, st);
		return true;
	}
	xmpp_stanza_t *j = xmpp_stanza_get_child_by_name_and_ns(st, "jingle", XG_NS_JINGLE);
	if (!strcmp(type, "set") && j) {
		on_jingle(gw, st, j);
		return true;
	}
	return false;
}

/* ---- the gateway's side ---- */

void xg_jingle_hang_up(struct xg_gw *gw, struct tt_participant *p, const char *why)
{
	struct xg_call *c = gw->jingle ? call_of_participant(gw, p) : NULL;
	if (!c) {
		gw->api->participant_leave(gw->api->participant_ref(p), 0);
		return;
	}
	/* the bridge ends it: shutting down, a moderator's kick, or its media ended */
	const char *cond = gw->stopping ? "gone"
			   : why && g_str_has_prefix(why, "media") ? "connectivity-error"
								   : "success";
	xg_call_end(c, cond, why);
}

void xg_jingle_roster(struct xg_gw *gw, const struct tt_roster_event *ev)
{
	if (!gw->jingle || ev->type != TT_ROSTER_LEFT || !ev->who.id)
		return;
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, gw->jingle->calls);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		struct xg_call *c = v;
		if (c->p && !strcmp(gw->api->participant_id(c->p), ev->who.id)) {
			/* the occupant left the MUC (or was kicked): its audio went with it */
			xg_call_end(c, "gone", NULL);
			return;
		}
	}
}

void xg_jingle_link(struct xg_gw *gw, bool up)
{
	/* media goes on without the stream; stanzas meanwhile are dropped by conn.c */
	if (gw->jingle && !up && g_hash_table_size(gw->jingle->calls))
		tt_info("call stream down with %u calls: their media goes on",
			g_hash_table_size(gw->jingle->calls));
}

static void end_all(struct xg_gw *gw, const char *cond)
{
	GList *calls = g_hash_table_get_values(gw->jingle->calls);
	for (GList *l = calls; l; l = l->next)
		call_ref(l->data);
	for (GList *l = calls; l; l = l->next) {
		xg_call_end(l->data, cond, cond ? "the bridge is shutting down" : NULL);
		call_unref(l->data);
	}
	g_list_free(calls);
}

void xg_jingle_stop(struct xg_gw *gw)
{
	if (gw->jingle)
		end_all(gw, "gone");
}

static int make_policy(struct xg_gw *gw, const struct tt_conf *c)
{
	struct tt_dtls_cert *cert = NULL;
	int rc = tt_dtls_cert_generate(&cert);
	if (rc) {
		tt_error("xmpp: DTLS certificate: %s", tt_strerror(rc));
		return rc;
	}
	struct tt_ice_settings s = {
		.addresses = tt_conf_str(c, "xmpp", "ice_addresses"),
		.allow_loopback = tt_conf_bool(c, "xmpp", "allow_loopback"),
		.stun_server = tt_conf_str(c, "xmpp", "stun_server"),
		.stun_port = (unsigned)tt_conf_int(c, "xmpp", "stun_port"),
		.port_min = (unsigned)tt_conf_int(c, "xmpp", "port_min"),
		.port_max = (unsigned)tt_conf_int(c, "xmpp", "port_max"),
		.consent_freshness = true,   /* a caller that vanishes is dropped */
		.cert = cert,
	};
	if (s.stun_server && !*s.stun_server)
		s.stun_server = NULL;
	rc = tt_ice_policy_alloc(&gw->policy, &s);
	tt_dtls_cert_unref(cert);
	if (rc)
		tt_error("xmpp: ICE settings refused: %s", tt_strerror(rc));
	return rc;
}

int xg_jingle_new(struct xg_gw *gw)
{
	/* a policy given before (unit tests, the fuzz target) is kept */
	int rc = gw->policy ? 0 : make_policy(gw, gw->api->conf(gw->core));
	if (rc)
		return rc;
	gw->jingle = g_new0(struct xg_jingle, 1);
	gw->jingle->calls = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
						  (GDestroyNotify)call_unref);
	return 0;
}

void xg_jingle_free(struct xg_gw *gw)
{
	if (!gw->jingle)
		return;
	end_all(gw, NULL);   /* nothing is sent any more; participants leave */
	g_hash_table_destroy(gw->jingle->calls);
	g_free(gw->jingle);
	gw->jingle = NULL;
}
