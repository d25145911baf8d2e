/* dtmf.c: keys a caller presses (RFC 4733 from the media layer, or SIP INFO). In a PIN
 * room the caller waits in the lobby and types the PIN then '#' ('*' starts again); after
 * [sip] pin_attempts wrong PINs, or pin_timeout seconds, the call is hung up. A wrong PIN
 * and a room that is not there get the same treatment from outside. A room without a PIN
 * but with a moderator PIN has a lobby too, the only way a phone can give that PIN: there
 * '#' alone, or no key until pin_timeout, admits as a participant, while a wrong PIN is
 * a wrong try as anywhere (such a room is open to all, so its own prompt reveals
 * nothing). Then the in-call key table (keys.h), whose commands meeting.c carries out. */
#define TT_LOG_DOMAIN "sip"
#include "sip.h"

#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>

#include <string.h>

#include <tutti/errno.h>
#include <tutti/log.h>

static gboolean pin_goodbye(gpointer data)
{
	struct sip_call *c = data;
	c->pin_timer = 0;
	tt__sip_call_hang_up(c->gw, c, "wrong PIN");
	return G_SOURCE_REMOVE;
}

static void pin_admitted(struct sipgw *gw, struct sip_call *c)
{
	c->lobby = false;
	c->mod_lobby = false;
	if (c->pin_timer)
		g_source_remove(c->pin_timer);
	c->pin_timer = 0;
	tt__sip_admitted(gw, c, true);
}

static gboolean pin_expired(gpointer data)
{
	struct sip_call *c = data;
	c->pin_timer = 0;
	if (c->mod_lobby && c->p) {
		int rc = c->gw->core->lobby_admit(c->p, "");
		if (rc == 0) {
			tt_info("%s gave no moderator PIN: admitted as a participant",
				c->gw->core->participant_id(c->p));
			pin_admitted(c->gw, c);
			return G_SOURCE_REMOVE;
		}
		tt_info("%s: not admitted after the PIN timeout: %s",
			c->gw->core->participant_id(c->p), tt_strerror(rc));
	}
	tt__sip_call_hang_up(c->gw, c, "no PIN entered in time");
	return G_SOURCE_REMOVE;
}

bool tt__sip_mod_pin_only(struct sipgw *gw, const char *room)
{
	const struct tt_core_api *core = gw->core;
	struct tt_core *tc = core->core_of(gw->h);
	struct tt_room_info info;
	if (core->room_info(tc, room, &info) == 0)
		return info.has_moderator_pin && !info.has_pin;
	/* not made yet: a configured room is made from its section on the first join */
	const struct tt_conf *conf = core->conf(tc);
	for (const char *const *r = tt_conf_instances(conf, "room"); *r; r++) {
		if (strcmp(*r, room))
			continue;
		char *sec = g_strconcat("room.", room, NULL);
		bool only = tt_conf_is_set(conf, sec, "moderator_pin") &&
			    !tt_conf_is_set(conf, sec, "pin");
		g_free(sec);
		return only;
	}
	return false;
}

void tt__sip_pin_start(struct sipgw *gw, struct sip_call *c)
{
	c->pin[0] = 0;
	c->pin_tries = 0;
	if (c->pin_timer)
		g_source_remove(c->pin_timer);
	c->pin_timer = g_timeout_add_seconds(gw->pin_timeout, pin_expired, c);
}

static void pin_key(struct sipgw *gw, struct sip_call *c, char digit)
{
	size_t n = strlen(c->pin);
	if (c->pin_tries >= gw->pin_attempts)
		return;   /* saying goodbye */
	if (digit == '*') {
		c->pin[0] = 0;
		return;
	}
	if (digit != '#') {
		if (n + 1 < sizeof c->pin && digit >= '0' && digit <= '9') {
			c->pin[n] = digit;
			c->pin[n + 1] = 0;
		}
		return;
	}
	bool none = !c->pin[0];
	int rc = gw->core->lobby_admit(c->p, c->pin);
	memset(c->pin, 0, sizeof c->pin);   /* never keep a secret longer than needed */
	if (rc == 0) {
		tt_info("%s admitted from the PIN lobby%s", gw->core->participant_id(c->p),
			none ? " without a PIN" : " with the right PIN");
		pin_admitted(gw, c);
		return;
	}
	c->pin_tries++;
	tt_info("%s: wrong PIN (%u of %u)", gw->core->participant_id(c->p), c->pin_tries,
		gw->pin_attempts);
	if (rc != -EACCES || c->pin_tries >= gw->pin_attempts) {
		/* say goodbye first: hang up when the prompt has been heard */
		unsigned ms = tt__sip_prompt_play(gw, c, SIP_PROMPT_GOODBYE);
		if (c->pin_timer)
			g_source_remove(c->pin_timer);
		c->pin_timer = 0;
		if (ms) {
			c->pin_tries = gw->pin_attempts;   /* no more PIN entry meanwhile */
			c->pin_timer = g_timeout_add(ms + 300, pin_goodbye, c);
		} else {
			tt__sip_call_hang_up(gw, c, "wrong PIN");
		}
		return;
	}
	tt__sip_prompt_play(gw, c, SIP_PROMPT_WRONG_PIN);
}

void tt__sip_dtmf(struct sipgw *gw, struct sip_call *c, char digit)
{
	if (!c->p)
		return;
	if (c->lobby) {
		pin_key(gw, c, digit);
		return;
	}
	unsigned n = 0;
	enum sip_key_cmd cmd = tt_sip_keys_feed(&c->keys, digit, &n);
	if (cmd != SIP_KEY_NONE)
		tt__sip_key_command(gw, c, cmd, n);
}

/* The key in an INFO body (application/dtmf: the key; application/dtmf-relay: "Signal=5"),
 * or 0 when there is none. */
char tt__sip_info_digit(const sip_t *sip)
{
	if (!sip->sip_payload || sip->sip_payload->pl_len == 0)
		return 0;
	const char *b = sip->sip_payload->pl_data;
	size_t n = sip->sip_payload->pl_len;
	const char *ct = sip->sip_content_type ? sip->sip_content_type->c_type : "";
	if (!g_ascii_strcasecmp(ct, "application/dtmf") && n >= 1)
		return strchr("0123456789*#ABCD", b[0]) ? b[0] : 0;
	/* application/dtmf-relay: "Signal=5\r\nDuration=160"; '*' and '#' as themselves or,
	 * like Asterisk and FreeSWITCH read them, as their RFC 4733 event codes 10 and 11 */
	for (size_t i = 0; i + 7 < n; i++) {
		if (g_ascii_strncasecmp(b + i, "signal=", 7))
			continue;
		size_t k = i + 7;
		while (k < n && b[k] == ' ')
			k++;
		if (k + 1 < n && g_ascii_isdigit(b[k]) && g_ascii_isdigit(b[k + 1])) {
			int ev = (b[k] - '0') * 10 + (b[k + 1] - '0');
			bool more = k + 2 < n && g_ascii_isdigit(b[k + 2]);
			return !more && ev < 16 ? "0123456789*#ABCD"[ev] : 0;
		}
		if (k < n && b[k] && strchr("0123456789*#ABCDabcd", b[k]))
			return g_ascii_toupper(b[k]);
		return 0;
	}
	return 0;
}

void tt__sip_on_dtmf(void *state, struct tt_participant *p, char digit)
{
	struct sipgw *gw = state;
	if (!gw->core->participant_alive(p))
		return;
	struct sip_call *c = gw->core->participant_gw_data(p);
	if (c && g_hash_table_contains(gw->calls, c))
		tt__sip_dtmf(gw, c, digit);
}
