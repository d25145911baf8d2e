/* test_conn.c: the connection state machine against an in-process fake server that plays
 * a transcript (tests/unit/irc/transcripts/), the way a real server would. */
#include "tt_test.h"
#include "conn.h"
#include "flood.h"

#include <gio/gio.h>

#ifndef TT_IRC_TRANSCRIPTS
#error "TT_IRC_TRANSCRIPTS must name the transcripts folder"
#endif

struct fake {
	GSocket *listener;
	int port;
	char **script;
	char *fail;           /* first mismatch, or NULL */
	gint done;
};

static GSocket *fake_accept(struct fake *f)
{
	GError *err = NULL;
	GSocket *s = g_socket_accept(f->listener, NULL, &err);
	if (s)
		g_socket_set_timeout(s, 10);
	g_clear_error(&err);
	return s;
}

/* Reads one line (without CR LF) into line; false at EOF or error. */
static bool fake_read_line(GSocket *s, GString *buf, GString *line)
{
	for (;;) {
		char *nl = memchr(buf->str, '\n', buf->len);
		if (nl) {
			size_t n = (size_t)(nl - buf->str);
			g_string_assign(line, "");
			g_string_append_len(line, buf->str, (gssize)(n && nl[-1] == '\r' ? n - 1 : n));
			g_string_erase(buf, 0, (gssize)n + 1);
			return true;
		}
		char tmp[1024];
		gssize r = g_socket_receive(s, tmp, sizeof tmp, NULL, NULL);
		if (r <= 0)
			return false;
		g_string_append_len(buf, tmp, r);
	}
}

static gpointer fake_run(gpointer data)
{
	struct fake *f = data;
	GSocket *s = NULL;
	GString *buf = g_string_new(NULL), *line = g_string_new(NULL);
	for (char **p = f->script; *p && !f->fail; p++) {
		const char *l = *p;
		if (!*l || l[0] == '#')
			continue;
		if (l[0] == 'A') {
			g_clear_object(&s);
			g_string_truncate(buf, 0);
			s = fake_accept(f);
			if (!s)
				f->fail = g_strdup("accept failed");
		} else if (l[0] == 'X') {
			g_socket_close(s, NULL);
			g_clear_object(&s);
		} else if (l[0] == 'S') {
			char *out = g_strdup_printf("%s\r\n", l + 3);
			g_socket_send(s, out, strlen(out), NULL, NULL);
			g_free(out);
		} else if (l[0] == 'C') {
			if (!fake_read_line(s, buf, line))
				f->fail = g_strdup_printf("EOF, expected \"%s\"", l + 3);
			else if (strcmp(line->str, l + 3) != 0)
				f->fail = g_strdup_printf("got \"%s\", expected \"%s\"", line->str,
							  l + 3);
		} else if (l[0] == 'E') {
			if (fake_read_line(s, buf, line))
				f->fail = g_strdup_printf("got \"%s\", expected EOF", line->str);
		} else if (l[0] == 'Q') {
			/* "Q: ms": the client must stay silent that long (a full window) */
			int64_t end = g_get_monotonic_time() + g_ascii_strtoll(l + 3, NULL, 10) * 1000;
			int64_t left;
			while (!f->fail && (left = end - g_get_monotonic_time()) > 0) {
				if (memchr(buf->str, '\n', buf->len))
					f->fail = g_strdup_printf("got \"%.*s\" while it should wait",
								  (int)buf->len, buf->str);
				else if (g_socket_condition_timed_wait(s, G_IO_IN, left, NULL, NULL)) {
					char tmp[1024];
					gssize r = g_socket_receive(s, tmp, sizeof tmp, NULL, NULL);
					if (r <= 0)
						f->fail = g_strdup("EOF while it should wait");
					else
						g_string_append_len(buf, tmp, r);
				}
			}
		}
	}
	g_clear_object(&s);
	g_string_free(buf, TRUE);
	g_string_free(line, TRUE);
	g_atomic_int_set(&f->done, 1);
	return NULL;
}

static void fake_start(struct fake *f, const char *name)
{
	char *path = g_build_filename(TT_IRC_TRANSCRIPTS, name, NULL);
	char *text = NULL;
	TT_ASSERT_MSG(g_file_get_contents(path, &text, NULL, NULL), "read %s", path);
	f->script = g_strsplit(text, "\n", -1);
	g_free(text);
	g_free(path);
	f->listener = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
				   G_SOCKET_PROTOCOL_TCP, NULL);
	GInetAddress *lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	GSocketAddress *sa = g_inet_socket_address_new(lo, 0);
	TT_ASSERT(g_socket_bind(f->listener, sa, TRUE, NULL));
	TT_ASSERT(g_socket_listen(f->listener, NULL));
	g_socket_set_timeout(f->listener, 10);
	GSocketAddress *bound = g_socket_get_local_address(f->listener, NULL);
	f->port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
	g_object_unref(bound);
	g_object_unref(sa);
	g_object_unref(lo);
	g_thread_unref(g_thread_new("fake-irc", fake_run, f));
}

static void fake_free(struct fake *f)
{
	g_strfreev(f->script);
	g_socket_close(f->listener, NULL);
	g_object_unref(f->listener);
	g_free(f->fail);
}

struct seen {
	int registered, closed, messages;
	int last_err;
	bool send_burst;
	bool done_notice;
	bool join;             /* JOIN #t at every registration */
	int say_n;             /* lines "PRIVMSG #t :<pad>N" after the first registration */
	const char *pad;
	unsigned undelivered;  /* lines reported */
	unsigned undelivered_calls;
	int undelivered_err;
};

static void on_registered(struct tt__irc_conn *c, void *arg)
{
	struct seen *s = arg;
	s->registered++;
	if (s->send_burst && s->registered == 2)
		for (int i = 0; i < 6; i++)
			TT_ASSERT_INT_EQ(tt__irc_conn_send(c, "PRIVMSG #t :%d", i), 0);
	if (s->join)
		TT_ASSERT_INT_EQ(tt__irc_conn_send(c, "JOIN #t"), 0);
	for (int i = 0; s->registered == 1 && i < s->say_n; i++)
		TT_ASSERT_INT_EQ(tt__irc_conn_send(c, "PRIVMSG #t :%s%d", s->pad ? s->pad : "", i),
				 0);
}

static void on_message(struct tt__irc_conn *c, const struct tt__irc_msg *m, void *arg)
{
	struct seen *s = arg;
	s->messages++;
	TT_ASSERT_MSG(strcmp(m->command, "PING") && strcmp(m->command, "CAP"),
		      "consumed command %s leaked", m->command);
	if (strcmp(m->command, "NOTICE") == 0)
		s->done_notice = true;
}

static void on_closed(struct tt__irc_conn *c, int err, void *arg)
{
	struct seen *s = arg;
	s->closed++;
	s->last_err = err;
}

static void on_undelivered(struct tt__irc_conn *c, const char *target, unsigned lines,
			   int err, void *arg)
{
	struct seen *s = arg;
	TT_ASSERT_STR_EQ(target, "#t");
	s->undelivered += lines;
	s->undelivered_calls++;
	s->undelivered_err = err;
}

static const struct tt__irc_conn_ops ops = {on_registered, on_message, on_closed,
					    on_undelivered};

static void run_until(struct fake *f, bool (*cond)(struct seen *), struct seen *s)
{
	int64_t end = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;  /* generous */
	while (g_get_monotonic_time() < end && !(g_atomic_int_get(&f->done) && cond(s)))
		if (!g_main_context_iteration(NULL, FALSE))
			g_usleep(2000);
	TT_ASSERT_MSG(!f->fail, "transcript: %s", f->fail);
	TT_ASSERT_MSG(g_atomic_int_get(&f->done), "transcript not finished");
}

static struct tt__irc_conn_cfg test_cfg(int port)
{
	struct tt__irc_conn_cfg cfg = {
		.server = "127.0.0.1", .port = port, .nick = "tutti", .username = "tutti",
		.realname = "tutti bridge", .flood_burst = 10, .flood_interval_ms = 20,
		.reconnect_min_ms = 20, .reconnect_max_ms = 100, .ping_interval_ms = 300,
		.ping_timeout_ms = 10000, .register_timeout_ms = 10000,
	};
	return cfg;
}

static bool got_notice(struct seen *s)
{
	return s->done_notice;
}

static bool got_closed(struct seen *s)
{
	return s->closed > 0;
}

TT_TEST(irc_conn_sasl_plain_and_nick_collision)
{
	struct fake f = {0};
	fake_start(&f, "sasl_plain_nick_collision.txt");
	struct tt__irc_conn_cfg cfg = test_cfg(f.port);
	cfg.sasl = TT_IRC_SASL_PLAIN;
	cfg.sasl_password = "secret";
	struct seen s = {0};
	struct tt__irc_conn *c = NULL;
	TT_ASSERT_INT_EQ(tt__irc_conn_alloc(&c, &cfg, &ops, &s), 0);
	tt__irc_conn_start(c);
	run_until(&f, got_notice, &s);
	TT_ASSERT_INT_EQ(s.registered, 1);
	TT_ASSERT(tt__irc_conn_registered(c));
	TT_ASSERT_STR_EQ(tt__irc_conn_nick(c), "tutti1");
	TT_ASSERT(tt__irc_conn_has_cap(c, "server-time"));
	TT_ASSERT(tt__irc_conn_has_cap(c, "sasl"));
	TT_ASSERT(!tt__irc_conn_has_cap(c, "echo-message"));
	TT_ASSERT_STR_EQ(tt__irc_conn_isupport(c, "NICKLEN"), "9");
	TT_ASSERT(tt__irc_conn_lag_ms(c) >= 0);
	tt__irc_conn_free(c);
	fake_free(&f);
}

TT_TEST(irc_conn_no_cap_reconnect_and_flood)
{
	struct fake f = {0};
	fake_start(&f, "no_cap_reconnect_flood.txt");
	struct tt__irc_conn_cfg cfg = test_cfg(f.port);
	cfg.flood_burst = 3;
	struct seen s = {.send_burst = true};
	struct tt__irc_conn *c = NULL;
	TT_ASSERT_INT_EQ(tt__irc_conn_alloc(&c, &cfg, &ops, &s), 0);
	tt__irc_conn_start(c);
	run_until(&f, got_notice, &s);
	TT_ASSERT_INT_EQ(s.registered, 2);
	TT_ASSERT_INT_EQ(s.closed, 1);
	TT_ASSERT(s.last_err < 0);
	tt__irc_conn_free(c);
	fake_free(&f);
}

TT_TEST(irc_conn_sasl_failure_hangs_up)
{
	struct fake f = {0};
	fake_start(&f, "sasl_external_fails.txt");
	struct tt__irc_conn_cfg cfg = test_cfg(f.port);
	cfg.sasl = TT_IRC_SASL_EXTERNAL;
	cfg.reconnect_min_ms = 60000;   /* no second attempt during the test */
	cfg.reconnect_max_ms = 60000;
	struct seen s = {0};
	struct tt__irc_conn *c = NULL;
	TT_ASSERT_INT_EQ(tt__irc_conn_alloc(&c, &cfg, &ops, &s), 0);
	tt__irc_conn_start(c);
	run_until(&f, got_closed, &s);
	TT_ASSERT_INT_EQ(s.registered, 0);
	TT_ASSERT_INT_EQ(s.last_err, -EACCES);
	TT_ASSERT(!tt__irc_conn_registered(c));
	tt__irc_conn_free(c);
	fake_free(&f);
}

TT_TEST(irc_conn_regains_its_nick)
{
	struct fake f = {0};
	fake_start(&f, "regain_nick.txt");
	struct tt__irc_conn_cfg cfg = test_cfg(f.port);
	cfg.ping_interval_ms = 10000;   /* no lag probe in this transcript */
	cfg.regain_ms = 100;
	struct seen s = {0};
	struct tt__irc_conn *c = NULL;
	TT_ASSERT_INT_EQ(tt__irc_conn_alloc(&c, &cfg, &ops, &s), 0);
	tt__irc_conn_start(c);
	run_until(&f, got_notice, &s);
	TT_ASSERT_STR_EQ(tt__irc_conn_nick(c), "tutti");
	TT_ASSERT_INT_EQ(s.closed, 0);
	tt__irc_conn_free(c);
	fake_free(&f);
}

TT_TEST(irc_conn_refuses_bad_lines)
{
	struct tt__irc_conn_cfg cfg = test_cfg(1);
	struct seen s = {0};
	struct tt__irc_conn *c = NULL;
	TT_ASSERT_INT_EQ(tt__irc_conn_alloc(&c, &cfg, &ops, &s), 0);
	TT_ASSERT_INT_EQ(tt__irc_conn_send(c, "PRIVMSG #a :x"), -ENOTCONN);
	tt__irc_conn_free(c);
	cfg.port = 0;
	c = NULL;
	TT_ASSERT_INT_EQ(tt__irc_conn_alloc(&c, &cfg, &ops, &s), -EINVAL);
	TT_ASSERT(c == NULL);
}

TT_TEST(irc_backoff_grows_with_jitter)
{
	TT_ASSERT_INT_EQ(tt__irc_backoff_ms(1000, 60000, 0, 0.0), 500);
	TT_ASSERT_INT_EQ(tt__irc_backoff_ms(1000, 60000, 0, 0.999999), 999);
	TT_ASSERT_INT_EQ(tt__irc_backoff_ms(1000, 60000, 3, 0.0), 4000);
	TT_ASSERT_INT_EQ(tt__irc_backoff_ms(1000, 60000, 30, 0.5), 45000);
	TT_ASSERT_INT_EQ(tt__irc_backoff_ms(1000, 60000, 1000, 0.0), 30000);
}

/* Bug: the connect timeout stayed on the socket (g_socket_client_set_timeout), so an idle
 * read failed with "Socket I/O timed out" after that long, before our PING went out:
 * every quiet channel dropped and rejoined each minute. */
TT_TEST(irc_conn_idle_link_pings_and_stays)
{
	struct fake f = {0};
	fake_start(&f, "idle_pings.txt");
	struct tt__irc_conn_cfg cfg = test_cfg(f.port);
	cfg.register_timeout_ms = 1000;   /* shorter than the idle gaps */
	cfg.ping_interval_ms = 1500;
	cfg.ping_timeout_ms = 2500;       /* three rounds: 4.5 s idle, past both */
	struct seen s = {0};
	struct tt__irc_conn *c = NULL;
	TT_ASSERT_INT_EQ(tt__irc_conn_alloc(&c, &cfg, &ops, &s), 0);
	tt__irc_conn_start(c);
	run_until(&f, got_notice, &s);
	TT_ASSERT_INT_EQ(s.closed, 0);
	TT_ASSERT_INT_EQ(s.registered, 1);
	TT_ASSERT(tt__irc_conn_registered(c));
	tt__irc_conn_free(c);
	fake_free(&f);
}

TT_TEST(irc_conn_silent_server_is_dropped)
{
	struct fake f = {0};
	fake_start(&f, "silent_server.txt");
	struct tt__irc_conn_cfg cfg = test_cfg(f.port);
	cfg.ping_interval_ms = 300;
	cfg.ping_timeout_ms = 1500;
	struct seen s = {0};
	struct tt__irc_conn *c = NULL;
	TT_ASSERT_INT_EQ(tt__irc_conn_alloc(&c, &cfg, &ops, &s), 0);
	int64_t t0 = g_get_monotonic_time();
	tt__irc_conn_start(c);
	run_until(&f, got_notice, &s);
	TT_ASSERT_INT_EQ(s.closed, 1);
	TT_ASSERT_INT_EQ(s.last_err, -ETIMEDOUT);
	TT_ASSERT((g_get_monotonic_time() - t0) / 1000 >= 1500);
	tt__irc_conn_free(c);
	fake_free(&f);
}

TT_TEST(irc_conn_ack_window_bounds_unprocessed_bytes)
{
	struct fake f = {0};
	fake_start(&f, "ack_window.txt");
	struct tt__irc_conn_cfg cfg = test_cfg(f.port);
	cfg.ping_interval_ms = 10000;     /* no lag probe inside the silences */
	cfg.ack_window = 400;
	char pad[86];
	memset(pad, 'x', 85);
	pad[85] = '\0';
	struct seen s = {.join = true, .say_n = 8, .pad = pad};
	struct tt__irc_conn *c = NULL;
	TT_ASSERT_INT_EQ(tt__irc_conn_alloc(&c, &cfg, &ops, &s), 0);
	tt__irc_conn_start(c);
	run_until(&f, got_notice, &s);
	TT_ASSERT_INT_EQ(s.closed, 0);
	TT_ASSERT_INT_EQ(s.undelivered, 0);
	tt__irc_conn_free(c);
	fake_free(&f);
}

TT_TEST(irc_conn_unconfirmed_lines_survive_a_reconnect)
{
	struct fake f = {0};
	fake_start(&f, "held_over_reconnect.txt");
	struct tt__irc_conn_cfg cfg = test_cfg(f.port);
	cfg.ping_interval_ms = 10000;
	struct seen s = {.join = true, .say_n = 3};
	struct tt__irc_conn *c = NULL;
	TT_ASSERT_INT_EQ(tt__irc_conn_alloc(&c, &cfg, &ops, &s), 0);
	tt__irc_conn_start(c);
	run_until(&f, got_notice, &s);
	TT_ASSERT_INT_EQ(s.registered, 2);
	TT_ASSERT_INT_EQ(s.undelivered, 0);
	tt__irc_conn_free(c);
	fake_free(&f);
}

static bool got_undelivered(struct seen *s)
{
	return s->undelivered > 0;
}

TT_TEST(irc_conn_lines_held_too_long_are_reported)
{
	struct fake f = {0};
	fake_start(&f, "held_expire.txt");
	struct tt__irc_conn_cfg cfg = test_cfg(f.port);
	cfg.ping_interval_ms = 10000;
	cfg.hold_ms = 100;
	cfg.reconnect_min_ms = cfg.reconnect_max_ms = 60000;  /* not back in time */
	struct seen s = {.join = true, .say_n = 3};
	struct tt__irc_conn *c = NULL;
	TT_ASSERT_INT_EQ(tt__irc_conn_alloc(&c, &cfg, &ops, &s), 0);
	tt__irc_conn_start(c);
	run_until(&f, got_undelivered, &s);
	TT_ASSERT_INT_EQ(s.undelivered, 3);
	TT_ASSERT_INT_EQ(s.undelivered_err, -ETIMEDOUT);
	tt__irc_conn_free(c);
	fake_free(&f);
}

static bool got_registered(struct seen *s)
{
	return s->registered > 0;
}

/* A conn registered with the fake server and paced to a line a minute once its burst is
 * spent, so lines sent now stay queued; queue_max 0 keeps the default. */
static struct tt__irc_conn *slow_conn(struct fake *f, struct seen *s, int queue_max)
{
	struct tt__irc_conn_cfg cfg = test_cfg(f->port);
	cfg.ping_interval_ms = 10000;
	cfg.flood_burst = 6;              /* registration, JOIN, one line; then one a minute */
	cfg.flood_interval_ms = 60000;
	if (queue_max)
		cfg.queue_max = queue_max;
	cfg.reconnect_min_ms = cfg.reconnect_max_ms = 60000;
	struct tt__irc_conn *c = NULL;
	TT_ASSERT_INT_EQ(tt__irc_conn_alloc(&c, &cfg, &ops, s), 0);
	tt__irc_conn_start(c);
	int64_t end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
	while (!got_registered(s) && g_get_monotonic_time() < end)
		g_main_context_iteration(NULL, TRUE);
	TT_ASSERT(tt__irc_conn_registered(c));
	return c;
}

TT_TEST(irc_conn_quit_reports_waiting_lines)
{
	struct fake f = {0};
	fake_start(&f, "quit_waiting.txt");
	struct seen s = {.join = true};
	struct tt__irc_conn *c = slow_conn(&f, &s, 0);
	for (int i = 0; i < 4; i++)
		TT_ASSERT_INT_EQ(tt__irc_conn_send(c, "PRIVMSG #t :%d", i), 0);
	tt__irc_conn_quit(c, "bye");
	/* one went out with the last token, three were waiting */
	TT_ASSERT_INT_EQ(s.undelivered, 3);
	TT_ASSERT_INT_EQ(s.undelivered_err, -ESHUTDOWN);
	run_until(&f, got_registered, &s);
	tt__irc_conn_free(c);
	fake_free(&f);
}

TT_TEST(irc_conn_overflow_reported_once_per_paste)
{
	struct fake f = {0};
	fake_start(&f, "quit_waiting.txt");
	struct seen s = {.join = true};
	struct tt__irc_conn *c = slow_conn(&f, &s, 5);
	for (int i = 0; i < 10; i++)   /* 0 goes out, 1-4 are pushed out, 5-9 wait */
		TT_ASSERT_INT_EQ(tt__irc_conn_send(c, "PRIVMSG #t :%d", i), 0);
	TT_ASSERT_INT_EQ(s.undelivered, 0);  /* not from inside the send */
	int64_t end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
	while (!s.undelivered && g_get_monotonic_time() < end)
		g_main_context_iteration(NULL, TRUE);
	TT_ASSERT_INT_EQ(s.undelivered, 4);
	TT_ASSERT_INT_EQ(s.undelivered_calls, 1);
	TT_ASSERT_INT_EQ(s.undelivered_err, -ENOBUFS);
	tt__irc_conn_quit(c, "bye");
	TT_ASSERT_INT_EQ(s.undelivered, 9);
	TT_ASSERT_INT_EQ(s.undelivered_calls, 2);
	run_until(&f, got_registered, &s);
	tt__irc_conn_free(c);
	fake_free(&f);
}
