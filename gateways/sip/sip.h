/* sip.h: the SIP gateway's private state, shared by its files. Core thread only: sofia-sip
 * runs on the core's GLib loop, so every function here runs there. */
#ifndef TT_SIP_PRIV_H
#define TT_SIP_PRIV_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#define SU_ROOT_MAGIC_T struct sipgw
#define NUA_MAGIC_T struct sipgw
#define NUA_HMAGIC_T struct sip_call
#include <sofia-sip/nua.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/su_glib.h>

#include <tutti/gateway.h>

#include "keys.h"
#include "sdp.h"

/* The methods we answer; Allow in 200 to OPTIONS, 405 and 501. */
#define TT_SIP_ALLOW "INVITE, ACK, BYE, CANCEL, OPTIONS, MESSAGE, INFO, UPDATE, SUBSCRIBE"

/* The spoken sentences (prompts.c names their files; scripts/make-sip-prompts.sh says
 * their words). */
enum sip_prompt_id {
	SIP_PROMPT_ENTER_PIN,
	SIP_PROMPT_ENTER_MOD_PIN,   /* a room with only a moderator PIN: '#' alone admits */
	SIP_PROMPT_WRONG_PIN,
	SIP_PROMPT_GOODBYE,
	SIP_PROMPT_WELCOME,
	SIP_PROMPT_HELP,            /* *0: the keys everyone has */
	SIP_PROMPT_HELP_DECLINE,    /* *0 in a room with recording_decline */
	SIP_PROMPT_HELP_MODERATOR,  /* *0 to a moderator */
	SIP_PROMPT_DOORS,           /* "this room can also be reached at" */
	SIP_PROMPT_NOT_MODERATOR,
	SIP_PROMPT_MOD_MUTED,
	SIP_PROMPT_MOD_UNMUTED,
	SIP_PROMPT_ASK_UNMUTE,
	SIP_PROMPT_CANNOT_UNMUTE,
	SIP_PROMPT_MUTED,
	SIP_PROMPT_UNMUTED,
	SIP_PROMPT_HAND_UP,
	SIP_PROMPT_HAND_DOWN,
	SIP_PROMPT_HAND_LOWERED,    /* by a moderator */
	SIP_PROMPT_RECORDING,       /* joined while a recording runs */
	SIP_PROMPT_RECORDING_DECLINE,  /* "to decline, press star nine" */
	SIP_PROMPT_DECLINED,
	SIP_PROMPT_ACCEPTED,
	SIP_PROMPT_NOT_AVAILABLE,
	SIP_PROMPT_NO_SUCH,
	SIP_PROMPT_NO_HANDS,
	SIP_PROMPT_LOCKED,
	SIP_PROMPT_UNLOCKED,
	SIP_PROMPT_ALL_MUTED,
	SIP_PROMPT_RECORDING_STOPPED,
	SIP_PROMPT_END_CONFIRM,
	SIP_PROMPT_MODERATOR_NOW,
	SIP_PROMPT_MODERATOR_NO_MORE,
	SIP_PROMPT_DONE,
	SIP_PROMPT_COUNT,
};

struct sip_prompt {
	int16_t *pcm;
	size_t n;
	unsigned rate;
};

struct sipgw {
	struct tt_gw_handle *h;
	const struct tt_core_api *core;
	const struct tt_conf *conf;
	su_root_t *root;
	nua_t *nua;
	bool shutting_down, shut_down;
	GHashTable *calls;           /* struct sip_call * set (owned) */
	GHashTable *subs;            /* nua_handle_t * -> struct sip_sub * (owned) */
	GHashTable *aliases;         /* number -> room */
	char *default_room;
	struct tt_sip_sdp_policy pol;
	char **codecs;
	bool decoy;                  /* unknown rooms get the PIN lobby that admits nobody */
	unsigned pin_attempts;
	unsigned pin_timeout;        /* seconds to enter the PIN */
	GHashTable *rate;            /* source address text -> struct sip_bucket */
	unsigned rate_per_s, rate_burst;
	uint64_t sess_ids;
	struct auth_mod_t *auth;     /* digest authentication, NULL: off */
	struct sip_prompt prompts[SIP_PROMPT_COUNT];
	GHashTable *words;           /* clip name -> struct sip_prompt * (prompts/words) */
	char *public_host;           /* [sip] public_host, or listen:port (doors) */
	bool symmetric_response;     /* [sip] symmetric_response */
	GPtrArray *guards;           /* struct sip_guard * on sofia's UDP sockets (guard_udp.c) */
	uint64_t guard_answered;     /* requests the guard answered for sofia */
	char *tls_agent;             /* <tls_cert_dir>/agent.pem; NULL: no sips: listener */
	GPtrArray *tls_ctxs;         /* sofia's SSL_CTX *s holding agent.pem (tls.c), ours refs */
	void *tls_loaded;            /* X509 * agent.pem held at start */
	struct sip_stats {           /* requests sofia handed us (GET /api/gateways, /metrics) */
		uint64_t invite, bye, options, message, subscribe, other;
		uint64_t rejected;   /* answered 4xx-6xx at once: malformed, unsupported, 405 */
		uint64_t rate_limited;   /* answered 503: over [sip] rate_per_s from one address */
		uint64_t guard_answered;
		uint64_t resp[6];    /* responses we sent, by class: [0] 1xx .. [5] 6xx */
		uint32_t calls;
	} st;
};

/* Every response the gateway sends goes through sip_respond(gw, nh, STATUS, PHRASE, tags),
 * which counts it by class for /metrics; the ones sofia-sip sends by itself (100 Trying,
 * 200 to BYE and CANCEL, 487 to a cancelled INVITE, 481 outside a dialog) are not seen.
 * The status is the first of the arguments after nh, also when it comes from a SIP_nnn_X
 * macro (which is "nnn, phrase"): the extra macro level splits it. */
void tt__sip_count_response(struct sipgw *gw, int status);
#define TT__SIP_FIRST(...) TT__SIP_FIRST_(__VA_ARGS__, 0)
#define TT__SIP_FIRST_(a, ...) a
#define sip_respond(gw, nh, ...)                                                        \
	do {                                                                            \
		tt__sip_count_response((gw), TT__SIP_FIRST(__VA_ARGS__));                \
		nua_respond((nh), __VA_ARGS__);                                         \
	} while (0)

enum sip_call_state {
	CALL_NEW,        /* INVITE received, leg being attached */
	CALL_ANSWERED,   /* 200 sent */
	CALL_UP,         /* ACK received */
	CALL_ENDED,
};

struct sip_call {
	struct sipgw *gw;
	nua_handle_t *nh;
	struct tt_participant *p;    /* our reference, NULL when left */
	enum sip_call_state state;
	struct tt_sip_media media;   /* what was negotiated */
	struct sockaddr_storage local;
	socklen_t local_len;
	struct tt_sdes_crypto ours;  /* our SDES key (when media.srtp) */
	bool offered;                /* we sent the offer (INVITE had no SDP) */
	bool text;                   /* peer's Allow lists MESSAGE */
	struct sip_keys keys;        /* the in-call key table's state (keys.h) */
	bool answer_pending;         /* a re-INVITE/UPDATE waits for audio_update's result */
	bool lobby;                  /* PIN entry: in the room's lobby until admitted */
	bool mod_lobby;              /* the lobby of a room with only a moderator PIN: '#'
				      * alone or the PIN timeout admit as a participant */
	unsigned pin_tries;
	char pin[17];                /* digits so far */
	guint pin_timer;
	uint64_t sess_id, sess_ver;
	char *room;
};

/* call.c */
void tt__sip_call_invite(struct sipgw *gw, nua_handle_t *nh, struct sip_call *c,
			 const sip_t *sip);
void tt__sip_call_event(struct sipgw *gw, nua_event_t ev, int status, const char *phrase,
			nua_handle_t *nh, struct sip_call *c, const sip_t *sip, tagi_t tags[]);
void tt__sip_call_hang_up(struct sipgw *gw, struct sip_call *c, const char *why);
void tt__sip_call_free(struct sip_call *c);

/* guard_udp.c: watch sofia's UDP sockets on this port and answer what sofia would drop
 * (guard.h). Returns how many sockets are watched. stop: before sofia closes them. */
int tt__sip_guard_start(struct sipgw *gw, unsigned port);
void tt__sip_guard_stop(struct sipgw *gw);

/* tls.c: find the SSL_CTX sofia-sip makes for sips: in nua_create() (begin just before
 * it, end just after, on the core thread), so that a reload can load a new agent.pem into
 * it; reload: 0, or a negative errno when the old certificate stays (logged). */
void tt__sip_tls_capture_begin(struct sipgw *gw);
void tt__sip_tls_capture_end(struct sipgw *gw, const char *cert_dir);
int tt__sip_tls_reload(struct sipgw *gw);
void tt__sip_tls_free(struct sipgw *gw);

/* gw.c: the per-source token bucket ([sip] rate_limit, rate_burst); false: over the limit. */
struct sockaddr;
bool tt__sip_rate_ok(struct sipgw *gw, const struct sockaddr *sa);
const char *tt__sip_room_of(struct sipgw *gw, const url_t *url);

/* nexthop.c: a request that sets a dialog's next hop (INVITE, UPDATE, SUBSCRIBE) whose
 * first Record-Route or Contact is a host name: the handle's in-dialog requests go to the
 * request's source address instead, so sofia-sip never resolves a name we were sent.
 * false: a name and no source address to use (the caller answers 500). */
bool tt__sip_next_hop(struct sipgw *gw, nua_handle_t *nh, const sip_t *sip);

/* dtmf.c */
void tt__sip_dtmf(struct sipgw *gw, struct sip_call *c, char digit);
void tt__sip_on_dtmf(void *state, struct tt_participant *p, char digit);
void tt__sip_pin_start(struct sipgw *gw, struct sip_call *c);
/* A room one may join without a PIN but which has a moderator PIN: callers wait in the
 * lobby to type it. room_check must have said 0 (no PIN needed). */
bool tt__sip_mod_pin_only(struct sipgw *gw, const char *room);
/* The key an INFO request carries, or 0 (answered 415). */
char tt__sip_info_digit(const sip_t *sip);

/* prompts.c */
void tt__sip_prompts_load(struct sipgw *gw, const char *dir);
void tt__sip_prompts_free(struct sipgw *gw);
/* Plays a prompt to the caller; returns its length in ms (0: not played). */
unsigned tt__sip_prompt_play(struct sipgw *gw, struct sip_call *c, enum sip_prompt_id id);
/* The name of a sentence prompt, usable in tt__sip_say's list. */
const char *tt__sip_prompt_name(enum sip_prompt_id id);
/* Says a list of clips (sentence names, word names of speech.h, "," for a pause) as one
 * prompt; returns its length in ms (0: nothing played). */
unsigned tt__sip_say(struct sipgw *gw, struct sip_call *c, GPtrArray *clips);

/* meeting.c: the key table's commands, meeting events and doors */
void tt__sip_key_command(struct sipgw *gw, struct sip_call *c, enum sip_key_cmd cmd,
			 unsigned n);
/* c was admitted into its room (joined with its leg, or past the PIN): what it must hear
 * first (the welcome after a PIN, the recording notice); `welcome` says the former. */
void tt__sip_admitted(struct sipgw *gw, struct sip_call *c, bool welcome);
void tt__sip_on_meeting(void *state, const struct tt_meeting_event *ev);
void tt__sip_doors(void *state, const char *room, tt_door_h fn, void *arg);

/* auth.c */
int tt__sip_auth_open(struct sipgw *gw, const char *users, const char *realm);
void tt__sip_auth_close(struct sipgw *gw);
bool tt__sip_auth_check(struct sipgw *gw, nua_handle_t *nh, const sip_t *sip);

/* roster.c */
void tt__sip_subscribe(struct sipgw *gw, nua_handle_t *nh, const sip_t *sip);
bool tt__sip_sub_event(struct sipgw *gw, nua_event_t ev, int status, nua_handle_t *nh,
		       const sip_t *sip, tagi_t tags[]);
void tt__sip_on_roster(void *state, const struct tt_roster_event *ev);
/* The RFC 4575 conference-info document (state="full") of room's roster: a new string. */
char *tt__sip_conference_xml(struct sipgw *gw, const char *room, const char *entity,
			     unsigned version);
void tt__sip_subs_free(struct sipgw *gw);

/* text.c */
void tt__sip_message(struct sipgw *gw, nua_handle_t *nh, struct sip_call *c,
		     const sip_t *sip);
void tt__sip_on_text_to(void *state, struct tt_participant *p, const struct tt_text *msg);

#endif
