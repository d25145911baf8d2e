/* jingle_priv.h: calls to ROOM@call_domain, shared by jingle.c (sessions and legs),
 * jingle_jmi.c (XEP-0353 message initiation) and jingle_caps.c (disco, caps, presence).
 * Core thread only, like the whole gateway. struct xg_jingle owns every call; a call owns
 * its strings and holds a reference to its participant while it has one. */
#ifndef XG_JINGLE_PRIV_H
#define XG_JINGLE_PRIV_H

#include "jingle_parse.h"
#include "xmpp_priv.h"

#define XG_CALL_RESOURCE "tutti"   /* R@call_domain/tutti: the callable resource */
#define XG_CALL_MAX_CANDS 64       /* remote candidates taken per call (a client has ~10) */
#define XG_CALL_MAX 1024           /* calls and proposals at once: a flood of proposes
				    * must not grow the table without bound */
#define XG_CALL_PROPOSE_S 30       /* a proceed not followed by session-initiate ends */

enum xg_call_state {
	XG_CALL_PROPOSED,    /* JMI propose answered with proceed; waits for session-initiate */
	XG_CALL_ATTACHING,   /* session-initiate acked; the leg is being made */
	XG_CALL_ACTIVE,      /* session-accept sent */
	XG_CALL_ENDED,       /* terminated; freed when the last reference goes */
};

struct xg_call {
	struct xg_peer peer;        /* first: a caller's participant's gw_data points here */
	struct xg_gw *gw;
	unsigned ref;               /* the call table's, and one per attach in flight */
	enum xg_call_state state;
	char *sid;
	char *caller;               /* the caller's full JID */
	char *local;                /* our JID in this call (R@call_domain/tutti) */
	char *room;
	bool jmi;                   /* started with a propose: finish is sent at the end */
	struct xg_jmsg *offer;      /* the session-initiate, described */
	struct tt_participant *p;   /* a reference while the call has audio, or NULL */
	bool occupant;              /* p is an MUC occupant given audio (audio_add) */
	bool creds_given;           /* the caller's ufrag/pwd/fingerprint reached the leg */
	char ufrag[65], pwd[257];   /* ours, for transport-info */
	unsigned n_cands;
	GPtrArray *early_cands;     /* ours signalled before the session-accept (strings): sent
				     * right after it (libnice reports host candidates while
				     * the leg is being made) */
	unsigned long iq_seq;
	char accept_id[40];         /* the id of our session-accept IQ: its error ends the call */
	guint timer;                /* PROPOSED: the wait for session-initiate */
};

struct xg_jingle {
	GHashTable *calls;          /* "caller\nsid" -> struct xg_call * (the table's ref) */
	unsigned long next_id;
};

/* jingle.c */
struct xg_call *xg_call_find(struct xg_gw *gw, const char *caller, const char *sid);
/* A new call in the table (PROPOSED), or NULL if (caller, sid) is taken or XG_CALL_MAX
 * calls exist. */
struct xg_call *xg_call_new(struct xg_gw *gw, const char *caller, const char *sid,
			    const char *local, const char *room);
/* End a call: session-terminate with `cond` (NULL: none sent, the caller ended it), JMI
 * finish if it began with a propose, its audio gone, out of the table. */
void xg_call_end(struct xg_call *c, const char *cond, const char *text);
/* Send an IQ set from c->local to the caller carrying el (taken). */
void xg_call_iq(struct xg_call *c, xmpp_stanza_t *el);
/* End every call of the full JID `caller` (or of every resource of a bare JID): it went
 * away (presence unavailable). */
void xg_calls_end_for(struct xg_gw *gw, const char *caller);
/* A reply to st, from its 'to' to its 'from', same id (xmpp_stanza_reply sets no 'from';
 * a component must). The caller sets the type, adds children and releases it. */
xmpp_stanza_t *xg_reply(struct xg_gw *gw, xmpp_stanza_t *st);
/* The room of a JID on the call domain ("R@call_domain/x" -> R, a new string), or NULL. */
char *xg_call_room_of(struct xg_gw *gw, const char *jid);

/* jingle_jmi.c: a message with a XEP-0353 child: handled (true) or not JMI. */
bool xg_jmi_message(struct xg_gw *gw, xmpp_stanza_t *st);
/* The JMI <finish/> for a call that began with a propose. */
void xg_jmi_finish(struct xg_call *c, const char *cond);

/* jingle_caps.c */
/* XEP-0115 ver: base64(SHA-1(identities "category/type/lang/name<", sorted, then features
 * "feature<", sorted)). Returns a new string (g_free). */
char *xg_caps_ver(const char *const *identities, size_t n_ids, const char *const *features,
		  size_t n_features);
/* Our ver (computed once) and the features we list. */
const char *xg_jingle_caps_ver(void);
/* disco#info get to a call-domain JID: answered (true) or not a disco#info get. */
bool xg_jingle_disco(struct xg_gw *gw, xmpp_stanza_t *st);
/* A presence to a call-domain JID (probe, subscribe, directed, unavailable). */
void xg_jingle_presence(struct xg_gw *gw, xmpp_stanza_t *st);

#endif
