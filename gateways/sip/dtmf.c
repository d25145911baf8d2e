/* dtmf.c: keys a caller presses (RFC 4733 from the media layer, or SIP INFO): "*6" mutes
 * or unmutes oneself, "*2" raises or lowers the hand, "*1" sends the participant count as
 * a MESSAGE when the phone takes MESSAGE. A two-key sequence because a lone key is easy to
 * press by accident while dialling a PIN on the same keypad. */
#define TT_LOG_DOMAIN "sip"
#include "sip.h"

#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>

#include <tutti/log.h>

static void toggle(struct sipgw *gw, struct sip_call *c, unsigned bit)
{
	bool on = !(gw->core->participant_state(c->p) & bit);
	gw->core->participant_set_state(c->p, bit, on);
}

void tt__sip_dtmf(struct sipgw *gw, struct sip_call *c, char digit)
{
	if (!c->p)
		return;
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
