/* call.c: one SIP call = one NUA handle + one participant + one audio leg. INVITE to a
 * room, offer/answer, re-INVITE/UPDATE (hold, resume), BYE both ways, CANCEL, INFO DTMF.
 *
 * Lifetime: a call lives from its INVITE until NUA says the dialog is terminated. The
 * participant is left as soon as the call is over for the room (BYE, CANCEL, hang-up), so
 * the roster is right at once; the struct goes when the handle is destroyed. gw_data of
 * the participant is the call: valid while the participant is alive, because a call
 * always leaves its participant before it is freed. */
#define TT_LOG_DOMAIN "sip"
#include "sip.h"

#include <stdio.h>
#include <string.h>

#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_tagarg.h>

#include <tutti/errno.h>
#include <tutti/log.h>
#include <tutti/srtp.h>

const char *tt__sip_room_of(struct sipgw *gw, const url_t *url)
{
	const char *user = url ? url->url_user : NULL;
	if (!user || !*user)
		return gw->default_room && *gw->default_room ? gw->default_room : NULL;
	const char *alias = g_hash_table_lookup(gw->aliases, user);
	return alias ? alias : user;
}

static struct sip_call *call_new(struct sipgw *gw, nua_handle_t *nh)
{
	struct sip_call *c = g_new0(struct sip_call, 1);
	c->gw = gw;
	c->nh = nh;
	c->sess_id = ++gw->sess_ids;
	c->sess_ver = 1;
	nua_handle_bind(nh, c);
	g_hash_table_add(gw->calls, c);
	return c;
}

static void call_leave(struct sip_call *c, int reason)
{
	if (c->p)
		c->p = c->gw->core->participant_leave(c->p, reason);
}

void tt__sip_call_free(struct sip_call *c)
{
	if (c->pin_timer)
		g_source_remove(c->pin_timer);
	call_leave(c, 0);
	g_hash_table_remove(c->gw->calls, c);
	if (c->nh) {
		nua_handle_bind(c->nh, NULL);
		nua_handle_destroy(c->nh);
	}
	g_free(c->room);
	g_free(c);
}

static bool allows_message(const sip_t *sip)
{
	if (!sip->sip_allow || !sip->sip_allow->k_items)
		return false;
	for (msg_param_t const *m = sip->sip_allow->k_items; *m; m++)
		if (!g_ascii_strcasecmp(*m, "MESSAGE"))
			return true;
	return false;
}

static char *display_name(const sip_t *sip)
{
	const sip_from_t *f = sip->sip_from;
	if (f && f->a_display && *f->a_display) {
		char *s = g_strdup(f->a_display);
		size_t n = strlen(s);
		if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
			memmove(s, s + 1, n - 2);
			s[n - 2] = 0;
		}
		if (*s && g_utf8_validate(s, -1, NULL))
			return s;
		g_free(s);
	}
	if (f && f->a_url->url_user && g_utf8_validate(f->a_url->url_user, -1, NULL))
		return g_strdup(f->a_url->url_user);
	return g_strdup("phone");
}

static int sdp_text(struct sip_call *c, char *buf, size_t cap, bool offer)
{
	struct sipgw *gw = c->gw;
	const struct tt_sdes_crypto *ours =
		c->ours.key_len && (c->media.srtp || (offer && gw->pol.srtp != TT_SIP_SRTP_OFF))
			? &c->ours : NULL;
	return tt_sip_sdp_write(buf, cap, offer ? NULL : &c->media, &gw->pol,
				(const struct sockaddr *)&c->local, ours, c->sess_id, c->sess_ver);
}

static void respond_sdp(struct sip_call *c, int status, const char *phrase, bool offer,
			bool with_this)
{
	char sdp[2048];
	int n = sdp_text(c, sdp, sizeof sdp, offer);
	if (n < 0) {
		sip_respond(c->gw, c->nh, SIP_500_INTERNAL_SERVER_ERROR,
			    TAG_IF(with_this, NUTAG_WITH_THIS(c->gw->nua)), TAG_END());
		return;
	}
	sip_respond(c->gw, c->nh, status, phrase, TAG_IF(with_this, NUTAG_WITH_THIS(c->gw->nua)),
		    SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(sdp),
		    TAG_END());
}

static void apply_hold(struct sip_call *c)
{
	if (!c->p || c->lobby)
		return;
	bool held = !!(c->gw->core->participant_state(c->p) & TT_PS_HOLD);
	if (held != c->media.hold) {
		tt_info("%s %s", c->gw->core->participant_id(c->p),
			c->media.hold ? "put the bridge on hold" : "resumed");
		c->gw->core->participant_set_state(c->p, TT_PS_HOLD, c->media.hold);
	}
}

static void on_attached(void *arg, struct tt_participant *p, const struct tt_audio_attached *r)
{
	const struct tt_core_api *core = arg;
	if (!core->participant_alive(p))
		return;
	struct sip_call *c = core->participant_gw_data(p);
	if (r->err) {
		tt_warn("%s: audio leg failed: %s", core->participant_id(p), tt_strerror(r->err));
		sip_respond(c->gw, c->nh, SIP_503_SERVICE_UNAVAILABLE, TAG_END());
		call_leave(c, r->err);
		c->state = CALL_ENDED;
		return;
	}
	memcpy(&c->local, &r->udp.local, sizeof c->local);
	c->local_len = r->udp.local_len;
	if (r->udp.srtp_key_len) {
		/* answering: the tag of the offer's line we took; offering: our line 1 */
		c->ours.tag = c->media.srtp ? c->media.crypto.tag : 1;
		c->ours.suite = c->media.srtp ? c->media.crypto.suite
					      : TT_SRTP_AES_CM_128_HMAC_SHA1_80;
		c->ours.key_len = r->udp.srtp_key_len;
		memcpy(c->ours.key, r->udp.srtp_local_key, r->udp.srtp_key_len);
	}
	respond_sdp(c, SIP_200_OK, c->offered, false);
	c->state = CALL_ANSWERED;
	apply_hold(c);
	if (c->lobby)
		tt__sip_prompt_play(c->gw, c, c->mod_lobby ? SIP_PROMPT_ENTER_MOD_PIN
							   : SIP_PROMPT_ENTER_PIN);
	else
		tt__sip_admitted(c->gw, c, false);
}

static void fill_leg(struct tt_audio_leg *leg, const struct tt_sip_media *m)
{
	memset(leg, 0, sizeof *leg);
	leg->kind = TT_LEG_UDP;
	leg->codec = m->codec;
	leg->pt = m->pt;
	leg->ptime = m->ptime;
	leg->fec = !strcmp(m->codec, "opus");
	leg->dtmf_pt = m->dtmf_pt;
	memcpy(&leg->udp.remote, &m->remote, sizeof leg->udp.remote);
	leg->udp.remote_len = m->remote_len;
	leg->udp.latch = true;
	leg->udp.srtp_suite = m->srtp ? (int)m->crypto.suite : -1;
	if (m->srtp)
		memcpy(leg->udp.srtp_remote_key, m->crypto.key,
		       m->crypto.key_len < TT_AUDIO_KEY_MAX ? m->crypto.key_len : TT_AUDIO_KEY_MAX);
}

static int status_of_join(int rc, const char **phrase)
{
	switch (rc) {
	case -ENOENT:
	case -EACCES:  /* alike on purpose: an outsider must not learn which rooms exist */
		*phrase = "Not Found";
		return 404;
	case -EBUSY:
		*phrase = "Forbidden";
		return 403;
	case -EUSERS:
		*phrase = "Busy Here";
		return 486;
	case -EINVAL:
		*phrase = "Not Found";
		return 404;
	default:
		*phrase = "Service Unavailable";
		return 503;
	}
}

/* The media of an offer we got in an INVITE; 0, or a final status we answered with. */
static int take_offer(struct sipgw *gw, nua_handle_t *nh, const sip_t *sip,
		      struct tt_sip_media *m)
{
	const char *warning = NULL;
	int rc = tt_sip_sdp_negotiate(m, sip->sip_payload->pl_data, sip->sip_payload->pl_len,
				      &gw->pol, true, &warning);
	if (rc == 0)
		return 0;
	sip_respond(gw, nh, SIP_488_NOT_ACCEPTABLE, NUTAG_WITH_THIS(gw->nua),
		    SIPTAG_WARNING_STR(warning ? warning : "399 tutti \"Malformed SDP\""),
		    TAG_END());
	return 488;
}

static bool has_sdp(const sip_t *sip)
{
	return sip->sip_payload && sip->sip_payload->pl_len > 0;
}

/* audio_update finished: answer the pending re-INVITE/UPDATE, or (answer in ACK) just
 * go on. The local address is unchanged; our key changes only when SRTP was turned on. */
static void on_updated(void *arg, struct tt_participant *p, const struct tt_audio_attached *r)
{
	const struct tt_core_api *core = arg;
	if (!core->participant_alive(p))
		return;
	struct sip_call *c = core->participant_gw_data(p);
	bool pending = c->answer_pending;
	c->answer_pending = false;
	if (r->err) {
		tt_warn("%s: media update failed: %s", core->participant_id(p), tt_strerror(r->err));
		if (pending)
			sip_respond(c->gw, c->nh, SIP_488_NOT_ACCEPTABLE,
				    SIPTAG_WARNING_STR("399 tutti \"Media change failed\""), TAG_END());
		else
			tt__sip_call_hang_up(c->gw, c, "media update failed");
		return;
	}
	if (r->udp.srtp_key_len) {
		c->ours.tag = c->media.srtp ? c->media.crypto.tag : 1;
		c->ours.suite = c->media.srtp ? c->media.crypto.suite
					      : TT_SRTP_AES_CM_128_HMAC_SHA1_80;
		c->ours.key_len = r->udp.srtp_key_len;
		memcpy(c->ours.key, r->udp.srtp_local_key, r->udp.srtp_key_len);
	}
	if (pending)
		respond_sdp(c, SIP_200_OK, false, false);
	apply_hold(c);
}

static void reinvite(struct sipgw *gw, struct sip_call *c, const sip_t *sip, bool update)
{
	if (c->state == CALL_NEW || c->state == CALL_ENDED || !c->local_len || c->answer_pending) {
		sip_respond(c->gw, c->nh, SIP_491_REQUEST_PENDING, NUTAG_WITH_THIS(gw->nua), TAG_END());
		return;
	}
	if (!has_sdp(sip)) {
		/* a re-INVITE without SDP asks for our offer: the current one, answered in ACK */
		c->sess_ver++;
		c->media.peer_mode = 3;
		respond_sdp(c, SIP_200_OK, false, true);
		return;
	}
	struct tt_sip_media m;
	if (take_offer(gw, c->nh, sip, &m))
		return;
	bool same = !strcmp(m.codec, c->media.codec) && m.pt == c->media.pt &&
		    m.ptime == c->media.ptime && m.dtmf_pt == c->media.dtmf_pt &&
		    m.srtp == c->media.srtp && m.remote_len == c->media.remote_len &&
		    !memcmp(&m.remote, &c->media.remote, m.remote_len) &&
		    (!m.srtp || (m.crypto.suite == c->media.crypto.suite &&
				 !memcmp(m.crypto.key, c->media.crypto.key, m.crypto.key_len)));
	c->media = m;
	c->sess_ver++;
	if (same || !m.remote_len) {
		/* direction only (hold, resume; c=0.0.0.0 keeps the old address) */
		respond_sdp(c, SIP_200_OK, false, true);
		apply_hold(c);
		return;
	}
	/* our key stays when SRTP stays on with the same suite, so the answer can go now;
	 * turning SRTP on needs the key the worker makes: answer when it is there (an UPDATE
	 * cannot wait for it here, RFC 3311 asks for a quick answer: 488 instead) */
	bool needs_key = m.srtp && (!c->ours.key_len || c->ours.suite != m.crypto.suite);
	if (needs_key && update) {
		sip_respond(c->gw, c->nh, SIP_488_NOT_ACCEPTABLE, NUTAG_WITH_THIS(gw->nua),
			    SIPTAG_WARNING_STR("399 tutti \"Turn SRTP on with a re-INVITE\""),
			    TAG_END());
		return;
	}
	struct tt_audio_leg leg;
	fill_leg(&leg, &m);
	c->answer_pending = needs_key;
	int rc = gw->core->audio_update(c->p, &leg, on_updated, (void *)gw->core);
	if (rc) {
		c->answer_pending = false;
		sip_respond(c->gw, c->nh, SIP_500_INTERNAL_SERVER_ERROR, NUTAG_WITH_THIS(gw->nua),
			    TAG_END());
		return;
	}
	if (!needs_key) {
		respond_sdp(c, SIP_200_OK, false, true);
		apply_hold(c);
	}
	(void)update;
}

void tt__sip_call_invite(struct sipgw *gw, nua_handle_t *nh, struct sip_call *c,
			 const sip_t *sip)
{
	if (c) {
		reinvite(gw, c, sip, false);
		return;
	}
	const struct tt_core_api *core = gw->core;
	const char *phrase = NULL;
	int st = 0;
	if (gw->shutting_down) {
		sip_respond(gw, nh, SIP_503_SERVICE_UNAVAILABLE, NUTAG_WITH_THIS(gw->nua), TAG_END());
		nua_handle_destroy(nh);
		return;
	}
	const char *room = tt__sip_room_of(gw, sip->sip_request->rq_url);
	int rc = room ? core->room_check(core->core_of(gw->h), room, NULL) : -ENOENT;
	bool decoy = room && rc == -ENOENT && gw->decoy;  /* [sip] unknown_room: as a PIN room */
	/* ask for the PIN by DTMF; in a room open to all but with a moderator PIN, ask for
	 * that (a phone has no other way to give it) */
	bool mod_lobby = rc == 0 && tt__sip_mod_pin_only(gw, room);
	bool lobby = rc == -EACCES || decoy || mod_lobby;
	if (rc && !lobby) {
		st = status_of_join(rc, &phrase);
		sip_respond(gw, nh, st, phrase, NUTAG_WITH_THIS(gw->nua), TAG_END());
		nua_handle_destroy(nh);
		return;
	}
	struct tt_sip_media m;
	memset(&m, 0, sizeof m);
	bool offered = !has_sdp(sip);
	if (offered) {
		/* we offer in the 200; the leg starts on our first codec and learns the peer's
		 * address by latching until the ACK brings the answer */
		snprintf(m.codec, sizeof m.codec, "%s", gw->pol.codecs[0]);
		m.pt = !strcmp(m.codec, "opus") ? 111 : !strcmp(m.codec, "g722") ? 9
						 : !strcmp(m.codec, "pcmu") ? 0 : 8;
		m.ptime = gw->pol.ptime;
		m.dtmf_pt = !strcmp(m.codec, "opus") ? 100 : 101;
		m.peer_mode = 3;
	} else if (take_offer(gw, nh, sip, &m)) {
		nua_handle_destroy(nh);
		return;
	}
	char *name = display_name(sip);
	struct tt_join j = {
		.room = room,
		.name = name,
		.caps = TT_CAP_AUDIO | (allows_message(sip) ? TT_CAP_TEXT : 0),
	};
	c = call_new(gw, nh);
	c->media = m;
	c->offered = offered;
	c->text = allows_message(sip);
	c->room = g_strdup(room);
	j.gw_data = c;
	j.decoy = decoy;
	c->lobby = lobby;
	c->mod_lobby = mod_lobby;
	rc = lobby ? core->lobby_join(gw->h, &j, &c->p) : core->participant_join(gw->h, &j, &c->p);
	g_free(name);
	if (rc) {
		st = status_of_join(rc, &phrase);
		sip_respond(gw, nh, st, phrase, NUTAG_WITH_THIS(gw->nua), TAG_END());
		c->state = CALL_ENDED;
		tt__sip_call_free(c);
		return;
	}
	tt_info("%s %s %s by phone (%s/%u%s)", core->participant_id(c->p),
		mod_lobby ? "enters the moderator PIN lobby of"
			  : lobby ? "enters the PIN lobby of" : "joins", room, m.codec, m.ptime,
		m.srtp ? ", SRTP" : "");
	if (lobby)
		tt__sip_pin_start(gw, c);
	struct tt_audio_leg leg;
	fill_leg(&leg, &m);
	if (offered && gw->pol.srtp != TT_SIP_SRTP_OFF) {
		/* our offer needs our key now; the peer's comes with the answer (ACK), until
		 * then a random one makes its packets fail authentication, as they should */
		struct tt_sdes_crypto tmp;
		leg.udp.srtp_suite = TT_SRTP_AES_CM_128_HMAC_SHA1_80;
		if (tt_sdes_generate(&tmp, 1, TT_SRTP_AES_CM_128_HMAC_SHA1_80) == 0)
			memcpy(leg.udp.srtp_remote_key, tmp.key, tmp.key_len);
	}
	rc = core->audio_attach(c->p, &leg, on_attached, (void *)core);
	if (rc) {
		sip_respond(gw, nh, SIP_503_SERVICE_UNAVAILABLE, NUTAG_WITH_THIS(gw->nua), TAG_END());
		call_leave(c, rc);
		c->state = CALL_ENDED;
		return;
	}
	sip_respond(gw, nh, SIP_180_RINGING, NUTAG_WITH_THIS(gw->nua), TAG_END());
}

static void on_ack(struct sipgw *gw, struct sip_call *c, const sip_t *sip)
{
	c->state = CALL_UP;
	if (!c->offered || !sip)
		return;
	c->offered = false;
	struct tt_sip_media m;
	const char *warning = "399 tutti \"No SDP answer in ACK\"";
	int rc = has_sdp(sip) ? tt_sip_sdp_negotiate(&m, sip->sip_payload->pl_data,
						    sip->sip_payload->pl_len, &gw->pol, false,
						    &warning)
			      : -ENOTSUP;
	if (rc == 0 && m.srtp && m.crypto.suite != c->ours.suite)
		rc = -ENOTSUP, warning = "SRTP suite differs from our offer";
	if (rc == 0 && !m.srtp && gw->pol.srtp == TT_SIP_SRTP_REQUIRE)
		rc = -ENOTSUP, warning = "SRTP required";
	if (rc) {
		/* the dialog exists already: the only way to refuse an answer is BYE */
		tt_warn("%s: answer in ACK not usable (%s); hanging up",
			c->p ? gw->core->participant_id(c->p) : "call", warning);
		tt__sip_call_hang_up(gw, c, "unusable SDP answer");
		return;
	}
	c->media = m;
	struct tt_audio_leg leg;
	fill_leg(&leg, &m);
	if (!c->p || gw->core->audio_update(c->p, &leg, on_updated, (void *)gw->core))
		tt__sip_call_hang_up(gw, c, "media update failed");
}

void tt__sip_call_event(struct sipgw *gw, nua_event_t ev, int status, const char *phrase,
			nua_handle_t *nh, struct sip_call *c, const sip_t *sip, tagi_t tags[])
{
	switch (ev) {
	case nua_i_ack:
		on_ack(gw, c, sip);
		break;
	case nua_i_update:
		reinvite(gw, c, sip, true);
		break;
	case nua_i_info: {
		char d = tt__sip_info_digit(sip);
		sip_respond(gw, nh, d ? 200 : 415, d ? "OK" : "Unsupported Media Type",
			    NUTAG_WITH_THIS(gw->nua), TAG_END());
		if (d && c->p && gw->h)
			tt__sip_dtmf(gw, c, d);
		break;
	}
	case nua_i_cancel:
	case nua_i_bye:
		call_leave(c, 0);
		break;
	case nua_i_state: {
		int cs = nua_callstate_init;
		tl_gets(tags, NUTAG_CALLSTATE_REF(cs), TAG_END());
		if (cs == nua_callstate_terminated) {
			c->state = CALL_ENDED;
			tt__sip_call_free(c);
		}
		break;
	}
	case nua_i_terminated:
		c->state = CALL_ENDED;
		tt__sip_call_free(c);
		break;
	default:
		break;
	}
}

void tt__sip_call_hang_up(struct sipgw *gw, struct sip_call *c, const char *why)
{
	tt_info("hanging up %s: %s", c->p ? gw->core->participant_id(c->p) : "call",
		why ? why : "");
	if (c->state == CALL_NEW) {
		sip_respond(c->gw, c->nh, SIP_480_TEMPORARILY_UNAVAILABLE, TAG_END());
	} else if (c->state != CALL_ENDED) {
		nua_bye(c->nh, TAG_IF(why, SIPTAG_REASON_STR("SIP;cause=200;text=\"bye\"")),
			TAG_END());
	}
	c->state = CALL_ENDED;
	call_leave(c, 0);
}
