/* cluster_priv.h: what cluster.c (the connection and the node's entry) and directory.c (room
 * homes) share. Core thread only. */
#ifndef TT_CLUSTER_PRIV_H
#define TT_CLUSTER_PRIV_H

#include <glib.h>
#include <hiredis/async.h>

#include "cluster.h"

struct tt_cluster {
	struct tt_core *core;     /* borrowed */
	char *host;               /* or the unix socket's path */
	int port;
	bool unix_path;
	char *node, *public_url, *sip_uri, *prefix;
	char *user, *password;     /* AUTH, both "" when not set; password never logged */
	int ttl_s;
	redisAsyncContext *ac;    /* NULL while disconnected; hiredis frees it */
	GSource *src;             /* hiredis's GLib source for ac */
	GSource *dead_src;        /* the source of a context hiredis freed, destroyed later */
	bool up;                  /* connected (the connect callback said so) */
	bool down_logged;         /* this outage was logged */
	bool ever_up;
	bool freeing;             /* tt__cluster_free runs: no reconnect */
	bool leaving;             /* tt__cluster_leave ran: no reconnect, claim or lookup */
	bool auth_logged;         /* a refused AUTH was logged (once until one succeeds) */
	guint hb_timer, retry_timer;
	guint connect_timer;      /* gives up a connect that neither succeeds nor fails */
	unsigned backoff_ms;
	unsigned connect_timeout_ms;
	int64_t started;          /* unix time, for the node's entry */
	GPtrArray *peers;         /* the other live nodes: id, public_url, id, ... (owned) */
	char *api_url;            /* [cluster] api_url: "" when this node does not cascade */
	char *token;              /* [http] admin_token: the bearer towards other nodes */
	unsigned trunk_bitrate;
	GHashTable *trunks;       /* key (cascade.c) -> struct trunk * (owned) */
	GHashTable *quiet;        /* room names to check for a leaf trunk to end (owned) */
	guint quiet_idle;
	/* the text bus's subscribed connection (bus.c), reconnected like ac */
	redisAsyncContext *sac;
	GSource *sub_src, *sub_dead_src;
	bool sub_up, sub_ever_up;
	guint sub_retry, sub_connect_timer;
	unsigned sub_backoff_ms;
	int64_t bus_bad_logged_us;  /* monotonic time of the last malformed-message line */
	GHashTable *remote;       /* room -> (id "NODE:ID" -> other nodes' member), roster.c */
	GHashTable *homes;        /* room name -> owner node id last seen (both owned) */
	struct tt_cluster_stats st;
};

/* directory.c: one claim-or-renew per live room of this node, queued on the connection
 * (hiredis writes every queued command in one go: a pipelined round, not one per room). */
void tt__cluster_claim(struct tt_cluster *cl, const char *room);
/* A reply callback for commands whose answer matters only when it is an error: logs it,
 * prefixed with priv (a static string saying what was asked, or NULL). */
void tt__cluster_on_reply_warn(redisAsyncContext *ac, void *r, void *priv);
/* Queue the release of one room's home (if still ours) and of our place in its node set. */
void tt__cluster_release(struct tt_cluster *cl, const char *room);
/* The api_url of node `id` (HGET), or NULL when it has none or Redis did not answer; cb
 * runs exactly once, later (false and no callback when Redis is down). */
typedef void (*tt_cluster_url_h)(void *arg, const char *url);
bool tt__cluster_node_url(struct tt_cluster *cl, const char *id, tt_cluster_url_h cb, void *arg);
/* cascade.c: a claim's answer says `owner` is the home of `room` (this node or another):
 * open, keep or end this node's trunk for it. */
void tt__cascade_home(struct tt_cluster *cl, const char *room, const char *owner);
/* cascade.c: end every trunk (tt__cluster_free). */
void tt__cascade_free(struct tt_cluster *cl);
char *tt__cluster_key(struct tt_cluster *cl, const char *kind, const char *name);
/* cluster.c, for both connections (the main one and bus.c's subscribed one): a new
 * asynchronous context to [cluster] redis with its GLib source attached (*src) and its
 * callbacks set, ac->data = cl; or NULL with why[] saying what failed at once. */
redisAsyncContext *tt__cluster_dial(struct tt_cluster *cl, GSource **src,
				    redisConnectCallback *on_up, redisDisconnectCallback *on_down,
				    char *why, size_t len);
/* Queue AUTH [redis_user] redis_password on ac, its answer to cb (priv NULL). */
void tt__cluster_auth(struct tt_cluster *cl, redisAsyncContext *ac, redisCallbackFn *cb);
/* peers.c: queue the read of the other live nodes (cl->peers is replaced by the answer). */
void tt__cluster_read_peers(struct tt_cluster *cl);

/* bus.c: the subscribed connection: made at start, closed by leave (no retry after) and
 * free; a live room's channel subscribed (up) or not (down). */
void tt__cluster_bus_start(struct tt_cluster *cl);
void tt__cluster_bus_leave(struct tt_cluster *cl);
void tt__cluster_bus_free(struct tt_cluster *cl);
void tt__cluster_bus_room(struct tt_cluster *cl, const char *room, bool up);
char *tt__cluster_bus_channel(struct tt_cluster *cl, const char *room);
/* roster.c: a roster message from another node for `room` (-ENOENT: not here); a hello
 * for `room` (after our subscription is confirmed, or our main connection came back);
 * forget the room's remote members (room ended here: no events), or drop them with left
 * events before a hello brings them back (a new subscription); ask Redis whether the
 * nodes with members here are alive (every heartbeat). */
struct tt_bus_msg;
int tt__cluster_roster_in(struct tt_cluster *cl, const char *room, struct tt_bus_msg *msg);
void tt__cluster_roster_hello(struct tt_cluster *cl, const char *room);
void tt__cluster_roster_announce(struct tt_cluster *cl, const char *room);
void tt__cluster_roster_room_down(struct tt_cluster *cl, const char *room);
void tt__cluster_roster_resync(struct tt_cluster *cl, const char *room);
void tt__cluster_roster_heartbeat(struct tt_cluster *cl);

#endif
