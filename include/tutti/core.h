/* core.h: everything a gateway may ask of the core. Gateways call the core only through
 * the const struct tt_core_api they receive in start(); they never call core internals, so
 * a gateway could be a dlopen()ed module later without changing.
 *
 * The API comes in groups, each with its types and its calls, in this order: rooms,
 * participants (with the PIN lobby), text, audio, WebSockets, statistics. Each group's
 * banner says who owns what and on which thread it runs; the general rules are these:
 *
 * Threading: every call here is core-thread only (the GLib main loop thread), unless it says
 * "any thread". A gateway that runs a thread of its own posts into the core loop with
 * g_main_context_invoke() first.
 *
 * Ownership: everything the core hands a gateway is borrowed for the call (or the callback)
 * unless a group says otherwise; everything a gateway hands the core is copied. */
#ifndef TUTTI_CORE_H
#define TUTTI_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* 3: the calls regrouped by concept (issue 14: leg kinds, text media, the order below).
 * 4: audio_add / audio_remove (audio for a participant that joined for text), and
 *    tt_roster_event.caps_changed.
 * 5: meetings (issue 16): moderate, room_info, room_doors, TT_PS_MOD_MUTED,
 *    TT_PS_NO_RECORD, tt_roster_entry.hand_seq, struct tt_meeting_event.
 * 6: room_home (a room at home on another node of a cluster, issue 18). */
#define TT_CORE_API_VERSION 6

struct tt_core;          /* the core; one per process */
struct tt_gw_handle;     /* the core's record of one registered gateway */
struct tt_participant;   /* opaque, refcounted */
struct tt_conf;
struct tt_ws;            /* one WebSocket connection (core thread; see ws_register) */
struct tt_ice_policy;    /* ICE + DTLS settings shared by a gateway's legs (tutti/ice.h) */
struct tt_text_medium;   /* one shared text medium of a gateway in a room (text_medium_open) */

/* ==== Rooms ====
 * A room is named by a string, created on demand ([rooms] on_demand), by configuration or by
 * the admin API, and owned by the core. A gateway is *present* in a room while it has a
 * participant there, watches it (room_watch) or has a text medium open in it; present
 * gateways get its roster events and text. Core thread. */

/* ==== Participants, their roster and the PIN lobby ====
 * tt_participant is refcounted. participant_join() returns a new reference owned by the
 * gateway; participant_leave() ends it logically (exactly once; roster "left" is sent) and
 * drops that reference. participant_ref/unref are for extra holders (any thread). A
 * participant that has left stays valid memory for every holder until its last unref.
 * Roster entries and events are snapshots by value, borrowed for the callback. */

/* Capabilities a participant has (what it can receive and send). */
enum tt_caps {
	TT_CAP_AUDIO = 1 << 0,
	TT_CAP_TEXT  = 1 << 1,
};

/* State flags of a participant, reported in roster snapshots and events. */
enum tt_pstate {
	TT_PS_MUTED   = 1 << 0,  /* not heard by others */
	TT_PS_DEAF    = 1 << 1,  /* hears nothing */
	TT_PS_HOLD    = 1 << 2,  /* on hold: neither heard nor hearing */
	TT_PS_TALKING = 1 << 3,  /* voice activity (set by the mixer, read-only for gateways) */
	TT_PS_MODERATOR = 1 << 4,  /* may moderate (moderator PIN, IRC operator, MUC role, API) */
	TT_PS_HAND    = 1 << 5,  /* raised hand; tt_roster_entry.hand_seq orders the queue */
	/* Muted by a moderator (always with TT_PS_MUTED). Where the room says self_unmute =
	 * false, participant_set_state(p, TT_PS_MUTED, false) is then -EPERM; a moderator's
	 * unmute clears both. Set and cleared by the core only (moderate). */
	TT_PS_MOD_MUTED = 1 << 6,
	/* Declined the recording (a SIP key, a web button), where the room allows it
	 * (recording_decline): the core keeps p muted while a recording runs and leaves p out
	 * of per-participant tracks. Set by p's gateway with participant_set_state. */
	TT_PS_NO_RECORD = 1 << 7,
};

/* Roster events, delivered to every gateway present in the room. */
enum tt_roster_type {
	TT_ROSTER_JOINED,
	TT_ROSTER_LEFT,
	TT_ROSTER_STATE,      /* state flags changed: see `changed` */
	TT_ROSTER_ROOM_ENDED, /* the room itself ended (after LEFT of everyone) */
};

/* A snapshot of one participant, by value (copied strings live as long as the array or
 * event that holds them). */
struct tt_roster_entry {
	const char *id;        /* unique in the process, stable for the participant's life */
	const char *name;      /* display name, UTF-8 */
	const char *network;   /* "phone", "web", "irc", "rtp", "test" ... */
	const char *gateway;   /* the gateway's name */
	unsigned caps;         /* enum tt_caps */
	unsigned state;        /* enum tt_pstate */
	/* TT_PS_HAND: when the hand went up, as a number that grows per room (the queue is
	 * the raised hands sorted by it); 0 when the hand is down. */
	uint32_t hand_seq;
};

struct tt_roster_event {
	enum tt_roster_type type;
	const char *room;
	struct tt_roster_entry who;   /* empty (id NULL) for TT_ROSTER_ROOM_ENDED */
	unsigned changed;             /* TT_ROSTER_STATE: which enum tt_pstate bits changed */
	int reason;                   /* TT_ROSTER_LEFT: 0 normal, or negative errno */
	/* TT_ROSTER_STATE: which enum tt_caps bits changed (audio_add, audio_remove); `who`
	 * has the caps as they are now. 0 for a change of state flags alone. */
	unsigned caps_changed;
};

/* room_roster calls this once per participant. */
typedef void (*tt_roster_entry_h)(const struct tt_roster_entry *e, void *arg);

/* A join request. Strings are copied by the core. */
struct tt_join {
	const char *room;          /* room name (already mapped from aliases by the gateway) */
	const char *name;          /* display name; sanitised and made unique in the room */
	const char *network;       /* NULL: the gateway's network label */
	unsigned caps;             /* enum tt_caps */
	const char *pin;           /* NULL or the PIN the user gave; checked if the room has one */
	bool pin_checked;          /* the gateway already checked the PIN (e.g. DTMF IVR) */
	void *gw_data;             /* the gateway's own pointer, returned by participant_gw_data */
	/* lobby_join only: if the room does not exist, wait in a hidden lobby where no PIN is
	 * right, so that an outsider cannot tell unknown rooms from PIN rooms. */
	bool decoy;
	/* The shared text medium the participant speaks through (an IRC channel member), or
	 * NULL: its own, point-to-point (a web page, a SIP dialog). It must be open, the same
	 * gateway's and in the same room (-EINVAL otherwise). */
	struct tt_text_medium *medium;
};

/* ==== Meetings: moderation, hands, recording ====
 * A moderator (TT_PS_MODERATOR: joined with the moderator PIN, an IRC channel operator where
 * the IRC gateway says so, a MUC moderator, or made one by the admin API or another
 * moderator) acts on the room through `moderate`; the core checks the right, applies it
 * and tells every present gateway (gateway.h on_meeting) and the operators' event stream,
 * so that every network shows the same meeting. Core thread. */

enum tt_mod_action {
	TT_MOD_NONE = 0,
	TT_MOD_MUTE,          /* target: muted by a moderator (TT_PS_MUTED | TT_PS_MOD_MUTED) */
	TT_MOD_UNMUTE,        /* target: unmuted, or asked to unmute (room unmute = ask; the
			       * event then says TT_MOD_ASK_UNMUTE and only MOD_MUTED goes) */
	TT_MOD_MUTE_ALL,      /* everyone with audio who is not a moderator */
	TT_MOD_KICK,          /* target: hung up by its gateway (hang_up), reason given */
	TT_MOD_LOCK,          /* nobody new may join (moderator PIN holders still may) */
	TT_MOD_UNLOCK,
	TT_MOD_LOWER_HAND,    /* target's hand */
	TT_MOD_RECORD_START,  /* the room's recording; see room_info */
	TT_MOD_RECORD_STOP,
	TT_MOD_END,           /* everyone hung up; the room ends (a configured one empties) */
	TT_MOD_GRANT,         /* target becomes a moderator */
	TT_MOD_REVOKE,        /* target is no longer a moderator */
	TT_MOD_ASK_UNMUTE,    /* only in events: a moderator's unmute in an unmute = ask room */
	TT_MOD_ACTIONS        /* how many; not an action */
};

/* One meeting event (gateway.h on_meeting; the admin event stream), borrowed for the call. */
struct tt_meeting_event {
	const char *room;
	enum tt_mod_action action;
	/* Who did it: a participant's entry, or id NULL and name "admin" (the admin API), or
	 * id NULL and name NULL when the bridge itself did it (a recording stopped because
	 * the disk is full). */
	struct tt_roster_entry by;
	struct tt_roster_entry target;   /* id NULL: none (room actions) */
	/* TT_MOD_RECORD_START / STOP: the recording's id; STOP: why ("stopped by alice",
	 * "disk full: No space left on device"); KICK: the reason given. NULL: none. */
	const char *recording_id;
	const char *reason;
	unsigned count;                  /* TT_MOD_MUTE_ALL: how many were muted */
};

/* What gateways need to know of a room to show it (room_info). Strings borrowed until the
 * next call into the core. */
struct tt_room_info {
	bool locked;
	bool has_pin;                 /* a PIN is needed to join */
	bool has_moderator_pin;
	bool self_unmute;             /* muted by a moderator may unmute themselves */
	bool unmute_asks;             /* a moderator's unmute asks rather than unmutes */
	bool recording;               /* a recording runs now */
	bool recording_decline;       /* participants may decline it (TT_PS_NO_RECORD) */
	const char *recording_id;     /* the running recording's id, or NULL */
	int64_t recording_since_us;   /* wall clock (g_get_real_time) it started, or 0 */
	unsigned hands;               /* hands up now */
};

/* One way into a room from one network (room_doors): "sip:lobby@example.org",
 * "xmpp:lobby@conference.example.org?join", "ircs://irc.example.org/#lobby",
 * "https://bridge.example.org/lobby". Borrowed for the callback. */
struct tt_door {
	const char *network;   /* the gateway's network label: "phone", "xmpp", "irc", "web" */
	const char *label;     /* what to call it: "SIP", "XMPP group chat", "IRC (Libera)" */
	const char *uri;       /* a URI a person can click or copy */
	const char *text;      /* how to say it to a person, e.g. "call lobby at
				* example.org, PIN needed" (NULL: the uri) */
};
typedef void (*tt_door_h)(const struct tt_door *d, void *arg);

/* ==== Text ====
 * The text bus: a line posted by a participant (or a gateway's notice) is validated once and
 * delivered synchronously, before text_post returns, to every text medium and text
 * participant in the room except where it came from; the bus alone decides (gateways keep
 * no relays or sender checks of their own). Messages are borrowed for the callback that
 * hands them over (gateway.h: on_text, on_text_to, on_medium_text). A text medium is owned
 * by the gateway that opened it until text_medium_close. Core thread. */

enum tt_text_flags {
	TT_TEXT_ACTION = 1 << 0,  /* "/me waves" */
	TT_TEXT_NOTICE = 1 << 1,  /* from the bridge itself, not a person */
};

/* A text message on a room's text bus; borrowed for the duration of the callback that
 * hands it over (on_text, on_text_to, on_medium_text). */
struct tt_text {
	const char *room;
	struct tt_roster_entry from;  /* a notice: id "", name "tutti", the gateway's network */
	const char *text;          /* valid UTF-8, NUL-terminated, no NUL inside */
	size_t len;
	unsigned flags;            /* enum tt_text_flags */
	/* Its origin: the gateway, the shared medium within it (NULL: none, as for a web or
	 * SIP participant) and the participant who wrote it (NULL: a notice). The bus has
	 * already used them to keep the line from going back where it came from; they are
	 * here for display and logs. A line from another node of a cluster has no origin
	 * gateway and no sender here (both NULL), the link as its medium, and a from.id of
	 * its own ("NODE:ID", as the roster shows that node's member); a notice has from.id "". */
	const struct tt_gw_handle *origin;
	const struct tt_text_medium *origin_medium;
	const struct tt_participant *sender;
};

/* ==== Audio ====
 * A participant that joined with TT_CAP_AUDIO gets at most one leg (audio_attach), of one
 * kind; it lives on the room's media worker and ends when the participant leaves. The core
 * copies the leg description; results and our trickled candidates come back on the core
 * thread through the callbacks given, borrowed for the call. Calls: core thread. */

/* One of our ICE candidates for p's leg, trickled: an SDP attribute value without "a="
 * ("candidate:1 1 UDP ..."), or NULL when gathering is done. Core thread; borrowed. Runs
 * only while p is alive. */
typedef void (*tt_audio_candidate_h)(void *arg, struct tt_participant *p, const char *cand);

/* The kinds of audio leg: how a participant's audio travels. The room's worker takes each
 * kind's operations from one table (bridge/media/leg_kinds.c): a new kind is a new file
 * there, a new row and a new sub-struct below, not a branch in the media path. */
enum tt_leg_kind {
	TT_LEG_UDP,       /* plain RTP over UDP, optionally SDES-SRTP (SIP, the admin API) */
	TT_LEG_ICE,       /* ICE + DTLS-SRTP (WebRTC) */
	TT_LEG_KINDS      /* how many kinds there are; not a kind */
};

#define TT_AUDIO_KEY_MAX 30

/* TT_LEG_UDP: a UDP socket of the worker (or its shared port) and RTP to a known or
 * latched address; SRTP keys come from signalling (SDES, RFC 4568). */
struct tt_audio_leg_udp {
	struct sockaddr_storage remote;  /* where to send; remote_len 0: learn by latching */
	socklen_t remote_len;
	bool latch;                   /* symmetric RTP: follow the real source once, early */
	int srtp_suite;               /* enum tt_srtp_suite (tutti/srtp.h), or -1: plain RTP */
	uint8_t srtp_remote_key[TT_AUDIO_KEY_MAX];  /* the peer's master key || salt */
};

/* TT_LEG_ICE: an ICE agent on the room's worker; SRTP keys come from the DTLS handshake.
 * The peer's credentials (ufrag, pwd and fingerprint) are either all given or all empty:
 * then audio_ice_credentials (or audio_update) gives them later (a Jingle transport
 * that arrives in pieces), and connectivity checks start once they are known. */
struct tt_audio_leg_ice {
	struct tt_ice_policy *policy; /* borrowed: audio_attach takes its own reference */
	bool controlling;             /* our ICE role: true when we made the offer */
	char ufrag[65];               /* the peer's a=ice-ufrag (4..64 ice-chars), or "" */
	char pwd[257];                /* the peer's a=ice-pwd (22..256), or "" */
	char fingerprint[104];        /* the peer's a=fingerprint: "sha-256 AB:CD:...", or "" */
	bool dtls_active;             /* we are the DTLS client (we answered a=setup:active) */
	tt_audio_candidate_h cand_h;  /* our candidates, trickled on the core thread */
	void *cand_arg;
};

/* An audio leg: what signalling negotiated. Copied by audio_attach(). The fields before the
 * union apply to every kind; `kind` says which member of the union is meant. */
struct tt_audio_leg {
	enum tt_leg_kind kind;
	const char *codec;            /* "opus", "g722", "pcmu", "pcma" */
	uint8_t pt;                   /* payload type we send with and expect */
	unsigned ptime;               /* 10, 20, 40 or 60 ms; 0: 20 */
	unsigned bitrate;             /* Opus bit/s; 0: [media] opus_bitrate */
	bool fec, dtx;                /* Opus in-band FEC, DTX */
	int dtmf_pt;                  /* RFC 4733 telephone-event payload type, -1: none */
	uint8_t audio_level_ext_id;   /* RFC 6464 header extension id, 0: none */
	union {
		struct tt_audio_leg_udp udp;
		struct tt_audio_leg_ice ice;
	};
};

/* What a UDP leg tells signalling: where the peer must send, and the SRTP key we send
 * with (srtp_key_len bytes; 0 for plain RTP). */
struct tt_audio_attached_udp {
	struct sockaddr_storage local;
	socklen_t local_len;
	uint8_t srtp_local_key[TT_AUDIO_KEY_MAX];
	size_t srtp_key_len;
};

/* What an ICE leg tells signalling: our credentials and DTLS fingerprint for the answer
 * (where to send is what our trickled candidates say). */
struct tt_audio_attached_ice {
	char ufrag[65];
	char pwd[257];
	char fingerprint[104];
	bool lite;           /* ICE-lite on the worker's shared port: the answer says a=ice-lite */
};

/* Result of audio_attach() and audio_update(), borrowed for the callback. On success the
 * union member of `kind` (the leg's) is filled; on error only err and kind mean anything. */
struct tt_audio_attached {
	int err;                      /* 0, -EADDRINUSE (no free port), -EINVAL, -ENOSPC ... */
	enum tt_leg_kind kind;
	union {
		struct tt_audio_attached_udp udp;
		struct tt_audio_attached_ice ice;
	};
};

typedef void (*tt_audio_attached_h)(void *arg, struct tt_participant *p,
				    const struct tt_audio_attached *r);

/* Audio given with audio_add ended by itself (its transport ended: ICE consent lost, DTLS
 * refused, no packets): the audio is already removed, p stays in the room with its text.
 * Core thread; p borrowed for the call. reason: a negative errno (-ETIMEDOUT: inactivity). */
typedef void (*tt_audio_ended_h)(void *arg, struct tt_participant *p, int reason);

/* ==== WebSockets ====
 * A gateway serves WebSocket endpoints on the bridge's one HTTP server (ws_register); a
 * struct tt_ws is the core's, valid from ops->open until ops->close returns. Messages sent
 * are copied; messages received are borrowed for the callback. Core thread. */

/* A WebSocket endpoint a gateway serves on the HTTP server (ws_register). Every callback
 * runs on the core thread. */
struct tt_ws_ops {
	/* A client connected. Return 0 and set *connp to the gateway's per-connection state,
	 * or a negative errno to refuse it (the connection is closed). */
	int (*open)(void *arg, struct tt_ws *ws, void **connp);
	/* One complete text message (valid UTF-8, NUL-terminated, borrowed), err 0; or err
	 * -EMSGSIZE (longer than max_message: dropped), -EBUSY (over the rate: dropped),
	 * -EBADMSG (a binary message: dropped) with text NULL. */
	void (*message)(void *conn, struct tt_ws *ws, const char *text, size_t len, int err);
	/* The connection is gone (peer, error, ws_close, shutdown): ws is invalid afterwards. */
	void (*close)(void *conn, struct tt_ws *ws);
	size_t max_message;        /* bytes; 0: 16384 */
	unsigned max_rate;         /* messages per second, bursts of twice that; 0: 20 */
	/* A peer is dropped (1008 "not reading") when a message it was sent has waited longer
	 * than max_stall_ms for the socket to take it, or when more than max_backlog_bytes
	 * wait. Bursts of messages cost nothing else: every writable turn writes what the
	 * socket takes. 0: 1 MiB and 10000 ms. */
	size_t max_backlog_bytes;
	unsigned max_stall_ms;
};
/* ==== Statistics ====
 * No call: the core reads statistics, gateways do not ask for them. A gateway reports its
 * own counters through its descriptor (gateway.h: stat_fields, stats_size, stats), read by
 * the core on the core thread; legs and rooms report from their worker once a second
 * (tutti/stats.h: one struct per kind and the field tables the JSON API renders). */

typedef void (*tt_room_home_h)(void *arg, const char *url);

struct tt_core_api {
	unsigned api_version;      /* TT_CORE_API_VERSION */

	/* ---- the core ---- */
	/* The core of this gateway handle, and the running configuration (borrowed until the
	 * next reload() call). */
	struct tt_core *(*core_of)(struct tt_gw_handle *gw);
	const struct tt_conf *(*conf)(struct tt_core *core);

	/* ---- rooms ---- */
	/* room_check: 0 when `room` may be joined with `pin` (NULL: none given), or
	 * -ENOENT (no such room, and rooms are not created on demand), -EACCES (PIN needed or
	 * wrong), -EBUSY (locked), -EUSERS (full). Gateways facing outsiders must not reveal the
	 * difference between -ENOENT and -EACCES. */
	int (*room_check)(struct tt_core *core, const char *room, const char *pin);
	/* Roster snapshot: calls fn once per participant, synchronously. -ENOENT if no room. */
	int (*room_roster)(struct tt_core *core, const char *room, tt_roster_entry_h fn,
			   void *arg);
	/* Count of participants (all networks). -ENOENT if no room. */
	int (*room_count)(struct tt_core *core, const char *room);
	/* Presence without participants (e.g. a SUBSCRIBE to the roster; an open text medium is
	 * a presence too): the gateway gets the room's roster events, and its on_text the
	 * room's text, while watching. Creates the room if rooms are made on demand. Calls
	 * nest: watch twice, unwatch twice. */
	int (*room_watch)(struct tt_gw_handle *gw, const char *room, bool on);

	/* ---- participants and the PIN lobby ---- */
	/* participant_join: on success *pp is a new reference owned by the caller. Errors as in
	 * room_check, plus -EINVAL (bad name) and -ENOMEM. */
	int (*participant_join)(struct tt_gw_handle *gw, const struct tt_join *req,
				struct tt_participant **pp);
	/* Ends p once (later calls are no-ops), sends roster "left", drops the gateway's
	 * reference. reason: 0 or a negative errno. Returns NULL (assign it to the holder). */
	struct tt_participant *(*participant_leave)(struct tt_participant *p, int reason);
	struct tt_participant *(*participant_ref)(struct tt_participant *p);    /* any thread */
	struct tt_participant *(*participant_unref)(struct tt_participant *p);  /* any thread; NULL */
	/* Accessors: strings borrowed for the participant's life. Any thread. */
	const char *(*participant_id)(const struct tt_participant *p);
	const char *(*participant_name)(const struct tt_participant *p);
	const char *(*participant_room)(const struct tt_participant *p);
	void *(*participant_gw_data)(const struct tt_participant *p);
	unsigned (*participant_state)(const struct tt_participant *p);
	bool (*participant_alive)(const struct tt_participant *p);
	/* Set or clear state bits (TT_PS_MUTED, DEAF, HOLD, HAND, MODERATOR; not TALKING).
	 * Sends a roster TT_ROSTER_STATE event when something changed. */
	int (*participant_set_state)(struct tt_participant *p, unsigned bits, bool on);
	/* Find by id, or by display name (case-insensitive) in a room. New reference or NULL. */
	struct tt_participant *(*participant_find)(struct tt_core *core, const char *room,
						   const char *id_or_name);
	/* Ask the owning gateway to hang p up, without a moderator's check (the gateway's own
	 * reasons); a moderator kicks with moderate(TT_MOD_KICK). */
	int (*participant_kick)(struct tt_participant *p, const char *why);

	/* The lobby, for PIN entry by DTMF: join like participant_join but without the PIN
	 * check, into the room's media only (DTMF arrives; on hold: not heard, hears nothing)
	 * and hidden (no roster entry, events or count). Errors as participant_join, never
	 * -EACCES. The reference and participant_leave work as usual. */
	int (*lobby_join)(struct tt_gw_handle *gw, const struct tt_join *req,
			  struct tt_participant **pp);
	/* Admit p from the lobby with the PIN it gave: 0 (now a normal participant, roster
	 * "joined", moderator when it was the moderator PIN), -EACCES (wrong PIN; still in the
	 * lobby), -EBUSY (locked meanwhile), -EINVAL (not in the lobby), -ENOENT (left). In a
	 * room without a PIN, "" (or NULL) admits and any other PIN than the moderator PIN is
	 * -EACCES. */
	int (*lobby_admit)(struct tt_participant *p, const char *pin);

	/* ---- text (text media: bridge/textbus/textbus.h says why this shape) ---- */
	/* Posts text from p to p's room. 0, or -EILSEQ (not UTF-8 or has control
	 * characters other than tab), -EMSGSIZE (longer than bridge.max_text_bytes), -EINVAL
	 * (empty), -EPERM (p has no TT_CAP_TEXT, or waits in the PIN lobby), -ENOENT (p has
	 * left). Nothing is delivered on error. Delivery (synchronous, before this returns):
	 * to every text medium and text participant in the room except where the line came
	 * from (p's shared medium, or p itself), and once to every present gateway's on_text;
	 * see gateway.h. */
	int (*text_post)(struct tt_participant *p, const char *text, size_t len, unsigned flags);
	/* A notice from a gateway itself (no participant and no medium), e.g. "alice joined by
	 * phone": delivered everywhere in the room, the gateway's own media and participants
	 * included. Errors as text_post, -ENOENT (no such room). */
	int (*text_notice)(struct tt_gw_handle *gw, const char *room, const char *text);

	/* Open a shared text medium of gw in `room`: a place where the gateway's network shows
	 * every line to all its users at once (an IRC channel on one network; later an XMPP
	 * MUC, a link to another bridge). Room text reaches it through the gateway's
	 * on_medium_text(state, data, msg), except the lines that came from it: those of the
	 * participants joined with tt_join.medium = *mp, and its own text_medium_notice. An
	 * open medium makes gw present in the room as room_watch does (the room is created if
	 * rooms are made on demand, and outlives its participants). On success *mp is the
	 * gateway's until text_medium_close. -ENOENT (no such room), -EINVAL, -EOPNOTSUPP
	 * (gw has no on_medium_text). */
	int (*text_medium_open)(struct tt_gw_handle *gw, const char *room, void *data,
				struct tt_text_medium **mp);
	/* Close m: no on_medium_text for it from now on, also within a delivery under way.
	 * Participants joined through it stay (they post as before; nothing goes back to a
	 * closed medium). Ends the presence it gave. Returns NULL (assign it to the holder). */
	struct tt_text_medium *(*text_medium_close)(struct tt_text_medium *m);
	/* A notice about m (e.g. "2 lines for #chan could not be delivered"): like
	 * text_notice, but never handed back to m. Errors as text_notice, -ENOENT (closed). */
	int (*text_medium_notice)(struct tt_text_medium *m, const char *text);

	/* ---- audio ---- */
	/* Attach a leg to a participant that joined with TT_CAP_AUDIO: the room's media
	 * worker opens the transport and the mixer input/output, then `cb` runs on the core
	 * thread with the result (also when p left meanwhile: check participant_alive). Returns
	 * 0 (cb will run) or an error now (-EINVAL: unknown kind, codec or malformed kind
	 * fields; -EPERM no audio cap, -ENOENT). -EALREADY (a leg is attached) comes in cb.
	 * A participant has at most one leg; it ends when the participant leaves. */
	int (*audio_attach)(struct tt_participant *p, const struct tt_audio_leg *leg,
			    tt_audio_attached_h cb, void *arg);

	/* Change p's attached leg as signalling renegotiated it (re-INVITE, UPDATE, the answer
	 * to our own offer). The kind stays the leg's (another kind: -EINVAL in cb).
	 * Every kind: codec, pt, ptime, fec and dtx (when one of them changed, the mixer input
	 * is remade, with bitrate too unless 0), and dtmf_pt.
	 * UDP: the remote address (remote_len 0: keep it) and SRTP (srtp_suite -1: plain RTP
	 * from now; else the peer's new key, ours stays unless SRTP was off before); the local
	 * address never changes.
	 * ICE: the peer's credentials, fingerprint and our DTLS role if the leg was attached
	 * without them (empty: keep; the same again change nothing; others, an ICE restart,
	 * -EALREADY in cb); the policy, our ICE role and the candidate callback stay.
	 * `cb` runs on the core thread as for audio_attach (r as the leg is now). Returns 0 (cb
	 * will run) or -EINVAL, -ENOENT (no leg, or p left). */
	int (*audio_update)(struct tt_participant *p, const struct tt_audio_leg *leg,
			    tt_audio_attached_h cb, void *arg);

	/* A remote ICE candidate for p's ICE leg ("candidate:..." with or without "a="), or
	 * NULL / "" for the end of candidates; posted to the worker (candidates given before
	 * the leg exists wait for it). 0, -EINVAL (not a candidate line), -ENOENT (left),
	 * -EPERM (no audio). Unusable candidates (mDNS, TCP) are dropped silently. */
	int (*audio_ice_candidate)(struct tt_participant *p, const char *cand);
	/* The peer's ICE credentials, DTLS fingerprint and our DTLS role for p's ICE leg
	 * attached without them; posted to the worker, where connectivity checks start (the
	 * candidates given meanwhile are kept). Checked here as audio_attach checks them: 0,
	 * -EINVAL (ufrag 4..64 or pwd 22..256 ice-chars, fingerprint not "sha-256 ..."),
	 * -ENOENT (left), -EPERM (no audio). On the worker, the same values again change
	 * nothing; other values once they are set (an ICE restart) are refused with a warning
	 * in the log, and the leg goes on; a leg of another kind ignores them. */
	int (*audio_ice_credentials)(struct tt_participant *p, const char *ufrag, const char *pwd,
				     const char *fingerprint, bool dtls_active);

	/* Give p, which joined without TT_CAP_AUDIO (an XMPP MUC occupant who then calls the
	 * room), audio from now on: it gets a place in the room's media and TT_CAP_AUDIO, so
	 * audio_attach and the rest work as for a participant that joined with audio, and
	 * every present gateway gets a roster TT_ROSTER_STATE event with caps_changed
	 * TT_CAP_AUDIO (rosters show "audio"). p stays one participant: one name, one roster
	 * entry. `ended` (may be NULL; arg borrowed until it runs or audio_remove) runs instead
	 * of the gateway's hang_up when the leg ends by itself: p keeps its text and stays.
	 * 0, -EINVAL (no p), -ENOENT (left), -EPERM (waits in the PIN lobby), -EALREADY (p
	 * has audio). */
	int (*audio_add)(struct tt_participant *p, tt_audio_ended_h ended, void *arg);
	/* End the audio audio_add gave p (the call ended): its leg closes on the worker, the
	 * TT_CAP_AUDIO bit and TALKING go, with one roster TT_ROSTER_STATE event; p stays.
	 * `ended` is not called. 0, -EINVAL, -ENOENT (left), -EALREADY (no audio), -EPERM (p
	 * joined with audio: it ends by leaving). */
	int (*audio_remove)(struct tt_participant *p);

	/* Play a prompt to p alone: mono int16 PCM at `rate` Hz (copied, resampled to the
	 * room rate), through p's own encoder, heard even in the lobby or on hold; it replaces
	 * a prompt still playing, n == 0 stops. Needs an attached leg. 0, -EINVAL, -ENOENT. */
	int (*audio_play)(struct tt_participant *p, const int16_t *pcm, size_t n, unsigned rate);

	/* ---- meetings (API 5) ---- */
	/* `actor` (a participant of the room with TT_PS_MODERATOR) does `action` in its room,
	 * to `target` for the per-participant actions (MUTE, UNMUTE, KICK, LOWER_HAND, GRANT,
	 * REVOKE; NULL for the others; it must be in the same room). `reason` (may be NULL)
	 * goes with a KICK or a RECORD_STOP. The same action twice changes nothing and is 0.
	 * A participant may LOWER_HAND its own hand without being a moderator.
	 * 0, or -EPERM (actor is not a moderator), -EINVAL (a target missing, not wanted or
	 * in another room; TT_MOD_ASK_UNMUTE or an unknown action), -ENOENT (actor or target
	 * left), -ENOTSUP (recording is not configured: [recording] enabled), -EIO / -ENOSPC
	 * (the recording could not start). On success every present gateway gets on_meeting,
	 * then roster events for the states that changed. */
	int (*moderate)(struct tt_participant *actor, enum tt_mod_action action,
			struct tt_participant *target, const char *reason);
	/* The room as gateways show it. 0, -ENOENT (no such room now). */
	int (*room_info)(struct tt_core *core, const char *room, struct tt_room_info *out);
	/* Every way into `room` that the running gateways offer (gateway.h doors), each
	 * gateway in registration order; fn runs synchronously. Doors are given for a valid
	 * room name even when the room does not exist yet (rooms made on demand). 0, -EINVAL
	 * (not a valid room name). */
	int (*room_doors)(struct tt_core *core, const char *room, tt_door_h fn, void *arg);

	/* ---- a cluster of nodes (API 6) ---- */
	/* Where a browser joining `room` belongs when this node is one of a cluster ([cluster],
	 * docs/scale-out.md). 0: here, now (the room is here, no cluster, or the directory is
	 * unreachable), and fn is never called. 1: the directory was asked; fn runs later,
	 * exactly once, on the core thread, with the URL of the room's page on its home node
	 * (borrowed for the call), or NULL to join here after all. Core thread. */
	int (*room_home)(struct tt_core *core, const char *room, tt_room_home_h fn, void *arg);

	/* ---- WebSockets ---- */
	/* Serve WebSocket connections on `path` ("/ws"), exact match, for gw. ops is borrowed
	 * until unregistered: ops NULL unregisters and closes the endpoint's connections
	 * without calling back. -EEXIST (path taken), -EINVAL, -ENODEV (no HTTP server). */
	int (*ws_register)(struct tt_gw_handle *gw, const char *path, const struct tt_ws_ops *ops,
			   void *arg);
	/* Queue one text message (copied); written when the socket is writable. 0, -EINVAL,
	 * -ESHUTDOWN (closing), -ENOBUFS (over max_backlog_bytes: the connection is closed). */
	int (*ws_send)(struct tt_ws *ws, const char *text, size_t len);
	/* Close after what is queued, with a close code (1000 normal, 1008 policy...): the
	 * socket is no longer read (no more message callbacks), the queue and the kernel's
	 * send buffer are flushed (at most max_stall_ms), then the Close frame goes out. */
	void (*ws_close)(struct tt_ws *ws, unsigned code, const char *reason);
	/* The peer's numeric address, borrowed for the connection's life; "proxied:ADDR" when
	 * the upgrade request came through a reverse proxy (ADDR is then the proxy's). */
	const char *(*ws_peer)(const struct tt_ws *ws);
};

#endif
