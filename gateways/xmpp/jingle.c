/* jingle.c: PLACEHOLDER until calls land: answers nothing. */
#include "xmpp_priv.h"

int xg_jingle_new(struct xg_gw *gw)
{
	(void)gw;
	return 0;
}
void xg_jingle_free(struct xg_gw *gw) { (void)gw; }
bool xg_jingle_stanza(struct xg_gw *gw, xmpp_stanza_t *st)
{
	(void)gw;
	(void)st;
	return false;
}
void xg_jingle_link(struct xg_gw *gw, bool up) { (void)gw; (void)up; }
void xg_jingle_stop(struct xg_gw *gw) { (void)gw; }
void xg_jingle_hang_up(struct xg_gw *gw, struct tt_participant *p, const char *why)
{
	(void)why;
	gw->api->participant_leave(p, 0);
}
