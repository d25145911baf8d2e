/* keys.h: the in-call key table of the SIP gateway as a pure state machine (no NUA, no
 * core), so that the table a person reads in docs/sip.md is what unit_sip tests. One
 * struct sip_keys per call, owned by the call; core thread, like every call's state.
 *
 * Every command starts with '*' so that a lone key pressed by accident (dialling a PIN on
 * the same keypad, a bump) does nothing:
 *   *0 help          *1 list (numbered)     *2 hand up/down     *6 mute/unmute self
 *   *9 decline/accept the recording
 *   moderator: *3 lower the next hand   *4 mute all   *5 lock/unlock   *8 record start/stop
 *              *7 N # mute/unmute participant N of the *1 list (*7 # : whoever is talking)
 *              *# then 1: end the meeting (any other key cancels)
 * '*' in the middle of a sequence starts a new command; 'A'-'D' cancel. */
#ifndef TT_SIP_KEYS_H
#define TT_SIP_KEYS_H

#include <stdbool.h>

enum sip_key_cmd {
	SIP_KEY_NONE = 0,    /* nothing yet (or a key that means nothing) */
	SIP_KEY_HELP,        /* *0 */
	SIP_KEY_LIST,        /* *1 */
	SIP_KEY_HAND,        /* *2 */
	SIP_KEY_LOWER_NEXT,  /* *3 */
	SIP_KEY_MUTE_ALL,    /* *4 */
	SIP_KEY_LOCK,        /* *5 */
	SIP_KEY_MUTE_SELF,   /* *6 */
	SIP_KEY_MUTE_ONE,    /* *7 N # : n is N, or 0 for "whoever is talking" */
	SIP_KEY_RECORD,      /* *8 */
	SIP_KEY_DECLINE,     /* *9 */
	SIP_KEY_END_ASK,     /* *# : ask for the confirmation */
	SIP_KEY_END,         /* *# 1 */
	SIP_KEY_BAD_NUMBER,  /* *7 followed by more than SIP_KEYS_MAX_DIGITS digits */
};

#define SIP_KEYS_MAX_DIGITS 3

struct sip_keys {
	enum { SIP_KS_IDLE, SIP_KS_STAR, SIP_KS_NUMBER, SIP_KS_END_CONFIRM } st;
	unsigned n, digits;
};

/* Feeds one key ('0'-'9', '*', '#', 'A'-'D'); returns the command it completes, with its
 * number in *n for SIP_KEY_MUTE_ONE. */
enum sip_key_cmd tt_sip_keys_feed(struct sip_keys *k, char key, unsigned *n);

/* Commands only a moderator may give (the core decides; this says which prompt a refusal
 * gets and which keys *0 reads to whom). */
bool tt_sip_key_is_moderator(enum sip_key_cmd cmd);

#endif
