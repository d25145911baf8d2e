/* test_conn.c: the component stream (gateways/xmpp/conn.c) against a tiny in-test XEP-0114
 * server, and the two facts about Debian's libstrophe 0.12.2 that conn.c works around:
 * a component connection without stream-management state dies on its first stanza, and
 * an fd above select()'s limit must be refused. The gateway's other files are stubs here. */
#include "tt_test.h"
#include "xmpp_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- the fake server: one thread, one connection at a time ---- */

struct fake {
	int listener;
	int port;
	bool bad_secret;           /* answer the handshake with not-authorized */
	gint connections;          /* accepted */
	gint handshakes;           /* answered with <handshake/> */
	GMutex lock;
	GString *received;         /* what the client sent after the handshake (last conn) */
	gint stop;
};

/* Read from s into buf until `needle` is in it (true) or EOF / 20 s (false). */
static bool read_until(int s, GString *buf, const char *needle)
{
	gint64 end = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
	while (!strstr(buf->str, needle)) {
		if (g_get_monotonic_time() > end)
			return false;
		fd_set r;
		FD_ZERO(&r);
		FD_SET(s, &r);
		struct timeval tv = { 0, 100000 };
		if (select(s + 1, &r, NULL, NULL, &tv) <= 0)
			continue;
		char tmp[2048];
		ssize_t n = read(s, tmp, sizeof tmp);
		if (n <= 0)
			return false;
		g_string_append_len(buf, tmp, n);
	}
	return true;
}

static void send_str(int s, const char *str)
{
	size_t len = strlen(str);
	while (len) {
		ssize_t n = write(s, str, len);
		if (n <= 0)
			return;
		str += n;
		len -= (size_t)n;
	}
}

static void serve(struct fake *f, int s)
{
	GString *buf = g_string_new(NULL);
	if (!read_until(s, buf, "<stream:stream") || !read_until(s, buf, ">"))
		goto out;
	send_str(s, "<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' "
		    "xmlns:stream='http://etherx.jabber.org/streams' id='fake1' "
		    "from='conference.test'>");
	if (!read_until(s, buf, "</handshake>"))
		goto out;
	if (f->bad_secret) {
		send_str(s, "<stream:error><not-authorized "
			    "xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>"
			    "</stream:stream>");
		goto out;
	}
	send_str(s, "<handshake/>");
	g_atomic_int_inc(&f->handshakes);
	send_str(s, "<message from='alice@test/x' to='room@conference.test' type='groupchat'>"
		    "<body>hello component</body></message>");
	g_string_truncate(buf, 0);
	/* Record what the client sends until it closes the stream or the connection. */
	while (!g_atomic_int_get(&f->stop)) {
		fd_set r;
		FD_ZERO(&r);
		FD_SET(s, &r);
		struct timeval tv = { 0, 100000 };
		if (select(s + 1, &r, NULL, NULL, &tv) <= 0)
			continue;
		char tmp[2048];
		ssize_t n = read(s, tmp, sizeof tmp);
		if (n <= 0)
			break;
		g_mutex_lock(&f->lock);
		g_string_append_len(f->received, tmp, n);
		bool closed = strstr(f->received->str, "</stream:stream>") != NULL;
		g_mutex_unlock(&f->lock);
		if (closed) {
			send_str(s, "</stream:stream>");
			break;
		}
	}
out:
	g_string_free(buf, TRUE);
	close(s);
}

static gpointer fake_run(gpointer data)
{
	struct fake *f = data;
	while (!g_atomic_int_get(&f->stop)) {
		fd_set r;
		FD_ZERO(&r);
		FD_SET(f->listener, &r);
		struct timeval tv = { 0, 100000 };
		if (select(f->listener + 1, &r, NULL, NULL, &tv) <= 0)
			continue;
		int s = accept(f->listener, NULL, NULL);
		if (s < 0)
			continue;
		g_atomic_int_inc(&f->connections);
		g_mutex_lock(&f->lock);
		g_string_truncate(f->received, 0);
		g_mutex_unlock(&f->lock);
		serve(f, s);
	}
	return NULL;
}

static GThread *fake_start(struct fake *f)
{
	memset(f, 0, sizeof *f);
	g_mutex_init(&f->lock);
	f->received = g_string_new(NULL);
	f->listener = socket(AF_INET, SOCK_STREAM, 0);
	TT_ASSERT(f->listener >= 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	TT_ASSERT(bind(f->listener, (struct sockaddr *)&a, sizeof a) == 0);
	TT_ASSERT(listen(f->listener, 4) == 0);
	socklen_t len = sizeof a;
	TT_ASSERT(getsockname(f->listener, (struct sockaddr *)&a, &len) == 0);
	f->port = ntohs(a.sin_port);
	return g_thread_new("fake-xmpp", fake_run, f);
}

static void fake_stop(struct fake *f, GThread *t)
{
	g_atomic_int_set(&f->stop, 1);
	g_thread_join(t);
	close(f->listener);
	g_string_free(f->received, TRUE);
	g_mutex_clear(&f->lock);
}

static bool fake_received(struct fake *f, const char *needle)
{
	g_mutex_lock(&f->lock);
	bool r = strstr(f->received->str, needle) != NULL;
	g_mutex_unlock(&f->lock);
	return r;
}

/* ---- stubs for the gateway's other files ---- */

static struct {
	int stanzas, ups, downs;
	char body[256];
} seen;

void xg_stanza_in(struct xg_gw *gw, xmpp_stanza_t *st)
{
	(void)gw;
	seen.stanzas++;
	xmpp_stanza_t *b = xmpp_stanza_get_child_by_name(st, "body");
	char *t = b ? xmpp_stanza_get_text(b) : NULL;
	if (t) {
		g_strlcpy(seen.body, t, sizeof seen.body);
		xmpp_free(xmpp_stanza_get_context(st), t);
	}
}

void xg_muc_link(struct xg_gw *gw, bool up)
{
	(void)gw;
	if (up)
		seen.ups++;
	else
		seen.downs++;
}

void xg_jingle_link(struct xg_gw *gw, bool up)
{
	(void)gw;
	(void)up;
}

/* ---- helpers ---- */

/* TT_STROPHE_DEBUG=1: libstrophe's whole conversation, with milliseconds (where a
 * stream waits shows as a gap). */
static void dbg(void *arg, xmpp_log_level_t level, const char *area, const char *msg)
{
	(void)arg;
	(void)level;
	fprintf(stderr, "%lld %s %s\n", (long long)(g_get_monotonic_time() / 1000 % 100000),
		area, msg);
}
static xmpp_log_t dbg_log = { dbg, NULL };

static void gw_init(struct xg_gw *gw, int port)
{
	memset(gw, 0, sizeof *gw);
	memset(&seen, 0, sizeof seen);
	xmpp_initialize();
	gw->ctx = xmpp_ctx_new(NULL, getenv("TT_STROPHE_DEBUG") ? &dbg_log : NULL);
	gw->cfg.server_host = g_strdup("127.0.0.1");
	gw->cfg.server_port = (unsigned)port;
	gw->cfg.domain = g_strdup("conference.test");
	gw->cfg.secret = g_strdup("s3cret");
	gw->cfg.reconnect_min_s = 1;
	gw->cfg.reconnect_max_s = 2;
	gw->send = xg_conn_route;
	gw->muc = (struct xg_muc *)gw;   /* non-NULL: link reports go to xg_muc_link */
}

static void gw_clear(struct xg_gw *gw)
{
	xg_conn_free(gw->muc_conn);
	xmpp_ctx_free(gw->ctx);
	xmpp_shutdown();
	g_free(gw->cfg.server_host);
	g_free(gw->cfg.domain);
	g_free(gw->cfg.secret);
}

/* Run the default main context until pred(arg) or 30 s; pred's last value. */
static bool loop_until(bool (*pred)(void *), void *arg)
{
	gint64 end = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
	while (!pred(arg) && g_get_monotonic_time() < end) {
		if (!g_main_context_iteration(NULL, FALSE))
			g_usleep(10000);
	}
	return pred(arg);
}

static bool got_stanza(void *arg)
{
	(void)arg;
	return seen.stanzas > 0 && seen.ups > 0;
}

/* ---- libstrophe without the workaround (fact a) ---- */

static int raw_on_stanza(xmpp_conn_t *c, xmpp_stanza_t *st, void *data)
{
	(void)c;
	(void)st;
	*(int *)data = 1;
	return 1;
}

static void raw_on_event(xmpp_conn_t *c, xmpp_conn_event_t ev, int err,
			 xmpp_stream_error_t *se, void *data)
{
	(void)err;
	(void)se;
	if (ev == XMPP_CONN_CONNECT)
		xmpp_handler_add(c, raw_on_stanza, NULL, "message", NULL, data);
}

/* The forked child: a plain libstrophe component, as its documentation shows it. Exits 0
 * once a stanza arrived (libstrophe is fixed), 3 when none came. */
static void raw_component(int port)
{
	/* ASan (or a core dump handler) would turn the crash into an exit code: the default
	 * action, so that the parent sees the signal. */
	signal(SIGSEGV, SIG_DFL);
	xmpp_initialize();
	xmpp_ctx_t *ctx = xmpp_ctx_new(NULL, NULL);
	xmpp_conn_t *c = xmpp_conn_new(ctx);
	xmpp_conn_set_jid(c, "conference.test");
	xmpp_conn_set_pass(c, "s3cret");
	int got = 0;
	if (xmpp_connect_component(c, "127.0.0.1", (unsigned short)port, raw_on_event, &got))
		_exit(4);
	gint64 end = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
	while (!got && g_get_monotonic_time() < end)
		xmpp_run_once(ctx, 50);
	_exit(got ? 0 : 3);
}

TT_TEST(libstrophe_component_without_sm_state_crashes)
{
	struct fake f;
	GThread *t = fake_start(&f);
	pid_t pid = fork();
	TT_ASSERT(pid >= 0);
	if (pid == 0)
		raw_component(f.port);
	int status = 0;
	TT_ASSERT(waitpid(pid, &status, 0) == pid);
	fake_stop(&f, t);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		tt_test_skip("this libstrophe delivers stanzas to a plain component: the "
			     "stream-management workaround in conn.c is no longer needed");
	TT_ASSERT_MSG(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
		      "expected death by SIGSEGV, got status 0x%x", status);
}

/* ---- conn.c (fact a's workaround, stanzas both ways, clean close) ---- */

static bool closed_seen(void *arg)
{
	struct fake *f = arg;
	return fake_received(f, "</stream:stream>");
}

static bool sent_seen(void *arg)
{
	struct fake *f = arg;
	return fake_received(f, "<body>hi back</body>");
}

TT_TEST(component_with_workaround_gets_stanzas)
{
	struct fake f;
	GThread *t = fake_start(&f);
	struct xg_gw gw;
	gw_init(&gw, f.port);
	gw.muc_conn = xg_conn_new(&gw, gw.cfg.domain, gw.cfg.secret);
	TT_ASSERT_MSG(loop_until(got_stanza, NULL), "no stanza; stanzas %d ups %d",
		      seen.stanzas, seen.ups);
	TT_ASSERT_STR_EQ(seen.body, "hello component");
	TT_ASSERT(xg_conn_online(gw.muc_conn));

	/* out: routed by its 'from' domain; one from elsewhere is not sent */
	xmpp_stanza_t *m = xmpp_message_new(gw.ctx, "chat", "alice@test/x", "1");
	xmpp_stanza_set_from(m, "room@conference.test/bob");
	xmpp_message_set_body(m, "hi back");
	xg_send(&gw, m);
	xmpp_stanza_set_from(m, "room@elsewhere.test/bob");
	xg_send(&gw, m);
	xmpp_stanza_release(m);
	TT_ASSERT(loop_until(sent_seen, &f));

	struct xg_conn_stats st;
	xg_conn_stats(gw.muc_conn, &st);
	TT_ASSERT_INT_EQ(st.connects, 1);
	TT_ASSERT_INT_EQ(st.stanzas_in, 1);
	TT_ASSERT_INT_EQ(st.stanzas_out, 1);

	/* stop: the stream is closed cleanly, and nothing reconnects */
	gw.stopping = true;
	xg_conn_flush(gw.muc_conn);
	xg_conn_close(gw.muc_conn);
	TT_ASSERT(loop_until(closed_seen, &f));
	gw_clear(&gw);
	fake_stop(&f, t);
	TT_ASSERT_INT_EQ(g_atomic_int_get(&f.connections), 1);
}

static bool keepalive_seen(void *arg)
{
	struct xg_gw *gw = arg;
	struct xg_conn_stats st;
	xg_conn_stats(gw->muc_conn, &st);
	return st.keepalives >= 2;
}

static bool two_spaces_seen(void *arg)
{
	return fake_received(arg, "  ");
}

/* An idle stream gets a space every keepalive_interval, and only an idle one; with 0, none.
 * A server (or NAT) that drops streams it has not heard from would drop it otherwise:
 * integration_xmpp_idle shows that against Prosody. */
TT_TEST(idle_stream_gets_whitespace_keepalives)
{
	struct fake f;
	GThread *t = fake_start(&f);
	struct xg_gw gw;
	gw_init(&gw, f.port);
	gw.cfg.keepalive_interval_s = 1;
	gw.muc_conn = xg_conn_new(&gw, gw.cfg.domain, gw.cfg.secret);
	TT_ASSERT(loop_until(got_stanza, NULL));
	TT_ASSERT(loop_until(keepalive_seen, &gw));
	TT_ASSERT(loop_until(two_spaces_seen, &f));
	g_mutex_lock(&f.lock);
	bool spaces_only = f.received->len >= 2 && strspn(f.received->str, " ") == f.received->len;
	char *got = g_strdup(f.received->str);
	g_mutex_unlock(&f.lock);
	TT_ASSERT_MSG(spaces_only, "the server received more than spaces: '%s'", got);
	g_free(got);
	struct xg_conn_stats st;
	xg_conn_stats(gw.muc_conn, &st);
	TT_ASSERT_INT_EQ(st.stanzas_out, 0);
	TT_ASSERT_INT_EQ(st.disconnects, 0);

	/* off: nothing is sent in 2.5 s */
	gw.cfg.keepalive_interval_s = 0;
	uint64_t before = st.keepalives;
	gint64 end = g_get_monotonic_time() + 2500 * 1000;
	while (g_get_monotonic_time() < end)
		if (!g_main_context_iteration(NULL, FALSE))
			g_usleep(10000);
	xg_conn_stats(gw.muc_conn, &st);
	TT_ASSERT_INT_EQ(st.keepalives, before);

	gw.stopping = true;
	xg_conn_close(gw.muc_conn);
	TT_ASSERT(loop_until(closed_seen, &f));
	gw_clear(&gw);
	fake_stop(&f, t);
}

static bool two_connections(void *arg)
{
	struct fake *f = arg;
	return g_atomic_int_get(&f->connections) >= 2;
}

TT_TEST(wrong_secret_is_retried)
{
	struct fake f;
	GThread *t = fake_start(&f);
	f.bad_secret = true;
	struct xg_gw gw;
	gw_init(&gw, f.port);
	gw.muc_conn = xg_conn_new(&gw, gw.cfg.domain, gw.cfg.secret);
	TT_ASSERT(loop_until(two_connections, &f));
	struct xg_conn_stats st;
	xg_conn_stats(gw.muc_conn, &st);
	TT_ASSERT(!st.online);
	TT_ASSERT(st.failures >= 1);
	TT_ASSERT(st.reconnects >= 1);
	TT_ASSERT_INT_EQ(seen.ups, 0);
	gw_clear(&gw);
	fake_stop(&f, t);
}

static bool server_down_and_up(void *arg)
{
	struct xg_gw *gw = arg;
	return seen.ups >= 2 && seen.downs >= 1 && xg_conn_online(gw->muc_conn);
}

TT_TEST(reconnects_after_the_server_drops_the_stream)
{
	struct fake f;
	GThread *t = fake_start(&f);
	struct xg_gw gw;
	gw_init(&gw, f.port);
	gw.muc_conn = xg_conn_new(&gw, gw.cfg.domain, gw.cfg.secret);
	TT_ASSERT(loop_until(got_stanza, NULL));
	/* The server ends the stream (as Prosody does when it shuts down). */
	g_atomic_int_set(&f.stop, 1);
	g_thread_join(t);
	g_atomic_int_set(&f.stop, 0);
	t = g_thread_new("fake-xmpp", fake_run, &f);
	TT_ASSERT_MSG(loop_until(server_down_and_up, &gw), "ups %d downs %d", seen.ups,
		      seen.downs);
	struct xg_conn_stats st;
	xg_conn_stats(gw.muc_conn, &st);
	TT_ASSERT_INT_EQ(st.connects, 2);
	TT_ASSERT_INT_EQ(st.disconnects, 1);
	gw_clear(&gw);
	fake_stop(&f, t);
}

/* ---- fact b: fds above select()'s limit ---- */

static bool refused_once(void *arg)
{
	struct xg_gw *gw = arg;
	struct xg_conn_stats st;
	xg_conn_stats(gw->muc_conn, &st);
	return st.fd_refused >= 1;
}

static bool online(void *arg)
{
	struct xg_gw *gw = arg;
	return xg_conn_online(gw->muc_conn);
}

TT_TEST(fd_above_select_limit_is_refused)
{
	struct rlimit rl;
	TT_ASSERT(getrlimit(RLIMIT_NOFILE, &rl) == 0);
	if (rl.rlim_cur < FD_SETSIZE + 64) {
		rl.rlim_cur = rl.rlim_max < FD_SETSIZE + 64 ? rl.rlim_max : FD_SETSIZE + 64;
		if (rl.rlim_cur < FD_SETSIZE + 16 || setrlimit(RLIMIT_NOFILE, &rl))
			tt_test_skip("cannot raise RLIMIT_NOFILE above FD_SETSIZE");
	}
	struct fake f;
	GThread *t = fake_start(&f);
	struct xg_gw gw;
	gw_init(&gw, f.port);
	g_main_context_iteration(NULL, FALSE);   /* GLib's own fds before the filler */
	/* Every fd below FD_SETSIZE taken: the next socket is FD_SETSIZE or above. */
	GArray *fill = g_array_new(FALSE, FALSE, sizeof(int));
	for (;;) {
		int fd = open("/dev/null", O_RDONLY);
		if (fd < 0)
			break;
		if (fd >= FD_SETSIZE) {
			close(fd);
			break;
		}
		g_array_append_val(fill, fd);
	}
	gw.muc_conn = xg_conn_new(&gw, gw.cfg.domain, gw.cfg.secret);
	TT_ASSERT(loop_until(refused_once, &gw));
	TT_ASSERT(!xg_conn_online(gw.muc_conn));
	TT_ASSERT_INT_EQ(g_atomic_int_get(&f.connections), 0);
	/* Some fds free again: the retry connects. */
	for (guint i = 0; i < fill->len; i++)
		close(g_array_index(fill, int, i));
	g_array_free(fill, TRUE);
	TT_ASSERT(loop_until(online, &gw));
	gw_clear(&gw);
	fake_stop(&f, t);
}

/* ---- backoff ---- */

TT_TEST(backoff_doubles_with_jitter_within_bounds)
{
	TT_ASSERT_INT_EQ(xg_conn_backoff_ms(2, 120, 0, 0.0), 2000);
	TT_ASSERT_INT_EQ(xg_conn_backoff_ms(2, 120, 0, 0.999), 2000);
	TT_ASSERT_INT_EQ(xg_conn_backoff_ms(2, 120, 3, 0.0), 8000);
	TT_ASSERT_INT_EQ(xg_conn_backoff_ms(2, 120, 3, 1.0), 16000);
	TT_ASSERT_INT_EQ(xg_conn_backoff_ms(2, 120, 40, 0.0), 60000);
	TT_ASSERT_INT_EQ(xg_conn_backoff_ms(2, 120, 40, 1.0), 120000);
	TT_ASSERT_INT_EQ(xg_conn_backoff_ms(5, 5, 7, 0.5), 5000);
	for (unsigned a = 0; a < 50; a++) {
		unsigned ms = xg_conn_backoff_ms(1, 30, a, g_random_double());
		TT_ASSERT(ms >= 1000 && ms <= 30000);
	}
}
