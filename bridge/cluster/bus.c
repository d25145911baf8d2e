/* bus.c: text between nodes over one Redis pub/sub channel per room (PREFIX room:NAME:bus).
 *
 * A subscribed Redis connection cannot send other commands, so SUBSCRIBE runs on a second
 * connection of its own, reconnected with the same backoff as the main one; on every
 * (re)connect it subscribes to the channels of the node's live rooms. PUBLISH goes on the
 * main connection. A node subscribes when a room comes up here and unsubscribes when it ends.
 *
 * The channel is the link to the other nodes, one shared medium for the text bus: a line
 * posted here by anyone is published once (tt__cluster_text_out); a line from another node
 * is delivered here through the bus as coming from the link (tt__text_from_link), which
 * never publishes it again, so it reaches every local place once and never goes back. Our
 * own publications come back to us on the channel and are dropped by their node id. */
#define TT_LOG_DOMAIN "cluster"
#include "cluster_priv.h"

#include <string.h>
#include <tutti/log.h>

#include "bus_msg.h"
#include "textbus/textbus.h"

#define BACKOFF_MIN_MS 200
#define BACKOFF_MAX_MS 5000
#define BAD_LOG_EVERY_US (10 * G_USEC_PER_SEC)

static void sub_connect(struct tt_cluster *cl);

char *tt__cluster_bus_channel(struct tt_cluster *cl, const char *room)
{
	return g_strdup_printf("%sroom:%s:bus", cl->prefix, room);
}

/* The room's name in a channel's, or NULL when it is not one of ours. A new string. */
static char *channel_room(struct tt_cluster *cl, const char *ch)
{
	size_t pl = strlen(cl->prefix), cl_len = strlen(ch);
	if (cl_len <= pl + 5 + 4 || strncmp(ch, cl->prefix, pl) || strncmp(ch + pl, "room:", 5) ||
	    strcmp(ch + cl_len - 4, ":bus"))
		return NULL;
	return g_strndup(ch + pl + 5, cl_len - pl - 5 - 4);
}

/* Malformed payloads are counted; one log line per 10 s says how many, so a flood from a
 * foreign publisher cannot flood the log. */
static void bad_payload(struct tt_cluster *cl, const char *ch, const char *why)
{
	cl->st.bus_bad++;
	int64_t now = g_get_monotonic_time();
	if (cl->bus_bad_logged_us && now - cl->bus_bad_logged_us < BAD_LOG_EVERY_US)
		return;
	tt_warn("redis: ignored a malformed message on %s (%s); %" G_GUINT64_FORMAT
		" ignored so far", ch, why, cl->st.bus_bad);
	cl->bus_bad_logged_us = now;
}

static void on_message(redisAsyncContext *ac, void *r, void *priv)
{
	(void)ac;
	struct tt_cluster *cl = priv;
	redisReply *reply = r;
	if (!reply || cl->freeing || reply->type != REDIS_REPLY_ARRAY || reply->elements != 3 ||
	    reply->element[0]->type != REDIS_REPLY_STRING ||
	    reply->element[1]->type != REDIS_REPLY_STRING)
		return;   /* the context going */
	const char *ch = reply->element[1]->str;
	char *room = channel_room(cl, ch);
	if (!room)
		return;
	if (!strcmp(reply->element[0]->str, "subscribe")) {
		/* subscribed (again): the members other nodes have, asked afresh */
		if (g_hash_table_contains(cl->homes, room)) {
			tt__cluster_roster_resync(cl, room);
			tt__cluster_roster_hello(cl, room);
		}
		g_free(room);
		return;
	}
	if (strcmp(reply->element[0]->str, "message")) {
		g_free(room);
		return;   /* an unsubscribe's confirmation */
	}
	struct tt_bus_msg m = { 0 };
	const char *why = NULL;
	if (reply->element[2]->type != REDIS_REPLY_STRING) {
		bad_payload(cl, ch, "not a string");
	} else if (tt__bus_msg_decode(reply->element[2]->str, reply->element[2]->len, &m, &why)) {
		bad_payload(cl, ch, why);
	} else if (!strcmp(m.node, cl->node)) {
		/* ours, come back: already delivered here */
	} else if (m.type == TT_BUS_ROSTER) {
		int rc = tt__cluster_roster_in(cl, room, &m);
		if (rc && rc != -ENOENT)
			bad_payload(cl, ch, "a roster entry the node refuses");
	} else {
		int rc = tt__text_from_link(cl->core, room, m.node, m.id, m.name, m.network, m.flags,
					    m.text, m.len);
		if (rc == 0)
			cl->st.bus_in++;
		else if (rc != -ENOENT)
			bad_payload(cl, ch, "text the bus refuses");
	}
	tt__bus_msg_clear(&m);
	g_free(room);
}

static void subscribe(struct tt_cluster *cl, const char *room, bool on)
{
	if (!cl->sub_up)
		return;   /* the (re)connect subscribes to every live room */
	char *ch = tt__cluster_bus_channel(cl, room);
	const char *argv[] = { on ? "SUBSCRIBE" : "UNSUBSCRIBE", ch };
	/* the callback of a SUBSCRIBE gets the channel's messages; an UNSUBSCRIBE's reply
	 * goes to the same one, which ignores it */
	redisAsyncCommandArgv(cl->sac, on_message, cl, 2, argv, NULL);
	g_free(ch);
}

void tt__cluster_bus_room(struct tt_cluster *cl, const char *room, bool up)
{
	subscribe(cl, room, up);
}

static void sub_cancel_timer(struct tt_cluster *cl)
{
	if (cl->sub_connect_timer)
		g_source_remove(cl->sub_connect_timer);
	cl->sub_connect_timer = 0;
}

static void sub_drop_source(struct tt_cluster *cl)
{
	if (cl->sub_dead_src) {
		g_source_destroy(cl->sub_dead_src);
		g_source_unref(cl->sub_dead_src);
	}
	cl->sub_dead_src = cl->sub_src;
	cl->sub_src = NULL;
}

static gboolean on_sub_retry(gpointer data)
{
	struct tt_cluster *cl = data;
	cl->sub_retry = 0;
	sub_connect(cl);
	return G_SOURCE_REMOVE;
}

static void sub_lost(struct tt_cluster *cl)
{
	sub_cancel_timer(cl);
	cl->sub_up = false;
	cl->sac = NULL;
	sub_drop_source(cl);
	if (cl->leaving)
		return;
	cl->sub_backoff_ms = cl->sub_backoff_ms ? MIN(cl->sub_backoff_ms * 2, BACKOFF_MAX_MS)
						: BACKOFF_MIN_MS;
	if (!cl->sub_retry)
		cl->sub_retry = g_timeout_add(cl->sub_backoff_ms, on_sub_retry, cl);
}

static void sub_became_up(struct tt_cluster *cl);

/* The main connection says what a refused login means; this one only retries. */
static void on_sub_auth(redisAsyncContext *ac, void *r, void *priv)
{
	struct tt_cluster *cl = ac->data;
	redisReply *reply = r;
	(void)priv;
	if (cl->freeing || cl->leaving || !reply)
		return;
	if (reply->type == REDIS_REPLY_ERROR) {
		redisAsyncDisconnect(ac);
		return;
	}
	sub_became_up(cl);
}

static void on_sub_connect(const redisAsyncContext *ac, int status)
{
	struct tt_cluster *cl = ac->data;
	if (cl->freeing)
		return;
	if (status != REDIS_OK) {
		sub_lost(cl);   /* the main connection logs the outage */
		return;
	}
	sub_cancel_timer(cl);
	if (cl->leaving)
		return;
	if (*cl->password) {
		tt__cluster_auth(cl, cl->sac, on_sub_auth);
		return;
	}
	sub_became_up(cl);
}

static void sub_became_up(struct tt_cluster *cl)
{
	cl->sub_up = true;
	cl->sub_backoff_ms = 0;
	unsigned n = 0;
	GHashTableIter it;
	gpointer room;
	g_hash_table_iter_init(&it, cl->homes);
	while (g_hash_table_iter_next(&it, &room, NULL)) {
		subscribe(cl, room, true);
		n++;
	}
	if (cl->sub_ever_up)
		tt_info("redis: text bus connected again, %u room channel%s subscribed", n,
			n == 1 ? "" : "s");
	cl->sub_ever_up = true;
}

static void on_sub_disconnect(const redisAsyncContext *ac, int status)
{
	struct tt_cluster *cl = ac->data;
	(void)status;
	if (cl->freeing)
		return;
	sub_lost(cl);
}

/* As the main connection's: a connect that hangs is given up and retried. */
static gboolean on_sub_connect_timeout(gpointer data)
{
	struct tt_cluster *cl = data;
	cl->sub_connect_timer = 0;
	if (!cl->sac || cl->sub_up)
		return G_SOURCE_REMOVE;
	redisAsyncContext *ac = cl->sac;   /* not connected: the free calls no callback */
	cl->sac = NULL;
	redisAsyncFree(ac);
	sub_lost(cl);
	return G_SOURCE_REMOVE;
}

static void sub_connect(struct tt_cluster *cl)
{
	char why[200];
	cl->sac = tt__cluster_dial(cl, &cl->sub_src, on_sub_connect, on_sub_disconnect, why,
				   sizeof why);
	if (!cl->sac) {
		sub_lost(cl);   /* the main connection says why */
		return;
	}
	sub_cancel_timer(cl);
	cl->sub_connect_timer = g_timeout_add(cl->connect_timeout_ms, on_sub_connect_timeout, cl);
}

void tt__cluster_bus_start(struct tt_cluster *cl)
{
	sub_connect(cl);
}

void tt__cluster_bus_leave(struct tt_cluster *cl)
{
	sub_cancel_timer(cl);
	if (cl->sub_retry)
		g_source_remove(cl->sub_retry);
	cl->sub_retry = 0;
	if (cl->sub_up)
		redisAsyncDisconnect(cl->sac);   /* on_sub_disconnect: leaving, no retry */
}

void tt__cluster_bus_free(struct tt_cluster *cl)
{
	sub_cancel_timer(cl);
	if (cl->sub_retry)
		g_source_remove(cl->sub_retry);
	cl->sub_retry = 0;
	if (cl->sac) {
		redisAsyncContext *ac = cl->sac;
		cl->sac = NULL;
		cl->sub_up = false;
		redisAsyncFree(ac);   /* cl->freeing is set: the callbacks do nothing */
		sub_drop_source(cl);
	}
	sub_drop_source(cl);
}

void tt__cluster_text_out(struct tt_cluster *cl, const char *room,
			  const struct tt_roster_entry *from, unsigned flags, const char *text,
			  size_t len)
{
	if (!cl || !cl->up || cl->leaving || !room || !g_hash_table_contains(cl->homes, room))
		return;   /* no Redis now: the line stays on this node (said in scale-out.md) */
	const char *net = from->network && *from->network ? from->network : "?";
	char *json = tt__bus_msg_encode(cl->node, from->id, from->name, net, flags, text, len);
	if (!json)
		return;
	char *ch = tt__cluster_bus_channel(cl, room);
	const char *argv[] = { "PUBLISH", ch, json };
	size_t lens[] = { 7, strlen(ch), strlen(json) };
	if (redisAsyncCommandArgv(cl->ac, tt__cluster_on_reply_warn, (void *)"publishing text",
				  3, argv, lens) == REDIS_OK)
		cl->st.bus_out++;
	g_free(ch);
	g_free(json);
}
