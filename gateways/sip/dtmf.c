/* dtmf.c: keys a caller presses (RFC 4733 from the media layer, or SIP INFO). In a PIN
 * room the caller waits in the lobby and types the PIN then '#' ('*' starts again); after
 * [sip] pin_attempts wrong PINs, or pin_timeout seconds, the call is hung up. A wrong PIN
 * and a room that is not there get the same treatment from outside. Then: "*6" mutes
 * or unmutes oneself, "*2" raises or lowers the hand, "*1" sends the participant count as
 * a MESSAGE when the phone takes MESSAGE. A two-key sequence because a lone key is easy to
 * press by accident while dialling a PIN on the same keypad. */
#define TT_LOG_DOMAIN "sip"
#include "sip.h"

#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>

#include <string.h>

#include <tutti/errno.h>
#include <tutti/log.h>

static void toggle(struct sipgw *gw, struct sip_call *c, unsigned bit)
{
	bool on = !(gw->core->participant_state(c->p) & bit);
	gw->core->participant_set_state(c->p, bit, on);
}

static gboolean pin_expired(gpointer data)
{
	struct sip_call *c = data;
	c->pin_timer = 0;
	tt__sip_call_hang_up(c->gw, c, "no PIN entered in time");
	return G_SOURCE_REMOVE;
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
	int rc = gw->core->lobby_admit(c->p, c->pin);
	memset(c->pin, 0, sizeof c->pin);   /* never keep a secret longer than needed */
	if (rc == 0) {
		c->lobby = false;
		if (c->pin_timer)
			g_source_remove(c->pin_timer);
		c->pin_timer = 0;
		tt_info("%s entered the right PIN", gw->core->participant_id(c->p));
		return;
	}
	c->pin_tries++;
	tt_info("%s: wrong PIN (%u of %u)", gw->core->participant_id(c->p), c->pin_tries,
		gw->pin_attempts);
	if (rc != -EACCES || c->pin_tries >= gw->pin_attempts)
		tt__sip_call_hang_up(gw, c, "wrong PIN");
}

void tt__sip_dtmf(struct sipgw *gw, struct sip_call *c, char digit)
{
	if (!c->p)
		return;
	if (c->lobby) {
		pin_key(gw, c, digit);
		return;
	}
	if (!c->star) {
		c->star = digit == '*';
		return;
	}
	c->star = false;
	switch (digit) {
	case '6':
		toggle(gw, c, TT_PS_MUTED);
		break;
	case '2':
		toggle(gw, c, TT_PS_HAND);
		break;
	case '1':
		if (c->text && c->state == CALL_UP) {
			int n = gw->core->room_count(gw->core->core_of(gw->h), c->room);
			char *s = g_strdup_printf("%d participant%s in %s", n, n == 1 ? "" : "s",
						  c->room);
			nua_message(c->nh, SIPTAG_CONTENT_TYPE_STR("text/plain;charset=UTF-8"),
				    SIPTAG_PAYLOAD_STR(s), TAG_END());
			g_free(s);
		}
		break;
	case '*':
		c->star = true;
		break;
	default:
		break;
	}
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
