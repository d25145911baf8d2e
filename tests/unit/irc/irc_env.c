/* irc_env.c: ngircd and raw IRC clients for gateway tests (see irc_env.h). */
#include "irc_env.h"
#include "tt_test.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

static GPtrArray *clients;

static int free_port(void)
{
	GSocket *s = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
				  G_SOCKET_PROTOCOL_TCP, NULL);
	GInetAddress *lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	GSocketAddress *sa = g_inet_socket_address_new(lo, 0);
	g_socket_bind(s, sa, TRUE, NULL);
	GSocketAddress *b = g_socket_get_local_address(s, NULL);
	int port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(b));
	g_object_unref(b);
	g_object_unref(sa);
	g_object_unref(lo);
	g_socket_close(s, NULL);
	g_object_unref(s);
	return port;
}

static bool port_open(int port)
{
	GSocketClient *cl = g_socket_client_new();
	GSocketConnection *c = g_socket_client_connect_to_host(cl, "127.0.0.1", (guint16)port,
							       NULL, NULL);
	bool ok = c != NULL;
	if (c)
		g_io_stream_close(G_IO_STREAM(c), NULL, NULL);
	g_clear_object(&c);
	g_object_unref(cl);
	return ok;
}

static void make_cert(const char *dir)
{
	char *cmd = g_strdup_printf(
		"openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 "
		"-addext subjectAltName=IP:127.0.0.1,DNS:localhost "
		"-keyout %s/key.pem -out %s/ca.pem 2>/dev/null", dir, dir);
	int st = system(cmd);
	g_free(cmd);
	if (st != 0)
		tt_test_skip("openssl could not make a certificate");
}

/* In the spawned child: the server dies with the test process, even when the test fails
 * mid-way or the runner's timeout kills it (no cleanup code runs then). ngircd started as
 * root drops to "nobody", which clears the parent-death signal, so a shell that keeps it
 * sits in between and kills ngircd when it gets SIGTERM. */
static void die_with_parent(gpointer unused)
{
	prctl(PR_SET_PDEATHSIG, SIGTERM);
}

static const char guard[] =
	"trap 'kill $c 2>/dev/null; wait $c; exit 0' TERM INT; \"$0\" \"$@\" & c=$!; wait $c";

void ngircd_start(struct ngircd *s, int port, bool tls)
{
	if (!g_file_test("/usr/sbin/ngircd", G_FILE_TEST_IS_EXECUTABLE))
		tt_test_skip("ngircd not installed (Debian package ngircd)");
	if (!s->dir) {
		s->dir = g_dir_make_tmp("tt-irc-XXXXXX", NULL);
		chmod(s->dir, 0755);  /* ngircd drops to nobody */
		s->port = port > 0 ? port : free_port();
		s->tls = tls;
		if (tls) {
			make_cert(s->dir);
			s->tls_port = free_port();
		}
	}
	GString *conf = g_string_new(NULL);
	g_string_append_printf(conf,
		"[Global]\nName = irc.test\nInfo = tutti test\nListen = 127.0.0.1\n"
		"Ports = %d\nMotdPhrase = hi\n"
		"[Limits]\nMaxConnectionsIP = 0\nMaxNickLength = 30\n"
		"[Options]\nPAM = no\nIdent = no\nDNS = no\n", s->port);
	if (s->tls)
		g_string_append_printf(conf, "[SSL]\nCertFile = %s/ca.pem\nKeyFile = %s/key.pem\n"
				       "Ports = %d\n", s->dir, s->dir, s->tls_port);
	char *path = g_build_filename(s->dir, "ngircd.conf", NULL);
	g_file_set_contents(path, conf->str, -1, NULL);
	g_string_free(conf, TRUE);
	char *argv[] = {"/bin/sh", "-c", (char *)guard, "/usr/sbin/ngircd", "-n", "-f", path, NULL};
	GError *err = NULL;
	TT_ASSERT_MSG(g_spawn_async(NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD |
				    G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
				    die_with_parent, NULL, &s->pid, &err), "spawn ngircd: %s",
		      err ? err->message : "?");
	g_free(path);
	int64_t end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
	while (!port_open(s->port) && g_get_monotonic_time() < end)
		g_usleep(20000);
	TT_ASSERT_MSG(port_open(s->port), "ngircd did not listen on %d", s->port);
	while (s->tls && !port_open(s->tls_port) && g_get_monotonic_time() < end)
		g_usleep(20000);
}

void ngircd_stop(struct ngircd *s)
{
	if (s->pid) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, NULL, 0);
		g_spawn_close_pid(s->pid);
		s->pid = 0;
	}
}

void ngircd_free(struct ngircd *s)
{
	ngircd_stop(s);
	if (s->dir) {
		const char *files[] = {"ngircd.conf", "ca.pem", "key.pem"};
		for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
			char *f = g_build_filename(s->dir, files[i], NULL);
			g_remove(f);
			g_free(f);
		}
		g_rmdir(s->dir);
		g_free(s->dir);
		s->dir = NULL;
	}
}

static void rawc_read(struct rawc *c)
{
	char tmp[4096];
	for (;;) {
		if (!c->sock)
			return;
		gssize n = g_socket_receive(c->sock, tmp, sizeof tmp, NULL, NULL);
		if (n <= 0)
			break;
		g_string_append_len(c->buf, tmp, n);
	}
	char *nl;
	while ((nl = memchr(c->buf->str, '\n', c->buf->len))) {
		size_t n = (size_t)(nl - c->buf->str);
		char *line = g_strndup(c->buf->str, n && nl[-1] == '\r' ? n - 1 : n);
		g_string_erase(c->buf, 0, (gssize)n + 1);
		if (g_str_has_prefix(line, "PING ")) {
			char *pong = g_strdup_printf("PONG %s\r\n", line + 5);
			g_socket_send(c->sock, pong, strlen(pong), NULL, NULL);
			g_free(pong);
		}
		g_ptr_array_add(c->lines, line);
	}
}

void pump_for_ms(int ms)
{
	int64_t end = g_get_monotonic_time() + (int64_t)ms * 1000;
	while (g_get_monotonic_time() < end) {
		if (!g_main_context_iteration(NULL, FALSE))
			g_usleep(2000);
		for (guint i = 0; clients && i < clients->len; i++)
			rawc_read(clients->pdata[i]);
	}
}

bool pump_until(bool (*cond)(void *), void *arg, int timeout_s)
{
	int64_t end = g_get_monotonic_time() + (int64_t)timeout_s * G_USEC_PER_SEC;
	while (g_get_monotonic_time() < end) {
		if (cond(arg))
			return true;
		pump_for_ms(5);
	}
	return cond(arg);
}

void pump_register(struct rawc *c)
{
	if (!clients)
		clients = g_ptr_array_new();
	g_ptr_array_add(clients, c);
}

void rawc_send(struct rawc *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *l = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	char *line = g_strdup_printf("%s\r\n", l);
	g_socket_set_blocking(c->sock, TRUE);
	g_socket_send(c->sock, line, strlen(line), NULL, NULL);
	g_socket_set_blocking(c->sock, FALSE);
	g_free(line);
	g_free(l);
}

static const char *find_line(struct rawc *c, guint *from, va_list ap0)
{
	for (guint i = *from; i < c->lines->len; i++) {
		const char *l = c->lines->pdata[i];
		va_list ap;
		va_copy(ap, ap0);
		bool all = true;
		for (const char *s = va_arg(ap, const char *); s; s = va_arg(ap, const char *))
			all = all && strstr(l, s);
		va_end(ap);
		if (all) {
			*from = i + 1;
			return l;
		}
	}
	return NULL;
}

const char *rawc_wait(struct rawc *c, guint *from, int timeout_s, ...)
{
	va_list ap;
	va_start(ap, timeout_s);
	int64_t end = g_get_monotonic_time() + (int64_t)timeout_s * G_USEC_PER_SEC;
	const char *l = NULL;
	while (!(l = find_line(c, from, ap)) && g_get_monotonic_time() < end)
		pump_for_ms(5);
	va_end(ap);
	if (!l) {
		va_start(ap, timeout_s);
		const char *first = va_arg(ap, const char *);
		va_end(ap);
		for (guint i = c->lines->len > 20 ? c->lines->len - 20 : 0; i < c->lines->len; i++)
			fprintf(stderr, "  %s got: %s\n", c->nick, (char *)c->lines->pdata[i]);
		TT_ASSERT_MSG(l, "%s: no line with \"%s\" within %d s", c->nick, first, timeout_s);
	}
	return l;
}

int rawc_count(struct rawc *c, const char *sub)
{
	int n = 0;
	for (guint i = 0; i < c->lines->len; i++)
		n += strstr(c->lines->pdata[i], sub) != NULL;
	return n;
}

void rawc_connect(struct rawc *c, int port, const char *nick)
{
	GSocketClient *cl = g_socket_client_new();
	GSocketConnection *conn = g_socket_client_connect_to_host(cl, "127.0.0.1",
								  (guint16)port, NULL, NULL);
	g_object_unref(cl);
	TT_ASSERT_MSG(conn, "raw client could not connect to %d", port);
	g_clear_object(&c->conn);
	g_clear_object(&c->sock);
	c->conn = G_IO_STREAM(conn);
	c->sock = g_object_ref(g_socket_connection_get_socket(conn));
	g_socket_set_blocking(c->sock, FALSE);
	if (!c->buf) {
		c->buf = g_string_new(NULL);
		c->lines = g_ptr_array_new_with_free_func(g_free);
		c->nick = g_strdup(nick);
		pump_register(c);
	}
	g_string_truncate(c->buf, 0);
	rawc_send(c, "NICK %s", nick);
	rawc_send(c, "USER %s 0 * :raw test client", nick);
	guint from = c->lines->len;
	rawc_wait(c, &from, 10, " 001 ", NULL);
}

void rawc_close(struct rawc *c)
{
	if (c->sock) {
		g_socket_close(c->sock, NULL);
		g_clear_object(&c->sock);
	}
	g_clear_object(&c->conn);
}

void rawc_free(struct rawc *c)
{
	rawc_close(c);
	if (clients)
		g_ptr_array_remove(clients, c);
	if (c->buf)
		g_string_free(c->buf, TRUE);
	if (c->lines)
		g_ptr_array_free(c->lines, TRUE);
	g_free(c->nick);
	memset(c, 0, sizeof *c);
}
