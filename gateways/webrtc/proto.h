/* proto.h (webrtc gateway): the JSON messages a browser sends over /ws, parsed and checked
 * before any state changes (docs/webrtc-protocol.md). Pure: any thread. */
#ifndef WR_PROTO_H
#define WR_PROTO_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <tutti/core.h>

enum wr_msg_type {
	WR_MSG_JOIN,
	WR_MSG_OFFER,
	WR_MSG_CANDIDATE,
	WR_MSG_MUTE,
	WR_MSG_CHAT,
	WR_MSG_LEAVE,
	WR_MSG_PING,
	WR_MSG_MODERATE,
	WR_MSG_HAND,
	WR_MSG_DECLINE,
};

/* A parsed message; strings borrowed from `root` (owned: free with wr_msg_clear). */
struct wr_msg {
	json_t *root;
	enum wr_msg_type type;
	const char *room, *name, *pin;   /* join */
	const char *sdp;                 /* offer */
	size_t sdp_len;
	const char *candidate;           /* candidate: NULL or "" = end of candidates */
	bool muted;                      /* mute */
	const char *text;                /* chat */
	size_t text_len;
	bool action;                     /* chat: "/me" */
	enum tt_mod_action mod;          /* moderate: never NONE or ASK_UNMUTE */
	const char *target;              /* moderate: a participant id, for the actions on one */
	const char *reason;              /* moderate: kick, record_stop (or NULL) */
	bool up;                         /* hand: up; decline: declined */
	const char *about;               /* on error: the known "type" it had, else NULL
					  * (static: the error's "about") */
};

/* 0 and *m filled, or a negative errno with *code the protocol's error code ("bad_json",
 * "bad_request", "unknown_type") and *detail a static explanation. m->root is NULL on
 * error, and m->about names the message's type when it was one of ours. */
int wr_msg_parse(struct wr_msg *m, const char *text, size_t len, const char **code,
		 const char **detail);
void wr_msg_clear(struct wr_msg *m);

/* The protocol's name of a moderator action ("mute_all"), and back (TT_MOD_NONE: not one a
 * client may ask for; ASK_UNMUTE only appears in events). */
const char *wr_mod_name(enum tt_mod_action a);
enum tt_mod_action wr_mod_parse(const char *name);
/* The action works on one participant ("target" needed). */
bool wr_mod_needs_target(enum tt_mod_action a);

#endif
