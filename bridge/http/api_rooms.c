/* api_rooms.c: read-only JSON views of the health, the rooms and the gateways. Statistics
 * are rendered from their field tables (stats/stats.h), never field by field here. */
#include "http.h"

#include <string.h>
#include <tutti/core.h>

#include "cluster/cluster.h"
#include "gateway/registry.h"
#include "meeting/meeting.h"
#include "participant/participant.h"
#include "record/record.h"
#include "room/room.h"
#include "stats/stats.h"

void tt__api_health(struct tt_core *core, const struct tt_http_req *req, struct tt_http_resp *r)
{
	json_t *workers = json_array();
	for (unsigned i = 0; i < core->n_wstats; i++) {
		struct tt_worker_stats s = core->wstats[i];
		s.index = i;   /* a slot no report reached yet is zero */
		json_t *w = tt__stats_json(tt__worker_stat_fields, &s);
		if (s.shared_port[0])
			json_object_set_new(w, "shared_port",
					    tt__stats_json(tt__worker_port_stat_fields, &s));
		json_array_append_new(workers, w);
	}
	r->json = json_pack("{s:s, s:s, s:i, s:o}", "status", "ok", "version", TT_VERSION,
			    "rooms", (int)tt__rooms_visible(core), "workers", workers);
}

json_t *tt__api_participant_json(const struct tt_participant *p)
{
	struct tt_roster_entry e;
	tt__participant_entry(p, &e);
	json_t *caps = json_array();
	if (e.caps & TT_CAP_AUDIO)
		json_array_append_new(caps, json_string("audio"));
	if (e.caps & TT_CAP_TEXT)
		json_array_append_new(caps, json_string("text"));
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b}",
			 "id", e.id, "name", e.name, "network", e.network, "gateway", e.gateway,
			 "caps", caps, "muted", !!(e.state & TT_PS_MUTED),
			 "deaf", !!(e.state & TT_PS_DEAF), "hold", !!(e.state & TT_PS_HOLD),
			 "talking", !!(e.state & TT_PS_TALKING),
			 "moderator", !!(e.state & TT_PS_MODERATOR),
			 "hand", !!(e.state & TT_PS_HAND),
			 "muted_by_moderator", !!(e.state & TT_PS_MOD_MUTED),
			 "declined_recording", !!(e.state & TT_PS_NO_RECORD));
	if (e.hand_seq)
		json_object_set_new(o, "hand_seq", json_integer(e.hand_seq));
	if (p->media)
		json_object_set_new(o, "media", tt__stats_json(tt_leg_stat_fields, p->media));
	return o;
}

static gint by_hand(gconstpointer a, gconstpointer b)
{
	const struct tt_participant *x = *(struct tt_participant *const *)a;
	const struct tt_participant *y = *(struct tt_participant *const *)b;
	return x->hand_seq < y->hand_seq ? -1 : x->hand_seq > y->hand_seq;
}

/* The raised hands, in the order they went up: ids. */
static json_t *hands_json(const struct tt_room *room)
{
	GPtrArray *up = g_ptr_array_new();
	for (guint i = 0; i < room->parts->len; i++) {
		struct tt_participant *p = g_ptr_array_index(room->parts, i);
		if (!p->lobby && ((unsigned)g_atomic_int_get(&p->state) & TT_PS_HAND))
			g_ptr_array_add(up, p);
	}
	g_ptr_array_sort(up, by_hand);
	json_t *a = json_array();
	for (guint i = 0; i < up->len; i++)
		json_array_append_new(a, json_string(((struct tt_participant *)
						      g_ptr_array_index(up, i))->id));
	g_ptr_array_free(up, TRUE);
	return a;
}

static void add_door(const struct tt_door *d, void *arg)
{
	json_t *o = json_pack("{s:s, s:s, s:s}", "network", d->network ? d->network : "",
			      "label", d->label ? d->label : "", "uri", d->uri ? d->uri : "");
	if (o && d->text)
		json_object_set_new(o, "text", json_string(d->text));
	if (o)
		json_array_append_new(arg, o);
}

static json_t *doors_json(const struct tt_room *room)
{
	json_t *a = json_array();
	tt__meeting_doors(room->core, room->name, add_door, a);
	return a;
}

/* Another node's member (a cluster's roster, bridge/cluster/roster.c): shown, not here. */
static void add_remote(const struct tt_roster_entry *e, void *arg)
{
	json_array_append_new(arg, json_pack("{s:s, s:s, s:s, s:b, s:b, s:b}", "id", e->id,
					     "name", e->name, "network", e->network, "muted",
					     !!(e->state & TT_PS_MUTED), "talking",
					     !!(e->state & TT_PS_TALKING), "hand",
					     !!(e->state & TT_PS_HAND)));
}

static json_t *room_json(const struct tt_room *room)
{
	json_t *parts = json_array();
	for (guint i = 0; i < room->parts->len; i++) {
		struct tt_participant *p = g_ptr_array_index(room->parts, i);
		if (!p->lobby)   /* PIN entry in progress: not in the room yet */
			json_array_append_new(parts, tt__api_participant_json(p));
	}
	json_t *o = json_pack("{s:s, s:i, s:i, s:i, s:b, s:b, s:i, s:o}", "name", room->name,
			      "rate", (int)room->rate, "speakers", (int)room->speakers,
			      "max_participants", (int)room->max_participants,
			      "locked", room->locked, "pin", room->pin != NULL,
			      "worker", (int)tt_worker_index(room->worker), "participants", parts);
	json_object_set_new(o, "hands", hands_json(room));
	json_t *remote = json_array();
	tt__cluster_roster_each(room->core->cluster, room->name, add_remote, remote);
	json_object_set_new(o, "remote", remote);
	json_object_set_new(o, "moderation", json_pack("{s:b, s:s, s:b}",
		"self_unmute", room->self_unmute, "unmute", room->unmute_asks ? "ask" : "direct",
		"recording_decline", room->recording_decline));
	json_object_set_new(o, "recording", room->rec
		? json_pack("{s:s, s:I}", "id", tt__record_id(room->rec), "since_us",
			    (json_int_t)tt__record_since(room->rec))
		: json_null());
	json_object_set_new(o, "doors", doors_json(room));
	if (room->has_mixer_stats)
		json_object_set_new(o, "mixer", tt__stats_json(tt_mixer_room_stat_fields,
							       &room->mixer_stats));
	return o;
}

static gint by_name(gconstpointer a, gconstpointer b)
{
	const struct tt_room *x = *(struct tt_room *const *)a, *y = *(struct tt_room *const *)b;
	return strcmp(x->name, y->name);
}

void tt__api_rooms_list(struct tt_core *core, const struct tt_http_req *req,
			struct tt_http_resp *r)
{
	GPtrArray *all = g_ptr_array_new();
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, core->rooms);
	while (g_hash_table_iter_next(&it, NULL, &v))
		if (!((struct tt_room *)v)->hidden)
			g_ptr_array_add(all, v);
	g_ptr_array_sort(all, by_name);
	json_t *rooms = json_array();
	for (guint i = 0; i < all->len; i++)
		json_array_append_new(rooms, room_json(g_ptr_array_index(all, i)));
	g_ptr_array_free(all, TRUE);
	r->json = json_pack("{s:o}", "rooms", rooms);
}

void tt__api_room_get(struct tt_core *core, const struct tt_http_req *req,
		      struct tt_http_resp *r)
{
	struct tt_room *room = tt__room_find(core, req->params[0]);
	if (!room) {
		tt__http_error(r, 404, "room", "no room named '%s'", req->params[0]);
		return;
	}
	r->json = room_json(room);
}

void tt__api_gateways(struct tt_core *core, const struct tt_http_req *req,
		      struct tt_http_resp *r)
{
	json_t *gws = json_array();
	for (unsigned i = 0; i < core->n_gws; i++) {
		struct tt_gw_handle *h = &core->gws[i];
		json_t *g = json_pack("{s:s, s:s, s:b}", "name", h->gw->name,
				      "network", h->gw->network, "running", h->started);
		void *st = tt__gateway_stats(h);
		if (st)
			json_object_set_new(g, "stats", tt__stats_json(h->gw->stat_fields, st));
		g_free(st);
		struct tt__gw_instances *in = tt__gateway_instances(h);
		if (in) {
			/* each instance is its table's object with the label as one more member */
			json_t *list = json_array();
			for (guint k = 0; k < in->labels->len; k++) {
				json_t *o = tt__stats_json(h->gw->instance_stat_fields,
							   in->stats->pdata[k]);
				json_object_set_new(o, h->gw->instance_label,
						    json_string(in->labels->pdata[k]));
				json_array_append_new(list, o);
			}
			json_object_set_new(g, "instance_label",
					    json_string(h->gw->instance_label));
			json_object_set_new(g, "instances", list);
		}
		tt__gw_instances_free(in);
		json_array_append_new(gws, g);
	}
	r->json = json_pack("{s:o}", "gateways", gws);
}
