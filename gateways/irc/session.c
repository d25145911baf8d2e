/* session.c: the IRC protocol of one connection: CAP, SASL, registration, nick
 * collisions, PING/PONG and ISUPPORT; the sockets are conn.c's. */
#define TT_LOG_DOMAIN "irc"
#include <string.h>
#include <tutti/errno.h>
#include <tutti/log.h>

#include "conn_priv.h"
#include "nick.h"

/* The capabilities we use when offered; sasl only when configured. */
static const char *const wanted_caps[] = {
	"multi-prefix", "server-time", "message-tags", "echo-message", "away-notify", NULL,
};

static void cap_end(struct tt__irc_conn *c)
{
	tt__irc_conn_send(c, "CAP END");
}

static void caps_store(GHashTable *t, const char *list, bool with_values)
{
	char **v = g_strsplit(list, " ", -1);
	for (char **p = v; *p; p++) {
		if (!**p)
			continue;
		const char *name = *p[0] == '-' ? *p + 1 : *p;
		char *eq = strchr(name, '=');
		char *key = eq ? g_strndup(name, (gsize)(eq - name)) : g_strdup(name);
		if ((*p)[0] == '-') {
			g_hash_table_remove(t, key);
			g_free(key);
		} else {
			g_hash_table_replace(t, key, g_strdup(with_values && eq ? eq + 1 : ""));
		}
	}
	g_strfreev(v);
}

static void caps_request(struct tt__irc_conn *c)
{
	GString *req = g_string_new(NULL);
	for (size_t i = 0; wanted_caps[i]; i++) {
		if (g_hash_table_contains(c->caps_offered, wanted_caps[i]))
			g_string_append_printf(req, "%s%s", req->len ? " " : "", wanted_caps[i]);
	}
	if (c->cfg.sasl != TT_IRC_SASL_NONE) {
		if (g_hash_table_contains(c->caps_offered, "sasl"))
			g_string_append_printf(req, "%ssasl", req->len ? " " : "");
		else
			tt_warn("%s: SASL configured but not offered; continuing without",
				c->cfg.server);
	}
	if (req->len)
		tt__irc_conn_send(c, "CAP REQ :%s", req->str);
	else
		cap_end(c);
	g_string_free(req, TRUE);
}

static void sasl_send_plain(struct tt__irc_conn *c)
{
	const char *user = c->cfg.sasl_user ? c->cfg.sasl_user : c->cfg.nick;
	const char *pass = c->cfg.sasl_password ? c->cfg.sasl_password : "";
	size_t ul = strlen(user), pl = strlen(pass);
	size_t n = ul * 2 + pl + 2;
	char *raw = g_malloc(n);
	memcpy(raw, user, ul);
	raw[ul] = '\0';
	memcpy(raw + ul + 1, user, ul);
	raw[2 * ul + 1] = '\0';
	memcpy(raw + 2 * ul + 2, pass, pl);
	char *b64 = g_base64_encode((const guchar *)raw, n);
	memset(raw, 0, n);
	g_free(raw);
	/* AUTHENTICATE carries at most 400 bytes; a payload of exactly k*400 ends with "+". */
	size_t bl = strlen(b64), off = 0;
	do {
		size_t chunk = MIN(bl - off, (size_t)400);
		tt__irc_conn_send(c, "AUTHENTICATE %.*s", (int)chunk, b64 + off);
		off += chunk;
		if (chunk == 400 && off == bl)
			tt__irc_conn_send(c, "AUTHENTICATE +");
	} while (off < bl);
	memset(b64, 0, bl);
	g_free(b64);
}

static void on_cap(struct tt__irc_conn *c, const struct tt__irc_msg *m)
{
	const char *sub = tt__irc_msg_param(m, 1);
	if (!sub)
		return;
	bool more = m->nparams >= 4 && strcmp(m->params[2], "*") == 0;
	const char *list = m->params[m->nparams - 1];
	if (strcmp(sub, "LS") == 0) {
		caps_store(c->caps_offered, list, true);
		if (!more && c->state == TT_IRC_ST_REGISTERING)
			caps_request(c);
	} else if (strcmp(sub, "ACK") == 0) {
		caps_store(c->caps_on, list, false);
		tt_info("%s: capabilities on: %s", c->cfg.server, list);
		if (c->state != TT_IRC_ST_REGISTERING)
			return;
		if (g_hash_table_contains(c->caps_on, "sasl") && !c->sasl_done)
			tt__irc_conn_send(c, "AUTHENTICATE %s", c->cfg.sasl == TT_IRC_SASL_EXTERNAL
					  ? "EXTERNAL" : "PLAIN");
		else
			cap_end(c);
	} else if (strcmp(sub, "NAK") == 0) {
		tt_warn("%s: capabilities refused: %s", c->cfg.server, list);
		if (c->state == TT_IRC_ST_REGISTERING)
			cap_end(c);
	} else if (strcmp(sub, "NEW") == 0) {
		caps_store(c->caps_offered, list, true);
	} else if (strcmp(sub, "DEL") == 0) {
		char **v = g_strsplit(list, " ", -1);
		for (char **p = v; *p; p++) {
			g_hash_table_remove(c->caps_offered, *p);
			g_hash_table_remove(c->caps_on, *p);
		}
		g_strfreev(v);
	}
}

static void on_authenticate(struct tt__irc_conn *c, const struct tt__irc_msg *m)
{
	const char *p = tt__irc_msg_param(m, 0);
	if (!p || strcmp(p, "+") != 0)
		return;
	if (c->cfg.sasl == TT_IRC_SASL_EXTERNAL)
		tt__irc_conn_send(c, "AUTHENTICATE +");
	else
		sasl_send_plain(c);
}

static void try_next_nick(struct tt__irc_conn *c, bool erroneous)
{
	c->nick_attempt++;
	size_t maxlen = 9;  /* RFC 2812; 005 is not sent before 001 */
	const char *base = erroneous ? "tutti" : c->cfg.nick;
	char *n = tt__irc_nick_unique(base, MAX(maxlen, strlen(base)), c->nick_attempt,
				      NULL, NULL);
	if (!n) {
		tt__irc_conn_drop(c, -EADDRINUSE);
		return;
	}
	tt_info("%s: nick %s taken, trying %s", c->cfg.server, c->nick, n);
	g_free(c->nick);
	c->nick = n;
	tt__irc_conn_send(c, "NICK %s", c->nick);
}

static void on_isupport(struct tt__irc_conn *c, const struct tt__irc_msg *m)
{
	/* params: me tok tok ... :are supported by this server */
	for (size_t i = 1; i + 1 < m->nparams; i++) {
		const char *t = m->params[i];
		const char *eq = strchr(t, '=');
		if (t[0] == '-')
			g_hash_table_remove(c->isupport, t + 1);
		else
			g_hash_table_replace(c->isupport,
					     eq ? g_strndup(t, (gsize)(eq - t)) : g_strdup(t),
					     g_strdup(eq ? eq + 1 : ""));
	}
}

static void registered(struct tt__irc_conn *c, const struct tt__irc_msg *m)
{
	const char *me = tt__irc_msg_param(m, 0);
	if (me && tt__irc_nick_valid(me, 64)) {
		g_free(c->nick);
		c->nick = g_strdup(me);
	}
	c->state = TT_IRC_ST_REGISTERED;
	c->attempt = 0;
	c->regain_us = g_get_monotonic_time();
	g_clear_handle_id(&c->deadline_timer, g_source_remove);  /* registered in time */
	tt_info_kv(TT_KV("event", "irc_registered", "server", c->cfg.server, "nick", c->nick),
		   "%s: registered as %s", c->cfg.server, c->nick);
	if (c->ops->registered)
		c->ops->registered(c, c->arg);
	tt__irc_sendq_resume(c);  /* behind the owner's JOINs */
}

static void note_own_host(struct tt__irc_conn *c, const struct tt__irc_msg *m)
{
	if (m->user && m->host && tt__irc_nick_eq(m->nick, c->nick)) {
		g_free(c->userhost);
		c->userhost = g_strdup_printf("%s@%s", m->user, m->host);
	}
}

bool tt__irc_session_handle(struct tt__irc_conn *c, const struct tt__irc_msg *m)
{
	const char *cmd = m->command;
	int64_t now = g_get_monotonic_time();
	c->last_rx_us = now;
	if (strcmp(cmd, "PING") == 0) {
		/* Not behind the bucket: a queued PONG could get us timed out. */
		char *line = g_strdup_printf("PONG :%s", m->nparams ? m->params[0] : "");
		if (tt__irc_conn_check_line(line) == 0)
			tt__irc_conn_write_now(c, line);
		g_free(line);
		return true;
	}
	if (strcmp(cmd, "PONG") == 0) {
		if (tt__irc_sendq_pong(c, m->nparams ? m->params[m->nparams - 1] : NULL))
			return true;
		if (c->ping_sent_us) {
			c->lag_ms = (now - c->ping_sent_us) / 1000;
			c->ping_sent_us = 0;
			tt_debug("%s: lag %lld ms", c->cfg.server, (long long)c->lag_ms);
		}
		return true;
	}
	if (strcmp(cmd, "ERROR") == 0) {
		/* The server's last word before it closes: "Closing link: ... [RecvQ exceeded]"
		 * is what the operator needs to see, not only "connection lost". */
		tt_warn("%s: the server closes the link: %s", c->cfg.server,
			m->nparams ? m->params[m->nparams - 1] : "(no reason)");
		return true;
	}
	if (strcmp(cmd, "CAP") == 0) {
		on_cap(c, m);
		return true;
	}
	if (strcmp(cmd, "AUTHENTICATE") == 0) {
		on_authenticate(c, m);
		return true;
	}
	if (strcmp(cmd, "903") == 0 || strcmp(cmd, "907") == 0) {
		c->sasl_done = true;
		tt_info("%s: SASL authentication succeeded", c->cfg.server);
		if (c->state == TT_IRC_ST_REGISTERING)
			cap_end(c);
		return true;
	}
	if (strcmp(cmd, "902") == 0 || strcmp(cmd, "904") == 0 || strcmp(cmd, "905") == 0 ||
	    strcmp(cmd, "906") == 0 || strcmp(cmd, "908") == 0) {
		/* Going on unauthenticated could expose a nick we do not own: drop and retry
		 * with backoff (the operator sees the error in the log). */
		tt_error("%s: SASL failed: %s", c->cfg.server,
			 m->nparams ? m->params[m->nparams - 1] : cmd);
		tt__irc_conn_drop(c, -EACCES);
		return true;
	}
	if (strcmp(cmd, "900") == 0 || strcmp(cmd, "901") == 0)
		return true;
	if (c->state == TT_IRC_ST_REGISTERING) {
		if (strcmp(cmd, "433") == 0 || strcmp(cmd, "436") == 0) {
			try_next_nick(c, false);
			return true;
		}
		if (strcmp(cmd, "432") == 0) {
			try_next_nick(c, true);
			return true;
		}
		if (strcmp(cmd, "421") == 0 && m->nparams > 1 && strcmp(m->params[1], "CAP") == 0)
			return true;  /* a server without CAP: registration simply goes on */
		if (strcmp(cmd, "001") == 0) {
			registered(c, m);
			return false;
		}
	}
	if (strcmp(cmd, "005") == 0)
		on_isupport(c, m);
	else if (strcmp(cmd, "396") == 0 && m->nparams > 1 && c->userhost) {
		char *at = strchr(c->userhost, '@');
		char *nu = g_strdup_printf("%.*s@%s", (int)(at - c->userhost), c->userhost,
					   m->params[1]);
		g_free(c->userhost);
		c->userhost = nu;
	} else if (strcmp(cmd, "JOIN") == 0 && m->nick)
		note_own_host(c, m);
	else if (strcmp(cmd, "NICK") == 0 && m->nick && m->nparams &&
		 tt__irc_nick_eq(m->nick, c->nick)) {
		g_free(c->nick);
		c->nick = g_strdup(m->params[0]);
	}
	return false;
}

void tt__irc_session_begin(struct tt__irc_conn *c)
{
	c->nick_attempt = 0;
	c->sasl_done = false;
	g_hash_table_remove_all(c->caps_offered);
	g_hash_table_remove_all(c->caps_on);
	g_hash_table_remove_all(c->isupport);
	g_free(c->nick);
	c->nick = g_strdup(c->cfg.nick);
	/* CAP LS first: a server that knows CAP holds registration until CAP END */
	tt__irc_conn_send(c, "CAP LS 302");
	tt__irc_conn_send(c, "NICK %s", c->nick);
	tt__irc_conn_send(c, "USER %s 0 * :%s", c->cfg.username, c->cfg.realname);
}
