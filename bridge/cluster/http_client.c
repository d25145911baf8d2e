/* http_client.c: one HTTP request per connection with GIO (http_client.h). */
#define TT_LOG_DOMAIN "cluster"
#include "http_client.h"

#include <gio/gio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define TIMEOUT_S 5
#define MAX_ANSWER (64 * 1024)

struct req {
	GSocketClient *client;
	GSocketConnection *conn;
	GString *out;
	GByteArray *in;
	guint8 buf[4096];
	tt_http_client_h cb;
	void *arg;
};

static void finish(struct req *r, const char *msg)
{
	unsigned status = 0;
	const char *body = "";
	size_t len = 0;
	if (!msg) {
		g_byte_array_append(r->in, (const guint8 *)"", 1);   /* NUL for the reader */
		const char *s = (const char *)r->in->data;
		const char *end = strstr(s, "\r\n\r\n");
		if (strncmp(s, "HTTP/1.", 7) || strlen(s) < 12 || !end) {
			msg = "not an HTTP answer";
		} else {
			status = (unsigned)strtoul(s + 9, NULL, 10);
			body = end + 4;
			len = strlen(body);
		}
	}
	r->cb(r->arg, status, body, len, msg);
	if (r->conn)
		g_object_unref(r->conn);
	g_object_unref(r->client);
	g_string_free(r->out, TRUE);
	g_byte_array_free(r->in, TRUE);
	g_free(r);
}

/* The answer is complete when the connection closes or Content-Length bytes are in. */
static bool complete(struct req *r)
{
	const char *s = (const char *)r->in->data;
	size_t n = r->in->len;
	const char *end = g_strstr_len(s, (gssize)n, "\r\n\r\n");
	if (!end)
		return false;
	gchar *head = g_ascii_strdown(s, end - s);
	const char *cl = strstr(head, "\r\ncontent-length:");
	bool done = cl && (size_t)(end + 4 - s) + strtoul(cl + 17, NULL, 10) <= n;
	g_free(head);
	return done;
}

static void on_read(GObject *src, GAsyncResult *res, gpointer data)
{
	struct req *r = data;
	GError *err = NULL;
	gssize n = g_input_stream_read_finish(G_INPUT_STREAM(src), res, &err);
	if (n < 0) {
		char msg[256];
		g_strlcpy(msg, err->message, sizeof msg);
		g_error_free(err);
		finish(r, msg);
		return;
	}
	g_byte_array_append(r->in, r->buf, (guint)n);
	if (n == 0 || complete(r)) {
		finish(r, NULL);
		return;
	}
	if (r->in->len > MAX_ANSWER) {
		finish(r, "answer too long");
		return;
	}
	g_input_stream_read_async(g_io_stream_get_input_stream(G_IO_STREAM(r->conn)), r->buf,
				  sizeof r->buf, G_PRIORITY_DEFAULT, NULL, on_read, r);
}

static void on_written(GObject *src, GAsyncResult *res, gpointer data)
{
	struct req *r = data;
	GError *err = NULL;
	if (!g_output_stream_write_all_finish(G_OUTPUT_STREAM(src), res, NULL, &err)) {
		char msg[256];
		g_strlcpy(msg, err->message, sizeof msg);
		g_error_free(err);
		finish(r, msg);
		return;
	}
	g_input_stream_read_async(g_io_stream_get_input_stream(G_IO_STREAM(r->conn)), r->buf,
				  sizeof r->buf, G_PRIORITY_DEFAULT, NULL, on_read, r);
}

static void on_connected(GObject *src, GAsyncResult *res, gpointer data)
{
	struct req *r = data;
	GError *err = NULL;
	r->conn = g_socket_client_connect_to_uri_finish(G_SOCKET_CLIENT(src), res, &err);
	if (!r->conn) {
		char msg[256];
		g_strlcpy(msg, err->message, sizeof msg);
		g_error_free(err);
		finish(r, msg);
		return;
	}
	g_output_stream_write_all_async(g_io_stream_get_output_stream(G_IO_STREAM(r->conn)),
					r->out->str, r->out->len, G_PRIORITY_DEFAULT, NULL,
					on_written, r);
}

void tt__http_client_request(const char *method, const char *base_url, const char *path,
			     const char *token, const char *body, tt_http_client_h cb, void *arg)
{
	struct req *r = g_new0(struct req, 1);
	r->cb = cb;
	r->arg = arg;
	r->client = g_socket_client_new();
	g_socket_client_set_timeout(r->client, TIMEOUT_S);
	r->in = g_byte_array_new();
	r->out = g_string_new(NULL);
	/* host:port of base_url for the Host header; GIO parses the URI itself */
	const char *host = strstr(base_url, "://");
	host = host ? host + 3 : base_url;
	g_string_append_printf(r->out, "%s %s HTTP/1.1\r\nHost: %.*s\r\nConnection: close\r\n",
			       method, path, (int)strcspn(host, "/"), host);
	if (token && *token)
		g_string_append_printf(r->out, "Authorization: Bearer %s\r\n", token);
	g_string_append_printf(r->out, "Content-Type: application/json\r\n"
			       "Content-Length: %zu\r\n\r\n%s", body ? strlen(body) : 0,
			       body ? body : "");
	g_socket_client_connect_to_uri_async(r->client, base_url, 80, NULL, on_connected, r);
}
