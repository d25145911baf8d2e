/* cluster.h: this node in a room directory kept in Redis ([cluster], issue 18's first slice):
 * the node's entry (tutti:node:ID, refreshed by a heartbeat), the homes of its rooms
 * (tutti:room:NAME, claimed with SET NX, renewed while the room lives, released when it
 * ends) and the nodes with participants in a room (tutti:room:NAME:nodes). HTTP asks it where
 * a room lives to redirect browsers and admin calls to the room's home.
 *
 * Everything is asynchronous on the core's GLib loop (hiredis's GLib adapter): nothing here
 * waits for Redis. When Redis is unreachable the node serves every room locally (availability
 * first), reconnects with backoff and claims its live rooms again.
 *
 * Threading: core thread only. Built without hiredis (TT_REDIS off), a configured
 * [cluster] redis is refused at start and by --check-config; every other call is a no-op. */
#ifndef TT_CLUSTER_H
#define TT_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tt_core;
struct tt_conf;
struct tt_cluster;
struct tt_roster_entry;

/* Counters for /metrics (tutti_cluster_*); read by value. */
struct tt_cluster_stats {
	bool configured;       /* [cluster] redis is set */
	bool up;               /* connected to Redis now */
	uint64_t claims;       /* rooms this node became the home of */
	uint64_t redirects;    /* browsers and admin calls sent to another node */
	uint64_t splits;       /* rooms found homed elsewhere while this node had participants */
	uint64_t reconnects;   /* connections to Redis made after the first */
	uint64_t bus_out;      /* text lines published to other nodes (bus.c) */
	uint64_t bus_in;       /* text lines from other nodes delivered here */
	uint64_t bus_bad;      /* malformed messages on a room channel, ignored */
	uint64_t roster_out;   /* roster events of local participants published (roster.c) */
	uint64_t roster_in;    /* roster events of other nodes' members applied here */
};

/* Checks the [cluster] keys of `c` (the address's form; a redis set in a build without
 * hiredis). 0, or -EINVAL with one "FILE:LINE: [cluster] key: problem\n" line per problem
 * appended to *why (a new string the caller frees). Any thread. */
int tt__cluster_check_conf(const struct tt_conf *c, char **why);

/* Starts connecting when [cluster] redis is set; *clp stays NULL when it is not (a single
 * node). The connection is made in the background: start succeeds while Redis is down.
 * `core` is borrowed and must outlive the result. */
int tt__cluster_start(struct tt_cluster **clp, struct tt_core *core);
/* A clean stop: deletes this node's entry, releases the homes of its rooms and closes the
 * connection once Redis has answered (the loop must run for that: tt__cluster_left says
 * when it is done). No reconnect, claim or lookup after this. NULL is fine. */
void tt__cluster_leave(struct tt_cluster *cl);
/* True when nothing of the leave is in flight any more (or there is no cluster). */
bool tt__cluster_left(const struct tt_cluster *cl);
/* Stops the heartbeat and closes the connection (keys this node set expire by their ttl;
 * nothing is waited for). Always returns NULL. NULL is fine. */
struct tt_cluster *tt__cluster_free(struct tt_cluster *cl);

/* A room was created on this node / ended here. Claims its home if nobody has it, adds
 * this node to its node set; the end releases the home if it is still ours. NULL cl: no-op. */
void tt__cluster_room_up(struct tt_cluster *cl, const char *room);
void tt__cluster_room_down(struct tt_cluster *cl, const char *room);

/* bus.c: a line posted in `room` on this node (by a participant here, never one that came
 * from another node) goes to the other nodes on the room's channel, once. Nothing when
 * there is no cluster, Redis is down or the room is not one of this node's live rooms.
 * Borrows everything for the call. */
void tt__cluster_text_out(struct tt_cluster *cl, const char *room,
			  const struct tt_roster_entry *from, unsigned flags, const char *text,
			  size_t len);

/* roster.c: a roster event of the room (core thread, from tt__room_emit): a local
 * participant's joined, state or left is published on the room's channel; other nodes'
 * members' events (tt__cluster_entry_remote) are not. No-op without a cluster. */
struct tt_roster_event;
void tt__cluster_roster_out(struct tt_cluster *cl, const struct tt_roster_event *ev);
/* True for a roster entry of another node's member (gateway "cluster"). Pure. */
bool tt__cluster_entry_remote(const struct tt_roster_entry *e);
/* fn once per other nodes' member of `room` here (borrowed for the call). NULL cl: none. */
typedef void (*tt_cluster_entry_h)(const struct tt_roster_entry *e, void *arg);
void tt__cluster_roster_each(struct tt_cluster *cl, const char *room, tt_cluster_entry_h fn,
			     void *arg);

/* Where `room` lives. `node` is NULL when the room has no home (or Redis did not answer);
 * `url` is the home's public_url ("" when it registered none); `self` is true when the home
 * is this node. Strings are borrowed for the call. The callback always runs exactly once,
 * later, on the core thread (also when the connection is lost meanwhile, with node NULL). */
typedef void (*tt_cluster_home_h)(void *arg, const char *node, const char *url, bool self);
/* False (and no callback) when there is nothing to ask: no [cluster] or Redis down; the
 * caller then serves locally. */
bool tt__cluster_lookup(struct tt_cluster *cl, const char *room, tt_cluster_home_h cb,
			void *arg);
/* This node's id; NULL without a cluster. */
const char *tt__cluster_node(const struct tt_cluster *cl);
/* The other live nodes, least loaded first, as read at the last heartbeat (at most 16): an
 * array of 2 * *n strings, id then public_url, borrowed until the next heartbeat's answer
 * (use it at once). Nodes without a public_url are left out. NULL and 0 without a cluster. */
const char *const *tt__cluster_peers(const struct tt_cluster *cl, unsigned *n);
/* Count one redirect (HTTP 307 to a home). */
void tt__cluster_redirected(struct tt_cluster *cl);
/* The counters; zeroes for NULL. */
struct tt_cluster_stats tt__cluster_stats(const struct tt_cluster *cl);

/* address.c: "host:port", "[v6]:port" or "/unix/path" (port defaults to 6379). 0, or
 * -EINVAL with *why a static message. *host is a new string. Pure; any thread. */
int tt__cluster_parse_address(const char *s, char **host, int *port, bool *unix_path,
			      const char **why);

#endif
