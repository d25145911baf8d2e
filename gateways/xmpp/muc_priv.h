/* muc_priv.h: the MUC service's rooms and occupants, shared by the muc*.c files.
 *
 *   muc.c           the service: rooms and occupants (tables, life), dispatch of stanzas
 *                   to the service, a room or an occupant; link, stop, kick
 *   muc_presence.c  joins, leaves, presence of occupants and its fan-out (roster events,
 *                   talking rate limit), status codes
 *   muc_message.c   groupchat and private messages, history, text from other networks
 *   muc_disco.c     disco#info and #items, self-ping and the other IQs
 *   muc_admin.c     roles: what role a participant's state shows, and a moderator's
 *                   muc#admin role changes and role lists (XEP-0045 8, 9.5)
 *   muc_command.c   the moderators' groupchat commands (!lock, !mute NICK ...)
 *   muc_meeting.c   meeting events shown in the room (status messages, 170/171, the
 *                   actor of a role change or kick), and the room's doors
 *   muc_stanza.c    building and reading stanzas (small helpers)
 *
 * Thread: the core thread only. Ownership: struct xg_muc owns its rooms; a room owns its
 * occupants, its history and its text medium; an XMPP occupant owns one reference to its
 * participant (from participant_join). Stanzas passed in are borrowed. */
#ifndef XG_MUC_PRIV_H
#define XG_MUC_PRIV_H

#include "xmpp_priv.h"

#define NS_MUC "http://jabber.org/protocol/muc"
#define NS_MUC_USER "http://jabber.org/protocol/muc#user"
#define NS_DISCO_INFO "http://jabber.org/protocol/disco#info"
#define NS_DISCO_ITEMS "http://jabber.org/protocol/disco#items"
#define NS_PING "urn:xmpp:ping"
#define NS_DELAY "urn:xmpp:delay"
#define NS_SID "urn:xmpp:sid:0"
#define NS_OCCUPANT_ID "urn:xmpp:occupant-id:0"
#define NS_STANZAS "urn:ietf:params:xml:ns:xmpp-stanzas"
/* Our presence extension: the participant's network and state, machine-readable. */
#define NS_TUTTI "urn:tutti:occupant:0"

struct muc_room;

/* One occupant: a participant of the room, from any network. XMPP occupants (ours) have a
 * real JID and a participant reference; the others are known from roster events. */
struct muc_occ {
	struct xg_peer peer;        /* first: gw_data of our participants (XG_PEER_OCCUPANT) */
	struct muc_room *room;
	char *nick;                 /* the participant's display name: the occupant JID's resource */
	char *key;                  /* nick normalised as the core compares names */
	char *pid;                  /* participant id */
	char *network;
	char *occupant_id;          /* XEP-0421, stable per real bare JID (or participant) */
	unsigned caps, state;
	unsigned shown;             /* state last announced in presence */
	uint32_t hand_seq;          /* the queue order of a raised hand (0: down) */
	/* Who changed this occupant's role or kicked it, and why (a meeting event): said in
	 * its next presence (XEP-0045 <actor/>, <reason/>), then forgotten. */
	char *actor_nick;
	char *mod_reason;
	bool kicked;                /* its LEFT (any network) says 307 */
	bool xmpp;                  /* one of ours */
	char *real_jid;             /* ours: the full JID it joined from */
	struct tt_participant *p;   /* ours: the reference participant_join gave */
	GList link;                 /* ours: in room->ours */
	gint64 talk_sent_us;        /* monotonic time of the last presence for talking */
	guint talk_timer;           /* pending rate-limited talking presence */
};

struct muc_hist {
	char *nick;                 /* NULL: a notice from the room itself */
	char *body;
	char *id;
	gint64 stamp_us;            /* real time */
};

struct muc_room {
	struct xg_muc *muc;
	char *name;                 /* the core's room name: the room JID's local part */
	char *jid;                  /* name@domain */
	struct tt_text_medium *medium;   /* open while the room has XMPP occupants */
	GHashTable *by_key;         /* muc_occ.key -> occ (every occupant) */
	GHashTable *by_pid;         /* participant id -> occ (every occupant) */
	GHashTable *by_real;        /* real full JID -> occ (ours) */
	GQueue ours;                /* XMPP occupants, join order (links are occ->link) */
	GQueue history;             /* struct muc_hist *, oldest first */
};

struct xg_muc {
	struct xg_gw *gw;
	GHashTable *rooms;          /* name -> struct muc_room * (rooms with XMPP occupants) */
	char occ_key[32];           /* random: occupant ids are HMACs under it */
	bool joining;               /* inside participant_join for one of ours */
};

/* muc.c */
struct muc_room *xg_muc_room_get(struct xg_muc *m, const char *name);
/* Opens the room's medium and learns its roster; NULL with *err on failure. */
struct muc_room *xg_muc_room_open(struct xg_muc *m, const char *name, int *err);
/* Frees the room when it has no XMPP occupants left (closes its medium). */
void xg_muc_room_maybe_free(struct muc_room *r);
/* Fills o (NULL: a new one) and enters it in the room's tables; real_jid: one of ours. */
struct muc_occ *xg_muc_occ_add(struct muc_room *r, struct muc_occ *o, const char *pid,
			       const char *nick,
			       const char *network, unsigned caps, unsigned state,
			       const char *real_jid);
/* Takes occ out of the room's tables and frees it (drops nothing of the core's). */
void xg_muc_occ_free(struct muc_occ *o);
char *xg_muc_nick_key(const char *nick);
struct muc_occ *xg_muc_occ_by_nick(struct muc_room *r, const char *nick);
struct muc_occ *xg_muc_occ_by_real(struct muc_room *r, const char *real_jid);
/* Ends one of ours: takes it out, then participant_leave (its "left" event finds nothing). */
void xg_muc_occ_end(struct muc_occ *o, int reason);

/* muc_presence.c */
void xg_muc_presence_in(struct xg_muc *m, xmpp_stanza_t *st, const char *room,
			const char *nick);
/* o's presence to every XMPP occupant but o (codes: NULL-terminated status codes). */
void xg_muc_presence_broadcast(struct muc_occ *o, bool unavailable, const char *const *codes,
			       const char *reason);
/* o's own presence to o (one of ours), with status 110 and codes. */
void xg_muc_presence_self(struct muc_occ *o, bool unavailable, const char *const *codes,
			  const char *reason);
void xg_muc_presence_roster(struct xg_muc *m, const struct tt_roster_event *ev);
/* o (ours) leaves: its unavailable self-presence (110 and codes), the same to the others
 * without 110, then xg_muc_occ_end(o, err). */
void xg_muc_occ_leave(struct muc_occ *o, const char *const *codes, const char *reason,
		      int err);

/* muc_message.c */
void xg_muc_message_in(struct xg_muc *m, xmpp_stanza_t *st, const char *room,
		       const char *nick);
void xg_muc_history_send(struct muc_room *r, struct muc_occ *to, xmpp_stanza_t *join);
void xg_muc_history_free(struct muc_hist *h);

/* muc_disco.c */
void xg_muc_iq_in(struct xg_muc *m, xmpp_stanza_t *st, const char *room, const char *nick);

/* muc_admin.c */
/* The XEP-0045 role that a participant's state shows: "moderator" (TT_PS_MODERATOR),
 * "visitor" (muted by a moderator: voice revoked), else "participant". */
const char *xg_muc_role(unsigned state);
/* An iq with a muc#admin query to room r from `from` (ours, or NULL: not an occupant). */
void xg_muc_admin_iq(struct muc_room *r, struct muc_occ *from, xmpp_stanza_t *st,
		     xmpp_stanza_t *query, bool get);

/* A message to the room from o: true when it is a voice request (XEP-0045 7.13, a
 * muc#request form), taken as a raised hand, false when it is something else. */
bool xg_muc_voice_request(struct muc_occ *o, xmpp_stanza_t *st);

/* muc_command.c */
/* A groupchat line from o: true when it was a command (handled and answered: it is not
 * room text), false to post it as a line. */
bool xg_muc_command(struct muc_occ *o, const char *body);

/* muc_meeting.c */
void xg_muc_meeting(struct xg_muc *m, const struct tt_meeting_event *ev);

/* muc_message.c */
/* To o alone (one of ours), from the room: a groupchat status line with status codes
 * (NULL-terminated, may be NULL); not kept in history. */
void xg_muc_tell(struct muc_occ *o, const char *body, const char *const *codes);
/* A line from the room itself to every XMPP occupant (status codes may be NULL), kept in
 * history as the room's. */
void xg_muc_room_notice(struct muc_room *r, const char *body, const char *const *codes);

/* muc_stanza.c: building stanzas on gw->ctx; every new stanza is the caller's to release. */
xmpp_stanza_t *xg_st_new(struct xg_gw *gw, const char *name, const char *type,
			 const char *from, const char *to, const char *id);
/* A child element (with ns if not NULL) added to parent; returned borrowed. */
xmpp_stanza_t *xg_st_child(struct xg_gw *gw, xmpp_stanza_t *parent, const char *name,
			   const char *ns);
/* A child element with text. */
xmpp_stanza_t *xg_st_text_child(struct xg_gw *gw, xmpp_stanza_t *parent, const char *name,
				const char *ns, const char *text);
/* The first child element called name with namespace ns (either NULL: any). Borrowed. */
xmpp_stanza_t *xg_st_find(xmpp_stanza_t *st, const char *name, const char *ns);
/* Splits a JID into new strings: local part and resource NULL when absent; false (nothing
 * set) when malformed: empty parts, or longer than XMPP allows (1023 bytes each). */
bool xg_jid_split(const char *jid, char **local, char **domain, char **resource);
/* Adds <x xmlns=muc#user> with <status code=.../> children for codes (NULL-terminated)
 * to st; nothing when codes is NULL or empty. */
void xg_st_codes(struct xg_gw *gw, xmpp_stanza_t *st, const char *const *codes);
/* Sends st to every XMPP occupant of r but `skip` (may be NULL), setting 'to' for each. */
void xg_st_fanout(struct muc_room *r, xmpp_stanza_t *st, const struct muc_occ *skip);

#endif
