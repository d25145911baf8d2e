/* http.c: libwebsockets glue: the listener on the core GLib loop, request bodies, JSON
 * responses written when the socket is writable, and static files from web_root. */
#define TT_LOG_DOMAIN "http"
#include "http.h"

#include <arpa/inet.h>
#include <libwebsockets.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <tutti/certfiles.h>
#include <tutti/errno.h>
#include <tutti/log.h>

#include "room/room.h"
#include "ws.h"

#define MAX_BODY (64 * 1024)

struct tt_http {
	struct tt_core *core;
	struct lws_context *ctx;
	char *web_root;     /* realpath */
	struct tt_ws_hub *ws;  /* gateways' WebSocket endpoints */
	void *loops[1];
	void *ssl_ctx;      /* lws's server SSL_CTX (HTTPS), for reloading its certificate */
};

struct tt_http_pending {
	struct lws *wsi;
	struct pss *pss;
	bool gone;          /* the connection closed before the answer */
};

/* Per connection (lws zeroes it). */
struct pss {
	struct tt_http_pending *pending;
	char method[8];
	char path[512];
	GByteArray *body;
	bool too_big;
	char *out;          /* headers are written first, then this body */
	bool text;          /* out is text (type), not JSON */
	const char *type;   /* out's media type when text; NULL: Prometheus text */
	char *location;     /* a Location header to send (g_free) */
	size_t out_len;
	unsigned status;
	struct tt_ws *ws;   /* a WebSocket connection (ws.c owns it) */
};

static const char *method_of(struct lws *wsi)
{
	static const struct { enum lws_token_indexes t; const char *m; } m[] = {
		{ WSI_TOKEN_GET_URI, "GET" },       { WSI_TOKEN_POST_URI, "POST" },
		{ WSI_TOKEN_PUT_URI, "PUT" },       { WSI_TOKEN_DELETE_URI, "DELETE" },
		{ WSI_TOKEN_PATCH_URI, "PATCH" },   { WSI_TOKEN_OPTIONS_URI, "OPTIONS" },
		{ WSI_TOKEN_HEAD_URI, "HEAD" },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(m); i++)
		if (lws_hdr_total_length(wsi, m[i].t) > 0)
			return m[i].m;
	return "?";
}

static void resp_clear(struct tt_http_resp *resp)
{
	if (resp->json)
		json_decref(resp->json);
	if (resp->text)
		g_string_free(resp->text, TRUE);
	g_free(resp->location);
	resp->json = NULL;
	resp->text = NULL;
	resp->location = NULL;
}

static void respond(struct lws *wsi, struct pss *pss, struct tt_http_resp *resp)
{
	pss->status = resp->status ? resp->status : 500;
	pss->text = resp->text && !resp->json;
	pss->type = resp->type;
	g_free(pss->location);
	pss->location = g_steal_pointer(&resp->location);
	if (pss->text) {
		pss->out = malloc(resp->text->len + 1);
		if (pss->out)
			memcpy(pss->out, resp->text->str, resp->text->len + 1);
	} else {
		pss->out = resp->json ? json_dumps(resp->json, JSON_COMPACT) : strdup("{}");
	}
	pss->out_len = pss->out ? strlen(pss->out) : 0;
	resp_clear(resp);
	lws_callback_on_writable(wsi);
}

bool tt__http_proxied(struct lws *wsi)
{
	return lws_hdr_total_length(wsi, WSI_TOKEN_X_FORWARDED_FOR) > 0 ||
	       lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_X_REAL_IP) > 0 ||
	       lws_hdr_custom_length(wsi, "forwarded:", 10) > 0;
}

void tt__http_peer(struct lws *wsi, char *buf, size_t len)
{
	char addr[64] = "";
	lws_get_peer_simple(wsi, addr, sizeof addr);
	/* a reverse proxy on this host makes every request come from loopback, which alone
	 * is enough for admin rights when no token is set: a proxied one never is */
	g_snprintf(buf, len, "%s%s", tt__http_proxied(wsi) ? "proxied:" : "", addr);
}

static void dispatch(struct tt_http *h, struct lws *wsi, struct pss *pss)
{
	char peer[80] = "", auth[512] = "";
	tt__http_peer(wsi, peer, sizeof peer);
	int alen = lws_hdr_copy(wsi, auth, sizeof auth, WSI_TOKEN_HTTP_AUTHORIZATION);
	struct tt_http_req req = {
		.method = pss->method,
		.path = pss->path,
		.body = pss->body ? (const char *)pss->body->data : NULL,
		.body_len = pss->body ? pss->body->len - 1 : 0,   /* minus the NUL we added */
		.peer = peer,
		.authorization = alen > 0 ? auth : NULL,
	};
	struct tt_http_resp resp = { 0 };
	bool deferred = false;
	req.conn = wsi;
	req.deferred = &deferred;
	if (pss->too_big)
		tt__http_error(&resp, 413, NULL, "request body larger than %d bytes", MAX_BODY);
	else
		tt__http_route(h->core, &req, &resp);
	tt_debug("%s %s %s -> %u%s", peer, pss->method, pss->path, resp.status,
		 deferred ? " (deferred)" : "");
	if (deferred) {
		resp_clear(&resp);
		return;
	}
	respond(wsi, pss, &resp);
}

struct tt_http_pending *tt__http_defer(const struct tt_http_req *req)
{
	struct lws *wsi = req->conn;
	struct pss *pss = lws_wsi_user(wsi);
	struct tt_http_pending *pd = g_new0(struct tt_http_pending, 1);
	pd->wsi = wsi;
	pd->pss = pss;
	pss->pending = pd;
	*req->deferred = true;
	return pd;
}

void tt__http_finish(struct tt_http_pending *pd, struct tt_http_resp *resp)
{
	if (!pd->gone) {
		pd->pss->pending = NULL;
		respond(pd->wsi, pd->pss, resp);
	} else {
		resp_clear(resp);
	}
	g_free(pd);
}

void *tt__http_pending_conn(const struct tt_http_pending *pd)
{
	return pd->gone ? NULL : pd->wsi;
}

void tt__http_pending_forget(struct tt_http_pending *pd)
{
	g_free(pd);
}

static const char *mime_of(const char *path)
{
	static const struct { const char *ext, *mime; } m[] = {
		{ ".html", "text/html; charset=utf-8" }, { ".js", "text/javascript; charset=utf-8" },
		{ ".mjs", "text/javascript; charset=utf-8" }, { ".css", "text/css; charset=utf-8" },
		{ ".json", "application/json" }, { ".svg", "image/svg+xml" },
		{ ".png", "image/png" }, { ".ico", "image/x-icon" }, { ".wav", "audio/wav" },
		{ ".txt", "text/plain; charset=utf-8" },
	};
	const char *dot = strrchr(path, '.');
	for (size_t i = 0; dot && i < G_N_ELEMENTS(m); i++)
		if (!strcmp(dot, m[i].ext))
			return m[i].mime;
	return "application/octet-stream";
}

/* The page of a room this node does not have, once the directory answered: a 307 to the
 * room's home, or the page itself from memory (lws serves files only from its callback). */
struct page_wait {
	struct tt_http_pending *pd;
	char *file;
};

static void on_page_home(struct tt_core *core, void *arg, struct tt_http_resp *resp)
{
	struct page_wait *pw = arg;
	(void)core;
	if (resp->status != 307) {
		char *body = NULL;
		gsize len = 0;
		if (g_file_get_contents(pw->file, &body, &len, NULL)) {
			resp->status = 200;
			resp->text = g_string_new_len(body, (gssize)len);
			resp->type = "text/html; charset=utf-8";
		} else {
			tt__http_error(resp, 500, NULL, "cannot read the page");
		}
		g_free(body);
	}
	tt__http_finish(pw->pd, resp);
	g_free(pw->file);
	g_free(pw);
}

/* True when the page's answer waits for the directory (the room is not here). */
static bool page_elsewhere(struct tt_http *h, struct lws *wsi, struct pss *pss,
			   const char *room, const char *file)
{
	/* HEAD is answered here (lws's file serving knows HEAD; a deferred answer does not) */
	if (!h->core->cluster || strcmp(pss->method, "GET") || tt__room_find(h->core, room))
		return false;
	struct page_wait *pw = g_new0(struct page_wait, 1);
	char *suffix = g_strdup_printf("/%s", room);
	bool waits = tt__http_cluster_redirect(h->core, room, suffix, on_page_home, pw);
	g_free(suffix);
	if (!waits) {
		g_free(pw);
		return false;
	}
	pw->file = g_strdup(file);
	pw->pd = g_new0(struct tt_http_pending, 1);
	pw->pd->wsi = wsi;
	pw->pd->pss = pss;
	pss->pending = pw->pd;
	return true;
}

/* A file under web_root, or index.html for "/" and "/ROOM" (the client reads the room from
 * its URL). Never anything outside web_root: the resolved path must stay inside it. */
static int serve_file(struct tt_http *h, struct lws *wsi, struct pss *pss)
{
	const char *rel = pss->path + 1;
	char *candidate = NULL, *resolved = NULL;
	int rc = -1;
	if (*rel && !strstr(rel, "..")) {
		candidate = g_build_filename(h->web_root, rel, NULL);
		resolved = realpath(candidate, NULL);
	}
	struct stat st;
	bool ok = resolved && g_str_has_prefix(resolved, h->web_root) &&
		  resolved[strlen(h->web_root)] == '/' && stat(resolved, &st) == 0 &&
		  S_ISREG(st.st_mode);
	char *file = NULL;
	if (ok)
		file = g_strdup(resolved);
	else if (!*rel || (tt__room_name_valid(rel) && !strchr(rel, '.')))
		file = g_build_filename(h->web_root, "index.html", NULL);
	if (file && !ok && *rel && page_elsewhere(h, wsi, pss, rel, file)) {
		rc = 0;
	} else if (file) {
		int n = lws_serve_http_file(wsi, file, mime_of(file), NULL, 0);
		rc = n < 0 ? -1 : 0;
		if (n < 0)
			tt_warn("cannot serve %s", file);
	} else {
		struct tt_http_resp resp = { 0 };
		tt__http_error(&resp, 404, NULL, "not found");
		respond(wsi, pss, &resp);
		rc = 0;
	}
	g_free(file);
	g_free(candidate);
	free(resolved);
	return rc;
}

static int write_response(struct lws *wsi, struct pss *pss)
{
	unsigned char buf[LWS_PRE + 4096];
	unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf;
	const char *type = !pss->text ? "application/json"
			   : pss->type ? pss->type : "text/plain; version=0.0.4; charset=utf-8";
	if (lws_add_http_common_headers(wsi, pss->status, type,
					(lws_filepos_t)pss->out_len, &p, end))
		return -1;
	if (lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
					(const unsigned char *)"no-store", 8, &p, end))
		return -1;
	if (pss->location &&
	    lws_add_http_header_by_name(wsi, (const unsigned char *)"location:",
					(const unsigned char *)pss->location,
					(int)strlen(pss->location), &p, end))
		return -1;
	if (lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	unsigned char *body = malloc(LWS_PRE + pss->out_len + 1);
	if (!body)
		return -1;
	memcpy(body + LWS_PRE, pss->out, pss->out_len);
	int w = lws_write(wsi, body + LWS_PRE, pss->out_len, LWS_WRITE_HTTP_FINAL);
	free(body);
	free(pss->out);
	pss->out = NULL;
	if (w < (int)pss->out_len)
		return -1;
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static void pss_reset(struct pss *pss)
{
	if (pss->pending) {  /* the answer will find the connection gone */
		pss->pending->gone = true;
		pss->pending = NULL;
	}
	if (pss->body)
		g_byte_array_free(pss->body, TRUE);
	pss->body = NULL;
	free(pss->out);
	pss->out = NULL;
	g_free(pss->location);
	pss->location = NULL;
	pss->too_big = false;
}

static int callback_http(struct lws *wsi, enum lws_callback_reasons reason, void *user,
			 void *in, size_t len)
{
	struct pss *pss = user;
	struct tt_http *h = lws_context_user(lws_get_context(wsi));
	if (reason == LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS) {
		/* the vhost's SSL_CTX (lws has no getter): the reload loads new files into it */
		if (h)
			h->ssl_ctx = user;
		return 0;
	}
	if (tt__ws_is_ws_reason(reason))
		return tt__ws_callback(h->ws, wsi, reason, pss ? &pss->ws : NULL, in, len);
	/* lws calls some reasons on connections that never got per-session data (a TLS
	 * handshake that failed, e.g. plain HTTP sent to the HTTPS port): nothing of ours there */
	if (!pss)
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	switch (reason) {
	case LWS_CALLBACK_HTTP: {
		pss_reset(pss);
		g_strlcpy(pss->method, method_of(wsi), sizeof pss->method);
		g_strlcpy(pss->path, in ? (const char *)in : "/", sizeof pss->path);
		if (!strcmp(pss->method, "POST") || !strcmp(pss->method, "PUT") ||
		    !strcmp(pss->method, "PATCH")) {
			pss->body = g_byte_array_new();
			/* a request without a body still completes: lws calls BODY_COMPLETION
			 * only when there is a body, so answer now when none is announced */
			if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0 &&
			    lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) <= 0) {
				g_byte_array_append(pss->body, (const guint8 *)"", 1);
				dispatch(h, wsi, pss);
			}
			return 0;
		}
		if (!strncmp(pss->path, "/api", 4) || !strcmp(pss->path, "/metrics")) {
			dispatch(h, wsi, pss);
			return 0;
		}
		if (strcmp(pss->method, "GET") && strcmp(pss->method, "HEAD")) {
			struct tt_http_resp resp = { 0 };
			tt__http_error(&resp, 405, NULL, "method not allowed");
			respond(wsi, pss, &resp);
			return 0;
		}
		return serve_file(h, wsi, pss);
	}
	case LWS_CALLBACK_HTTP_BODY:
		if (pss->body && !pss->too_big) {
			if (pss->body->len + len > MAX_BODY)
				pss->too_big = true;
			else
				g_byte_array_append(pss->body, in, (guint)len);
		}
		return 0;
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (!pss->body)
			pss->body = g_byte_array_new();
		g_byte_array_append(pss->body, (const guint8 *)"", 1);
		dispatch(h, wsi, pss);
		return 0;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		if (!pss->out)
			return 0;
		return write_response(wsi, pss);
	case LWS_CALLBACK_HTTP_FILE_COMPLETION:
		return lws_http_transaction_completed(wsi) ? -1 : 0;
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
	case LWS_CALLBACK_CLOSED_HTTP:
		pss_reset(pss);
		return 0;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
	{ "http", callback_http, sizeof(struct pss), 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

static void lws_log_to_tt(int level, const char *line)
{
	size_t n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	tt_log_write("lws", level == LLL_ERR ? TT_LOG_ERROR : level == LLL_WARN ? TT_LOG_WARN
							: TT_LOG_DEBUG, "%.*s", (int)n, line);
}

int tt__http_reload(struct tt_http *h, const struct tt_conf *next)
{
	if (!h)
		return 0;
	const char *cert = tt_conf_str(next, "http", "tls_cert");
	bool want_tls = cert && *cert;
	if (!h->ssl_ctx) {
		if (want_tls)
			tt_warn("reload: [http] tls_cert: switching from HTTP to HTTPS needs a "
				"restart; still serving HTTP");
		return want_tls ? -EPERM : 0;
	}
	if (!want_tls) {
		tt_warn("reload: [http] tls_cert: switching from HTTPS to HTTP needs a restart; "
			"still serving HTTPS with the certificate loaded before");
		return -EPERM;
	}
	/* read again even when the paths did not change: an ACME client renews in place */
	struct tt_certinfo ci;
	char *err = NULL;
	int rc = tt_certfiles_use(h->ssl_ctx, cert, tt_conf_str(next, "http", "tls_key"), &ci,
				  &err);
	if (rc) {
		tt_error("reload: [http] tls_cert/tls_key: %s; HTTPS keeps the certificate it "
			 "had", err);
		g_free(err);
		return rc;
	}
	tt_certinfo_log(TT_LOG_DOMAIN, "https: reloaded certificate", cert, &ci);
	return 0;
}

int tt__http_alloc(struct tt_http **hp, struct tt_core *core)
{
	const struct tt_conf *c = core->conf;
	struct tt_http *h = g_new0(struct tt_http, 1);
	h->core = core;
	const char *root = tt_conf_str(c, "http", "web_root");
	if (!root || !*root)
		root = TT_WEB_DIR;
	h->web_root = realpath(root, NULL);
	if (!h->web_root) {
		tt_error("http.web_root %s: %s", root, g_strerror(errno));
		g_free(h);
		return -ENOENT;
	}
	h->ws = tt__ws_hub_new();
	lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_to_tt);
	struct lws_context_creation_info info;
	memset(&info, 0, sizeof info);
	info.port = (int)tt_conf_int(c, "http", "port");
	info.iface = tt_conf_str(c, "http", "listen");
	info.protocols = protocols;
	info.user = h;
	info.options = LWS_SERVER_OPTION_GLIB | LWS_SERVER_OPTION_VALIDATE_UTF8;
	/* lws 4.1 with IPv6 binds an IPv4 address given as iface to every address instead
	 * (its IPv6 socket ignores it: warmcat/libwebsockets#2290, fixed after 4.1 by commit
	 * 1822c503): the default 127.0.0.1 listened on the whole network. An IPv4 listener
	 * gets an IPv4 socket. */
	struct in_addr v4;
	if (info.iface && inet_pton(AF_INET, info.iface, &v4) == 1)
		info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	h->loops[0] = core->loop;
	info.foreign_loops = h->loops;
	const char *cert = tt_conf_str(c, "http", "tls_cert");
	if (cert && *cert) {
		/* lws would only say it cannot create its context: name the file and the fault */
		struct tt_certinfo ci;
		char *err = NULL;
		int rc = tt_certfiles_check(cert, tt_conf_str(c, "http", "tls_key"), &ci, &err);
		if (rc) {
			tt_error("[http] tls_cert/tls_key: %s", err);
			g_free(err);
			free(h->web_root);
			tt__ws_hub_free(h->ws);
			g_free(h);
			return rc;
		}
		tt_certinfo_log(TT_LOG_DOMAIN, "https: certificate", cert, &ci);
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		info.ssl_cert_filepath = cert;
		info.ssl_private_key_filepath = tt_conf_str(c, "http", "tls_key");
	}
	h->ctx = lws_create_context(&info);
	if (!h->ctx) {
		tt_error("cannot listen on %s:%d (in use, or the address is not local?)",
			 info.iface, info.port);
		free(h->web_root);
		tt__ws_hub_free(h->ws);
		g_free(h);
		return -EADDRINUSE;
	}
	tt_info("%s on %s:%d, serving %s", cert && *cert ? "https" : "http", info.iface,
		info.port, h->web_root);
	*hp = h;
	return 0;
}

struct tt_ws_hub *tt__http_ws_hub(struct tt_http *h)
{
	return h ? h->ws : NULL;
}

struct tt_http *tt__http_free(struct tt_http *h)
{
	if (!h)
		return NULL;
	lws_context_destroy(h->ctx);   /* CLOSED of every WebSocket runs here */
	tt__ws_hub_free(h->ws);
	free(h->web_root);
	g_free(h);
	return NULL;
}
