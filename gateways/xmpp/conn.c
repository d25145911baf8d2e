/* conn.c: the XEP-0114 component streams, libstrophe driven from the core loop.
 *
 * libstrophe wants to own an event loop (xmpp_run) and has no socket getter. We never run
 * its loop: the sockopt callback, called synchronously inside xmpp_connect_*, hands us the
 * fd; a GLib fd watch calls xmpp_run_once(ctx, 0) when it is readable (or writable while
 * connecting or while the send queue is not empty), an idle source flushes after
 * xmpp_send (which only queues), and a one-second tick runs libstrophe's own timeouts
 * and sends the whitespace keepalive of a stream that has been silent for
 * [xmpp] keepalive_interval (RFC 6120 4.6.1: a server, NAT or firewall may drop a stream
 * it has not heard from; the server's keepalives to us do not count for its side). A thread for libstrophe (design.md's first idea) was rejected:
 * libstrophe is not thread-safe and every stanza would cross threads twice.
 *
 * Two workarounds for Debian's libstrophe 0.12.2 (docs/xmpp.md, "Known library problems"):
 *  - a component connection has no stream-management state (only xmpp_connect_client
 *    allocates it) and libstrophe dereferences it on the first stanza received, on every
 *    write and on disconnect. A client connect attempt that our sockopt callback refuses
 *    before any I/O allocates it; then the component connects on the same xmpp_conn_t.
 *  - xmpp_run_once uses select(): an fd of FD_SETSIZE or above would overflow its fd_set,
 *    so the sockopt callback refuses it and we retry later.
 *
 * Each reconnect uses a fresh xmpp_conn_t (released from a timer, never from inside a
 * libstrophe callback), so no state of a dead stream survives into the next one. */
#define TT_LOG_DOMAIN "xmpp"
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/select.h>
#include <glib-unix.h>
#include <tutti/log.h>

#include "xmpp_priv.h"

#define TICK_MS 1000
/* A stream that has not finished its handshake by then is dropped and retried (libstrophe
 * times out the TCP connect, not a server that accepts and then says nothing). */
#define HANDSHAKE_TIMEOUT_S 30
#define FLUSH_ROUNDS 20
#define FLUSH_WAIT_MS 10
/* Rounds of xmpp_run_once per wake-up at most (the rest: the next wake-up). */
#define PUMP_ROUNDS 8

struct xg_conn {
	struct xg_gw *gw;
	char *domain;
	char *secret;
	xmpp_conn_t *xc;            /* the current attempt's, or NULL between attempts */
	int fd;                     /* xc's socket while it is open, else -1 */
	guint in_watch, out_watch;
	guint tick;                 /* while xc exists: libstrophe's timers, stray writes */
	guint retry_timer;
	guint flush_idle;
	guint link_idle;
	bool refuse_socket;         /* the sockopt callback refuses (the client attempt) */
	bool online;                /* handshake done, stream up */
	bool reported_online;       /* what xg_muc_link / xg_jingle_link last heard */
	unsigned ups, reported_ups; /* a down and up between two reports is still reported */
	unsigned attempt;           /* failed attempts since the last stream up: backoff */
	gint64 attempt_start_us;
	gint64 last_out_us;         /* the last stanza or keepalive queued, while online */
	struct xg_conn_stats st;
};

/* The conns alive, to find the one a libstrophe callback is about and to update every
 * watch after xmpp_run_once (it runs all streams of the context). Core thread only. */
static GList *conns;
/* The conn whose xmpp_connect_* is running: the sockopt callback has no userdata. */
static struct xg_conn *connecting;
/* True inside xmpp_run_once: libstrophe is not re-entrant. */
static bool in_run;

static void schedule_retry(struct xg_conn *c);
static void update_watches(struct xg_conn *c);

/* ---- driving libstrophe ---- */

/* Input waiting on any socket of ctx's streams. */
static bool readable(xmpp_ctx_t *ctx)
{
	struct pollfd p[4];
	nfds_t n = 0;
	for (GList *l = conns; l && n < G_N_ELEMENTS(p); l = l->next) {
		struct xg_conn *c = l->data;
		if (c->gw->ctx == ctx && c->fd >= 0)
			p[n++] = (struct pollfd){ .fd = c->fd, .events = POLLIN };
	}
	return n && poll(p, n, 0) > 0;
}

/* xmpp_run_once writes what is queued first, then reads once: what the handlers of a read
 * queue (the handshake after the server's stream header, replies) waits for the next
 * round. So a round that read is followed by another, until a round finds nothing to read
 * (it only wrote). The send queue length libstrophe exposes counts neither its own
 * entries nor a partly written head, so a write watch alone could not drive this. */
static void pump(xmpp_ctx_t *ctx, unsigned long timeout_ms)
{
	if (in_run)
		return;
	in_run = true;
	for (int i = 0; i < PUMP_ROUNDS; i++) {
		bool input = readable(ctx);
		xmpp_run_once(ctx, i ? 0 : timeout_ms);
		if (!input && i > 0)
			break;
	}
	in_run = false;
	for (GList *l = conns; l; l = l->next) {
		struct xg_conn *c = l->data;
		if (c->gw->ctx == ctx)
			update_watches(c);
	}
}

static gboolean on_fd(gint fd, GIOCondition cond, gpointer data)
{
	(void)fd;
	(void)cond;
	struct xg_conn *c = data;
	pump(c->gw->ctx, 0);
	return G_SOURCE_CONTINUE;   /* update_watches removed it if it is no longer wanted */
}

static gboolean on_flush_idle(gpointer data)
{
	struct xg_conn *c = data;
	c->flush_idle = 0;
	pump(c->gw->ctx, 0);
	return G_SOURCE_REMOVE;
}

static void schedule_flush(struct xg_conn *c)
{
	if (!c->flush_idle)
		c->flush_idle = g_idle_add(on_flush_idle, c);
}

static void drop_watches(struct xg_conn *c)
{
	if (c->in_watch)
		g_source_remove(c->in_watch);
	if (c->out_watch)
		g_source_remove(c->out_watch);
	c->in_watch = c->out_watch = 0;
}

/* Readable always while the socket is open; writable while connecting (libstrophe learns
 * that the TCP connect finished from writability) or while stanzas of ours wait. What
 * that misses (a partly written last stanza, libstrophe's own entries) the tick sends. */
static void update_watches(struct xg_conn *c)
{
	bool open = c->xc && c->fd >= 0 &&
		    (xmpp_conn_is_connecting(c->xc) || xmpp_conn_is_connected(c->xc));
	if (!open) {
		drop_watches(c);
		return;
	}
	if (!c->in_watch)
		c->in_watch = g_unix_fd_add(c->fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_fd, c);
	bool want_out = xmpp_conn_is_connecting(c->xc) || xmpp_conn_send_queue_len(c->xc) > 0;
	if (want_out && !c->out_watch)
		c->out_watch = g_unix_fd_add(c->fd, G_IO_OUT, on_fd, c);
	else if (!want_out && c->out_watch) {
		g_source_remove(c->out_watch);
		c->out_watch = 0;
	}
}

/* ---- link reports, from a clean stack ---- */

static void report_link(struct xg_conn *c, bool up)
{
	struct xg_gw *gw = c->gw;
	if (c == gw->muc_conn && gw->muc)
		xg_muc_link(gw, up);
	else if (c == gw->call_conn && gw->jingle)
		xg_jingle_link(gw, up);
}

static gboolean on_link_idle(gpointer data)
{
	struct xg_conn *c = data;
	c->link_idle = 0;
	if (c->gw->stopping)
		return G_SOURCE_REMOVE;   /* the MUC and calls said goodbye already */
	if (c->reported_online && (!c->online || c->ups != c->reported_ups)) {
		c->reported_online = false;
		report_link(c, false);
	}
	if (c->online && !c->reported_online) {
		c->reported_online = true;
		c->reported_ups = c->ups;
		report_link(c, true);
	}
	return G_SOURCE_REMOVE;
}

static void schedule_link_report(struct xg_conn *c)
{
	if (!c->link_idle)
		c->link_idle = g_idle_add(on_link_idle, c);
}

/* ---- libstrophe callbacks ---- */

static struct xg_conn *conn_of(xmpp_conn_t *xc)
{
	for (GList *l = conns; l; l = l->next) {
		struct xg_conn *c = l->data;
		if (c->xc == xc)
			return c;
	}
	return NULL;
}

static int on_sockopt(xmpp_conn_t *xc, void *sockp)
{
	struct xg_conn *c = connecting;
	int fd = *(int *)sockp;
	if (!c || c->xc != xc)
		return -1;
	if (c->refuse_socket)
		return -1;   /* the client attempt: its only job was to allocate SM state */
	if (fd >= FD_SETSIZE) {
		/* libstrophe's select() would write past its fd_set. */
		c->st.fd_refused++;
		tt_error("%s: socket fd %d is above libstrophe's select() limit (%d): "
			 "refused; too many open files in this process?",
			 c->domain, fd, FD_SETSIZE - 1);
		return -1;
	}
	c->fd = fd;
	/* TCP keepalive, so that a server that vanished without a FIN is noticed. */
	if (xmpp_sockopt_cb_keepalive(xc, sockp))
		tt_debug("%s: TCP keepalive not set", c->domain);
	return 0;
}

static int on_stanza(xmpp_conn_t *xc, xmpp_stanza_t *st, void *data)
{
	(void)xc;
	struct xg_conn *c = data;
	const char *ns = xmpp_stanza_get_ns(st);
	if (!xmpp_stanza_is_tag(st) || (ns && !strcmp(ns, "http://etherx.jabber.org/streams")))
		return 1;
	const char *name = xmpp_stanza_get_name(st);
	if (name && !strcmp(name, "handshake"))
		return 1;
	c->st.stanzas_in++;
	if (!c->gw->stopping)
		xg_stanza_in(c->gw, st);
	return 1;
}

static const char *stream_error_name(xmpp_error_type_t t)
{
	switch (t) {
	case XMPP_SE_BAD_FORMAT: return "bad-format";
	case XMPP_SE_CONFLICT: return "conflict";
	case XMPP_SE_CONN_TIMEOUT: return "connection-timeout";
	case XMPP_SE_HOST_GONE: return "host-gone";
	case XMPP_SE_HOST_UNKNOWN: return "host-unknown";
	case XMPP_SE_IMPROPER_ADDR: return "improper-addressing";
	case XMPP_SE_INTERNAL_SERVER_ERROR: return "internal-server-error";
	case XMPP_SE_INVALID_FROM: return "invalid-from";
	case XMPP_SE_INVALID_NS: return "invalid-namespace";
	case XMPP_SE_INVALID_XML: return "invalid-xml";
	case XMPP_SE_NOT_AUTHORIZED: return "not-authorized";
	case XMPP_SE_POLICY_VIOLATION: return "policy-violation";
	case XMPP_SE_REMOTE_CONN_FAILED: return "remote-connection-failed";
	case XMPP_SE_RESOURCE_CONSTRAINT: return "resource-constraint";
	case XMPP_SE_SEE_OTHER_HOST: return "see-other-host";
	case XMPP_SE_SYSTEM_SHUTDOWN: return "system-shutdown";
	case XMPP_SE_XML_NOT_WELL_FORMED: return "xml-not-well-formed";
	default: return "other";
	}
}

static void on_conn_event(xmpp_conn_t *xc, xmpp_conn_event_t ev, int error,
			  xmpp_stream_error_t *se, void *data)
{
	struct xg_conn *c = data;
	if (conn_of(xc) != c)
		return;   /* xmpp_conn_release of an old attempt: nothing left to tell */
	if (ev == XMPP_CONN_CONNECT) {
		c->online = true;
		c->ups++;
		c->attempt = 0;
		c->st.connects++;
		c->last_out_us = g_get_monotonic_time();
		xmpp_handler_add(xc, on_stanza, NULL, NULL, NULL, c);
		tt_info_kv(TT_KV("event", "xmpp_stream_up", "domain", c->domain),
			   "%s: component stream up (%s:%u)", c->domain, c->gw->cfg.server_host,
			   c->gw->cfg.server_port);
		schedule_link_report(c);
		return;
	}
	if (ev == XMPP_CONN_RAW_CONNECT)
		return;
	/* XMPP_CONN_DISCONNECT or XMPP_CONN_FAIL: libstrophe has closed the socket. */
	bool was_online = c->online;
	c->online = false;
	c->fd = -1;
	drop_watches(c);
	if (c->tick) {
		g_source_remove(c->tick);
		c->tick = 0;
	}
	if (was_online)
		c->st.disconnects++;
	else
		c->st.failures++;
	if (c->gw->stopping) {
		tt_info("%s: component stream closed", c->domain);
		return;
	}
	const char *why = se ? stream_error_name(se->type) : NULL;
	if (se && se->type == XMPP_SE_NOT_AUTHORIZED)
		tt_error("%s: the XMPP server refused the component secret (not-authorized): "
			 "check [xmpp] secret against the server's component_secret",
			 c->domain);
	else if (se && (se->type == XMPP_SE_CONFLICT || se->type == XMPP_SE_HOST_UNKNOWN))
		tt_warn("%s: the XMPP server refused the component (%s%s%s): an old session "
			"may linger, or the server has no Component \"%s\"", c->domain, why,
			se->text ? ": " : "", se->text ? se->text : "", c->domain);
	else if (se)
		tt_warn("%s: stream error %s%s%s", c->domain, why, se->text ? ": " : "",
			se->text ? se->text : "");
	else if (was_online)
		tt_warn("%s: component stream lost (%s)", c->domain,
			error ? g_strerror(error) : "closed by the server");
	else
		tt_warn("%s: could not connect to %s:%u (%s)", c->domain, c->gw->cfg.server_host,
			c->gw->cfg.server_port, error ? g_strerror(error) : "closed");
	if (was_online)
		schedule_link_report(c);
	schedule_retry(c);
}

/* ---- attempts ---- */

static void release_xc(struct xg_conn *c)
{
	drop_watches(c);
	if (c->tick) {
		g_source_remove(c->tick);
		c->tick = 0;
	}
	if (c->xc) {
		xmpp_conn_t *xc = c->xc;
		c->xc = NULL;   /* on_conn_event ignores what release fires */
		xmpp_conn_release(xc);
	}
	c->fd = -1;
	c->online = false;
}

/* A space between stanzas after keepalive_interval without sending: cheaper than an XMPP
 * ping (no reply to track) and enough to keep the server's read timeout and any middlebox
 * idle timer from firing. A dead server is TCP keepalive's job (on_sockopt). */
static void keepalive(struct xg_conn *c)
{
	unsigned iv = c->gw->cfg.keepalive_interval_s;
	if (!iv || !c->online || !c->xc || c->gw->stopping || in_run)
		return;
	gint64 now = g_get_monotonic_time();
	if (now - c->last_out_us < (gint64)iv * G_USEC_PER_SEC)
		return;
	xmpp_send_raw(c->xc, " ", 1);
	c->last_out_us = now;
	c->st.keepalives++;
}

static gboolean on_tick(gpointer data)
{
	struct xg_conn *c = data;
	if (c->xc && c->fd >= 0 && !c->online && !c->gw->stopping &&
	    g_get_monotonic_time() - c->attempt_start_us > HANDSHAKE_TIMEOUT_S * G_USEC_PER_SEC &&
	    !in_run) {
		tt_warn("%s: no handshake from %s:%u in %d s", c->domain, c->gw->cfg.server_host,
			c->gw->cfg.server_port, HANDSHAKE_TIMEOUT_S);
		c->st.failures++;
		c->tick = 0;
		release_xc(c);
		schedule_retry(c);
		return G_SOURCE_REMOVE;
	}
	keepalive(c);
	pump(c->gw->ctx, 0);
	return c->tick ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;   /* 0: the stream ended */
}

/* A new xmpp_conn_t with stream-management state (the workaround above), connecting. */
static int attempt(struct xg_conn *c)
{
	struct xg_gw *gw = c->gw;
	release_xc(c);
	c->xc = xmpp_conn_new(gw->ctx);
	if (!c->xc)
		return -ENOMEM;
	xmpp_conn_set_jid(c->xc, c->domain);
	xmpp_conn_set_pass(c->xc, c->secret);
	xmpp_conn_set_flags(c->xc, XMPP_CONN_FLAG_DISABLE_TLS);
	xmpp_conn_set_sockopt_callback(c->xc, on_sockopt);
	connecting = c;
	c->refuse_socket = true;
	int rc = xmpp_connect_client(c->xc, gw->cfg.server_host,
				     (unsigned short)gw->cfg.server_port, on_conn_event, c);
	c->refuse_socket = false;
	if (rc == XMPP_EOK) {
		/* It got a socket after all: this libstrophe differs from the one we know. */
		connecting = NULL;
		tt_error("%s: the stream-management workaround's client attempt connected", c->domain);
		return -EPROTO;
	}
	c->fd = -1;
	uint64_t refused = c->st.fd_refused;
	rc = xmpp_connect_component(c->xc, gw->cfg.server_host,
				    (unsigned short)gw->cfg.server_port, on_conn_event, c);
	connecting = NULL;
	if (rc != XMPP_EOK)
		return c->st.fd_refused != refused ? -EMFILE : -ECONNREFUSED;
	c->attempt_start_us = g_get_monotonic_time();
	c->tick = g_timeout_add(TICK_MS, on_tick, c);
	update_watches(c);
	return 0;
}

static gboolean on_retry(gpointer data)
{
	struct xg_conn *c = data;
	c->retry_timer = 0;
	if (c->gw->stopping)
		return G_SOURCE_REMOVE;
	int rc = attempt(c);
	if (rc) {
		c->st.failures++;
		tt_warn("%s: could not start a connection to %s:%u (%s)", c->domain,
			c->gw->cfg.server_host, c->gw->cfg.server_port, g_strerror(-rc));
		release_xc(c);
		schedule_retry(c);
	}
	return G_SOURCE_REMOVE;
}

/* min * 2^attempt, at most max, then jitter into its upper half (never below min): two
 * tuttis restarted together, or two streams, do not knock in step. */
unsigned xg_conn_backoff_ms(unsigned min_s, unsigned max_s, unsigned attempt, double r)
{
	double d = (double)min_s * 1000.0;
	for (unsigned i = 0; i < attempt && d < (double)max_s * 1000.0; i++)
		d *= 2;
	if (d > (double)max_s * 1000.0)
		d = (double)max_s * 1000.0;
	double j = d / 2 + d / 2 * r;
	if (j < (double)min_s * 1000.0)
		j = (double)min_s * 1000.0;
	return (unsigned)j;
}

static void schedule_retry(struct xg_conn *c)
{
	if (c->retry_timer || c->gw->stopping)
		return;
	unsigned ms = xg_conn_backoff_ms(c->gw->cfg.reconnect_min_s, c->gw->cfg.reconnect_max_s,
					 c->attempt, g_random_double());
	c->attempt++;
	c->st.reconnects++;
	tt_info_kv(TT_KV("event", "xmpp_reconnect", "domain", c->domain),
		   "%s: reconnecting in %u ms", c->domain, ms);
	c->retry_timer = g_timeout_add(ms, on_retry, c);
}

/* ---- the API (xmpp_priv.h) ---- */

struct xg_conn *xg_conn_new(struct xg_gw *gw, const char *domain, const char *secret)
{
	struct xg_conn *c = g_new0(struct xg_conn, 1);
	c->gw = gw;
	c->domain = g_strdup(domain);
	c->secret = g_strdup(secret);
	c->fd = -1;
	conns = g_list_prepend(conns, c);
	/* The first attempt from the loop, once the gateway has its conn pointers. */
	c->retry_timer = g_timeout_add(0, on_retry, c);
	return c;
}

void xg_conn_free(struct xg_conn *c)
{
	if (!c)
		return;
	conns = g_list_remove(conns, c);
	release_xc(c);
	if (c->retry_timer)
		g_source_remove(c->retry_timer);
	if (c->flush_idle)
		g_source_remove(c->flush_idle);
	if (c->link_idle)
		g_source_remove(c->link_idle);
	g_free(c->domain);
	if (c->secret)
		memset(c->secret, 0, strlen(c->secret));
	g_free(c->secret);
	g_free(c);
}

bool xg_conn_online(const struct xg_conn *c)
{
	return c && c->online;
}

static bool jid_in_domain(const char *jid, const char *domain)
{
	if (!jid || !domain)
		return false;
	const char *at = strchr(jid, '@');
	const char *slash = strchr(jid, '/');
	const char *d = at && (!slash || at < slash) ? at + 1 : jid;
	size_t n = slash && slash > d ? (size_t)(slash - d) : strlen(d);
	return n == strlen(domain) && !g_ascii_strncasecmp(d, domain, n);
}

void xg_conn_route(struct xg_gw *gw, xmpp_stanza_t *st)
{
	const char *from = xmpp_stanza_get_from(st);
	struct xg_conn *c = NULL;
	if (gw->muc_conn && jid_in_domain(from, gw->muc_conn->domain))
		c = gw->muc_conn;
	else if (gw->call_conn && jid_in_domain(from, gw->call_conn->domain))
		c = gw->call_conn;
	if (!c) {
		tt_warn("a stanza from '%s' is not ours to send: dropped", from ? from : "");
		return;
	}
	if (!c->online) {
		c->st.dropped++;
		tt_debug("%s: stream down, stanza to %s dropped", c->domain,
			 xmpp_stanza_get_to(st) ? xmpp_stanza_get_to(st) : "");
		return;
	}
	xmpp_send(c->xc, st);
	c->st.stanzas_out++;
	c->last_out_us = g_get_monotonic_time();
	schedule_flush(c);
}

void xg_conn_flush(struct xg_conn *c)
{
	for (int i = 0; i < FLUSH_ROUNDS && c->xc && c->online &&
			xmpp_conn_send_queue_len(c->xc) > 0; i++)
		pump(c->gw->ctx, FLUSH_WAIT_MS);
}

void xg_conn_close(struct xg_conn *c)
{
	if (c->retry_timer) {
		g_source_remove(c->retry_timer);
		c->retry_timer = 0;
	}
	if (c->xc && c->online) {
		xmpp_disconnect(c->xc);   /* queues </stream:stream>; the server answers alike */
		pump(c->gw->ctx, 0);
	} else {
		release_xc(c);
	}
}

bool xg_conn_drained(const struct xg_conn *c)
{
	/* After xg_conn_close: libstrophe closes the socket when the server has answered
	 * our </stream:stream> (or after its own 2 s), so everything before it was written. */
	return !c->xc || c->fd < 0 || !xmpp_conn_is_connected(c->xc);
}

void xg_conn_stats(const struct xg_conn *c, struct xg_conn_stats *out)
{
	*out = c->st;
	out->online = c->online;
}
