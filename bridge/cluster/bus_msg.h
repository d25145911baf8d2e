/* bus_msg.h: the messages on a room's pub/sub channel (PREFIX room:NAME:bus), as JSON:
 *   {"v":1,"node":"a","type":"text","id":"p3","name":"alice","network":"irc",
 *    "kind":"message","text":"hello"}
 * (id, the sender's id on its node, may be absent: the receiver then names it "NODE:link")
 * kind is "message", "action" or "notice". Roster events of a node's participants:
 *   {"v":1,"node":"a","type":"roster","op":"joined","id":"p12","name":"alice",
 *    "network":"irc","caps":2,"state":0,"hand_seq":0}
 * op is "joined", "state" or "left" (all fields), or "hello" (node only: a node that has
 * just subscribed asks the others for their members; each answers with one "joined" per
 * member). Pure functions (no Redis, no core): what the
 * channel carries is tested on its own, malformed payloads included.
 *
 * Threading: any thread. Ownership: strings in a decoded struct tt_bus_msg are new and
 * freed by tt__bus_msg_clear. */
#ifndef TT_BUS_MSG_H
#define TT_BUS_MSG_H

#include <stdbool.h>
#include <stddef.h>

#define TT_BUS_MSG_VERSION 1
/* A payload larger than this is refused before it is parsed. */
#define TT_BUS_MSG_MAX 65536

enum tt_bus_type { TT_BUS_TEXT, TT_BUS_ROSTER };
enum tt_bus_op { TT_BUS_JOINED, TT_BUS_STATE, TT_BUS_LEFT, TT_BUS_HELLO };

struct tt_bus_msg {
	enum tt_bus_type type;
	enum tt_bus_op op;    /* TT_BUS_ROSTER */
	char *node;       /* the node that published it */
	char *id;         /* the participant's id on its node (TT_BUS_TEXT: or NULL) */
	unsigned caps, state, hand_seq;  /* TT_BUS_ROSTER but hello */
	char *name;       /* the sender's display name */
	char *network;    /* the sender's network ("irc", "web", "phone" ...) */
	unsigned flags;   /* enum tt_text_flags: 0, TT_TEXT_ACTION or TT_TEXT_NOTICE */
	char *text;       /* TT_BUS_TEXT: UTF-8 (checked again by the text bus) */
	size_t len;
};

/* A new JSON string (g_free), or NULL when a field is NULL. */
char *tt__bus_msg_encode(const char *node, const char *id, const char *name, const char *network,
			 unsigned flags, const char *text, size_t len);
/* A roster message; e NULL for hello. A new JSON string, or NULL. */
struct tt_roster_entry;
char *tt__bus_roster_encode(const char *node, enum tt_bus_op op,
			    const struct tt_roster_entry *e);
/* 0 and *out filled, or -EINVAL with *why a static reason and *out untouched: not JSON, not
 * an object, over TT_BUS_MSG_MAX, another version, a type or op we do not know, a missing,
 * empty or mistyped field, control characters in a node, id, name or network, a node or id
 * over 64 bytes, a name over 256, a network over 32, NUL in the text. */
int tt__bus_msg_decode(const char *payload, size_t len, struct tt_bus_msg *out,
		       const char **why);
void tt__bus_msg_clear(struct tt_bus_msg *m);

#endif
