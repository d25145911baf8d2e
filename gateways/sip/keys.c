/* keys.c: the in-call key table (keys.h says the table and why every command starts with
 * '*'). Pure: no NUA, no core. */
#include "keys.h"

#include <string.h>

static enum sip_key_cmd star_key(struct sip_keys *k, char key)
{
	static const enum sip_key_cmd direct[10] = {
		SIP_KEY_HELP, SIP_KEY_LIST, SIP_KEY_HAND, SIP_KEY_LOWER_NEXT, SIP_KEY_MUTE_ALL,
		SIP_KEY_LOCK, SIP_KEY_MUTE_SELF, SIP_KEY_NONE, SIP_KEY_RECORD, SIP_KEY_DECLINE,
	};
	k->st = SIP_KS_IDLE;
	if (key == '*') {
		k->st = SIP_KS_STAR;
		return SIP_KEY_NONE;
	}
	if (key == '7') {
		k->st = SIP_KS_NUMBER;
		k->n = k->digits = 0;
		return SIP_KEY_NONE;
	}
	if (key == '#') {
		k->st = SIP_KS_END_CONFIRM;
		return SIP_KEY_END_ASK;
	}
	if (key >= '0' && key <= '9')
		return direct[key - '0'];
	return SIP_KEY_NONE;
}

enum sip_key_cmd tt_sip_keys_feed(struct sip_keys *k, char key, unsigned *n)
{
	switch (k->st) {
	case SIP_KS_IDLE:
		if (key == '*')
			k->st = SIP_KS_STAR;
		return SIP_KEY_NONE;
	case SIP_KS_STAR:
		return star_key(k, key);
	case SIP_KS_NUMBER:
		if (key >= '0' && key <= '9') {
			if (++k->digits > SIP_KEYS_MAX_DIGITS) {
				k->st = SIP_KS_IDLE;
				return SIP_KEY_BAD_NUMBER;
			}
			k->n = k->n * 10 + (unsigned)(key - '0');
			return SIP_KEY_NONE;
		}
		k->st = key == '*' ? SIP_KS_STAR : SIP_KS_IDLE;
		if (key != '#')
			return SIP_KEY_NONE;
		if (n)
			*n = k->n;
		return SIP_KEY_MUTE_ONE;
	case SIP_KS_END_CONFIRM:
		k->st = key == '*' ? SIP_KS_STAR : SIP_KS_IDLE;
		return key == '1' ? SIP_KEY_END : SIP_KEY_NONE;
	}
	k->st = SIP_KS_IDLE;
	return SIP_KEY_NONE;
}

bool tt_sip_key_is_moderator(enum sip_key_cmd cmd)
{
	switch (cmd) {
	case SIP_KEY_LOWER_NEXT:
	case SIP_KEY_MUTE_ALL:
	case SIP_KEY_LOCK:
	case SIP_KEY_MUTE_ONE:
	case SIP_KEY_RECORD:
	case SIP_KEY_END_ASK:
	case SIP_KEY_END:
	case SIP_KEY_BAD_NUMBER:
		return true;
	default:
		return false;
	}
}
