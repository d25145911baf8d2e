/* room.c: rooms, joins and leaves, presence and roster events, on the core thread. */
#define TT_LOG_DOMAIN "room"
#include "room.h"

#include <string.h>
#include <tutti/errno.h>
#include <tutti/log.h>

#include "cluster/cascade.h"
#include "cluster/cluster.h"
#include "participant/participant.h"
#include "events/events.h"
#include "metrics/metrics.h"
#include "record/record.h"
#include "record/recorder.h"
#include "textbus/textbus.h"

#define NAME_MAX_BYTES 64

bool tt__room_name_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > NAME_MAX_BYTES || name[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!g_ascii_isalnum(c) && c != '.' && c != '_' && c != '-')
			return false;
	}
	return true;
}

/* The decoy lobby's name starts with '.', which no valid room name does: nobody can join,
 * make or look it up by name. */
#define DECOY_ROOM ".lobby"

struct tt_room *tt__room_find(struct tt_core *core, const char *name)
{
	struct tt_room *r = name ? g_hash_table_lookup(core->rooms, name) : NULL;
	return r && !r->hidden ? r : NULL;
}

unsigned tt__rooms_visible(struct tt_core *core)
{
	struct tt_room *decoy = g_hash_table_lookup(core->rooms, DECOY_ROOM);
	return g_hash_table_size(core->rooms) - (decoy ? 1 : 0);
}

void tt__room_apply_settings(struct tt_room *r)
{
	const struct tt_conf *c = r->core->conf;
	char *sec = g_strconcat("room.", r->name, NULL);
	r->configured = false;
	for (const char *const *i = tt_conf_instances(c, "room"); *i; i++)
		if (strcmp(*i, r->name) == 0)
			r->configured = true;
	r->rate = (unsigned)tt_conf_int(c, "rooms", "rate");
	r->speakers = (unsigned)tt_conf_int(c, "rooms", "speakers");
	r->max_participants = (unsigned)tt_conf_int(c, "rooms", "max_participants");
	g_clear_pointer(&r->pin, g_free);
	g_clear_pointer(&r->moderator_pin, g_free);
	r->locked = false;
	r->self_unmute = tt_conf_bool(c, "rooms", "self_unmute");
	r->unmute_asks = strcmp(tt_conf_str(c, "rooms", "unmute"), "ask") == 0;
	r->recording_decline = tt_conf_bool(c, "rooms", "recording_decline");
	if (r->configured) {
		if (tt_conf_is_set(c, sec, "rate"))
			r->rate = (unsigned)tt_conf_int(c, sec, "rate");
		if (tt_conf_is_set(c, sec, "speakers"))
			r->speakers = (unsigned)tt_conf_int(c, sec, "speakers");
		if (tt_conf_is_set(c, sec, "max_participants"))
			r->max_participants = (unsigned)tt_conf_int(c, sec, "max_participants");
		if (tt_conf_is_set(c, sec, "pin"))
			r->pin = g_strdup(tt_conf_str(c, sec, "pin"));
		if (tt_conf_is_set(c, sec, "moderator_pin"))
			r->moderator_pin = g_strdup(tt_conf_str(c, sec, "moderator_pin"));
		r->locked = tt_conf_bool(c, sec, "locked");
		if (tt_conf_is_set(c, sec, "self_unmute"))
			r->self_unmute = tt_conf_bool(c, sec, "self_unmute");
		if (tt_conf_is_set(c, sec, "unmute"))
			r->unmute_asks = strcmp(tt_conf_str(c, sec, "unmute"), "ask") == 0;
		if (tt_conf_is_set(c, sec, "recording_decline"))
			r->recording_decline = tt_conf_bool(c, sec, "recording_decline");
	}
	if (r->api_locked >= 0)
		r->locked = r->api_locked;
	if (r->api_made)
		r->configured = true;
	if (r->api_rate)
		r->rate = r->api_rate;
	if (r->api_speakers)
		r->speakers = r->api_speakers;
	if (r->api_max)
		r->max_participants = r->api_max;
	g_free(sec);
}

static struct tt_room *room_new(struct tt_core *core, const char *name)
{
	struct tt_room *r = g_new0(struct tt_room, 1);
	r->core = core;
	r->name = g_strdup(name);
	r->parts = g_ptr_array_new();
	r->names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	r->name_next = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	r->watch = g_hash_table_new(g_direct_hash, g_direct_equal);
	r->text_media = g_ptr_array_new();
	r->created_us = g_get_real_time();
	r->api_locked = -1;
	tt__room_apply_settings(r);
	g_hash_table_insert(core->rooms, r->name, r);
	r->worker = tt_workers_pick(core->workers);
	struct tt__media_room_cfg mc = {
		.name = r->name, .rate = r->rate, .speakers = r->speakers,
		.max_parts = r->max_participants, .worker = r->worker, .core_mq = core->mq,
		.events = &tt__room_media_events, .conf = core->conf,
	};
	tt__room_media_new(&r->media, &mc);   /* cannot fail with these */
	tt__cluster_room_up(core->cluster, r->name);
	tt_info_kv(TT_KV("event", "room_created", "room", r->name),
		   "room %s created (%u Hz, %u speakers, worker %u)", r->name, r->rate, r->speakers,
		   tt_worker_index(r->worker));
	return r;
}

static void room_free(struct tt_room *r)
{
	if (r->rec)
		tt__record_stop(r, "the room ended");
	r->media = tt__room_media_end(r->media);
	tt__cluster_room_down(r->core->cluster, r->name);
	if (r->has_mixer_stats)
		tt__metrics_room_gone(r->core->metrics, &r->mixer_stats);
	g_ptr_array_free(r->parts, TRUE);
	g_hash_table_destroy(r->names);
	g_hash_table_destroy(r->name_next);
	g_hash_table_destroy(r->watch);
	tt__text_media_room_gone(r);
	g_ptr_array_free(r->text_media, TRUE);
	g_free(r->pin);
	g_free(r->moderator_pin);
	g_free(r->name);
	g_free(r);
}

int tt__room_open(struct tt_core *core, const char *name, bool create, struct tt_room **rp)
{
	if (!tt__room_name_valid(name))
		return -EINVAL;
	struct tt_room *r = tt__room_find(core, name);
	if (!r) {
		bool configured = false;
		for (const char *const *i = tt_conf_instances(core->conf, "room"); *i; i++)
			if (strcmp(*i, name) == 0)
				configured = true;
		if (!configured && !(create && tt_conf_bool(core->conf, "rooms", "on_demand")))
			return -ENOENT;
		r = room_new(core, name);
	}
	*rp = r;
	return 0;
}

int tt__room_put(struct tt_core *core, const char *name, int rate, int speakers,
		 struct tt_room **rp)
{
	if (!tt__room_name_valid(name))
		return -EINVAL;
	if (rate >= 0 && rate != 8000 && rate != 16000 && rate != 24000 && rate != 48000)
		return -EINVAL;
	if (speakers >= 0 && (speakers < 1 || speakers > 16))
		return -EINVAL;
	struct tt_room *r = tt__room_find(core, name);
	if (!r)
		r = room_new(core, name);
	/* A room made through the API is kept until DELETE, like a configured one. */
	r->api_made = true;
	r->configured = true;
	unsigned old_rate = r->rate, old_speakers = r->speakers;
	if (rate >= 0)
		r->rate = r->api_rate = (unsigned)rate;
	if (speakers >= 0)
		r->speakers = r->api_speakers = (unsigned)speakers;
	if (r->rate != old_rate || r->speakers != old_speakers)
		tt__room_media_resize(r);
	*rp = r;
	return 0;
}

void tt__room_media_resize(struct tt_room *r)
{
	tt__room_media_reconfigure(r->media, r->rate, r->speakers, r->max_participants);
}

void tt__rooms_apply_conf(struct tt_core *core)
{
	GHashTableIter it;
	gpointer v;
	GPtrArray *gc = g_ptr_array_new();
	g_hash_table_iter_init(&it, core->rooms);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		struct tt_room *r = v;
		unsigned old_rate = r->rate, old_speakers = r->speakers, old_max = r->max_participants;
		tt__room_apply_settings(r);
		if (r->rate != old_rate || r->speakers != old_speakers ||
		    r->max_participants != old_max)
			tt__room_media_resize(r);
		g_ptr_array_add(gc, v);
	}
	for (guint i = 0; i < gc->len; i++)
		tt__room_gc(g_ptr_array_index(gc, i));
	g_ptr_array_free(gc, TRUE);
}

int tt__room_check(struct tt_core *core, const char *name, const char *pin, bool *moderator)
{
	struct tt_room *r = tt__room_find(core, name);
	const char *mod_pin = NULL, *room_pin = NULL;
	bool locked = false;
	unsigned max = 0, count = 0;
	if (!tt__room_name_valid(name))
		return -ENOENT;
	if (r) {
		room_pin = r->pin;
		mod_pin = r->moderator_pin;
		locked = r->locked;
		max = r->max_participants;
		count = r->parts->len;
	} else {
		bool configured = false;
		for (const char *const *i = tt_conf_instances(core->conf, "room"); *i; i++)
			if (strcmp(*i, name) == 0)
				configured = true;
		if (!configured && !tt_conf_bool(core->conf, "rooms", "on_demand"))
			return -ENOENT;
		if (configured) {
			char *sec = g_strconcat("room.", name, NULL);
			room_pin = tt_conf_str(core->conf, sec, "pin");
			mod_pin = tt_conf_str(core->conf, sec, "moderator_pin");
			locked = tt_conf_bool(core->conf, sec, "locked");
			g_free(sec);
		}
	}
	bool is_mod = mod_pin && pin && strcmp(pin, mod_pin) == 0;
	if (moderator)
		*moderator = is_mod;
	if (room_pin && !is_mod && (!pin || strcmp(pin, room_pin) != 0))
		return -EACCES;
	if (locked && !is_mod)
		return -EBUSY;
	if (r && count >= max)
		return -EUSERS;
	return 0;
}

GPtrArray *tt__room_present_gateways(struct tt_room *room)
{
	struct tt_core *core = room->core;
	GPtrArray *out = g_ptr_array_new();
	for (unsigned g = 0; g < core->n_gws; g++) {
		struct tt_gw_handle *h = &core->gws[g];
		if (!h->started)
			continue;
		bool present = g_hash_table_lookup(room->watch, h) != NULL;
		for (guint i = 0; !present && i < room->parts->len; i++) {
			struct tt_participant *p = g_ptr_array_index(room->parts, i);
			present = p->gw == h;
		}
		if (present)
			g_ptr_array_add(out, h);
	}
	return out;
}

void tt__room_emit(struct tt_room *room, const struct tt_roster_event *ev)
{
	if (room->rec)
		tt__record_note(room, ev);   /* the manifest's joins, leaves and talk spans */
	GPtrArray *gws = tt__room_present_gateways(room);
	for (guint i = 0; i < gws->len; i++) {
		struct tt_gw_handle *h = g_ptr_array_index(gws, i);
		if (h->gw->on_roster)
			h->gw->on_roster(h->state, ev);
	}
	g_ptr_array_free(gws, TRUE);
	if (!room->hidden) {
		tt__events_roster(room->core, ev);
		tt__cluster_roster_out(room->core->cluster, ev);   /* local members only */
	}
}

int tt__room_watch(struct tt_gw_handle *gw, const char *name, bool on)
{
	struct tt_room *r;
	int rc = on ? tt__room_open(gw->core, name, true, &r)
		    : (tt__room_find(gw->core, name) ? 0 : -ENOENT);
	if (rc)
		return rc;
	r = tt__room_find(gw->core, name);
	guint n = GPOINTER_TO_UINT(g_hash_table_lookup(r->watch, gw));
	if (on) {
		g_hash_table_insert(r->watch, gw, GUINT_TO_POINTER(n + 1));
	} else if (n <= 1) {
		g_hash_table_remove(r->watch, gw);
		tt__room_gc(r);
	} else {
		g_hash_table_insert(r->watch, gw, GUINT_TO_POINTER(n - 1));
	}
	return 0;
}

void tt__room_gc(struct tt_room *r)
{
	if (r->parts->len || g_hash_table_size(r->watch) || r->configured)
		return;
	tt_info_kv(TT_KV("event", "room_ended", "room", r->name), "room %s ended", r->name);
	/* nobody is present any more: this reaches the operators' event stream only */
	struct tt_roster_event ev = { .type = TT_ROSTER_ROOM_ENDED, .room = r->name };
	tt__room_emit(r, &ev);
	g_hash_table_steal(r->core->rooms, r->name);
	room_free(r);
}

void tt__room_hang_up_all(struct tt_room *room, const char *why)
{
	/* hang_up may call leave synchronously, which edits room->parts: work on a copy */
	GPtrArray *copy = g_ptr_array_new_with_free_func(
		(GDestroyNotify)(void (*)(void))tt__participant_unref);
	for (guint i = 0; i < room->parts->len; i++)
		g_ptr_array_add(copy, tt__participant_ref(g_ptr_array_index(room->parts, i)));
	for (guint i = 0; i < copy->len; i++) {
		struct tt_participant *p = g_ptr_array_index(copy, i);
		if (!g_atomic_int_get(&p->destroyed))
			p->gw->gw->hang_up(p->gw->state, p, why);
	}
	g_ptr_array_free(copy, TRUE);
}

void tt__room_end(struct tt_room *room, const char *why)
{
	room->api_made = false;
	room->api_rate = room->api_speakers = room->api_max = 0;
	room->api_locked = -1;
	tt__record_stop(room, why);
	tt__room_apply_settings(room);
	tt_info_kv(TT_KV("event", "room_ending", "room", room->name, "reason", why),
		   "room %s: ending (%s)", room->name, why);
	if (room->parts->len == 0)
		tt__room_gc(room);
	else
		tt__room_hang_up_all(room, why);
}

void tt__rooms_free(struct tt_core *core)
{
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, core->rooms);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		struct tt_room *r = v;
		/* participants gateways never let go of: drop the room's references */
		for (guint i = 0; i < r->parts->len; i++)
			tt__participant_unref(g_ptr_array_index(r->parts, i));
		g_ptr_array_set_size(r->parts, 0);
		g_hash_table_iter_steal(&it);
		room_free(r);
	}
}

/* Display names: printable UTF-8, trimmed, at most 64 bytes on a character boundary, and
 * unique in the room (" (2)", " (3)" ...), so rosters on every network can tell people apart. */
/* Two names are the same when they differ only in case or Unicode form ("Ana", "ANA",
 * "A\u0301na" vs "\u00C1na"). Newly allocated. */
static char *name_key(const char *name)
{
	char *norm = g_utf8_normalize(name, -1, G_NORMALIZE_ALL);
	char *key = g_utf8_casefold(norm ? norm : name, -1);
	g_free(norm);
	return key;
}

static bool name_taken(struct tt_room *room, const char *name)
{
	char *key = name_key(name);
	bool taken = g_hash_table_contains(room->names, key);
	g_free(key);
	return taken;
}

/* A clean display name, unique in the room: "name", else "name (2)", "name (3)"... The
 * lookups are hashed and the next suffix remembered per base name, so a town hall where
 * hundreds of phones all say "Anonymous" costs O(1) per join, not O(N) collations. */
static char *sanitize_name(struct tt_room *room, const char *in)
{
	GString *s = g_string_new(NULL);
	if (in && g_utf8_validate(in, -1, NULL)) {
		for (const char *q = in; *q; q = g_utf8_next_char(q)) {
			gunichar ch = g_utf8_get_char(q);
			/* noncharacters too: never interchanged, and U+FFFE/U+FFFF are not XML
			 * characters (an RFC 4575 roster with one would not parse) */
			if (g_unichar_iscntrl(ch) || ch == 0x200B || ch == 0xFEFF ||
			    (ch >= 0xFDD0 && ch <= 0xFDEF) || (ch & 0xFFFE) == 0xFFFE)
				continue;
			if (s->len + 6 > 64)
				break;
			g_string_append_unichar(s, g_unichar_isspace(ch) ? ' ' : ch);
		}
	}
	char *base = g_strstrip(g_string_free(s, FALSE));
	if (!*base) {
		g_free(base);
		base = g_strdup("guest");
	}
	char *base_key = name_key(base);
	if (!g_hash_table_contains(room->names, base_key)) {
		g_free(base_key);
		return base;
	}
	int n = GPOINTER_TO_INT(g_hash_table_lookup(room->name_next, base_key));
	char *name = NULL;
	for (n = n < 2 ? 2 : n;; n++) {
		name = g_strdup_printf("%s (%d)", base, n);
		if (!name_taken(room, name))
			break;
		g_free(name);
	}
	g_hash_table_replace(room->name_next, base_key, GINT_TO_POINTER(n + 1));
	g_free(base);
	return name;
}

/* how join_room adds a participant */
enum join_mode { JOIN_NORMAL, JOIN_LOBBY, JOIN_TRUNK, JOIN_TRUNK_HELD };

static int join(struct tt_gw_handle *gw, const struct tt_join *req,
		struct tt_participant **pp, bool lobby);
static int join_room(struct tt_gw_handle *gw, const struct tt_join *req, struct tt_room *room,
		     bool moderator, enum join_mode mode, struct tt_participant **pp);

/* The decoy lobby (tt_join.decoy): a hidden room with media, so the caller hears the same
 * prompts and its DTMF arrives, where tt__room_lobby_admit() refuses every PIN. */
static int decoy_join(struct tt_gw_handle *gw, const struct tt_join *req,
		      struct tt_participant **pp)
{
	struct tt_core *core = gw->core;
	if (core->stopping)
		return -ESHUTDOWN;
	struct tt_room *room = g_hash_table_lookup(core->rooms, DECOY_ROOM);
	if (!room) {
		room = room_new(core, DECOY_ROOM);
		room->hidden = true;
	}
	return join_room(gw, req, room, false, JOIN_LOBBY, pp);
}

/* A trunk joins a room that exists (it never creates one: the room lives because of its
 * local participants), with no PIN, lock or limit: it is the other nodes' participants,
 * each of whom passed those checks where they joined. Hidden as a lobby participant is. */
int tt__room_trunk_join(struct tt_gw_handle *gw, const struct tt_join *req, bool hold,
			struct tt_participant **pp)
{
	if (!req || !req->room || !(req->caps & TT_CAP_AUDIO))
		return -EINVAL;
	if (gw->core->stopping)
		return -ESHUTDOWN;
	struct tt_room *room = tt__room_find(gw->core, req->room);
	if (!room)
		return -ENOENT;
	return join_room(gw, req, room, false, hold ? JOIN_TRUNK_HELD : JOIN_TRUNK, pp);
}

unsigned tt__room_visible_parts(const struct tt_room *room)
{
	unsigned n = 0;
	for (guint i = 0; i < room->parts->len; i++)
		n += !((const struct tt_participant *)g_ptr_array_index(room->parts, i))->lobby;
	return n;
}

int tt__room_join(struct tt_gw_handle *gw, const struct tt_join *req,
		  struct tt_participant **pp)
{
	return join(gw, req, pp, false);
}

/* A lobby participant is in the room's media (its DTMF arrives) but on hold and hidden:
 * no roster entry, no events, not counted, until tt__room_lobby_admit(). The PIN is not
 * checked here; everything else is (room exists, not locked, not full). */
int tt__room_lobby_join(struct tt_gw_handle *gw, const struct tt_join *req,
			struct tt_participant **pp)
{
	if (!req)
		return -EINVAL;
	int rc = tt__room_check(gw->core, req->room, NULL, NULL);
	if (rc == -ENOENT && req->decoy)
		return decoy_join(gw, req, pp);
	if (rc && rc != -EACCES)
		return rc;
	struct tt_join j = *req;
	j.pin_checked = true;
	return join(gw, &j, pp, true);
}

int tt__room_lobby_admit(struct tt_participant *p, const char *pin)
{
	if (!p || !p->lobby)
		return -EINVAL;
	if (!p->room)
		return -ENOENT;
	if (p->room->hidden)
		return -EACCES;   /* the decoy lobby: every PIN is wrong, as in a real room */
	bool moderator = false;
	int rc = tt__room_check(p->room->core, p->room->name, pin, &moderator);
	if (rc == -EUSERS)
		rc = 0;   /* it already holds its place */
	/* a room without a PIN but with a moderator PIN: a PIN typed that is not the
	 * moderator's is a mistake to be told, not a silent entry as a participant */
	if (rc == 0 && !moderator && pin && *pin && !p->room->pin)
		rc = -EACCES;
	if (rc)
		return rc;
	p->lobby = false;
	unsigned now = ((unsigned)g_atomic_int_get(&p->state) & ~TT_PS_HOLD) |
		       (moderator ? TT_PS_MODERATOR : 0);
	g_atomic_int_set(&p->state, (gint)now);
	if (p->caps & TT_CAP_AUDIO)
		tt__room_media_set_state(p->room->media, p, now);
	tt_info_kv(TT_KV("event", "join", "room", p->room->name, "participant", p->id,
			 "network", p->network, "from", "lobby"),
		   "%s admitted to %s from the lobby", p->id, p->room->name);
	tt__metrics_joined(p->room->core->metrics, p->gw->gw->name);
	struct tt_roster_event ev = { .type = TT_ROSTER_JOINED, .room = p->room->name };
	tt__participant_entry(p, &ev.who);
	tt__room_emit(p->room, &ev);
	return 0;
}

static int join(struct tt_gw_handle *gw, const struct tt_join *req,
		struct tt_participant **pp, bool lobby)
{
	struct tt_core *core = gw->core;
	if (!req || !req->room || !(req->caps & (TT_CAP_AUDIO | TT_CAP_TEXT)))
		return -EINVAL;
	if (core->stopping)
		return -ESHUTDOWN;
	bool moderator = false;
	int rc = 0;
	if (!req->pin_checked) {
		rc = tt__room_check(core, req->room, req->pin, &moderator);
		if (rc)
			return rc;
	}
	struct tt_room *room;
	rc = tt__room_open(core, req->room, true, &room);
	if (rc)
		return rc;
	return join_room(gw, req, room, moderator, lobby ? JOIN_LOBBY : JOIN_NORMAL, pp);
}

static int join_room(struct tt_gw_handle *gw, const struct tt_join *req, struct tt_room *room,
		     bool moderator, enum join_mode mode, struct tt_participant **pp)
{
	struct tt_core *core = gw->core;
	bool lobby = mode != JOIN_NORMAL;
	bool trunk = mode == JOIN_TRUNK || mode == JOIN_TRUNK_HELD;
	if (!trunk && room->parts->len >= room->max_participants) {
		tt__room_gc(room);
		return -EUSERS;
	}
	if (req->medium && !tt__text_medium_fits(req->medium, gw, room)) {
		tt__room_gc(room);
		return -EINVAL;
	}
	char *name = sanitize_name(room, req->name);
	struct tt_participant *p = tt__participant_new(core, gw, req, name, room);
	g_free(name);
	if (moderator)
		p->state |= TT_PS_MODERATOR;
	if (lobby) {
		p->lobby = true;
		p->trunk = trunk;
		if (mode != JOIN_TRUNK)
			p->state |= TT_PS_HOLD;   /* neither heard nor hearing the room */
	}
	g_ptr_array_add(room->parts, tt__participant_ref(p));  /* the room's reference */
	g_hash_table_add(room->names, name_key(p->name));
	if (p->caps & TT_CAP_AUDIO)
		tt__room_media_add(room->media, p, (unsigned)g_atomic_int_get(&p->state));
	tt_info_kv(TT_KV("event", trunk ? "trunk" : lobby ? "lobby" : "join", "room",
			 room->name, "participant", p->id, "network", p->network),
		   "%s %s %s as %s from %s", p->id, trunk ? "trunks" :
		   lobby ? "waits in the lobby of" : "joined",
		   room->name, p->name, p->network);
	if (lobby) {
		*pp = p;
		return 0;
	}
	tt__metrics_joined(core->metrics, gw->gw->name);
	struct tt_roster_event ev = { .type = TT_ROSTER_JOINED, .room = room->name };
	tt__participant_entry(p, &ev.who);
	tt__room_emit(room, &ev);
	if (tt__room_visible_parts(room) == 1)   /* a leaf's trunk now, not at the heartbeat */
		tt__cascade_room_busy(core->cluster, room->name);
	*pp = p;  /* the caller's reference */
	return 0;
}

struct tt_participant *tt__room_leave(struct tt_participant *p, int reason)
{
	if (!p)
		return NULL;
	if (!tt__participant_mark_destroyed(p))
		return tt__participant_unref(p);  /* already left: just the caller's ref */
	struct tt_room *room = p->room;
	p->room = NULL;
	if (room) {
		if (p->caps & TT_CAP_AUDIO)
			tt__room_media_remove(room->media, p);
		g_ptr_array_remove(room->parts, p);
		char *key = name_key(p->name);
		g_hash_table_remove(room->names, key);
		g_free(key);
		tt_info_kv(TT_KV("event", "leave", "room", room->name, "participant", p->id,
				 "network", p->network, "reason", reason ? tt_strerror(reason) : "normal"),
			   "%s left %s (%s)", p->id, room->name,
			   reason ? tt_strerror(reason) : "normal");
		tt__metrics_leg_gone(room->core->metrics, p->gw->gw->name, p->media);
		if (p->lobby) {   /* nobody saw it come */
			tt__participant_unref(p);
			tt__room_gc(room);
			return tt__participant_unref(p);
		}
		tt__metrics_left(room->core->metrics, p->gw->gw->name);
		struct tt_roster_event ev = { .type = TT_ROSTER_LEFT, .room = room->name,
					      .reason = reason };
		tt__participant_entry(p, &ev.who);
		tt__room_emit(room, &ev);
		/* also tell the leaver's own gateway, which may no longer be present */
		GPtrArray *gws = tt__room_present_gateways(room);
		bool told = false;
		for (guint i = 0; i < gws->len; i++)
			told |= g_ptr_array_index(gws, i) == p->gw;
		g_ptr_array_free(gws, TRUE);
		if (!told && p->gw->gw->on_roster)
			p->gw->gw->on_roster(p->gw->state, &ev);
		tt__participant_unref(p);  /* the room's reference */
		if (!tt__room_visible_parts(room))   /* a leaf's trunk goes with the last one */
			tt__cascade_room_quiet(room->core->cluster, room->name);
		tt__room_gc(room);
	}
	return tt__participant_unref(p);  /* the caller's reference */
}

int tt__room_set_state(struct tt_participant *p, unsigned bits, bool on)
{
	const unsigned settable = TT_PS_MUTED | TT_PS_DEAF | TT_PS_HOLD | TT_PS_HAND |
				  TT_PS_MODERATOR | TT_PS_TALKING | TT_PS_MOD_MUTED |
				  TT_PS_NO_RECORD;
	if (!p || (bits & ~settable))
		return -EINVAL;
	if (!p->room)
		return -ENOENT;
	unsigned old = (unsigned)g_atomic_int_get(&p->state);
	unsigned now = on ? (old | bits) : (old & ~bits);
	if (p->lobby && !p->trunk)
		now |= TT_PS_HOLD;   /* the lobby never hears the room */
	if (!(now & TT_PS_MUTED))
		now &= ~(unsigned)TT_PS_MOD_MUTED;   /* never "muted by a moderator" but heard */
	if ((now & TT_PS_MOD_MUTED) && !(old & TT_PS_MOD_MUTED))
		now |= TT_PS_MUTED;
	if ((now & TT_PS_NO_RECORD) && p->room->rec)
		now |= TT_PS_MUTED;   /* declined a recording that runs: not heard, so not kept */
	if (now == old)
		return 0;
	if ((now & TT_PS_HAND) && !(old & TT_PS_HAND))
		p->hand_seq = ++p->room->hand_next;
	g_atomic_int_set(&p->state, (gint)now);
	if ((p->caps & TT_CAP_AUDIO) && ((old ^ now) & (TT_PS_MUTED | TT_PS_DEAF | TT_PS_HOLD)))
		tt__room_media_set_state(p->room->media, p, now);
	if (p->lobby)
		return 0;
	struct tt_roster_event ev = { .type = TT_ROSTER_STATE, .room = p->room->name,
				      .changed = old ^ now };
	tt__participant_entry(p, &ev.who);
	tt__room_emit(p->room, &ev);
	return 0;
}

/* A participant's audio is its place in the room's media (a mixer input once a leg is
 * attached); the participant itself, its name, roster entry and text, is untouched, so an
 * XMPP occupant who calls in is still one person in every roster. */
int tt__room_audio(struct tt_participant *p, bool on, tt_audio_ended_h ended, void *arg)
{
	if (!p)
		return -EINVAL;
	if (!p->room || tt__participant_left(p))
		return -ENOENT;
	if (p->lobby)
		return -EPERM;
	if (!p->room->media)
		return -ENODEV;
	unsigned old = (unsigned)g_atomic_int_get(&p->state);
	unsigned now = old;
	if (on) {
		if (p->caps & TT_CAP_AUDIO)
			return -EALREADY;
		p->caps |= TT_CAP_AUDIO;
		p->audio_added = true;
		p->audio_ended = ended;
		p->audio_ended_arg = arg;
		tt__room_media_add(p->room->media, p, old);
	} else {
		if (!(p->caps & TT_CAP_AUDIO))
			return -EALREADY;
		if (!p->audio_added)
			return -EPERM;
		p->caps &= ~(unsigned)TT_CAP_AUDIO;
		p->audio_added = false;
		p->audio_ended = NULL;
		p->audio_ended_arg = NULL;
		/* the worker closes the leg; a talking report still in the mailbox is dropped
		 * by room_events.c, which checks the cap */
		tt__room_media_remove(p->room->media, p);
		now &= ~(unsigned)TT_PS_TALKING;
		g_atomic_int_set(&p->state, (gint)now);
		tt__metrics_leg_gone(p->room->core->metrics, p->gw->gw->name, p->media);
		g_free(p->media);
		p->media = NULL;
	}
	tt_info("%s %s audio in %s", p->id, on ? "has" : "no longer has", p->room->name);
	struct tt_roster_event ev = { .type = TT_ROSTER_STATE, .room = p->room->name,
				      .changed = old ^ now, .caps_changed = TT_CAP_AUDIO };
	tt__participant_entry(p, &ev.who);
	tt__room_emit(p->room, &ev);
	return 0;
}
