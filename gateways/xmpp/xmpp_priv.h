/* xmpp_priv.h: the XMPP gateway's objects and the seams between its files.
 *
 *   gateway.c   the descriptor, the [xmpp] config rows, lifecycle, and the dispatch of each
 *               stanza by the domain it is addressed to (xg_stanza_in)
 *   conn.c      the XEP-0114 component streams (one per domain: the MUC service, and the
 *               call domain when set): libstrophe driven from the core loop, reconnect with
 *               backoff, and xg_send (which stream a stanza leaves on: its 'from' domain)
 *   muc*.c      the MUC service on cfg.domain: every participant of a room, from every
 *               network, is an occupant of ROOM@domain; the MUC is the room's text medium
 *   jingle*.c   calls to ROOM@call_domain: JMI and Jingle answered onto an ICE leg
 *
 * Thread: the core thread only, like everything in a gateway (libstrophe is not
 * thread-safe; it runs on the core loop, never in a thread of its own).
 * Ownership: struct xg_gw owns the libstrophe context, the streams, the MUC and call
 * state. A stanza handed to a handler is libstrophe's, borrowed for the call; xg_send
 * borrows the stanza it is given (it is serialised before xg_send returns). */
#ifndef XG_PRIV_H
#define XG_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include <strophe.h>
#include <tutti/core.h>
#include <tutti/gateway.h>
#include <tutti/ice.h>

#define XG_GW_NAME "xmpp"
#define XG_NETWORK "xmpp"

struct xg_conn;     /* conn.c: one component stream */
struct xg_muc;      /* muc.c */
struct xg_jingle;   /* jingle.c */

/* The [xmpp] section, read at start (strings owned). */
struct xg_cfg {
	char *server_host;          /* of server = HOST:PORT */
	unsigned server_port;
	char *domain;               /* the MUC service: conference.example.org */
	char *secret;
	char *call_domain;          /* callable room contacts, or NULL: calls off */
	char *call_secret;          /* NULL: secret */
	unsigned reconnect_min_s, reconnect_max_s;
	unsigned keepalive_interval_s;  /* a space after this long without sending; 0: off */
	unsigned history;           /* lines of history a joining occupant gets */
	unsigned talking_interval_s;
};

/* A participant's gw_data starts with this: which file owns it. */
enum xg_peer_kind {
	XG_PEER_OCCUPANT,           /* muc.c: an XMPP user in the MUC (text, maybe audio) */
	XG_PEER_CALLER,             /* jingle.c: a caller who is not an occupant (audio only) */
};
struct xg_peer {
	enum xg_peer_kind kind;
};

struct xg_gw {
	struct tt_gw_handle *h;
	const struct tt_core_api *api;
	struct tt_core *core;
	struct xg_cfg cfg;
	xmpp_ctx_t *ctx;            /* stanzas are built on it; the streams run on it */
	struct xg_conn *muc_conn;   /* the stream of cfg.domain */
	struct xg_conn *call_conn;  /* the stream of cfg.call_domain, or NULL */
	struct tt_ice_policy *policy;   /* ICE + DTLS for Jingle legs, or NULL: calls off */
	struct xg_muc *muc;
	struct xg_jingle *jingle;
	/* Where outgoing stanzas go: xg_conn_route normally; unit tests and the fuzz target
	 * put a capture here. Borrows st. */
	void (*send)(struct xg_gw *gw, xmpp_stanza_t *st);
	bool stopping;
	gint64 stop_deadline_us;    /* stopped() gives the streams until then to drain */
	uint64_t error_replies;     /* xg_reply_error stanzas sent */
	uint64_t malformed;         /* of them, bad-request: stanzas refused as malformed */
};

/* gateway.c: an incoming stanza of either stream (borrowed). */
void xg_stanza_in(struct xg_gw *gw, xmpp_stanza_t *st);
static inline void xg_send(struct xg_gw *gw, xmpp_stanza_t *st)
{
	gw->send(gw, st);
}
/* A stanza error reply to st (type "cancel" / "modify" / "auth" / "wait", condition e.g.
 * "item-not-found", optional text), from st's 'to' to its 'from'. Never for an error. */
void xg_reply_error(struct xg_gw *gw, xmpp_stanza_t *st, const char *type, const char *cond,
		    const char *text);

/* conn.c */
/* A component stream for `domain` to cfg.server with `secret`; connects on the core loop
 * and reconnects with backoff until freed. Stanzas it receives go to xg_stanza_in. */
struct xg_conn *xg_conn_new(struct xg_gw *gw, const char *domain, const char *secret);
void xg_conn_free(struct xg_conn *c);
bool xg_conn_online(const struct xg_conn *c);
/* Send st on the stream its 'from' domain names (dropped with a debug line when that
 * stream is down). The default gw->send. */
void xg_conn_route(struct xg_gw *gw, xmpp_stanza_t *st);
/* Flush what is queued now (before the core loop stops): a short bounded loop. */
void xg_conn_flush(struct xg_conn *c);
/* Stop: close the stream cleanly after what is queued (</stream:stream>, so that the
 * server forgets the component at once instead of refusing our next start with
 * "conflict"); no reconnect after this. */
void xg_conn_close(struct xg_conn *c);
/* Nothing left to write (or nothing to write to): the gateway's stopped() asks. */
bool xg_conn_drained(const struct xg_conn *c);
/* A stream's counters (filled on the core thread; copied out). */
struct xg_conn_stats {
	bool online;
	uint64_t connects;          /* handshakes completed */
	uint64_t disconnects;       /* streams lost after they were up */
	uint64_t failures;          /* attempts that never came up */
	uint64_t reconnects;        /* retries scheduled */
	uint64_t fd_refused;        /* sockets above select()'s limit, refused */
	uint64_t stanzas_in, stanzas_out;
	uint64_t dropped;           /* sent while the stream was down */
	uint64_t keepalives;        /* whitespace keepalives sent */
};
void xg_conn_stats(const struct xg_conn *c, struct xg_conn_stats *out);
/* The delay before reconnect attempt `attempt` (0 = first), ms, for r in [0, 1): exposed
 * for its unit test. */
unsigned xg_conn_backoff_ms(unsigned min_s, unsigned max_s, unsigned attempt, double r);

/* muc.c */
int xg_muc_new(struct xg_gw *gw);
void xg_muc_free(struct xg_gw *gw);
/* A stanza to cfg.domain or a JID on it: handled (true) or not ours. */
bool xg_muc_stanza(struct xg_gw *gw, xmpp_stanza_t *st);
/* The MUC stream came up (true) or went down (false). */
void xg_muc_link(struct xg_gw *gw, bool up);
/* Shutdown: unavailable presence with status 332 to every occupant. */
void xg_muc_stop(struct xg_gw *gw);
void xg_muc_roster(struct xg_gw *gw, const struct tt_roster_event *ev);
void xg_muc_medium_text(struct xg_gw *gw, void *medium_data, const struct tt_text *msg);
void xg_muc_hang_up(struct xg_gw *gw, struct tt_participant *p, const char *why);
/* For jingle.c: the participant of the occupant whose real JID is real_jid (full JID,
 * compared exactly; or bare, then any of its resources) in `room`, borrowed, or NULL. A
 * call from an occupant joins that participant's audio instead of a second participant. */
/* A line from the room to p alone when p is one of our occupants (nothing otherwise). */
void xg_muc_tell_participant(struct xg_gw *gw, struct tt_participant *p, const char *text);
/* muc_meeting.c: a meeting event shown in the room; the room's doors (gateway.h). */
void xg_muc_on_meeting(struct xg_gw *gw, const struct tt_meeting_event *ev);
void xg_doors(struct xg_gw *gw, const char *room, tt_door_h fn, void *arg);
struct tt_participant *xg_muc_occupant_by_jid(struct xg_gw *gw, const char *room,
					      const char *real_jid);

/* jingle.c */
int xg_jingle_new(struct xg_gw *gw);
void xg_jingle_free(struct xg_gw *gw);
/* A stanza to cfg.call_domain or a JID on it: handled (true) or not ours. */
bool xg_jingle_stanza(struct xg_gw *gw, xmpp_stanza_t *st);
void xg_jingle_link(struct xg_gw *gw, bool up);
void xg_jingle_stop(struct xg_gw *gw);
void xg_jingle_hang_up(struct xg_gw *gw, struct tt_participant *p, const char *why);
/* Every roster event (after muc.c's): the LEFT of an occupant in a call ends the call. */
void xg_jingle_roster(struct xg_gw *gw, const struct tt_roster_event *ev);

#endif
