/* conn.c: one IRC client connection's state machine, on GIO and GLib timers. */
#define TT_LOG_DOMAIN "irc"
#include "conn.h"

#include <gio/gio.h>
#include <stdarg.h>
#include <string.h>
#include <tutti/errno.h>
#include <tutti/log.h>

#include "flood.h"
#include "nick.h"

/* Tags allowed, 512 body: a read buffer of this size always holds one whole line. */
#define RBUF_SIZE (TT_IRC_TAGS_MAX + TT_IRC_LINE_MAX + 1)
#define QUIT_GRACE_MS 2000

enum conn_state {
	ST_IDLE,         /* not started, or waiting for the reconnect timer */
	ST_CONNECTING,   /* TCP connect and TLS handshake */
	ST_REGISTERING,  /* CAP / SASL / NICK / USER until 001 */
	ST_REGISTERED,
	ST_QUITTING,     /* QUIT sent, waiting for the server to close */
	ST_ENDED,
};

/* One attempt's I/O. Async callbacks hold a reference to their link, not to the conn:
 * when the conn drops the link (link->conn = NULL) late callbacks find it orphaned and
 * only release it, so a conn may be freed with operations still in flight. */
struct link {
	gint ref;
	struct tt__irc_conn *conn;
	GCancellable *cancel;
	GSocketConnection *sock;
	GIOStream *io;            /* sock, or the GTlsClientConnection wrapping it */
	char rbuf[RBUF_SIZE];
	size_t rlen;
	GString *wpending;        /* lines waiting for the in-flight write to finish */
	GString *winflight;       /* buffer of the write in flight, NULL when none */
};

struct tt__irc_conn {
	struct tt__irc_conn_cfg cfg;   /* strings owned (copied) */
	const struct tt__irc_conn_ops *ops;
	void *arg;
	enum conn_state state;
	struct link *link;
	unsigned attempt;              /* failures since the last registration */
	unsigned nick_attempt;         /* 433s during this registration */
	char *nick;                    /* current (after 001) or being tried */
	char *userhost;                /* "user@host" as the server shows us, or NULL */
	GHashTable *caps_offered;      /* name -> value ("" when none) */
	GHashTable *caps_on;           /* name -> name */
	GHashTable *isupport;          /* token -> value */
	bool sasl_done;
	GQueue queue;                  /* char *lines behind the flood bucket */
	struct tt__irc_flood flood;
	guint flood_timer;
	guint reconnect_timer;
	guint ping_timer;
	guint deadline_timer;          /* registration or quit deadline */
	int64_t last_rx_us;
	int64_t ping_sent_us;          /* 0: no lag probe outstanding */
	int64_t lag_ms;
	bool warned_noverify;
};

static void link_close(struct tt__irc_conn *c);
static void conn_drop(struct tt__irc_conn *c, int err);
static void start_read(struct link *l);
static void flush_queue(struct tt__irc_conn *c);

static struct link *link_ref(struct link *l)
{
	g_atomic_int_inc(&l->ref);
	return l;
}

static void link_unref(struct link *l)
{
	if (!l || !g_atomic_int_dec_and_test(&l->ref))
		return;
	g_clear_object(&l->io);
	g_clear_object(&l->sock);
	g_clear_object(&l->cancel);
	if (l->wpending)
		g_string_free(l->wpending, TRUE);
	if (l->winflight)
		g_string_free(l->winflight, TRUE);
	g_free(l);
}

/* GError -> negative errno, at the boundary (style: one helper per library). */
static int gerror_to_errno(const GError *e)
{
	if (!e)
		return -EIO;
	if (e->domain == G_TLS_ERROR)
		return -EPROTO;
	if (e->domain != G_IO_ERROR)
		return -EIO;
	switch (e->code) {
	case G_IO_ERROR_TIMED_OUT: return -ETIMEDOUT;
	case G_IO_ERROR_CONNECTION_REFUSED: return -ECONNREFUSED;
	case G_IO_ERROR_HOST_NOT_FOUND: return -EHOSTUNREACH;
	case G_IO_ERROR_NETWORK_UNREACHABLE: return -ENETUNREACH;
	case G_IO_ERROR_CANCELLED: return -ECANCELED;
	case G_IO_ERROR_BROKEN_PIPE: return -EPIPE;
	default: return -EIO;
	}
}

static void clear_source(guint *id)
{
	if (*id) {
		g_source_remove(*id);
		*id = 0;
	}
}

/* ---- writing ---- */

static void on_written(GObject *src, GAsyncResult *res, gpointer data)
{
	struct link *l = data;
	GError *err = NULL;
	g_output_stream_write_all_finish(G_OUTPUT_STREAM(src), res, NULL, &err);
	struct tt__irc_conn *c = l->conn;
	if (c && err) {
		tt_warn("%s: write: %s", c->cfg.server, err->message);
		conn_drop(c, gerror_to_errno(err));
	} else if (c) {
		g_string_free(l->winflight, TRUE);
		l->winflight = NULL;
		if (l->wpending->len) {
			l->winflight = l->wpending;
			l->wpending = g_string_new(NULL);
			GOutputStream *out = g_io_stream_get_output_stream(l->io);
			g_output_stream_write_all_async(out, l->winflight->str, l->winflight->len,
							G_PRIORITY_DEFAULT, l->cancel, on_written,
							link_ref(l));
		}
	}
	g_clear_error(&err);
	link_unref(l);
}

/* Straight to the socket, bypassing the flood bucket (PONG, QUIT, flushed queue lines). */
static void write_line(struct tt__irc_conn *c, const char *line)
{
	struct link *l = c->link;
	if (!l || !l->io)
		return;
	tt_debug("%s -> %s", c->cfg.server,
		 g_str_has_prefix(line, "AUTHENTICATE ") ? "AUTHENTICATE ***" : line);
	g_string_append(l->wpending, line);
	g_string_append(l->wpending, "\r\n");
	if (l->winflight)
		return;
	l->winflight = l->wpending;
	l->wpending = g_string_new(NULL);
	GOutputStream *out = g_io_stream_get_output_stream(l->io);
	g_output_stream_write_all_async(out, l->winflight->str, l->winflight->len,
					G_PRIORITY_DEFAULT, l->cancel, on_written, link_ref(l));
}

static gboolean on_flood_timer(gpointer data)
{
	struct tt__irc_conn *c = data;
	c->flood_timer = 0;
	flush_queue(c);
	return G_SOURCE_REMOVE;
}

static void flush_queue(struct tt__irc_conn *c)
{
	while (!g_queue_is_empty(&c->queue) && !c->flood_timer) {
		int64_t wait = tt__irc_flood_take(&c->flood, g_get_monotonic_time());
		if (wait > 0) {
			c->flood_timer = g_timeout_add((guint)(wait / 1000) + 1, on_flood_timer, c);
			break;
		}
		char *line = g_queue_pop_head(&c->queue);
		write_line(c, line);
		g_free(line);
	}
}

static int check_line(const char *line)
{
	size_t n = strlen(line);
	if (strchr(line, '\r') || strchr(line, '\n'))
		return -EINVAL;
	return n + 2 > TT_IRC_LINE_MAX ? -EMSGSIZE : 0;
}

int tt__irc_conn_send(struct tt__irc_conn *c, const char *fmt, ...)
{
	if (c->state != ST_REGISTERING && c->state != ST_REGISTERED)
		return -ENOTCONN;
	va_list ap;
	va_start(ap, fmt);
	char *line = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	int err = check_line(line);
	if (err) {
		tt_warn("%s: not sending a bad line (%s)", c->cfg.server, tt_strerror(err));
		g_free(line);
		return err;
	}
	if ((int)g_queue_get_length(&c->queue) >= c->cfg.queue_max) {
		/* Dropping beats being killed for flooding or buffering without bound. */
		tt_warn("%s: send queue full, dropping the oldest line", c->cfg.server);
		g_free(g_queue_pop_head(&c->queue));
	}
	g_queue_push_tail(&c->queue, line);
	flush_queue(c);
	return 0;
}

/* ---- registration: CAP, SASL, NICK ---- */

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
		if (!more && c->state == ST_REGISTERING)
			caps_request(c);
	} else if (strcmp(sub, "ACK") == 0) {
		caps_store(c->caps_on, list, false);
		tt_info("%s: capabilities on: %s", c->cfg.server, list);
		if (c->state != ST_REGISTERING)
			return;
		if (g_hash_table_contains(c->caps_on, "sasl") && !c->sasl_done)
			tt__irc_conn_send(c, "AUTHENTICATE %s", c->cfg.sasl == TT_IRC_SASL_EXTERNAL
					  ? "EXTERNAL" : "PLAIN");
		else
			cap_end(c);
	} else if (strcmp(sub, "NAK") == 0) {
		tt_warn("%s: capabilities refused: %s", c->cfg.server, list);
		if (c->state == ST_REGISTERING)
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
		conn_drop(c, -EADDRINUSE);
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
	c->state = ST_REGISTERED;
	c->attempt = 0;
	clear_source(&c->deadline_timer);
	tt_info("%s: registered as %s", c->cfg.server, c->nick);
	if (c->ops->registered)
		c->ops->registered(c, c->arg);
}

static void note_own_host(struct tt__irc_conn *c, const struct tt__irc_msg *m)
{
	if (m->user && m->host && tt__irc_nick_eq(m->nick, c->nick)) {
		g_free(c->userhost);
		c->userhost = g_strdup_printf("%s@%s", m->user, m->host);
	}
}

/* Returns true when the message was consumed here. */
static bool handle(struct tt__irc_conn *c, const struct tt__irc_msg *m)
{
	const char *cmd = m->command;
	int64_t now = g_get_monotonic_time();
	c->last_rx_us = now;
	if (strcmp(cmd, "PING") == 0) {
		/* Not behind the bucket: a queued PONG could get us timed out. */
		char *line = g_strdup_printf("PONG :%s", m->nparams ? m->params[0] : "");
		if (check_line(line) == 0)
			write_line(c, line);
		g_free(line);
		return true;
	}
	if (strcmp(cmd, "PONG") == 0) {
		if (c->ping_sent_us) {
			c->lag_ms = (now - c->ping_sent_us) / 1000;
			c->ping_sent_us = 0;
			tt_debug("%s: lag %lld ms", c->cfg.server, (long long)c->lag_ms);
		}
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
		if (c->state == ST_REGISTERING)
			cap_end(c);
		return true;
	}
	if (strcmp(cmd, "902") == 0 || strcmp(cmd, "904") == 0 || strcmp(cmd, "905") == 0 ||
	    strcmp(cmd, "906") == 0 || strcmp(cmd, "908") == 0) {
		/* Going on unauthenticated could expose a nick we do not own: drop and retry
		 * with backoff (the operator sees the error in the log). */
		tt_error("%s: SASL failed: %s", c->cfg.server,
			 m->nparams ? m->params[m->nparams - 1] : cmd);
		conn_drop(c, -EACCES);
		return true;
	}
	if (strcmp(cmd, "900") == 0 || strcmp(cmd, "901") == 0)
		return true;
	if (c->state == ST_REGISTERING) {
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

/* ---- reading ---- */

static void process_lines(struct link *l)
{
	size_t start = 0;
	for (size_t i = 0; i < l->rlen && l->conn; i++) {
		if (l->rbuf[i] != '\n')
			continue;
		struct tt__irc_conn *c = l->conn;
		struct tt__irc_msg *m = NULL;
		size_t n = i + 1 - start;
		int err = tt__irc_msg_parse(&m, l->rbuf + start, n);
		start = i + 1;
		if (err) {
			if (n > 2)  /* blank lines are harmless; say nothing */
				tt_warn("%s: ignoring a malformed line (%s)", c->cfg.server,
					tt_strerror(err));
			continue;
		}
		tt_debug("%s <- %.*s", c->cfg.server, (int)(n > 2 ? n - 2 : n), l->rbuf + start - n);
		if (!handle(c, m) && l->conn && c->ops->message)
			c->ops->message(c, m, c->arg);
		tt__irc_msg_free(m);
	}
	memmove(l->rbuf, l->rbuf + start, l->rlen - start);
	l->rlen -= start;
}

static void on_read(GObject *src, GAsyncResult *res, gpointer data)
{
	struct link *l = data;
	GError *err = NULL;
	gssize n = g_input_stream_read_finish(G_INPUT_STREAM(src), res, &err);
	struct tt__irc_conn *c = l->conn;
	if (!c)
		goto out;
	if (n <= 0) {
		if (c->state == ST_QUITTING)
			tt_info("%s: closed after QUIT", c->cfg.server);
		else
			tt_warn("%s: connection lost: %s", c->cfg.server,
				err ? err->message : "closed by the server");
		conn_drop(c, err ? gerror_to_errno(err) : -ECONNRESET);
		goto out;
	}
	l->rlen += (size_t)n;
	process_lines(l);
	if (!l->conn)
		goto out;
	if (l->rlen == sizeof l->rbuf) {
		tt_warn("%s: line longer than any IRC line; dropping the link", c->cfg.server);
		conn_drop(c, -EMSGSIZE);
		goto out;
	}
	start_read(l);
out:
	g_clear_error(&err);
	link_unref(l);
}

static void start_read(struct link *l)
{
	GInputStream *in = g_io_stream_get_input_stream(l->io);
	g_input_stream_read_async(in, l->rbuf + l->rlen, sizeof l->rbuf - l->rlen,
				  G_PRIORITY_DEFAULT, l->cancel, on_read, link_ref(l));
}

/* ---- timers ---- */

static gboolean on_ping_timer(gpointer data)
{
	struct tt__irc_conn *c = data;
	int64_t now = g_get_monotonic_time();
	int64_t idle_ms = (now - c->last_rx_us) / 1000;
	if (idle_ms >= c->cfg.ping_timeout_ms) {
		tt_warn("%s: no data for %lld ms; reconnecting", c->cfg.server,
			(long long)idle_ms);
		c->ping_timer = 0;
		conn_drop(c, -ETIMEDOUT);
		return G_SOURCE_REMOVE;
	}
	if (idle_ms >= c->cfg.ping_interval_ms && !c->ping_sent_us) {
		c->ping_sent_us = now;
		write_line(c, "PING :tutti-lag");
	}
	return G_SOURCE_CONTINUE;
}

static gboolean on_deadline(gpointer data)
{
	struct tt__irc_conn *c = data;
	c->deadline_timer = 0;
	if (c->state == ST_QUITTING) {
		link_close(c);
		c->state = ST_ENDED;
		if (c->ops->closed)
			c->ops->closed(c, 0, c->arg);
	} else {
		tt_warn("%s: registration timed out", c->cfg.server);
		conn_drop(c, -ETIMEDOUT);
	}
	return G_SOURCE_REMOVE;
}

/* ---- connecting ---- */

static void connected(struct tt__irc_conn *c)
{
	c->state = ST_REGISTERING;
	c->last_rx_us = g_get_monotonic_time();
	c->ping_sent_us = 0;
	c->nick_attempt = 0;
	c->sasl_done = false;
	g_hash_table_remove_all(c->caps_offered);
	g_hash_table_remove_all(c->caps_on);
	g_hash_table_remove_all(c->isupport);
	g_free(c->nick);
	c->nick = g_strdup(c->cfg.nick);
	tt__irc_flood_init(&c->flood, c->cfg.flood_burst, c->cfg.flood_interval_ms,
			   g_get_monotonic_time());
	int tick = MAX(200, MIN(c->cfg.ping_interval_ms, c->cfg.ping_timeout_ms) / 4);
	c->ping_timer = g_timeout_add((guint)tick, on_ping_timer, c);
	start_read(c->link);
	tt__irc_conn_send(c, "CAP LS 302");
	tt__irc_conn_send(c, "NICK %s", c->nick);
	tt__irc_conn_send(c, "USER %s 0 * :%s", c->cfg.username, c->cfg.realname);
}

static gboolean on_accept_certificate(GTlsConnection *conn, GTlsCertificate *cert,
				      GTlsCertificateFlags errors, gpointer data)
{
	struct link *l = data;
	struct tt__irc_conn *c = l->conn;
	if (c && !c->cfg.tls_verify) {
		if (!c->warned_noverify)
			tt_warn("%s: accepting an unverified certificate (tls_verify = false)",
				c->cfg.server);
		c->warned_noverify = true;
		return TRUE;
	}
	if (c)
		tt_error("%s: certificate not trusted (flags 0x%x)", c->cfg.server, errors);
	return FALSE;
}

static void on_handshake(GObject *src, GAsyncResult *res, gpointer data)
{
	struct link *l = data;
	GError *err = NULL;
	gboolean ok = g_tls_connection_handshake_finish(G_TLS_CONNECTION(src), res, &err);
	struct tt__irc_conn *c = l->conn;
	if (c && !ok) {
		tt_error("%s: TLS handshake: %s", c->cfg.server, err ? err->message : "?");
		conn_drop(c, gerror_to_errno(err));
	} else if (c) {
		connected(c);
	}
	g_clear_error(&err);
	link_unref(l);
}

static int tls_setup(struct tt__irc_conn *c, struct link *l)
{
	GError *err = NULL;
	int ret = 0;
	GTlsDatabase *db = NULL;
	GTlsCertificate *cert = NULL;
	GSocketConnectable *id = g_network_address_new(c->cfg.server, (guint16)c->cfg.port);
	GIOStream *tls = g_tls_client_connection_new(G_IO_STREAM(l->sock), id, &err);
	if (!tls)
		goto fail;
	if (c->cfg.tls_ca) {
		db = g_tls_file_database_new(c->cfg.tls_ca, &err);
		if (!db)
			goto fail;
		g_tls_connection_set_database(G_TLS_CONNECTION(tls), db);
	}
	if (c->cfg.tls_cert) {
		cert = c->cfg.tls_key
			? g_tls_certificate_new_from_files(c->cfg.tls_cert, c->cfg.tls_key, &err)
			: g_tls_certificate_new_from_file(c->cfg.tls_cert, &err);
		if (!cert)
			goto fail;
		g_tls_connection_set_certificate(G_TLS_CONNECTION(tls), cert);
	}
	g_signal_connect(tls, "accept-certificate", G_CALLBACK(on_accept_certificate), l);
	l->io = tls;
	tls = NULL;
	g_tls_connection_handshake_async(G_TLS_CONNECTION(l->io), G_PRIORITY_DEFAULT,
					 l->cancel, on_handshake, link_ref(l));
	goto out;
fail:
	tt_error("%s: TLS set-up: %s", c->cfg.server, err ? err->message : "?");
	ret = -EPROTO;
out:
	g_clear_object(&tls);
	g_clear_object(&cert);
	g_clear_object(&db);
	g_clear_object(&id);
	g_clear_error(&err);
	return ret;
}

static void on_connect(GObject *src, GAsyncResult *res, gpointer data)
{
	struct link *l = data;
	GError *err = NULL;
	GSocketConnection *sock =
		g_socket_client_connect_to_host_finish(G_SOCKET_CLIENT(src), res, &err);
	struct tt__irc_conn *c = l->conn;
	if (!c) {
		g_clear_object(&sock);
		goto out;
	}
	if (!sock) {
		tt_warn("%s:%d: connect: %s", c->cfg.server, c->cfg.port, err->message);
		conn_drop(c, gerror_to_errno(err));
		goto out;
	}
	l->sock = sock;
	if (c->cfg.tls) {
		int e = tls_setup(c, l);
		if (e)
			conn_drop(c, e);
		goto out;
	}
	l->io = G_IO_STREAM(g_object_ref(sock));
	connected(c);
out:
	g_clear_error(&err);
	link_unref(l);
}

static void connect_now(struct tt__irc_conn *c)
{
	struct link *l = g_new0(struct link, 1);
	l->ref = 1;
	l->conn = c;
	l->cancel = g_cancellable_new();
	l->wpending = g_string_new(NULL);
	c->link = l;
	c->state = ST_CONNECTING;
	int timeout_ms = c->cfg.register_timeout_ms;
	c->deadline_timer = g_timeout_add((guint)timeout_ms, on_deadline, c);
	GSocketClient *client = g_socket_client_new();
	g_socket_client_set_timeout(client, (guint)MAX(1, timeout_ms / 1000));
	tt_info("connecting to %s:%d%s", c->cfg.server, c->cfg.port, c->cfg.tls ? " (TLS)" : "");
	g_socket_client_connect_to_host_async(client, c->cfg.server, (guint16)c->cfg.port,
					      l->cancel, on_connect, link_ref(l));
	g_object_unref(client);
}

static gboolean on_reconnect(gpointer data)
{
	struct tt__irc_conn *c = data;
	c->reconnect_timer = 0;
	connect_now(c);
	return G_SOURCE_REMOVE;
}

/* Orphans the link: in-flight callbacks see link->conn == NULL and only unref. */
static void link_close(struct tt__irc_conn *c)
{
	clear_source(&c->ping_timer);
	clear_source(&c->flood_timer);
	clear_source(&c->deadline_timer);
	g_queue_clear_full(&c->queue, g_free);
	struct link *l = c->link;
	if (!l)
		return;
	c->link = NULL;
	l->conn = NULL;
	g_cancellable_cancel(l->cancel);
	/* Close the fd now, not when the last in-flight callback lets go of the link, so the
	 * server sees the drop at once (a stream close would fail with operations pending). */
	if (l->sock)
		g_socket_close(g_socket_connection_get_socket(l->sock), NULL);
	link_unref(l);
}

static void conn_drop(struct tt__irc_conn *c, int err)
{
	bool quitting = c->state == ST_QUITTING;
	link_close(c);
	if (quitting) {
		c->state = ST_ENDED;
		if (c->ops->closed)
			c->ops->closed(c, 0, c->arg);
		return;
	}
	int64_t delay = tt__irc_backoff_ms(c->cfg.reconnect_min_ms, c->cfg.reconnect_max_ms,
					   c->attempt, g_random_double());
	c->attempt++;
	c->state = ST_IDLE;
	tt_info("%s: reconnecting in %lld ms (%s)", c->cfg.server, (long long)delay,
		tt_strerror(err));
	c->reconnect_timer = g_timeout_add((guint)delay, on_reconnect, c);
	if (c->ops->closed)
		c->ops->closed(c, err, c->arg);
}

/* ---- public ---- */

int tt__irc_conn_alloc(struct tt__irc_conn **cp, const struct tt__irc_conn_cfg *cfg,
		       const struct tt__irc_conn_ops *ops, void *arg)
{
	if (!cp || !cfg || !ops || !cfg->server || !cfg->nick || cfg->port <= 0 ||
	    cfg->port > 65535)
		return -EINVAL;
	struct tt__irc_conn *c = g_new0(struct tt__irc_conn, 1);
	c->cfg = *cfg;
	c->cfg.server = g_strdup(cfg->server);
	c->cfg.tls_ca = g_strdup(cfg->tls_ca);
	c->cfg.tls_cert = g_strdup(cfg->tls_cert);
	c->cfg.tls_key = g_strdup(cfg->tls_key);
	c->cfg.sasl_user = g_strdup(cfg->sasl_user);
	c->cfg.sasl_password = g_strdup(cfg->sasl_password);
	c->cfg.nick = g_strdup(cfg->nick);
	c->cfg.username = g_strdup(cfg->username ? cfg->username : "tutti");
	c->cfg.realname = g_strdup(cfg->realname ? cfg->realname : "tutti");
	if (c->cfg.queue_max <= 0)
		c->cfg.queue_max = 256;
	if (c->cfg.register_timeout_ms <= 0)
		c->cfg.register_timeout_ms = 30000;
	if (c->cfg.ping_interval_ms <= 0)
		c->cfg.ping_interval_ms = 60000;
	if (c->cfg.ping_timeout_ms <= 0)
		c->cfg.ping_timeout_ms = 180000;
	c->ops = ops;
	c->arg = arg;
	c->nick = g_strdup(cfg->nick);
	c->lag_ms = -1;
	c->caps_offered = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	c->caps_on = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	c->isupport = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_queue_init(&c->queue);
	*cp = c;
	return 0;
}

void tt__irc_conn_free(struct tt__irc_conn *c)
{
	if (!c)
		return;
	link_close(c);
	clear_source(&c->reconnect_timer);
	g_free((char *)c->cfg.server);
	g_free((char *)c->cfg.tls_ca);
	g_free((char *)c->cfg.tls_cert);
	g_free((char *)c->cfg.tls_key);
	g_free((char *)c->cfg.sasl_user);
	if (c->cfg.sasl_password)
		memset((char *)c->cfg.sasl_password, 0, strlen(c->cfg.sasl_password));
	g_free((char *)c->cfg.sasl_password);
	g_free((char *)c->cfg.nick);
	g_free((char *)c->cfg.username);
	g_free((char *)c->cfg.realname);
	g_free(c->nick);
	g_free(c->userhost);
	g_hash_table_destroy(c->caps_offered);
	g_hash_table_destroy(c->caps_on);
	g_hash_table_destroy(c->isupport);
	g_free(c);
}

void tt__irc_conn_start(struct tt__irc_conn *c)
{
	if (c->state == ST_IDLE && !c->link) {
		clear_source(&c->reconnect_timer);
		connect_now(c);
	}
}

void tt__irc_conn_quit(struct tt__irc_conn *c, const char *msg)
{
	if (c->state == ST_ENDED || c->state == ST_QUITTING)
		return;
	clear_source(&c->reconnect_timer);
	if (c->state != ST_REGISTERING && c->state != ST_REGISTERED) {
		link_close(c);
		c->state = ST_ENDED;
		if (c->ops->closed)
			c->ops->closed(c, 0, c->arg);
		return;
	}
	g_queue_clear_full(&c->queue, g_free);
	clear_source(&c->flood_timer);
	char *line = g_strdup_printf("QUIT :%s", msg ? msg : "");
	if (check_line(line) == 0)
		write_line(c, line);
	else
		write_line(c, "QUIT");
	g_free(line);
	c->state = ST_QUITTING;
	clear_source(&c->deadline_timer);
	c->deadline_timer = g_timeout_add(QUIT_GRACE_MS, on_deadline, c);
}

bool tt__irc_conn_registered(const struct tt__irc_conn *c)
{
	return c->state == ST_REGISTERED;
}

bool tt__irc_conn_ended(const struct tt__irc_conn *c)
{
	return c->state == ST_ENDED;
}

const char *tt__irc_conn_nick(const struct tt__irc_conn *c)
{
	return c->nick;
}

bool tt__irc_conn_has_cap(const struct tt__irc_conn *c, const char *cap)
{
	return g_hash_table_contains(c->caps_on, cap);
}

const char *tt__irc_conn_isupport(const struct tt__irc_conn *c, const char *key)
{
	return g_hash_table_lookup(c->isupport, key);
}

int64_t tt__irc_conn_lag_ms(const struct tt__irc_conn *c)
{
	return c->lag_ms;
}

int tt__irc_conn_text_budget(const struct tt__irc_conn *c, const char *target)
{
	/* Unknown user@host: USERLEN 10 and a 63-byte host name are the usual maxima. */
	size_t uh = c->userhost ? strlen(c->userhost) : 10 + 1 + 63;
	size_t fixed = 1 + strlen(c->nick) + 1 + uh + 1 + strlen("PRIVMSG ") + strlen(target) +
		       strlen(" :") + 2;
	return fixed >= TT_IRC_LINE_MAX ? 0 : (int)(TT_IRC_LINE_MAX - fixed);
}
