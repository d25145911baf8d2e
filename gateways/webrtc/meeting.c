/* meeting.c (webrtc gateway): the meeting as browsers see it: moderator events, the room's
 * state (locked, recording, hands) and the ways into the room (docs/webrtc-protocol.md).
 * Core thread only.
 *
 * The room state is sent whenever it may have changed: after a moderator's action, and
 * after a roster event that moves a hand (hands go up with participant_set_state, which
 * makes no meeting event). It is sent from an idle callback, once per room per loop pass:
 * on_meeting comes before the core applies the action's state changes (a lowered hand),
 * so reading room_info there would show the room as it was. */
#define TT_LOG_DOMAIN "webrtc"
#include <string.h>

#include "proto.h"
#include "webrtc_priv.h"

/* ---- the room's state ---- */

json_t *wr_room_state_json(struct wr_gw *gw, const char *room)
{
	struct tt_room_info ri;
	if (gw->core->room_info(gw->core->core_of(gw->h), room, &ri))
		return NULL;
	return json_pack("{s:b, s:b, s:s?, s:I, s:b, s:b, s:b, s:i, s:b}", "locked", ri.locked,
			 "recording", ri.recording, "recording_id", ri.recording_id,
			 "recording_since", (json_int_t)(ri.recording_since_us / 1000),
			 "self_unmute", ri.self_unmute, "unmute_asks", ri.unmute_asks,
			 "recording_decline", ri.recording_decline, "hands", (int)ri.hands,
			 "has_moderator_pin", ri.has_moderator_pin);
}

/* The joined sessions of a room, referenced: sending can close a socket, and closing
 * changes the room's list. */
static GPtrArray *sessions_in(struct wr_gw *gw, const char *room)
{
	GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)wr_session_unref);
	GPtrArray *in_room = g_hash_table_lookup(gw->by_room, room);
	for (guint i = 0; in_room && i < in_room->len; i++) {
		struct wr_session *s = g_ptr_array_index(in_room, i);
		if (s->ws)
			g_ptr_array_add(out, wr_session_ref(s));
	}
	return out;
}

static void send_state(struct wr_gw *gw, const char *room)
{
	json_t *st = wr_room_state_json(gw, room);
	if (!st)
		return;
	GPtrArray *ss = sessions_in(gw, room);
	for (guint i = 0; i < ss->len; i++)
		wr_session_send(g_ptr_array_index(ss, i),
				json_pack("{s:s, s:O}", "type", "room_state", "state", st));
	g_ptr_array_free(ss, TRUE);
	json_decref(st);
}

static gboolean flush_states(gpointer arg)
{
	struct wr_gw *gw = arg;
	gw->state_flush = 0;
	GHashTable *rooms = gw->state_dirty;
	gw->state_dirty = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	GHashTableIter it;
	gpointer room;
	g_hash_table_iter_init(&it, rooms);
	while (g_hash_table_iter_next(&it, &room, NULL))
		send_state(gw, room);
	g_hash_table_destroy(rooms);
	return G_SOURCE_REMOVE;
}

void wr_room_state_changed(struct wr_gw *gw, const char *room)
{
	if (!gw->state_dirty || !g_hash_table_contains(gw->by_room, room))
		return;   /* nobody of ours there, or the gateway is being freed */
	g_hash_table_add(gw->state_dirty, g_strdup(room));
	if (!gw->state_flush)
		gw->state_flush = g_idle_add_full(G_PRIORITY_DEFAULT, flush_states, gw, NULL);
}

void wr_meeting_free(struct wr_gw *gw)
{
	if (gw->state_flush)
		g_source_remove(gw->state_flush);
	gw->state_flush = 0;
	if (gw->state_dirty)
		g_hash_table_destroy(gw->state_dirty);
	gw->state_dirty = NULL;
}

/* ---- moderator events ---- */

void wr_on_meeting(void *state, const struct tt_meeting_event *ev)
{
	struct wr_gw *gw = state;
	if (!g_hash_table_contains(gw->by_room, ev->room))
		return;
	json_t *m = json_pack("{s:s, s:s}", "type", "meeting", "action", wr_mod_name(ev->action));
	/* by: a participant, {"name": "admin"} for the admin API, null for the bridge itself */
	json_object_set_new(m, "by", ev->by.id ? wr_entry_json(&ev->by)
				     : ev->by.name ? json_pack("{s:s}", "name", ev->by.name)
						   : json_null());
	json_object_set_new(m, "target", ev->target.id ? wr_entry_json(&ev->target) : json_null());
	if (ev->recording_id)
		json_object_set_new(m, "recording_id", json_string(ev->recording_id));
	if (ev->reason)
		json_object_set_new(m, "reason", json_string(ev->reason));
	if (ev->action == TT_MOD_MUTE_ALL)
		json_object_set_new(m, "count", json_integer(ev->count));
	GPtrArray *ss = sessions_in(gw, ev->room);
	for (guint i = 0; i < ss->len; i++)
		wr_session_send(g_ptr_array_index(ss, i), json_incref(m));
	g_ptr_array_free(ss, TRUE);
	json_decref(m);
	wr_room_state_changed(gw, ev->room);
}

/* ---- doors ---- */

static void door_cb(const struct tt_door *d, void *arg)
{
	json_array_append_new(arg, json_pack("{s:s?, s:s?, s:s?, s:s?}", "network", d->network,
					     "label", d->label, "uri", d->uri, "text",
					     d->text ? d->text : d->uri));
}

json_t *wr_doors_json(struct wr_gw *gw, const char *room)
{
	json_t *doors = json_array();
	gw->core->room_doors(gw->core->core_of(gw->h), room, door_cb, doors);
	return doors;
}

/* [webrtc] public_url, or one made from [http]: what a person on another machine would
 * type, as far as the configuration tells. */
char *wr_public_url(const struct tt_conf *c)
{
	const char *pub = tt_conf_str(c, "webrtc", "public_url");
	if (pub && *pub) {
		size_t n = strlen(pub);
		while (n > 0 && pub[n - 1] == '/')
			n--;
		return g_strndup(pub, n);
	}
	const char *cert = tt_conf_str(c, "http", "tls_cert");
	const char *listen = tt_conf_str(c, "http", "listen");
	long port = (long)tt_conf_int(c, "http", "port");
	const char *host = listen && *listen ? listen : "localhost";
	if (!strcmp(host, "0.0.0.0") || !strcmp(host, "::"))
		host = g_get_host_name();
	bool v6 = strchr(host, ':') != NULL;
	bool tls = cert && *cert;
	bool dflt = port == (tls ? 443 : 80);
	char portbuf[16] = "";
	if (!dflt)
		g_snprintf(portbuf, sizeof portbuf, ":%ld", port);
	return g_strdup_printf("%s://%s%s%s%s", tls ? "https" : "http", v6 ? "[" : "", host,
			       v6 ? "]" : "", portbuf);
}

void wr_doors(void *state, const char *room, tt_door_h fn, void *arg)
{
	struct wr_gw *gw = state;
	char *uri = g_strdup_printf("%s/%s", gw->public_url, room);
	char *text = g_strdup_printf("open %s in a web browser", uri);
	struct tt_door d = { .network = "web", .label = "Web browser", .uri = uri, .text = text };
	fn(&d, arg);
	g_free(text);
	g_free(uri);
}
