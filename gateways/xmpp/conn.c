/* conn.c: PLACEHOLDER until the component stream lands: never connects. */
#define TT_LOG_DOMAIN "xmpp"
#include <tutti/log.h>

#include "xmpp_priv.h"

struct xg_conn {
	struct xg_gw *gw;
	char *domain;
};

struct xg_conn *xg_conn_new(struct xg_gw *gw, const char *domain, const char *secret)
{
	(void)secret;
	struct xg_conn *c = g_new0(struct xg_conn, 1);
	c->gw = gw;
	c->domain = g_strdup(domain);
	tt_warn("%s: the component stream is not built yet", domain);
	return c;
}

void xg_conn_free(struct xg_conn *c)
{
	g_free(c->domain);
	g_free(c);
}

bool xg_conn_online(const struct xg_conn *c)
{
	(void)c;
	return false;
}

void xg_conn_route(struct xg_gw *gw, xmpp_stanza_t *st)
{
	(void)gw;
	(void)st;
}

void xg_conn_flush(struct xg_conn *c)
{
	(void)c;
}
