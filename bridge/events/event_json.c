/* event_json.c: roster and meeting events as the JSON operators read (docs/meetings.md,
 * "Admin API and event stream"). Pure: no core state, so unit tests drive it directly. */
#include "events/events_priv.h"

#include <string.h>
#include <time.h>
#include <tutti/errno.h>

#include "meeting/meeting.h"

static const struct {
	unsigned bit;
	const char *name;
} flag_names[] = {
	{ TT_PS_MUTED, "muted" },       { TT_PS_DEAF, "deaf" },
	{ TT_PS_HOLD, "hold" },         { TT_PS_TALKING, "talking" },
	{ TT_PS_MODERATOR, "moderator" }, { TT_PS_HAND, "hand" },
	{ TT_PS_MOD_MUTED, "muted_by_moderator" },
	{ TT_PS_NO_RECORD, "declined_recording" },
};

static json_t *caps_json(unsigned caps)
{
	json_t *a = json_array();
	if (caps & TT_CAP_AUDIO)
		json_array_append_new(a, json_string("audio"));
	if (caps & TT_CAP_TEXT)
		json_array_append_new(a, json_string("text"));
	return a;
}

static json_t *flags_json(unsigned bits)
{
	json_t *a = json_array();
	for (size_t i = 0; i < G_N_ELEMENTS(flag_names); i++)
		if (bits & flag_names[i].bit)
			json_array_append_new(a, json_string(flag_names[i].name));
	return a;
}

/* Strings from gateways are UTF-8 (the core cleans names); a NULL is JSON null, and a
 * string jansson refuses is shown repaired rather than dropping the event. */
static json_t *str_json(const char *s)
{
	if (!s)
		return json_null();
	json_t *j = json_string(s);
	if (!j) {
		char *v = g_utf8_make_valid(s, -1);
		j = json_string(v);
		g_free(v);
	}
	return j;
}

static json_t *entry_json(const struct tt_roster_entry *e)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", str_json(e->id));
	json_object_set_new(o, "name", str_json(e->name));
	json_object_set_new(o, "network", str_json(e->network));
	json_object_set_new(o, "gateway", str_json(e->gateway));
	json_object_set_new(o, "caps", caps_json(e->caps));
	for (size_t i = 0; i < G_N_ELEMENTS(flag_names); i++)
		json_object_set_new(o, flag_names[i].name,
				    json_boolean(e->state & flag_names[i].bit));
	if (e->state & TT_PS_HAND)
		json_object_set_new(o, "hand_seq", json_integer(e->hand_seq));
	return o;
}

/* Who did a moderator's action: a participant, the admin API, or the bridge itself (null). */
static json_t *by_json(const struct tt_roster_entry *e)
{
	if (e->id)
		return entry_json(e);
	if (e->name)
		return json_pack("{s:n, s:s}", "id", "name", e->name);
	return json_null();
}

static json_t *base(const char *room, const char *type)
{
	json_t *o = json_object();
	json_object_set_new(o, "room", str_json(room));
	json_object_set_new(o, "type", json_string(type));
	return o;
}

json_t *tt__ev_roster_json(const struct tt_roster_event *ev)
{
	json_t *o;
	switch (ev->type) {
	case TT_ROSTER_JOINED:
		o = base(ev->room, "joined");
		break;
	case TT_ROSTER_LEFT:
		o = base(ev->room, "left");
		json_object_set_new(o, "reason", ev->reason ? json_string(tt_strerror(ev->reason))
							    : json_null());
		break;
	case TT_ROSTER_ROOM_ENDED:
		return base(ev->room, "room_ended");
	case TT_ROSTER_STATE:
	default:
		/* talking and hands are most of the traffic: their own types let a client
		 * filter them without reading `changed` */
		if (ev->changed == TT_PS_TALKING && !ev->caps_changed) {
			o = base(ev->room, "talking");
			json_object_set_new(o, "talking", json_boolean(ev->who.state & TT_PS_TALKING));
		} else if (ev->changed == TT_PS_HAND && !ev->caps_changed) {
			o = base(ev->room, "hand");
			json_object_set_new(o, "raised", json_boolean(ev->who.state & TT_PS_HAND));
		} else {
			o = base(ev->room, "state");
		}
		json_object_set_new(o, "changed", flags_json(ev->changed));
		if (ev->caps_changed)
			json_object_set_new(o, "caps_changed", caps_json(ev->caps_changed));
		break;
	}
	json_object_set_new(o, "participant", entry_json(&ev->who));
	return o;
}

json_t *tt__ev_meeting_json(const struct tt_meeting_event *ev)
{
	json_t *o;
	if (ev->action == TT_MOD_RECORD_START || ev->action == TT_MOD_RECORD_STOP) {
		o = base(ev->room, "recording");
		json_object_set_new(o, "action", json_string(ev->action == TT_MOD_RECORD_START
								     ? "start" : "stop"));
		json_object_set_new(o, "recording_id", str_json(ev->recording_id));
	} else {
		o = base(ev->room, "moderation");
		json_object_set_new(o, "action", json_string(tt__mod_action_name(ev->action)));
		json_object_set_new(o, "target", ev->target.id ? entry_json(&ev->target)
							       : json_null());
		if (ev->action == TT_MOD_MUTE_ALL)
			json_object_set_new(o, "count", json_integer(ev->count));
	}
	json_object_set_new(o, "by", by_json(&ev->by));
	json_object_set_new(o, "reason", str_json(ev->reason));
	return o;
}

void tt__ev_time_iso(int64_t real_us, char out[32])
{
	time_t s = (time_t)(real_us / G_USEC_PER_SEC);
	struct tm tm;
	gmtime_r(&s, &tm);
	size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	g_snprintf(out + n, 32 - n, ".%03dZ", (int)(real_us % G_USEC_PER_SEC / 1000));
}

struct tt_ev *tt__ev_make(uint64_t seq, int64_t real_us, json_t *obj)
{
	char when[32];
	tt__ev_time_iso(real_us, when);
	json_t *o = json_pack("{s:I, s:s}", "seq", (json_int_t)seq, "time", when);
	json_object_update(o, obj);
	struct tt_ev *e = g_new0(struct tt_ev, 1);
	e->ref = 1;
	e->seq = seq;
	json_t *room = json_object_get(obj, "room");
	e->room = g_strdup(json_is_string(room) ? json_string_value(room) : "");
	e->json = json_dumps(o, JSON_COMPACT);
	e->len = e->json ? strlen(e->json) : 0;
	json_decref(o);
	return e;
}

struct tt_ev *tt__ev_ref(struct tt_ev *e)
{
	g_atomic_int_inc(&e->ref);
	return e;
}

void tt__ev_unref(struct tt_ev *e)
{
	if (e && g_atomic_int_dec_and_test(&e->ref)) {
		free(e->json);
		g_free(e->room);
		g_free(e);
	}
}
