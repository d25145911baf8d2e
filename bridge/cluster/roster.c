/* roster.c: the members other nodes have in this node's rooms, from the rooms' channels.
 *
 * A local participant's join, state change and leave is published on the room's channel
 * (tt__cluster_roster_out, from the room's roster events). A node that subscribes to a
 * room's channel says "hello" there once the subscription is confirmed, and every node
 * with the room answers with one "joined" per member: that is how a node that joins late
 * learns the roster, without any roster kept in Redis.
 *
 * Remote members are roster entries, not participants: the room shows them (its roster
 * events to every present gateway and the event stream, room_roster, the admin API's room)
 * but they have no media, take no text of their own, count in no load, metric or
 * participant limit, and keep no room alive. Their id is "NODE:ID" and their gateway
 * "cluster". They go when their node says they left, when the room ends here, when this
 * node's subscription is made again (the answers to its hello bring them back), and when
 * their node's directory entry (tutti:node:ID) has expired: every heartbeat asks Redis
 * whether each node with members here still has its entry. */
#define TT_LOG_DOMAIN "cluster"
#include "cluster_priv.h"

#include <string.h>
#include <tutti/errno.h>
#include <tutti/log.h>

#include "bus_msg.h"
#include "participant/participant.h"
#include "room/room.h"

struct member {
	char *node;
	struct tt_roster_entry e;   /* strings owned: id ("NODE:ID"), name, network */
};

static void member_free(gpointer data)
{
	struct member *m = data;
	g_free(m->node);
	g_free((char *)m->e.id);
	g_free((char *)m->e.name);
	g_free((char *)m->e.network);
	g_free(m);
}

bool tt__cluster_entry_remote(const struct tt_roster_entry *e)
{
	return e && e->gateway && !strcmp(e->gateway, "cluster");
}

static GHashTable *room_members(struct tt_cluster *cl, const char *room, bool make)
{
	GHashTable *t = g_hash_table_lookup(cl->remote, room);
	if (!t && make) {
		t = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, member_free);
		g_hash_table_insert(cl->remote, g_strdup(room), t);
	}
	return t;
}

static void emit(struct tt_cluster *cl, const char *room, enum tt_roster_type type,
		 const struct member *m, unsigned changed, int reason)
{
	struct tt_room *r = tt__room_find(cl->core, room);
	if (!r)
		return;
	struct tt_roster_event ev = { .type = type, .room = r->name, .who = m->e,
				      .changed = changed, .reason = reason };
	tt__room_emit(r, &ev);
}

static void publish(struct tt_cluster *cl, const char *room, const char *json)
{
	char *ch = tt__cluster_bus_channel(cl, room);
	const char *argv[] = { "PUBLISH", ch, json };
	if (redisAsyncCommandArgv(cl->ac, tt__cluster_on_reply_warn, (void *)"publishing roster",
				  3, argv, NULL) == REDIS_OK)
		cl->st.roster_out++;
	g_free(ch);
}

void tt__cluster_roster_out(struct tt_cluster *cl, const struct tt_roster_event *ev)
{
	if (!cl || !cl->up || cl->leaving || !ev->room || !ev->who.id ||
	    tt__cluster_entry_remote(&ev->who) || !g_hash_table_contains(cl->homes, ev->room))
		return;
	enum tt_bus_op op;
	switch (ev->type) {
	case TT_ROSTER_JOINED: op = TT_BUS_JOINED; break;
	case TT_ROSTER_STATE: op = TT_BUS_STATE; break;
	case TT_ROSTER_LEFT: op = TT_BUS_LEFT; break;
	default: return;
	}
	char *json = tt__bus_roster_encode(cl->node, op, &ev->who);
	if (json)
		publish(cl, ev->room, json);
	g_free(json);
}

void tt__cluster_roster_hello(struct tt_cluster *cl, const char *room)
{
	if (!cl->up || cl->leaving)
		return;
	char *json = tt__bus_roster_encode(cl->node, TT_BUS_HELLO, NULL);
	publish(cl, room, json);
	g_free(json);
}

/* Our members of `room`, one "joined" each: for a node that said hello, and to everyone
 * when our main connection is back (what we published meanwhile was lost, and a hello
 * may have come while we could not answer). */
void tt__cluster_roster_announce(struct tt_cluster *cl, const char *room)
{
	struct tt_room *r = tt__room_find(cl->core, room);
	if (!r || !cl->up)
		return;
	for (guint i = 0; i < r->parts->len; i++) {
		const struct tt_participant *p = g_ptr_array_index(r->parts, i);
		if (p->lobby || g_atomic_int_get((gint *)&p->destroyed))
			continue;
		struct tt_roster_entry e;
		tt__participant_entry(p, &e);
		char *json = tt__bus_roster_encode(cl->node, TT_BUS_JOINED, &e);
		if (json)
			publish(cl, room, json);
		g_free(json);
	}
}

int tt__cluster_roster_in(struct tt_cluster *cl, const char *room, struct tt_bus_msg *msg)
{
	struct tt_room *r = tt__room_find(cl->core, room);
	if (!r || r->hidden || !g_hash_table_contains(cl->homes, room))
		return -ENOENT;
	if (msg->op == TT_BUS_HELLO) {
		tt__cluster_roster_announce(cl, room);
		return 0;
	}
	if (!g_utf8_validate(msg->name, -1, NULL) || !g_utf8_validate(msg->network, -1, NULL) ||
	    !g_utf8_validate(msg->id, -1, NULL))
		return -EILSEQ;
	char *key = g_strdup_printf("%s:%s", msg->node, msg->id);
	GHashTable *t = room_members(cl, room, msg->op != TT_BUS_LEFT);
	struct member *m = t ? g_hash_table_lookup(t, key) : NULL;
	cl->st.roster_in++;
	if (msg->op == TT_BUS_LEFT) {
		if (m) {
			g_hash_table_steal(t, key);
			emit(cl, room, TT_ROSTER_LEFT, m, 0, 0);
			member_free(m);
		}
		g_free(key);
		return 0;
	}
	/* caps and state as on the member's node (its audio is there, not here) */
	unsigned state = msg->state, caps = msg->caps;
	if (!m) {
		m = g_new0(struct member, 1);
		m->node = g_strdup(msg->node);
		m->e = (struct tt_roster_entry){ .id = key, .name = g_strdup(msg->name),
						 .network = g_strdup(msg->network),
						 .gateway = "cluster", .caps = caps, .state = state,
						 .hand_seq = msg->hand_seq };
		g_hash_table_insert(t, (char *)m->e.id, m);
		emit(cl, room, TT_ROSTER_JOINED, m, 0, 0);
		return 0;
	}
	g_free(key);
	unsigned changed = m->e.state ^ state;
	m->e.state = state;
	m->e.caps = caps;
	m->e.hand_seq = msg->hand_seq;
	if (strcmp(m->e.name, msg->name)) {
		g_free((char *)m->e.name);
		m->e.name = g_strdup(msg->name);
	}
	if (changed)
		emit(cl, room, TT_ROSTER_STATE, m, changed, 0);
	return 0;
}

/* Drops the members of `room` that pred keeps (node NULL: all), each with a left event
 * when `tell`. */
static void drop(struct tt_cluster *cl, const char *room, const char *node, bool tell,
		 int reason)
{
	GHashTable *t = room_members(cl, room, false);
	if (!t)
		return;
	GPtrArray *gone = g_ptr_array_new_with_free_func(member_free);
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, t);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		struct member *m = v;
		if (node && strcmp(m->node, node))
			continue;
		g_hash_table_iter_steal(&it);
		g_ptr_array_add(gone, m);
	}
	for (guint i = 0; tell && i < gone->len; i++)
		emit(cl, room, TT_ROSTER_LEFT, g_ptr_array_index(gone, i), 0, reason);
	g_ptr_array_free(gone, TRUE);
	if (!g_hash_table_size(t))
		g_hash_table_remove(cl->remote, room);
}

void tt__cluster_roster_room_down(struct tt_cluster *cl, const char *room)
{
	drop(cl, room, NULL, false, 0);
}

void tt__cluster_roster_resync(struct tt_cluster *cl, const char *room)
{
	drop(cl, room, NULL, true, -ECONNRESET);
}

static void node_gone(struct tt_cluster *cl, const char *node)
{
	GPtrArray *rooms = g_ptr_array_new_with_free_func(g_free);
	GHashTableIter it;
	gpointer k;
	g_hash_table_iter_init(&it, cl->remote);
	while (g_hash_table_iter_next(&it, &k, NULL))
		g_ptr_array_add(rooms, g_strdup(k));
	for (guint i = 0; i < rooms->len; i++)
		drop(cl, g_ptr_array_index(rooms, i), node, true, -ETIMEDOUT);
	g_ptr_array_free(rooms, TRUE);
}

struct check {
	struct tt_cluster *cl;
	char *node;
};

static void on_exists(redisAsyncContext *ac, void *r, void *priv)
{
	(void)ac;
	struct check *c = priv;
	redisReply *reply = r;
	if (reply && !c->cl->freeing && reply->type == REDIS_REPLY_INTEGER && reply->integer == 0) {
		tt_info("node %s's directory entry has expired: its members leave this node's "
			"rosters", c->node);
		node_gone(c->cl, c->node);
	}
	g_free(c->node);
	g_free(c);
}

void tt__cluster_roster_heartbeat(struct tt_cluster *cl)
{
	GHashTable *nodes = g_hash_table_new(g_str_hash, g_str_equal);
	GHashTableIter it, jt;
	gpointer v, w;
	g_hash_table_iter_init(&it, cl->remote);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		g_hash_table_iter_init(&jt, v);
		while (g_hash_table_iter_next(&jt, NULL, &w))
			g_hash_table_add(nodes, ((struct member *)w)->node);
	}
	g_hash_table_iter_init(&it, nodes);
	while (g_hash_table_iter_next(&it, &v, NULL)) {
		char *key = tt__cluster_key(cl, "node", v);
		const char *argv[] = { "EXISTS", key };
		struct check *c = g_new0(struct check, 1);
		c->cl = cl;
		c->node = g_strdup(v);
		if (redisAsyncCommandArgv(cl->ac, on_exists, c, 2, argv, NULL)) {
			g_free(c->node);
			g_free(c);
		}
		g_free(key);
	}
	g_hash_table_destroy(nodes);
}

void tt__cluster_roster_each(struct tt_cluster *cl, const char *room, tt_cluster_entry_h fn,
			     void *arg)
{
	GHashTable *t = cl ? room_members(cl, room, false) : NULL;
	if (!t)
		return;
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, t);
	while (g_hash_table_iter_next(&it, NULL, &v))
		fn(&((struct member *)v)->e, arg);
}
