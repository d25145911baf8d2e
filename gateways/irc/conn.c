/* conn.c: one IRC connection's sockets: connect, TLS, reading, paced writing, PING/lag and
 * regain timers, reconnect with backoff. The protocol itself is session.c. */
#define TT_LOG_DOMAIN "irc"
#include "conn.h"

#include <stdarg.h>
#include <string.h>
#include <tutti/errno.h>
#include <tutti/log.h>

#include "conn_priv.h"
#include "nick.h"

static void link_close(struct tt__irc_conn *c);
static void start_read(struct link *l);

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

static void on_written(GObject *src, GAsyncResult *res, gpointer data);

/* Hands everything pending to one write; at most one write is in flight per link. */
static void start_write(struct link *l)
{
	l->winflight = l->wpending;
	l->wpending = g_string_new(NULL);
	GOutputStream *out = g_io_stream_get_output_stream(l->io);
	g_output_stream_write_all_async(out, l->winflight->str, l->winflight->len,
					G_PRIORITY_DEFAULT, l->cancel, on_written, link_ref(l));
}

static void on_written(GObject *src, GAsyncResult *res, gpointer data)
{
	struct link *l = data;
	GError *err = NULL;
	g_output_stream_write_all_finish(G_OUTPUT_STREAM(src), res, NULL, &err);
	struct tt__irc_conn *c = l->conn;
	if (c && err) {
		tt_warn("%s: write: %s", c->cfg.server, err->message);
		tt__irc_conn_drop(c, gerror_to_errno(err));
	} else if (c) {
		g_string_free(l->winflight, TRUE);
		l->winflight = NULL;
		if (l->wpending->len)
			start_write(l);
	}
	g_clear_error(&err);
	link_unref(l);
}

/* Straight to the socket, bypassing the flood bucket (PONG, QUIT, flushed queue lines). */
void tt__irc_conn_write_now(struct tt__irc_conn *c, const char *line)
{
	struct link *l = c->link;
	if (!l || !l->io)
		return;
	tt_debug("%s -> %s", c->cfg.server,
		 g_str_has_prefix(line, "AUTHENTICATE ") ? "AUTHENTICATE ***" : line);
	g_string_append(l->wpending, line);
	g_string_append(l->wpending, "\r\n");
	if (!l->winflight)
		start_write(l);
}

int tt__irc_conn_check_line(const char *line)
{
	size_t n = strlen(line);
	if (strchr(line, '\r') || strchr(line, '\n'))
		return -EINVAL;
	return n + 2 > TT_IRC_LINE_MAX ? -EMSGSIZE : 0;
}

int tt__irc_conn_send(struct tt__irc_conn *c, const char *fmt, ...)
{
	if (c->state != TT_IRC_ST_REGISTERING && c->state != TT_IRC_ST_REGISTERED)
		return -ENOTCONN;
	va_list ap;
	va_start(ap, fmt);
	char *line = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	int err = tt__irc_conn_check_line(line);
	if (err) {
		tt_warn("%s: not sending a bad line (%s)", c->cfg.server, tt_strerror(err));
		g_free(line);
		return err;
	}
	tt__irc_sendq_push(c, line);
	return 0;
}

/* ---- reading ---- */

void tt__irc_conn_feed(struct tt__irc_conn *c, const char *line, size_t len)
{
	struct tt__irc_msg *m = NULL;
	int err = tt__irc_msg_parse(&m, line, len);
	if (err) {
		if (len > 2)  /* blank lines are harmless; say nothing */
			tt_warn("%s: ignoring a malformed line (%s)", c->cfg.server, tt_strerror(err));
		return;
	}
	tt_debug("%s <- %.*s", c->cfg.server, (int)(len > 2 ? len - 2 : len), line);
	if (!tt__irc_session_handle(c, m) && c->ops->message)
		c->ops->message(c, m, c->arg);
	tt__irc_msg_free(m);
}

static void process_lines(struct link *l)
{
	size_t start = 0;
	for (size_t i = 0; i < l->rlen && l->conn; i++) {
		if (l->rbuf[i] != '\n')
			continue;
		tt__irc_conn_feed(l->conn, l->rbuf + start, i + 1 - start);
		start = i + 1;
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
		if (c->state == TT_IRC_ST_QUITTING)
			tt_info("%s: closed after QUIT", c->cfg.server);
		else
			tt_warn("%s: connection lost: %s", c->cfg.server,
				err ? err->message : "closed by the server");
		tt__irc_conn_drop(c, err ? gerror_to_errno(err) : -ECONNRESET);
		goto out;
	}
	l->rlen += (size_t)n;
	process_lines(l);
	if (!l->conn)
		goto out;
	if (l->rlen == sizeof l->rbuf) {
		tt_warn("%s: line longer than any IRC line; dropping the link", c->cfg.server);
		tt__irc_conn_drop(c, -EMSGSIZE);
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
		tt__irc_conn_drop(c, -ETIMEDOUT);
		return G_SOURCE_REMOVE;
	}
	if (idle_ms >= c->cfg.ping_interval_ms && !c->ping_sent_us) {
		c->ping_sent_us = now;
		tt__irc_conn_write_now(c, "PING :tutti-lag");
	}
	int64_t ack_ms = tt__irc_sendq_ack_age_ms(c, now);
	if (ack_ms >= c->cfg.ping_timeout_ms) {
		/* Data arrives but our lines are never processed: a stuck link all the same. */
		tt_warn("%s: our lines unconfirmed for %lld ms; reconnecting", c->cfg.server,
			(long long)ack_ms);
		c->ping_timer = 0;
		tt__irc_conn_drop(c, -ETIMEDOUT);
		return G_SOURCE_REMOVE;
	}
	if (c->state == TT_IRC_ST_REGISTERED && !tt__irc_nick_eq(c->nick, c->cfg.nick) &&
	    (now - c->regain_us) / 1000 >= c->cfg.regain_ms) {
		c->regain_us = now;
		tt__irc_conn_send(c, "NICK %s", c->cfg.nick);  /* a 433 now is simply ignored */
	}
	return G_SOURCE_CONTINUE;
}

static gboolean on_deadline(gpointer data)
{
	struct tt__irc_conn *c = data;
	c->deadline_timer = 0;
	if (c->state == TT_IRC_ST_QUITTING) {
		link_close(c);
		c->state = TT_IRC_ST_ENDED;
		if (c->ops->closed)
			c->ops->closed(c, 0, c->arg);
	} else {
		tt_warn("%s: registration timed out", c->cfg.server);
		tt__irc_conn_drop(c, -ETIMEDOUT);
	}
	return G_SOURCE_REMOVE;
}

/* ---- connecting ---- */

static void connected(struct tt__irc_conn *c)
{
	c->state = TT_IRC_ST_REGISTERING;
	c->last_rx_us = g_get_monotonic_time();
	c->ping_sent_us = 0;
	tt__irc_sendq_link_up(c);
	int tick = MAX(100, MIN(MIN(c->cfg.ping_interval_ms, c->cfg.ping_timeout_ms) / 4,
				c->cfg.regain_ms));
	c->ping_timer = g_timeout_add((guint)tick, on_ping_timer, c);
	start_read(c->link);
	tt__irc_session_begin(c);
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
		tt__irc_conn_drop(c, gerror_to_errno(err));
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
		tt__irc_conn_drop(c, gerror_to_errno(err));
		goto out;
	}
	l->sock = sock;
	/* The client's timeout bounds each connect attempt, but GIO leaves it on the socket,
	 * where it would fail any read after that long without data: an idle channel would
	 * drop every minute. Idle links are ping_interval's and ping_timeout's business. */
	g_socket_set_timeout(g_socket_connection_get_socket(sock), 0);
	if (c->cfg.tls) {
		int e = tls_setup(c, l);
		if (e)
			tt__irc_conn_drop(c, e);
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
	c->state = TT_IRC_ST_CONNECTING;
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

void tt__irc_conn_drop(struct tt__irc_conn *c, int err)
{
	bool quitting = c->state == TT_IRC_ST_QUITTING;
	link_close(c);
	if (!quitting)
		tt__irc_sendq_link_lost(c);
	if (quitting) {
		c->state = TT_IRC_ST_ENDED;
		if (c->ops->closed)
			c->ops->closed(c, 0, c->arg);
		return;
	}
	int64_t delay = tt__irc_backoff_ms(c->cfg.reconnect_min_ms, c->cfg.reconnect_max_ms,
					   c->attempt, g_random_double());
	c->attempt++;
	c->state = TT_IRC_ST_IDLE;
	tt_info_kv(TT_KV("event", "irc_reconnect", "server", c->cfg.server, "nick", c->nick,
			 "reason", tt_strerror(err)),
		   "%s: reconnecting in %lld ms (%s)", c->cfg.server, (long long)delay,
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
	if (c->cfg.regain_ms <= 0)
		c->cfg.regain_ms = 60000;
	c->ops = ops;
	c->arg = arg;
	c->nick = g_strdup(cfg->nick);
	c->lag_ms = -1;
	c->caps_offered = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	c->caps_on = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	c->isupport = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_queue_init(&c->queue);
	g_queue_init(&c->unacked);
	g_queue_init(&c->held);
	g_queue_init(&c->dropped);
	*cp = c;
	return 0;
}

void tt__irc_conn_free(struct tt__irc_conn *c)
{
	if (!c)
		return;
	link_close(c);
	tt__irc_sendq_clear(c);
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
	if (c->state == TT_IRC_ST_IDLE && !c->link) {
		clear_source(&c->reconnect_timer);
		connect_now(c);
	}
}

void tt__irc_conn_quit(struct tt__irc_conn *c, const char *msg)
{
	if (c->state == TT_IRC_ST_ENDED || c->state == TT_IRC_ST_QUITTING)
		return;
	clear_source(&c->reconnect_timer);
	tt__irc_sendq_abandon(c, -ESHUTDOWN);
	if (c->state != TT_IRC_ST_REGISTERING && c->state != TT_IRC_ST_REGISTERED) {
		link_close(c);
		c->state = TT_IRC_ST_ENDED;
		if (c->ops->closed)
			c->ops->closed(c, 0, c->arg);
		return;
	}
	char *line = g_strdup_printf("QUIT :%s", msg ? msg : "");
	if (tt__irc_conn_check_line(line) == 0)
		tt__irc_conn_write_now(c, line);
	else
		tt__irc_conn_write_now(c, "QUIT");
	g_free(line);
	c->state = TT_IRC_ST_QUITTING;
	clear_source(&c->deadline_timer);
	c->deadline_timer = g_timeout_add(QUIT_GRACE_MS, on_deadline, c);
}

bool tt__irc_conn_registered(const struct tt__irc_conn *c)
{
	return c->state == TT_IRC_ST_REGISTERED;
}

unsigned tt__irc_conn_queued(const struct tt__irc_conn *c)
{
	return c->queue.length;
}

bool tt__irc_conn_ended(const struct tt__irc_conn *c)
{
	return c->state == TT_IRC_ST_ENDED;
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
