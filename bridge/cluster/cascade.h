/* cascade.h: cascaded rooms (issue 18): one room spread over several nodes, heard as one.
 *
 * A tree per room with the room's home node (cluster.h) as the hub: a node with local
 * participants in a room at home elsewhere opens ONE trunk to the home for that room (a
 * leaf never links to another leaf). A trunk is a UDP leg (TT_LEG_UDP with a fixed remote,
 * on the worker's shared port, SDES-SRTP, Opus at [cluster] trunk_bitrate) held on each end
 * by a hidden participant of the built-in "trunk" gateway (gateway/trunk.h): not in rosters,
 * counts or participant metrics. What a node sends over a trunk is that participant's N-1
 * mix: everything the node hears except what came over that trunk, so no voice goes back
 * where it came from and each is mixed once.
 *
 * Set-up: the leaf joins its trunk participant on hold (its remote a placeholder), then asks
 * the hub over HTTP: POST HUB_API_URL/api/rooms/ROOM/trunks {"node", "remote", "srtp"}; the
 * hub joins its own trunk participant with the leaf's address and key and answers its
 * address and key; the leaf updates its leg to them and takes it off hold. Tear-down: the
 * leaf's last local participant leaves -> DELETE .../trunks/NODE and the leaf's trunk
 * leaves; a far end that died ends the trunk by the RTP inactivity timeout.
 *
 * Threading: core thread only (the HTTP client and Redis run on the core loop). */
#ifndef TT_CASCADE_H
#define TT_CASCADE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <tutti/core.h>

struct tt_core;
struct tt_cluster;

#define TT_TRUNK_NODE_MAX 64

/* A trunk request's body, parsed. */
struct tt_trunk_req {
	char node[TT_TRUNK_NODE_MAX + 1];   /* the asking node's id */
	struct sockaddr_storage remote;     /* where its trunk leg receives */
	socklen_t remote_len;
	int suite;                          /* enum tt_srtp_suite */
	uint8_t key[TT_AUDIO_KEY_MAX];      /* its SRTP master key || salt */
};

/* trunk_req.c: parse POST /api/rooms/R/trunks's body {"node": ID, "remote": "HOST:PORT",
 * "srtp": {"suite", "key"}} (every field required, no other). 0, or -EINVAL with *field
 * the offending field (NULL: the body) and *why a static message; *out is written only on
 * success. Pure; any thread. */
int tt__trunk_req_parse(const char *body, size_t len, struct tt_trunk_req *out,
			const char **field, const char **why);

/* The hub's side of the routes (api_trunks.c calls them). An answer runs later on the core
 * thread, exactly once: status (201, or a 4xx/5xx with msg) and, on 201, the hub's address,
 * key and participant id (borrowed for the call). */
typedef void (*tt_cascade_accept_h)(void *arg, unsigned status, const char *msg,
				    const char *id, const char *local, const char *key);
/* Accept a leaf's trunk for `room` (which must exist here: 404 otherwise; a trunk of the
 * same node for the room is replaced). Returns 0 (cb will run), or an HTTP status with *msg
 * static (nothing changed, no callback). */
unsigned tt__cascade_accept(struct tt_core *core, const char *room,
			    const struct tt_trunk_req *req, tt_cascade_accept_h cb, void *arg,
			    const char **msg);
/* End node's trunk in room (the leaf said so): 0, or 404. */
unsigned tt__cascade_drop(struct tt_core *core, const char *room, const char *node);
/* The trunks of `room` on this node: a new JSON array of {"node", "role" ("hub": this node
 * is the hub; "leaf"), "state", "participant"}; [] when none. */
struct json_t *tt__cascade_list(struct tt_core *core, const char *room);

/* A room of this node has no visible participant left: a leaf's trunk for it is ended
 * (DELETE to the hub), later on the loop (never under the caller). NULL cl: no-op. */
void tt__cascade_room_quiet(struct tt_cluster *cl, const char *room);
/* A room of this node got its first visible participant: when its home is known to be
 * another node, the trunk to it is opened now (else at the claim's answer). NULL cl:
 * no-op. */
void tt__cascade_room_busy(struct tt_cluster *cl, const char *room);
/* The trunk gateway lets go of p (hung up: media ended, room ended, shutdown): its trunk is
 * forgotten; the gateway makes p leave itself. */
void tt__cascade_gone(struct tt_core *core, struct tt_participant *p);

#endif
