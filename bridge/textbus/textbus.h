/* textbus.h: text posted in a room reaches every other place in it, once, and never goes
 * back where it came from. Core thread only.
 *
 * Where text goes. Every line carries its origin: the gateway, the shared medium within it
 * if any, and the sending participant if any (struct tt_text). The bus alone decides who
 * gets it, with two rules: never back to the shared medium it came from, never to the
 * participant who wrote it; a notice names its medium or none, and follows the same rule.
 * The places it delivers to come in three kinds, because networks show text in three ways:
 *
 *  - Shared media (text_medium_open): an IRC channel on one network, an XMPP MUC; the link
 *    to the other nodes of a cluster (tt__text_from_link, held by the core). The network
 *    shows a line to all its users at once, so the bus delivers once per medium, and its
 *    members (participants joined with tt_join.medium) are never reached one by one. Two
 *    channels of one gateway in the same room (two IRC networks) are two media, so each
 *    gets the other's lines through the bus: no gateway keeps a private relay between its
 *    own networks.
 *  - Participants of point-to-point networks (web, SIP): each person has their own page or
 *    dialog, so the bus delivers to each text-capable participant except the sender
 *    (on_text_to). These are not opened as media: a participant already is one, with a
 *    life the core tracks, and a medium per web page would be a second object to open,
 *    close and keep in step with it. Lobby participants (PIN entry) are hidden and get
 *    nothing.
 *  - Observers (on_text): every line once per present gateway, its own included. Only for
 *    gateways that watch and never relay (the test gateway's driver sees the room as it
 *    is); anything that shows text to people must use one of the two above.
 *
 * The places are fixed before the first callback runs, each held by a reference: a
 * callback may close a medium, make a participant leave, or post in turn; a medium closed
 * or a participant gone before its turn is skipped, and one that arrives meanwhile does
 * not get the line. Rejected: one flag per gateway (TT_GW_SHARED_TEXT, API version 1),
 * which could not tell one IRC network from another, so the IRC gateway relayed between
 * its own networks itself, and web and SIP each repeated the sender check. */
#ifndef TT_TEXTBUS_H
#define TT_TEXTBUS_H

#include "core/core_types.h"

struct tt_room;

#define TT_TEXT_MEDIUM_MAGIC 0x7474746du

/* A shared medium. Refcounted (atomic: a participant bound to it may be freed on a worker);
 * the other fields are the core thread's. References: the gateway's (open to close), the
 * room's list (the same span), each participant joined through it, each delivery under way. */
struct tt_text_medium {
	uint32_t magic;
	gint refs;
	struct tt_gw_handle *gw;      /* (const) */
	struct tt_room *room;         /* NULL once closed */
	void *data;                   /* (const) the gateway's, for on_medium_text */
};

/* 0, or -EILSEQ, -EMSGSIZE, -EINVAL, -EPERM, -ENOENT (see core.h text_post). */
int tt__text_validate(const struct tt_core *core, const char *text, size_t len);
int tt__text_post(struct tt_participant *p, const char *text, size_t len, unsigned flags);
int tt__text_notice(struct tt_gw_handle *gw, const char *room, const char *text);
/* A notice from gw in room, never handed back to m (NULL: from no medium). */
int tt__text_notice_from(struct tt_gw_handle *gw, struct tt_room *room,
			 struct tt_text_medium *m, const char *text);

/* A line from another node (the cluster link, bridge/cluster/bus.c) delivered into the
 * local room `room` as from one shared medium: every local place gets it once, and it is
 * never published again. The sender is shown with its name and network; from.id is
 * "NODE:ID" (`id`: the sender's id on its node, as the roster's remote entries have it) or
 * "NODE:link" when id is NULL (no local participant has either), from.gateway "cluster";
 * msg.sender and msg.origin are NULL, msg.origin_medium is the link (tt__text_link).
 * -ENOENT when the room is not here (never created for it), else as tt__text_validate. */
int tt__text_from_link(struct tt_core *core, const char *room, const char *node,
		       const char *id, const char *name, const char *network, unsigned flags,
		       const char *text, size_t len);
/* The one medium standing for the other nodes (never in a room's list). */
extern const struct tt_text_medium tt__text_link;

/* medium.c: core.h text_medium_open / close / notice. */
int tt__text_medium_open(struct tt_gw_handle *gw, const char *room, void *data,
			 struct tt_text_medium **mp);
struct tt_text_medium *tt__text_medium_close(struct tt_text_medium *m);
int tt__text_medium_notice(struct tt_text_medium *m, const char *text);
/* Any thread. unref returns NULL. */
struct tt_text_medium *tt__text_medium_ref(struct tt_text_medium *m);
struct tt_text_medium *tt__text_medium_unref(struct tt_text_medium *m);
/* May a participant of gw join `room` through m (tt_join.medium)? */
bool tt__text_medium_fits(const struct tt_text_medium *m, const struct tt_gw_handle *gw,
			  const struct tt_room *room);
/* The room is being freed with media still open (a gateway that never closed them): they
 * end as if closed, and the room's references go. */
void tt__text_media_room_gone(struct tt_room *room);

#endif
