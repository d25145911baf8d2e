/* api_admin.c: the admin API: create, change and end rooms; add, change and remove plain
 * RTP participants (through the built-in "rtp" gateway, gateway/rtp.h). Every request is
 * validated whole before anything changes; a bad one gets 400 with a JSON error naming the
 * field. */
#define TT_LOG_DOMAIN "http"
#include "http.h"

#include <string.h>
#include <tutti/errno.h>
#include <tutti/log.h>
#include <tutti/sdes.h>
#include <tutti/srtp.h>
#include <tutti/transport.h>

#include "gateway/rtp.h"
#include "meeting/meeting.h"
#include "participant/participant.h"
#include "room/room.h"

/* ---- helpers ---- */

json_t *tt__api_body_object(const struct tt_http_req *req, struct tt_http_resp *r, bool optional)
{
	if (!req->body || req->body_len == 0) {
		if (optional)
			return json_object();
		tt__http_error(r, 400, NULL, "a JSON object body is required");
		return NULL;
	}
	json_error_t err;
	json_t *o = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &err);
	if (!o || !json_is_object(o)) {
		tt__http_error(r, 400, NULL, "body is not a JSON object%s%s", o ? "" : ": ",
			       o ? "" : err.text);
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Unknown keys are errors, like unknown config keys: a typo must not silently do nothing. */
bool tt__api_only_keys(json_t *o, const char *const *allowed, struct tt_http_resp *r)
{
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v) {
		bool ok = false;
		for (const char *const *a = allowed; *a && !ok; a++)
			ok = !strcmp(*a, k);
		if (!ok) {
			tt__http_error(r, 400, k, "unknown field '%s'", k);
			return false;
		}
	}
	return true;
}

static bool get_int(json_t *o, const char *key, long long lo, long long hi, long long *out,
		    struct tt_http_resp *r)
{
	json_t *v = json_object_get(o, key);
	if (!v)
		return true;
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
		tt__http_error(r, 400, key, "%s must be an integer in [%lld, %lld]", key, lo, hi);
		return false;
	}
	*out = json_integer_value(v);
	return true;
}

static unsigned join_status(int rc)
{
	switch (rc) {
	case -ENOENT: return 404;
	case -EACCES: return 403;
	case -EBUSY: return 423;
	case -EUSERS: return 409;
	case -EINVAL: return 400;
	case -ESHUTDOWN: return 503;
	default: return 500;
	}
}

/* ---- rooms ---- */

void tt__api_room_put(struct tt_core *core, const struct tt_http_req *req,
		      struct tt_http_resp *r)
{
	static const char *const keys[] = { "rate", "speakers", "locked", "max_participants",
					    NULL };
	json_t *o = tt__api_body_object(req, r, true);
	if (!o)
		return;
	long long rate = -1, speakers = -1, max = -1;
	json_t *locked = json_object_get(o, "locked");
	if (!tt__api_only_keys(o, keys, r) || !get_int(o, "rate", 8000, 48000, &rate, r) ||
	    !get_int(o, "speakers", 1, 16, &speakers, r) ||
	    !get_int(o, "max_participants", 1, 100000, &max, r))
		goto out;
	if (rate >= 0 && rate != 8000 && rate != 16000 && rate != 24000 && rate != 48000) {
		tt__http_error(r, 400, "rate", "rate must be 8000, 16000, 24000 or 48000");
		goto out;
	}
	if (locked && !json_is_boolean(locked)) {
		tt__http_error(r, 400, "locked", "locked must be true or false");
		goto out;
	}
	if (!tt__room_name_valid(req->params[0])) {
		tt__http_error(r, 400, "room", "room names are 1-64 of A-Z a-z 0-9 . _ -");
		goto out;
	}
	struct tt_room *room = tt__room_find(core, req->params[0]);
	bool existed = room != NULL;
	/* before anything changes: a 409 must leave the room as it was */
	if (room && max > 0 && (unsigned)max < room->parts->len) {
		tt__http_error(r, 409, "max_participants", "the room has %u participants",
			       room->parts->len);
		goto out;
	}
	int rc = tt__room_put(core, req->params[0], (int)rate, (int)speakers, &room);
	if (rc) {
		tt__http_error(r, 400, NULL, "%s", tt_strerror(rc));
		goto out;
	}
	if (locked)
		room->locked = json_is_true(locked);
	if (max > 0 && (unsigned)max != room->max_participants) {
		room->max_participants = room->api_max = (unsigned)max;
		tt__room_media_resize(room);  /* the mixer is sized for the limit */
	}
	r->status = existed ? 200 : 201;
	/* the view is what GET shows */
	struct tt_http_req get = *req;
	tt__api_room_get(core, &get, r);
out:
	json_decref(o);
}

void tt__api_room_delete(struct tt_core *core, const struct tt_http_req *req,
			 struct tt_http_resp *r)
{
	struct tt_room *room = tt__room_find(core, req->params[0]);
	if (!room) {
		tt__http_error(r, 404, "room", "no room named '%s'", req->params[0]);
		return;
	}
	char *name = g_strdup(room->name);
	tt__meeting_ended(room, NULL, "the meeting was ended by an administrator");
	tt__room_end(room, "the room was ended by an administrator");
	r->json = json_pack("{s:s}", "ended", name);
	g_free(name);
}

/* ---- participants ---- */

struct post_ctx {
	struct tt_core *core;
	struct tt_http_pending *pd;
	int suite;
};

static void attached(void *arg, struct tt_participant *p, const struct tt_audio_attached *res)
{
	struct post_ctx *c = arg;
	struct tt_http_resp r = { 0 };
	if (res->err || !p->room || g_atomic_int_get(&p->destroyed)) {
		int err = res->err ? res->err : -ENOENT;
		tt__http_error(&r, err == -EADDRINUSE ? 503 : 500, NULL, "cannot set up media: %s",
			       err == -EADDRINUSE ? "no free port in [media] port_min..port_max"
						  : tt_strerror(err));
		struct tt__rtp_gw *g = tt__rtp_gw_get(c->core);
		if (g)   /* not when it stopped meanwhile (shutdown): it let go then */
			tt__rtp_gw_drop(g, p, err);
	} else {
		char local[64] = "";
		tt_sockaddr_format(local, sizeof local, (const struct sockaddr *)&res->udp.local);
		r.status = 201;
		r.json = json_pack("{s:s, s:s, s:s, s:s}", "id", p->id, "name", p->name, "room",
				   p->room_name, "local", local);
		if (c->suite >= 0) {
			char key[64];
			tt_sdes_key_encode(key, sizeof key, res->udp.srtp_local_key,
					   res->udp.srtp_key_len);
			json_object_set_new(r.json, "srtp", json_pack("{s:s, s:s}", "suite",
				tt_srtp_suite_name((enum tt_srtp_suite)c->suite), "key", key));
		}
	}
	tt__http_finish(c->pd, &r);
	g_free(c);
}

static int default_pt(const char *codec)
{
	return !strcmp(codec, "opus") ? 111 : !strcmp(codec, "g722") ? 9 :
	       !strcmp(codec, "pcmu") ? 0 : 8;
}

void tt__api_part_post(struct tt_core *core, const struct tt_http_req *req,
		       struct tt_http_resp *r)
{
	static const char *const keys[] = { "name", "transport", "remote", "codec", "pt",
		"ptime", "audio_level_ext_id", "dtmf_pt", "bitrate", "fec", "dtx", "latch", "srtp",
		"pin", NULL };
	struct tt_audio_leg leg = { .kind = TT_LEG_UDP, .dtmf_pt = -1, .udp.srtp_suite = -1 };
	json_t *o = tt__api_body_object(req, r, false);
	if (!o)
		return;
	const char *name = json_string_value(json_object_get(o, "name"));
	const char *transport = json_string_value(json_object_get(o, "transport"));
	const char *remote = json_string_value(json_object_get(o, "remote"));
	const char *codec = json_string_value(json_object_get(o, "codec"));
	const char *pin = json_string_value(json_object_get(o, "pin"));
	long long pt = -1, ptime = 20, ext = 0, dtmf = -1, bitrate = 0;
	if (!tt__api_only_keys(o, keys, r))
		goto out;
	if (json_object_get(o, "name") && !name) {
		tt__http_error(r, 400, "name", "name must be a string");
		goto out;
	}
	if (json_object_get(o, "transport") && (!transport || strcmp(transport, "rtp"))) {
		tt__http_error(r, 400, "transport", "transport must be \"rtp\"");
		goto out;
	}
	if (!remote || tt_sockaddr_parse(&leg.udp.remote, &leg.udp.remote_len, remote) != 0) {
		tt__http_error(r, 400, "remote", "remote must be \"host:port\" (IPv6: \"[::1]:port\")");
		goto out;
	}
	if (!codec || (strcmp(codec, "opus") && strcmp(codec, "g722") && strcmp(codec, "pcmu") &&
		       strcmp(codec, "pcma"))) {
		tt__http_error(r, 400, "codec", "codec must be one of opus, g722, pcmu, pcma");
		goto out;
	}
	if (!get_int(o, "pt", 0, 127, &pt, r) || !get_int(o, "ptime", 10, 60, &ptime, r) ||
	    !get_int(o, "audio_level_ext_id", 1, 14, &ext, r) ||
	    !get_int(o, "dtmf_pt", 0, 127, &dtmf, r) ||
	    !get_int(o, "bitrate", 6000, 510000, &bitrate, r))
		goto out;
	if (ptime != 10 && ptime != 20 && ptime != 40 && ptime != 60) {
		tt__http_error(r, 400, "ptime", "ptime must be 10, 20, 40 or 60");
		goto out;
	}
	static const char *const bools[] = { "fec", "dtx", "latch" };
	for (size_t i = 0; i < G_N_ELEMENTS(bools); i++) {
		json_t *v = json_object_get(o, bools[i]);
		if (v && !json_is_boolean(v)) {
			tt__http_error(r, 400, bools[i], "%s must be true or false", bools[i]);
			goto out;
		}
	}
	json_t *srtp = json_object_get(o, "srtp");
	if (srtp) {
		const char *suite = json_string_value(json_object_get(srtp, "suite"));
		const char *key = json_string_value(json_object_get(srtp, "key"));
		enum tt_srtp_suite s;
		if (!json_is_object(srtp) || !suite ||
		    tt_srtp_suite_from_name(&s, suite, strlen(suite)) != 0) {
			tt__http_error(r, 400, "srtp.suite", "srtp.suite must be AES_CM_128_HMAC_SHA1_80,"
				       " AES_CM_128_HMAC_SHA1_32 or AEAD_AES_128_GCM");
			goto out;
		}
		if (!key || tt_sdes_key_decode(leg.udp.srtp_remote_key, s, key, strlen(key)) != 0) {
			tt__http_error(r, 400, "srtp.key", "srtp.key must be base64 of %zu bytes of key"
				       " and salt", tt_srtp_key_len(s));
			goto out;
		}
		leg.udp.srtp_suite = (int)s;
	}
	if (!tt__room_name_valid(req->params[0])) {
		tt__http_error(r, 400, "room", "room names are 1-64 of A-Z a-z 0-9 . _ -");
		goto out;
	}
	struct tt__rtp_gw *g = tt__rtp_gw_get(core);
	if (!g) {
		tt__http_error(r, 503, NULL, "plain RTP participants are disabled ([rtp] enabled)");
		goto out;
	}
	leg.codec = codec;
	leg.pt = (uint8_t)(pt >= 0 ? pt : default_pt(codec));
	leg.ptime = (unsigned)ptime;
	leg.audio_level_ext_id = (uint8_t)ext;
	leg.dtmf_pt = (int)dtmf;
	leg.bitrate = (unsigned)bitrate;
	leg.fec = json_is_true(json_object_get(o, "fec"));
	leg.dtx = json_is_true(json_object_get(o, "dtx"));
	leg.udp.latch = json_is_true(json_object_get(o, "latch"));

	struct tt_join j = { .room = req->params[0], .name = name ? name : "rtp",
			     .caps = TT_CAP_AUDIO, .pin = pin };
	struct tt_participant *p = NULL;
	int rc = tt__rtp_gw_join(g, &j, &p);
	if (rc) {
		tt__http_error(r, join_status(rc), rc == -EACCES ? "pin" : "room", "cannot join: %s",
			       tt_strerror(rc));
		goto out;
	}
	struct post_ctx *c = g_new0(struct post_ctx, 1);
	c->core = core;
	c->suite = leg.udp.srtp_suite;
	c->pd = tt__http_defer(req);
	rc = tt__rtp_gw_attach(g, p, &leg, attached, c);
	if (rc) {  /* cannot happen after the checks above; answer rather than hang */
		struct tt_http_resp e = { 0 };
		tt__http_error(&e, 500, NULL, "cannot attach audio: %s", tt_strerror(rc));
		tt__http_finish(c->pd, &e);
		g_free(c);
		tt__rtp_gw_drop(g, p, rc);
	}
out:
	json_decref(o);
}

static struct tt_participant *find_part(struct tt_core *core, const struct tt_http_req *req,
					struct tt_http_resp *r)
{
	struct tt_room *room = tt__room_find(core, req->params[0]);
	for (guint i = 0; room && i < room->parts->len; i++) {
		struct tt_participant *p = g_ptr_array_index(room->parts, i);
		if (!strcmp(p->id, req->params[1]))
			return p;
	}
	tt__http_error(r, 404, room ? "id" : "room", room ? "no participant %s in %s" :
		       "no room named '%s'", room ? req->params[1] : req->params[0],
		       req->params[0]);
	return NULL;
}

void tt__api_part_get(struct tt_core *core, const struct tt_http_req *req,
		      struct tt_http_resp *r)
{
	struct tt_participant *p = find_part(core, req, r);
	if (p)
		r->json = tt__api_participant_json(p);
}

void tt__api_part_patch(struct tt_core *core, const struct tt_http_req *req,
			struct tt_http_resp *r)
{
	/* muted, moderator and hand are a moderator's actions (meeting/), by "admin", so every
	 * network shows them; deaf and hold are plain state */
	static const char *const keys[] = { "muted", "deaf", "hold", "moderator", "hand", NULL };
	static const unsigned bits[] = { 0, TT_PS_DEAF, TT_PS_HOLD };
	struct tt_participant *p = find_part(core, req, r);
	json_t *o = p ? tt__api_body_object(req, r, false) : NULL;
	if (!o)
		return;
	if (!tt__api_only_keys(o, keys, r))
		goto out;
	for (size_t i = 0; keys[i]; i++) {
		json_t *v = json_object_get(o, keys[i]);
		if (v && !json_is_boolean(v)) {
			tt__http_error(r, 400, keys[i], "%s must be true or false", keys[i]);
			goto out;
		}
	}
	tt__participant_ref(p);   /* an action may end it (nothing here does, but be sure) */
	int rc = 0;
	for (size_t i = 1; i < 3; i++) {
		json_t *v = json_object_get(o, keys[i]);
		if (v)
			tt__room_set_state(p, bits[i], json_is_true(v));
	}
	json_t *v;
	const char *room = req->params[0];
	if ((v = json_object_get(o, "muted")))
		rc = tt__meeting_moderate(core, room, NULL,
					  json_is_true(v) ? TT_MOD_MUTE : TT_MOD_UNMUTE, p, NULL);
	if (!rc && (v = json_object_get(o, "moderator")))
		rc = tt__meeting_moderate(core, room, NULL,
					  json_is_true(v) ? TT_MOD_GRANT : TT_MOD_REVOKE, p, NULL);
	if (!rc && (v = json_object_get(o, "hand")))
		rc = json_is_true(v) ? tt__room_set_state(p, TT_PS_HAND, true)
				     : tt__meeting_moderate(core, room, NULL, TT_MOD_LOWER_HAND,
							    p, NULL);
	if (rc)
		tt__http_error(r, tt__api_meeting_status(rc), NULL, "%s", tt_strerror(rc));
	else
		r->json = tt__api_participant_json(p);
	tt__participant_unref(p);
out:
	json_decref(o);
}

void tt__api_part_delete(struct tt_core *core, const struct tt_http_req *req,
			 struct tt_http_resp *r)
{
	struct tt_participant *p = find_part(core, req, r);
	if (!p)
		return;
	r->json = json_pack("{s:s}", "left", p->id);
	/* a moderator's kick by "admin": every network is told, then the owning gateway says
	 * goodbye on its network and lets go */
	tt__meeting_moderate(core, req->params[0], NULL, TT_MOD_KICK, p,
			     "removed by an administrator");
}
