/* jingle_parse.h: Jingle XML <-> a plain description of one audio content, and back: the
 * translation jingle.c puts between a caller's stanzas and an ICE leg. Pure functions on
 * borrowed stanzas (no gateway, no core), so the unit tests and the fuzz target run them
 * on strings. Any thread; nothing here keeps state.
 *
 * Only what tutti answers is described: the first audio RTP content of a session (other
 * contents, video, are left out of our answer), its payload types, the RFC 6464 audio level
 * extension, rtcp-mux, the ICE-UDP transport with its DTLS fingerprint, and BUNDLE. */
#ifndef XG_JINGLE_PARSE_H
#define XG_JINGLE_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <strophe.h>

#define XG_NS_JINGLE "urn:xmpp:jingle:1"
#define XG_NS_JINGLE_ERRORS "urn:xmpp:jingle:errors:1"
#define XG_NS_RTP "urn:xmpp:jingle:apps:rtp:1"
#define XG_NS_RTP_INFO "urn:xmpp:jingle:apps:rtp:info:1"
#define XG_NS_HDREXT "urn:xmpp:jingle:apps:rtp:rtp-hdrext:0"
#define XG_NS_ICE "urn:xmpp:jingle:transports:ice-udp:1"
#define XG_NS_DTLS "urn:xmpp:jingle:apps:dtls:0"
#define XG_NS_GROUP "urn:xmpp:jingle:apps:grouping:0"
#define XG_NS_JMI "urn:xmpp:jingle-message:0"
#define XG_URI_AUDIO_LEVEL "urn:ietf:params:rtp-hdrext:ssrc-audio-level"

#define XG_J_MAX_PTS 24       /* payload types kept from an offer; the rest are ignored */
#define XG_J_MAX_CANDS 32     /* candidates kept from one stanza; the rest are ignored */
#define XG_J_CAND_LEN 256     /* an SDP candidate line */

enum xg_jaction {
	XG_J_OTHER,           /* an action we do not take (content-add, transport-replace...) */
	XG_J_INITIATE,
	XG_J_ACCEPT,
	XG_J_TERMINATE,
	XG_J_TRANSPORT_INFO,
	XG_J_SESSION_INFO,
};

struct xg_jpt {
	int id;               /* 0..127 */
	char name[24];        /* as offered: "opus", "PCMU", "" for a static type without one */
	unsigned clock;
	unsigned channels;    /* 0: not said (1) */
};

struct xg_jcontent {
	bool present;         /* an audio RTP content with an ICE-UDP transport was found */
	char name[64];
	char creator[12];     /* "initiator" or "responder" */
	char senders[12];     /* as offered, "" if not said (both) */
	struct xg_jpt pts[XG_J_MAX_PTS];
	unsigned n_pts;
	int level_ext_id;     /* RFC 6464 extension id 1..14, or 0 */
	bool rtcp_mux;
	bool has_transport;
	char ufrag[65], pwd[257];  /* "" when not given (yet) */
	char fingerprint[104];     /* "sha-256 AB:...", "" when none */
	char setup[10];            /* "actpass", "active", "passive", "" */
	char cands[XG_J_MAX_CANDS][XG_J_CAND_LEN];   /* SDP lines, usable ones only */
	unsigned n_cands;
	unsigned n_ignored;        /* candidates left out: component 2, mDNS, TCP */
};

/* One <jingle/> element, described. Strings are copies (the stanza may go). */
struct xg_jmsg {
	enum xg_jaction action;
	char action_name[32];
	char sid[128];
	char initiator[512];        /* "" when not given */
	struct xg_jcontent audio;   /* the first audio content */
	unsigned n_contents;        /* every content, audio or not */
	bool bundle;                /* a BUNDLE group was offered */
	char reason[32];            /* session-terminate: the condition, e.g. "success" */
	char info[16];              /* session-info: "mute", "unmute", "ringing", "active", "" */
};

/* Describe the <jingle/> child of an IQ (`jingle` is that child). 0, or -EINVAL with *why
 * (a static string for the error reply's text): no sid or action, a malformed content,
 * transport or candidate. Out is written on success only. */
int xg_jingle_parse(xmpp_stanza_t *jingle, struct xg_jmsg *out, const char **why);

/* One Jingle <candidate/> as an SDP candidate line ("candidate:F 1 udp P IP PORT typ host
 * ..."). 1 written, 0 well formed but not for us (component 2, ".local" mDNS, TCP),
 * -EINVAL malformed. */
int xg_jcand_to_sdp(xmpp_stanza_t *cand, char *out, size_t len);
/* An SDP candidate line (with or without "a=") as a new Jingle <candidate/> (the caller
 * releases it), or NULL when the line is malformed. `id` is the element's id attribute. */
xmpp_stanza_t *xg_jcand_from_sdp(xmpp_ctx_t *ctx, const char *line, const char *id);

/* What we answer: the codec the leg uses, with the caller's payload type numbers. */
struct xg_jchoice {
	const char *codec;          /* "opus", "g722", "pcmu", "pcma" (static) */
	const struct xg_jpt *pt;    /* the chosen payload type of the content */
	const struct xg_jpt *dtmf;  /* telephone-event at the codec's RTP clock, or NULL */
};
/* Opus if offered, else the first of G.722, PCMU, PCMA in the caller's order.
 * 0, or -ENOTSUP (nothing we can use). */
int xg_jingle_choose(const struct xg_jcontent *c, struct xg_jchoice *ch);

/* Our DTLS role for the caller's setup: true (active, we send the ClientHello) for actpass,
 * passive or none; false for active. Never actpass. */
bool xg_jingle_we_are_active(const struct xg_jcontent *c);

/* Our answer to an offer: a new <jingle action="session-accept"/> element (the caller
 * releases it) with the offer's content name and creator, the chosen payload types,
 * rtcp-mux, the audio level extension if offered, our ICE credentials and fingerprint
 * ("sha-256 AB:...") with setup active or passive, and the BUNDLE group if offered. */
xmpp_stanza_t *xg_jingle_answer(xmpp_ctx_t *ctx, const struct xg_jmsg *offer,
				const struct xg_jchoice *ch, const char *responder,
				const char *ufrag, const char *pwd, const char *fingerprint,
				bool active);

/* A new <jingle/> element of `action` for sid (the caller adds children and releases it). */
xmpp_stanza_t *xg_jingle_el(xmpp_ctx_t *ctx, const char *action, const char *sid);
/* A new <jingle action="session-terminate"/> with <reason><COND/>[<text/>]</reason>. */
xmpp_stanza_t *xg_jingle_terminate(xmpp_ctx_t *ctx, const char *sid, const char *cond,
				   const char *text);
/* A new <jingle action="transport-info"/> carrying one of our candidates (an SDP line) in
 * the content `name` of `creator`, with our ufrag and pwd; NULL if the line is malformed. */
xmpp_stanza_t *xg_jingle_transport_info(xmpp_ctx_t *ctx, const char *sid, const char *name,
					const char *creator, const char *ufrag,
					const char *pwd, const char *cand);

/* Small helpers for building stanzas (jingle*.c): a new element, optionally with a
 * namespace, added to parent if not NULL (then parent holds it: do not release). */
xmpp_stanza_t *xg_el(xmpp_ctx_t *ctx, xmpp_stanza_t *parent, const char *name, const char *ns);

#endif
