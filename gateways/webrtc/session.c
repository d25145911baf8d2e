/* session.c: one browser on /ws: join, offer/answer, trickle, mute, chat, leave, following
 * docs/webrtc-protocol.md. Every message is parsed and checked (proto.c, sdp.c) before any
 * state changes; anything wrong gets {"type":"error","code":...} and changes nothing. */
#define TT_LOG_DOMAIN "webrtc"
#include <errno.h>
#include <string.h>
#include <tutti/errno.h>
#include <tutti/log.h>

#include "proto.h"
#include "sdp.h"
#include "webrtc_priv.h"

#define WR_MAX_REMOTE_CANDS 64

struct wr_session *wr_session_ref(struct wr_session *s)
{
	s->ref++;
	return s;
}

void wr_session_unref(struct wr_session *s)
{
	if (--s->ref == 0) {
		wr_roster_drop(s);
		g_free(s->offer);
		g_free(s->room);
		g_free(s->peer);
		g_free(s);
	}
}

void wr_session_send(struct wr_session *s, json_t *msg)
{
	if (!s->ws) {
		json_decref(msg);
		return;
	}
	if (s->roster)
		wr_roster_flush(s);
	char *text = json_dumps(msg, JSON_COMPACT);
	json_decref(msg);
	if (text)
		s->gw->core->ws_send(s->ws, text, strlen(text));
	free(text);
}

static void send_error(struct wr_session *s, const char *code, const char *detail,
		       const char *about)
{
	json_t *m = json_pack("{s:s, s:s, s:s}", "type", "error", "code", code, "message",
			      detail ? detail : code);
	if (about)
		json_object_set_new(m, "about", json_string(about));
	wr_session_send(s, m);
}

json_t *wr_entry_json(const struct tt_roster_entry *e)
{
	return json_pack("{s:s?, s:s?, s:s?, s:b, s:b, s:b, s:b, s:b, s:I, s:b, s:b}", "id",
			 e->id, "name", e->name, "network", e->network, "audio",
			 !!(e->caps & TT_CAP_AUDIO), "muted", !!(e->state & TT_PS_MUTED),
			 "talking", !!(e->state & TT_PS_TALKING), "moderator",
			 !!(e->state & TT_PS_MODERATOR), "hand", !!(e->state & TT_PS_HAND),
			 "hand_seq", (json_int_t)((e->state & TT_PS_HAND) ? e->hand_seq : 0),
			 "muted_by_moderator", !!(e->state & TT_PS_MOD_MUTED), "declined",
			 !!(e->state & TT_PS_NO_RECORD));
}

static void roster_cb(const struct tt_roster_entry *e, void *arg)
{
	json_array_append_new(arg, wr_entry_json(e));
}

/* ---- join ---- */

static void join_here(struct wr_session *s, const char *room, const char *name,
		      const char *pin);

/* A join waiting for the cluster's directory keeps what it needs here. */
struct homing {
	struct wr_session *s;   /* a reference */
	char *room, *name, *pin;
};

/* The directory answered: a room at home on another node sends the browser there
 * ("moved", docs/webrtc-protocol.md); otherwise the join goes on here. */
static void on_room_home(void *arg, const char *url)
{
	struct homing *hm = arg;
	struct wr_session *s = hm->s;
	if (s->st == WR_HOMING) {
		if (url) {
			s->st = WR_NEW;
			wr_session_send(s, json_pack("{s:s, s:s, s:s}", "type", "moved", "room",
						     hm->room, "url", url));
			tt_info("%s: room %s is at home elsewhere: sent to %s", s->peer, hm->room,
				url);
		} else {
			s->st = WR_NEW;
			join_here(s, hm->room, hm->name, hm->pin);
		}
	}
	wr_session_unref(s);
	g_free(hm->room);
	g_free(hm->name);
	g_free(hm->pin);
	g_free(hm);
}

static void do_join(struct wr_session *s, const struct wr_msg *m)
{
	const struct tt_core_api *core = s->gw->core;
	if (s->st != WR_NEW) {
		send_error(s, "wrong_state", "already joined", "join");
		return;
	}
	const char *name = m->name && *m->name ? m->name : "guest";
	const char *pin = m->pin && *m->pin ? m->pin : NULL;
	struct homing *hm = g_new0(struct homing, 1);
	hm->s = wr_session_ref(s);
	if (m->room && core->room_home &&
	    core->room_home(core->core_of(s->gw->h), m->room, on_room_home, hm) == 1) {
		s->st = WR_HOMING;
		hm->room = g_strdup(m->room);
		hm->name = g_strdup(name);
		hm->pin = g_strdup(pin);
		return;
	}
	wr_session_unref(s);
	g_free(hm);
	join_here(s, m->room, name, pin);
}

static void join_here(struct wr_session *s, const char *room, const char *name,
		      const char *pin)
{
	const struct tt_core_api *core = s->gw->core;
	struct tt_join j = {
		.room = room,
		.name = name,
		.caps = TT_CAP_AUDIO | TT_CAP_TEXT,
		.pin = pin,
		.gw_data = s,
	};
	struct tt_participant *p = NULL;
	int rc = core->participant_join(s->gw->h, &j, &p);
	switch (rc) {
	case 0:
		break;
	case -ENOENT:
	case -EACCES:   /* never tell an outsider whether the room exists */
		send_error(s, "denied", "no such room, or a PIN is needed", "join");
		return;
	case -EBUSY:
		send_error(s, "locked", "the room is locked", "join");
		return;
	case -EUSERS:
		send_error(s, "full", "the room is full", "join");
		return;
	case -EINVAL:
		send_error(s, "bad_request", "bad room or display name", "join");
		return;
	default:
		send_error(s, "internal", tt_strerror(rc), "join");
		return;
	}
	s->p = p;
	s->st = WR_JOINED;
	s->room = g_strdup(core->participant_room(p));
	GPtrArray *in_room = g_hash_table_lookup(s->gw->by_room, s->room);
	if (!in_room) {
		in_room = g_ptr_array_new();
		g_hash_table_insert(s->gw->by_room, g_strdup(s->room), in_room);
	}
	g_ptr_array_add(in_room, s);
	json_t *roster = json_array();
	core->room_roster(core->core_of(s->gw->h), s->room, roster_cb, roster);
	json_t *st = wr_room_state_json(s->gw, s->room);
	wr_session_send(s, json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o}", "type",
				     "joined", "id", core->participant_id(p), "name",
				     core->participant_name(p), "room", s->room, "roster", roster,
				     "room_state", st ? st : json_object(), "doors",
				     wr_doors_json(s->gw, s->room), "ice_servers",
				     wr_ice_servers_json(s->gw)));
	tt_info("%s joined %s from %s", core->participant_id(p), s->room, s->peer);
}

/* ---- offer / answer / candidates ---- */

static void on_candidate(void *arg, struct tt_participant *p, const char *cand)
{
	struct wr_session *s = arg;   /* alive: p is, and we leave p before freeing s */
	if (!s->ws || !s->offer)
		return;
	json_t *m = json_pack("{s:s, s:s?, s:s, s:i}", "type", "candidate", "candidate", cand,
			      "sdpMid", s->offer->mid, "sdpMLineIndex", s->offer->audio_index);
	wr_session_send(s, m);
}

static void on_attached(void *arg, struct tt_participant *p, const struct tt_audio_attached *r)
{
	struct wr_session *s = arg;   /* our reference */
	if (s->st == WR_ATTACHING && s->p == p) {
		if (r->err) {
			send_error(s, "media_failed", tt_strerror(r->err), "offer");
			s->st = WR_JOINED;
		} else {
			char *sdp = wr_sdp_answer(s->offer, r);
			wr_session_send(s, json_pack("{s:s, s:s}", "type", "answer", "sdp", sdp));
			g_free(sdp);
			s->st = WR_MEDIA;
		}
	}
	wr_session_unref(s);
}

static void do_offer(struct wr_session *s, const struct wr_msg *m)
{
	const struct tt_core_api *core = s->gw->core;
	if (s->st != WR_JOINED) {
		send_error(s, "wrong_state", s->st == WR_NEW ? "join first" : "media already set up",
			   "offer");
		return;
	}
	struct wr_offer *o = g_new0(struct wr_offer, 1);
	const char *why = NULL;
	if (wr_sdp_parse_offer(o, m->sdp, m->sdp_len, &why)) {
		g_free(o);
		send_error(s, "bad_sdp", why, "offer");
		return;
	}
	struct tt_audio_leg leg = {
		.kind = TT_LEG_ICE,
		.codec = "opus",
		.pt = (uint8_t)o->opus_pt,
		.ptime = 20,
		.fec = true,
		.dtmf_pt = -1,
		.audio_level_ext_id = (uint8_t)o->level_ext_id,
		.ice = {
			.policy = s->gw->policy,
			.controlling = false,
			.dtls_active = wr_sdp_we_are_active(o),
			.cand_h = on_candidate,
			.cand_arg = s,
		},
	};
	g_strlcpy(leg.ice.ufrag, o->ufrag, sizeof leg.ice.ufrag);
	g_strlcpy(leg.ice.pwd, o->pwd, sizeof leg.ice.pwd);
	g_strlcpy(leg.ice.fingerprint, o->fingerprint, sizeof leg.ice.fingerprint);
	g_free(s->offer);
	s->offer = o;
	int rc = core->audio_attach(s->p, &leg, on_attached, wr_session_ref(s));
	if (rc) {
		wr_session_unref(s);
		send_error(s, "media_failed", tt_strerror(rc), "offer");
		return;
	}
	s->st = WR_ATTACHING;
	/* a peer that does not trickle; only the lines taken count against the cap (an
	 * offer's garbage a=candidate is skipped, as a browser's own would never be) */
	s->n_cands = 0;
	for (unsigned i = 0; i < o->n_cands; i++)
		if (core->audio_ice_candidate(s->p, o->cands[i]) == 0)
			s->n_cands++;
}

static void do_candidate(struct wr_session *s, const struct wr_msg *m)
{
	if (s->st != WR_ATTACHING && s->st != WR_MEDIA) {
		send_error(s, "wrong_state", "send the offer first", "candidate");
		return;
	}
	/* A real browser has a handful; the cap keeps a client from growing the agent's
	 * check list without bound. Only candidates taken count: a refused one changes
	 * nothing, the count included. */
	bool end = !m->candidate || !*m->candidate;
	if (!end && s->n_cands >= WR_MAX_REMOTE_CANDS) {
		send_error(s, "bad_candidate", "too many candidates", "candidate");
		return;
	}
	int rc = s->gw->core->audio_ice_candidate(s->p, m->candidate);
	if (rc == -EINVAL)
		send_error(s, "bad_candidate", "not a candidate line (RFC 8839)", "candidate");
	else if (rc)
		send_error(s, "bad_candidate", tt_strerror(rc), "candidate");
	else if (!end)
		s->n_cands++;
}

/* ---- the rest ---- */

static void leave(struct wr_session *s, int reason)
{
	if (s->p) {
		GPtrArray *in_room = g_hash_table_lookup(s->gw->by_room, s->room);
		if (in_room) {
			g_ptr_array_remove_fast(in_room, s);
			if (in_room->len == 0)
				g_hash_table_remove(s->gw->by_room, s->room);
		}
		s->p = s->gw->core->participant_leave(s->p, reason);
		g_free(s->room);
		s->room = NULL;
	}
	if (s->st != WR_CLOSED)
		s->st = WR_NEW;
}

static void do_chat(struct wr_session *s, const struct wr_msg *m)
{
	if (!s->p) {
		send_error(s, "wrong_state", "join first", "chat");
		return;
	}
	int rc = s->gw->core->text_post(s->p, m->text, m->text_len,
					m->action ? TT_TEXT_ACTION : 0);
	if (rc == -EMSGSIZE)
		send_error(s, "too_big", "message too long", "chat");
	else if (rc == -EILSEQ || rc == -EINVAL)
		send_error(s, "bad_text", "empty, or control characters", "chat");
	else if (rc)
		send_error(s, "internal", tt_strerror(rc), "chat");
}

/* ---- meetings: a moderator's actions, one's own hand, declining the recording ---- */

static void do_moderate(struct wr_session *s, const struct wr_msg *m)
{
	const struct tt_core_api *core = s->gw->core;
	if (!s->p) {
		send_error(s, "wrong_state", "join first", "moderate");
		return;
	}
	struct tt_participant *t = NULL;
	if (m->target) {
		t = core->participant_find(core->core_of(s->gw->h), s->room, m->target);
		if (!t) {
			send_error(s, "no_such_participant", "nobody with that id in this room",
				   "moderate");
			return;
		}
	}
	/* a kick of oneself or the end of the meeting hangs s up in here: s is referenced
	 * by the caller, and only its own fields are read afterwards */
	int rc = core->moderate(s->p, m->mod, t, m->reason);
	core->participant_unref(t);
	switch (rc) {
	case 0:
		break;
	case -EPERM:
		send_error(s, "not_allowed", "only a moderator may do that", "moderate");
		break;
	case -ENOENT:
		send_error(s, "no_such_participant", "that participant has left", "moderate");
		break;
	case -EINVAL:
		send_error(s, "bad_request", "not an action on that participant", "moderate");
		break;
	case -ENOTSUP:
		send_error(s, "not_supported", "recording is not enabled on this bridge",
			   "moderate");
		break;
	case -EIO:
	case -ENOSPC:
		send_error(s, "recording_failed", tt_strerror(rc), "moderate");
		break;
	default:
		send_error(s, "internal", tt_strerror(rc), "moderate");
		break;
	}
}

static void do_self_state(struct wr_session *s, const char *about, unsigned bit, bool on)
{
	if (!s->p) {
		send_error(s, "wrong_state", "join first", about);
		return;
	}
	unsigned before = s->gw->core->participant_state(s->p);
	int rc = s->gw->core->participant_set_state(s->p, bit, on);
	if (rc == -EPERM) {
		const char *why = bit == TT_PS_NO_RECORD
					  ? "this room does not let participants decline the recording"
				  : (before & TT_PS_MOD_MUTED)
					  ? "a moderator muted you; only a moderator can unmute you"
					  : "you declined the recording: you stay muted while it runs";
		send_error(s, "not_allowed", why, about);
	} else if (rc) {
		send_error(s, "internal", tt_strerror(rc), about);
	}
}

static void dispatch(struct wr_session *s, const struct wr_msg *m)
{
	switch (m->type) {
	case WR_MSG_JOIN:
		do_join(s, m);
		break;
	case WR_MSG_OFFER:
		do_offer(s, m);
		break;
	case WR_MSG_CANDIDATE:
		do_candidate(s, m);
		break;
	case WR_MSG_MUTE:
		do_self_state(s, "mute", TT_PS_MUTED, m->muted);
		break;
	case WR_MSG_HAND:
		do_self_state(s, "hand", TT_PS_HAND, m->up);
		break;
	case WR_MSG_DECLINE:
		do_self_state(s, "decline", TT_PS_NO_RECORD, m->up);
		break;
	case WR_MSG_MODERATE:
		do_moderate(s, m);
		break;
	case WR_MSG_CHAT:
		do_chat(s, m);
		break;
	case WR_MSG_LEAVE:
		leave(s, 0);
		wr_session_send(s, json_pack("{s:s}", "type", "left"));
		s->gw->core->ws_close(s->ws, 1000, "left");
		break;
	case WR_MSG_PING:
		wr_session_send(s, json_pack("{s:s}", "type", "pong"));
		break;
	}
}

void wr_session_message(void *conn, struct tt_ws *ws, const char *text, size_t len, int err)
{
	struct wr_session *s = conn;
	if (err == -EMSGSIZE) {
		send_error(s, "too_big", "message larger than the limit", NULL);
		return;
	}
	if (err == -EBUSY) {
		send_error(s, "rate_limited", "too many messages", NULL);
		return;
	}
	if (err) {
		send_error(s, "bad_json", "binary messages are not accepted", NULL);
		return;
	}
	struct wr_msg m;
	const char *code = NULL, *detail = NULL;
	if (wr_msg_parse(&m, text, len, &code, &detail)) {
		send_error(s, code, detail, m.about);
		return;
	}
	wr_session_ref(s);
	dispatch(s, &m);
	wr_session_unref(s);
	wr_msg_clear(&m);
}

int wr_session_open(void *arg, struct tt_ws *ws, void **connp)
{
	struct wr_gw *gw = arg;
	const char *peer = gw->core->ws_peer(ws);
	unsigned n = GPOINTER_TO_UINT(g_hash_table_lookup(gw->per_peer, peer));
	if (gw->stopping || n >= gw->max_per_peer) {
		/* One line per address until one of its connections closes, then the count: a
		 * client retrying in a loop must not write a log line per attempt. */
		gpointer v;
		if (!g_hash_table_lookup_extended(gw->refused, peer, NULL, &v)) {
			tt_info("refused a WebSocket from %s (%u open)", peer, n);
			g_hash_table_insert(gw->refused, g_strdup(peer), GUINT_TO_POINTER(0));
		} else {
			g_hash_table_insert(gw->refused, g_strdup(peer),
					    GUINT_TO_POINTER(GPOINTER_TO_UINT(v) + 1));
		}
		return -EUSERS;
	}
	g_hash_table_insert(gw->per_peer, g_strdup(peer), GUINT_TO_POINTER(n + 1));
	struct wr_session *s = g_new0(struct wr_session, 1);
	s->ref = 1;
	s->gw = gw;
	s->ws = ws;
	s->peer = g_strdup(peer);
	gw->sessions = g_list_prepend(gw->sessions, s);
	*connp = s;
	wr_session_send(s, json_pack("{s:s, s:i}", "type", "hello", "version", 1));
	return 0;
}

void wr_session_close(void *conn, struct tt_ws *ws)
{
	struct wr_session *s = conn;
	struct wr_gw *gw = s->gw;
	s->ws = NULL;
	wr_roster_drop(s);
	leave(s, 0);
	s->st = WR_CLOSED;
	unsigned n = GPOINTER_TO_UINT(g_hash_table_lookup(gw->per_peer, s->peer));
	if (n > 1)
		g_hash_table_insert(gw->per_peer, g_strdup(s->peer), GUINT_TO_POINTER(n - 1));
	else
		g_hash_table_remove(gw->per_peer, s->peer);
	gpointer v;
	if (g_hash_table_lookup_extended(gw->refused, s->peer, NULL, &v)) {
		if (GPOINTER_TO_UINT(v))
			tt_info("refused %u more WebSockets from %s", GPOINTER_TO_UINT(v), s->peer);
		g_hash_table_remove(gw->refused, s->peer);
	}
	gw->sessions = g_list_remove(gw->sessions, s);
	wr_session_unref(s);
}

void wr_session_hang_up(struct wr_session *s, const char *why)
{
	wr_session_send(s, json_pack("{s:s, s:s}", "type", "bye", "reason", why ? why : ""));
	leave(s, 0);
	if (s->ws)
		s->gw->core->ws_close(s->ws, 1000, "hung up");
}
