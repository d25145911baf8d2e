/* roster.c (webrtc gateway): roster events to the browsers, coalesced per session until the
 * end of the loop pass. Core thread only.
 *
 * One pass of the core loop can carry dozens of joins and leaves (a client churning 30
 * sockets, a SIP trunk dropping): sent one by one, each is a JSON message to every browser
 * in the room, O(room) work and bytes per event. Instead each session keeps the events it
 * has not been sent yet, one entry per participant, merged as they come:
 *
 *   joined + state  -> joined (newest entry)     state + state -> state (newest entry,
 *   joined + left   -> nothing (never seen)                       talking_changed against
 *   state  + left   -> left                                       the state before the first)
 *
 * They are sent, as the same "roster" messages as before (docs/webrtc-protocol.md), by an
 * idle callback at default priority (it runs in the next dispatch, after the sources that
 * fired with it), or at once before any other message to that session, so that a roster
 * event never arrives after a message that was caused after it (a chat line from someone
 * who just joined). Rejected: one "roster snapshot" message per pass (changes the wire,
 * and costs the whole room per change), and a timer (adds latency to every event). */
#define TT_LOG_DOMAIN "webrtc"
#include <string.h>

#include "webrtc_priv.h"

enum { EV_JOINED, EV_LEFT, EV_STATE, EV_NONE };   /* EV_NONE: cancelled, skipped */
static const char *const ev_names[] = { "joined", "left", "state" };

struct pending_ev {
	int type;
	char *id;
	json_t *who;                /* shared by every session's copy of one event */
	bool talking_before;        /* EV_STATE: "talking" before the first merged event */
};

struct wr_roster_pending {
	GQueue q;                   /* struct pending_ev *, in first-seen order */
	GHashTable *by_id;          /* id (borrowed from the entry) -> its latest entry */
};

static void ev_free(struct pending_ev *e)
{
	json_decref(e->who);
	g_free(e->id);
	g_free(e);
}

static void pending_free(struct wr_roster_pending *pd)
{
	struct pending_ev *e;
	while ((e = g_queue_pop_head(&pd->q)))
		ev_free(e);
	g_hash_table_destroy(pd->by_id);
	g_free(pd);
}

static bool who_talking(json_t *who)
{
	return json_is_true(json_object_get(who, "talking"));
}

/* Merge one event into a session's pending list (rules in the header comment). */
static void merge(struct wr_roster_pending *pd, int type, const char *id, json_t *who,
		  bool talking_changed)
{
	struct pending_ev *e = g_hash_table_lookup(pd->by_id, id);
	if (e && e->type != EV_LEFT) {
		if (type == EV_LEFT && e->type == EV_JOINED) {
			e->type = EV_NONE;
			g_hash_table_remove(pd->by_id, id);
			return;
		}
		if (type == EV_LEFT || type == EV_STATE) {
			if (type == EV_LEFT)
				e->type = EV_LEFT;
			json_decref(e->who);
			e->who = json_incref(who);
			return;
		}
	}
	/* new, or after a "left" (ids are not reused, but nothing here relies on it) */
	e = g_new0(struct pending_ev, 1);
	e->type = type;
	e->id = g_strdup(id);
	e->who = json_incref(who);
	e->talking_before = who_talking(who) ^ talking_changed;
	g_queue_push_tail(&pd->q, e);
	g_hash_table_replace(pd->by_id, e->id, e);
}

static gboolean flush_all(gpointer arg)
{
	struct wr_gw *gw = arg;
	gw->roster_flush = 0;
	GPtrArray *dirty = gw->roster_dirty;
	gw->roster_dirty = g_ptr_array_new();
	for (guint i = 0; i < dirty->len; i++) {
		struct wr_session *s = g_ptr_array_index(dirty, i);
		wr_roster_flush(s);
		wr_session_unref(s);
	}
	g_ptr_array_free(dirty, TRUE);
	return G_SOURCE_REMOVE;
}

void wr_roster_event(struct wr_gw *gw, const struct tt_roster_event *ev)
{
	int type = ev->type == TT_ROSTER_JOINED ? EV_JOINED
		   : ev->type == TT_ROSTER_LEFT ? EV_LEFT
		   : ev->type == TT_ROSTER_STATE ? EV_STATE : EV_NONE;
	GPtrArray *in_room = g_hash_table_lookup(gw->by_room, ev->room);
	if (type == EV_NONE || !ev->who.id || !in_room || !in_room->len)
		return;
	json_t *who = wr_entry_json(&ev->who);   /* built once for the whole room */
	bool tc = type == EV_STATE && (ev->changed & TT_PS_TALKING);
	for (guint i = 0; i < in_room->len; i++) {
		struct wr_session *s = g_ptr_array_index(in_room, i);
		if (!s->ws)
			continue;
		if (!s->roster) {
			s->roster = g_new0(struct wr_roster_pending, 1);
			g_queue_init(&s->roster->q);
			s->roster->by_id = g_hash_table_new(g_str_hash, g_str_equal);
			g_ptr_array_add(gw->roster_dirty, wr_session_ref(s));
		}
		merge(s->roster, type, ev->who.id, who, tc);
	}
	json_decref(who);
	/* the room state counts hands: one went up or down, or left with its owner */
	if ((type == EV_STATE && (ev->changed & TT_PS_HAND)) ||
	    (type == EV_LEFT && (ev->who.state & TT_PS_HAND)))
		wr_room_state_changed(gw, ev->room);
	if (gw->roster_dirty->len && !gw->roster_flush)
		gw->roster_flush = g_idle_add_full(G_PRIORITY_DEFAULT, flush_all, gw, NULL);
}

void wr_roster_flush(struct wr_session *s)
{
	struct wr_roster_pending *pd = s->roster;
	if (!pd)
		return;
	s->roster = NULL;   /* wr_session_send below must not flush again */
	for (GList *l = pd->q.head; l; l = l->next) {
		struct pending_ev *e = l->data;
		if (e->type == EV_NONE)
			continue;
		json_t *m = json_pack("{s:s, s:s, s:O}", "type", "roster", "event",
				      ev_names[e->type], "who", e->who);
		if (e->type == EV_STATE)
			json_object_set_new(m, "talking_changed",
					    json_boolean(who_talking(e->who) != e->talking_before));
		wr_session_send(s, m);
	}
	pending_free(pd);
}

void wr_roster_drop(struct wr_session *s)
{
	if (s->roster)
		pending_free(s->roster);
	s->roster = NULL;   /* still in the dirty list (with its reference): flushes nothing */
}

void wr_roster_free(struct wr_gw *gw)
{
	if (gw->roster_flush)
		g_source_remove(gw->roster_flush);
	gw->roster_flush = 0;
	for (guint i = 0; gw->roster_dirty && i < gw->roster_dirty->len; i++) {
		struct wr_session *s = g_ptr_array_index(gw->roster_dirty, i);
		wr_roster_drop(s);
		wr_session_unref(s);
	}
	if (gw->roster_dirty)
		g_ptr_array_free(gw->roster_dirty, TRUE);
	gw->roster_dirty = NULL;
}
