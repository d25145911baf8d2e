/* muc.c: PLACEHOLDER until the MUC service lands: serves nothing. */
#include "xmpp_priv.h"

int xg_muc_new(struct xg_gw *gw)
{
	(void)gw;
	return 0;
}
void xg_muc_free(struct xg_gw *gw) { (void)gw; }
bool xg_muc_stanza(struct xg_gw *gw, xmpp_stanza_t *st)
{
	(void)gw;
	(void)st;
	return false;
}
void xg_muc_link(struct xg_gw *gw, bool up) { (void)gw; (void)up; }
void xg_muc_stop(struct xg_gw *gw) { (void)gw; }
void xg_muc_roster(struct xg_gw *gw, const struct tt_roster_event *ev) { (void)gw; (void)ev; }
void xg_muc_medium_text(struct xg_gw *gw, void *medium_data, const struct tt_text *msg)
{
	(void)gw;
	(void)medium_data;
	(void)msg;
}
void xg_muc_hang_up(struct xg_gw *gw, struct tt_participant *p, const char *why)
{
	(void)why;
	gw->api->participant_leave(p, 0);
}
struct tt_participant *xg_muc_occupant_by_jid(struct xg_gw *gw, const char *room,
					      const char *real_jid)
{
	(void)gw;
	(void)room;
	(void)real_jid;
	return NULL;
}
