/* api_meeting.c: the admin API's side of running a meeting: PATCH a room (lock, mute
 * everyone, the room's moderation keys), and start, stop and read its recording. Every
 * action goes through meeting/ as the moderator "admin", so every network shows it as it
 * shows a moderator's. A request is validated whole before anything changes. */
#define TT_LOG_DOMAIN "http"
#include "http.h"

#include <string.h>
#include <tutti/errno.h>
#include <tutti/log.h>

#include "meeting/meeting.h"
#include "record/record.h"
#include "room/room.h"

static bool want_bool(json_t *o, const char *key, struct tt_http_resp *r)
{
	json_t *v = json_object_get(o, key);
	if (v && !json_is_boolean(v)) {
		tt__http_error(r, 400, key, "%s must be true or false", key);
		return false;
	}
	return true;
}

static struct tt_room *room_of(struct tt_core *core, const struct tt_http_req *req,
			       struct tt_http_resp *r)
{
	struct tt_room *room = tt__room_find(core, req->params[0]);
	if (!room || room->hidden)
		tt__http_error(r, 404, "room", "no room named '%s'", req->params[0]);
	return room && !room->hidden ? room : NULL;
}

unsigned tt__api_meeting_status(int rc)
{
	switch (rc) {
	case -ENOENT: return 404;
	case -EPERM: return 403;
	case -EINVAL: return 400;
	case -EALREADY: return 409;
	case -ENOTSUP: return 501;
	case -ENOSPC: return 507;
	default: return 500;
	}
}

void tt__api_room_patch(struct tt_core *core, const struct tt_http_req *req,
			struct tt_http_resp *r)
{
	static const char *const keys[] = { "locked", "mute_all", "self_unmute", "unmute",
					    "recording_decline", NULL };
	struct tt_room *room = room_of(core, req, r);
	json_t *o = room ? tt__api_body_object(req, r, false) : NULL;
	if (!o)
		return;
	if (!tt__api_only_keys(o, keys, r) || !want_bool(o, "locked", r) ||
	    !want_bool(o, "self_unmute", r) || !want_bool(o, "recording_decline", r))
		goto out;
	json_t *mute_all = json_object_get(o, "mute_all");
	if (mute_all && !json_is_true(mute_all)) {
		tt__http_error(r, 400, "mute_all", "mute_all can only be true");
		goto out;
	}
	json_t *unmute = json_object_get(o, "unmute");
	if (unmute && (!json_is_string(unmute) || (strcmp(json_string_value(unmute), "ask") &&
						   strcmp(json_string_value(unmute), "direct")))) {
		tt__http_error(r, 400, "unmute", "unmute must be \"direct\" or \"ask\"");
		goto out;
	}
	/* settings first, then actions: "unmute":"ask" with "mute_all" is one meeting */
	json_t *v;
	if ((v = json_object_get(o, "self_unmute")))
		room->self_unmute = json_is_true(v);
	if ((v = json_object_get(o, "recording_decline")))
		room->recording_decline = json_is_true(v);
	if (unmute)
		room->unmute_asks = !strcmp(json_string_value(unmute), "ask");
	char *name = g_strdup(room->name);
	int rc = 0;
	if ((v = json_object_get(o, "locked")))
		rc = tt__meeting_moderate(core, name, NULL,
					  json_is_true(v) ? TT_MOD_LOCK : TT_MOD_UNLOCK, NULL, NULL);
	if (!rc && mute_all)
		rc = tt__meeting_moderate(core, name, NULL, TT_MOD_MUTE_ALL, NULL, NULL);
	if (rc) {
		tt__http_error(r, tt__api_meeting_status(rc), NULL, "%s", tt_strerror(rc));
	} else {
		struct tt_http_req get = *req;
		tt__api_room_get(core, &get, r);
	}
	g_free(name);
out:
	json_decref(o);
}

static json_t *recording_view(struct tt_room *room)
{
	if (!room->rec)
		return json_pack("{s:s}", "state", "idle");
	json_t *j = tt__record_json(room->rec);
	json_object_set_new(j, "state", json_string("recording"));
	return j;
}

void tt__api_recording_get(struct tt_core *core, const struct tt_http_req *req,
			   struct tt_http_resp *r)
{
	struct tt_room *room = room_of(core, req, r);
	if (room)
		r->json = recording_view(room);
}

void tt__api_recording_post(struct tt_core *core, const struct tt_http_req *req,
			    struct tt_http_resp *r)
{
	static const char *const keys[] = { "action", "tracks", "reason", NULL };
	struct tt_room *room = room_of(core, req, r);
	json_t *o = room ? tt__api_body_object(req, r, false) : NULL;
	if (!o)
		return;
	if (!tt__api_only_keys(o, keys, r) || !want_bool(o, "tracks", r))
		goto out;
	const char *action = json_string_value(json_object_get(o, "action"));
	const char *reason = json_string_value(json_object_get(o, "reason"));
	if (json_object_get(o, "reason") && !reason) {
		tt__http_error(r, 400, "reason", "reason must be a string");
		goto out;
	}
	if (!action || (strcmp(action, "start") && strcmp(action, "stop"))) {
		tt__http_error(r, 400, "action", "action must be \"start\" or \"stop\"");
		goto out;
	}
	if (!strcmp(action, "start")) {
		if (room->rec) {
			tt__http_error(r, 409, "action", "a recording runs already: %s",
				       tt__record_id(room->rec));
			goto out;
		}
		json_t *t = json_object_get(o, "tracks");
		int rc = tt__meeting_record_start(room, NULL, t && json_is_true(t));
		if (rc) {
			tt__http_error(r, tt__api_meeting_status(rc), NULL, "cannot record: %s",
				       rc == -ENOTSUP ? "recording is not enabled ([recording] "
						       "enabled = true)" : tt_strerror(rc));
			goto out;
		}
		r->status = 201;
		r->json = recording_view(room);
		goto out;
	}
	if (!room->rec) {
		tt__http_error(r, 409, "action", "no recording runs in %s", room->name);
		goto out;
	}
	json_t *j = tt__record_json(room->rec);
	int rc = tt__meeting_moderate(core, room->name, NULL, TT_MOD_RECORD_STOP, NULL, reason);
	if (rc) {
		json_decref(j);
		tt__http_error(r, tt__api_meeting_status(rc), NULL, "%s", tt_strerror(rc));
		goto out;
	}
	json_object_set_new(j, "state", json_string("stopped"));
	r->json = j;
out:
	json_decref(o);
}
