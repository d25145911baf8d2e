/* bus_msg.h: the messages on a room's pub/sub channel (PREFIX room:NAME:bus), as JSON:
 *   {"v":1,"node":"a","type":"text","name":"alice","network":"irc","kind":"message",
 *    "text":"hello"}
 * kind is "message", "action" or "notice". Pure functions (no Redis, no core): what the
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

struct tt_bus_msg {
	char *node;       /* the node that published it */
	char *name;       /* the sender's display name */
	char *network;    /* the sender's network ("irc", "web", "phone" ...) */
	unsigned flags;   /* enum tt_text_flags: 0, TT_TEXT_ACTION or TT_TEXT_NOTICE */
	char *text;       /* UTF-8 (checked again by the text bus before delivery) */
	size_t len;
};

/* A new JSON string (g_free), or NULL when a field is NULL. */
char *tt__bus_msg_encode(const char *node, const char *name, const char *network,
			 unsigned flags, const char *text, size_t len);
/* 0 and *out filled, or -EINVAL with *why a static reason and *out untouched: not JSON, not
 * an object, another version, a type we do not know, a missing or mistyped field, an empty
 * node or name, a name over 256 bytes, a network over 32, an unknown kind, NUL in the
 * text. */
int tt__bus_msg_decode(const char *payload, size_t len, struct tt_bus_msg *out,
		       const char **why);
void tt__bus_msg_clear(struct tt_bus_msg *m);

#endif
