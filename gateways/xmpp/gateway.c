/* gateway.c: the XMPP gateway's descriptor, its [xmpp] config rows, its lifecycle, and the
 * dispatch of every incoming stanza by the domain it is addressed to. */
#define TT_LOG_DOMAIN "xmpp"
#include <errno.h>
#include <string.h>
#include <tutti/conf.h>
#include <tutti/errno.h>
#include <tutti/log.h>

#include "xmpp_priv.h"

#define S "xmpp"
#define R TT_CONF_RELOADABLE
static const struct tt_conf_key keys[] = {
	{S, "enabled", TT_CONF_BOOL, "false", 0, 0, NULL, 0,
	 "Run the XMPP gateway (needs server, domain and secret: docs/xmpp.md)."},
	{S, "server", TT_CONF_STRING, "127.0.0.1:5347", 0, 300, NULL, 0,
	 "The XMPP server's component port, HOST:PORT (XEP-0114; Prosody's default is 5347)."},
	{S, "domain", TT_CONF_STRING, "", 0, 255, NULL, 0,
	 "The MUC service's domain, e.g. conference.example.org: room R is R@domain "
	 "(required)."},
	{S, "secret", TT_CONF_STRING, "", 0, 255, NULL, TT_CONF_SECRET,
	 "The component secret the XMPP server has for domain (required)."},
	{S, "call_domain", TT_CONF_STRING, "", 0, 255, NULL, 0,
	 "Domain of callable room contacts (R@call_domain rings room R, Jingle audio); "
	 "empty: no calls."},
	{S, "call_secret", TT_CONF_STRING, "", 0, 255, NULL, TT_CONF_SECRET,
	 "The component secret for call_domain; empty: the same as secret."},
	{S, "reconnect_min", TT_CONF_INT, "2", 1, 3600, NULL, 0,
	 "First reconnect delay, seconds (doubles per failure, with jitter)."},
	{S, "reconnect_max", TT_CONF_INT, "120", 1, 86400, NULL, 0,
	 "Longest reconnect delay, seconds."},
	{S, "keepalive_interval", TT_CONF_INT, "60", 0, 3600, NULL, 0,
	 "Seconds without sending after which a component stream gets a whitespace "
	 "keepalive (so that a server, NAT or firewall does not drop it as idle); 0: off."},
	{S, "history", TT_CONF_INT, "20", 0, 1000, NULL, R,
	 "Lines of room history a joining occupant is sent (XEP-0045 with XEP-0203 delays)."},
	{S, "talking_interval", TT_CONF_INT, "5", 1, 3600, NULL, R,
	 "Seconds between two presence updates that only say someone talks or stopped "
	 "talking."},
	{S, "ice_addresses", TT_CONF_STRING, "", 0, 1024, NULL, 0,
	 "Comma-separated local IP addresses for Jingle ICE candidates; empty: every "
	 "non-loopback interface."},
	{S, "allow_loopback", TT_CONF_BOOL, "false", 0, 0, NULL, 0,
	 "Also gather Jingle ICE candidates on 127.0.0.1 (tests, a client on this machine)."},
	{S, "stun_server", TT_CONF_STRING, "", 0, 255, NULL, 0,
	 "STUN server IP address for server-reflexive Jingle candidates; empty: none."},
	{S, "stun_port", TT_CONF_INT, "3478", 1, 65535, NULL, 0, "STUN server port."},
	{S, "port_min", TT_CONF_INT, "0", 0, 65535, NULL, 0,
	 "Lowest UDP port for Jingle ICE host candidates; 0: any."},
	{S, "port_max", TT_CONF_INT, "0", 0, 65535, NULL, 0,
	 "Highest UDP port for Jingle ICE host candidates; 0: any."},
	{NULL, NULL, 0, NULL, 0, 0, NULL, 0, NULL},
};
#undef R
#undef S

static char *conf_dup(const struct tt_conf *conf, const char *key)
{
	const char *v = tt_conf_str(conf, "xmpp", key);
	return v && *v ? g_strdup(v) : NULL;
}

/* One "FILE:LINE: [xmpp] key: problem" line; a key the file lacks is placed at the line
 * that enabled the gateway (the default is off, so the file has one). */
static void problem(GString *out, const struct tt_conf *conf, const char *key, const char *what)
{
	int line = tt_conf_line(conf, "xmpp", key);
	if (line == 0)
		line = tt_conf_line(conf, "xmpp", "enabled");
	g_string_append_printf(out, "%s:%d: [xmpp] %s: %s\n",
			       tt_conf_path(conf) ? tt_conf_path(conf) : "-", line, key, what);
}

static bool parse_server(const char *server, char **host, unsigned *port)
{
	const char *colon = server ? strrchr(server, ':') : NULL;
	char *end = NULL;
	unsigned long p = colon ? strtoul(colon + 1, &end, 10) : 0;
	if (!colon || colon == server || !end || *end || p == 0 || p > 65535)
		return false;
	if (host)
		*host = g_strndup(server, (gsize)(colon - server));
	if (port)
		*port = (unsigned)p;
	return true;
}

/* What the rows' types and bounds cannot say: keys that an enabled gateway needs. Shared by
 * start and --check-config (the descriptor's check_config), so both refuse the same. */
static void cfg_problems(const struct tt_conf *conf, GString *out)
{
	const char *domain = tt_conf_str(conf, "xmpp", "domain");
	const char *call = tt_conf_str(conf, "xmpp", "call_domain");
	const char *secret = tt_conf_str(conf, "xmpp", "secret");
	if (!parse_server(tt_conf_str(conf, "xmpp", "server"), NULL, NULL))
		problem(out, conf, "server", "not HOST:PORT");
	if (!domain || !*domain)
		problem(out, conf, "domain", "required when the gateway is enabled");
	if (!secret || !*secret)
		problem(out, conf, "secret", "required when the gateway is enabled "
			"(the server's component secret for domain)");
	if (call && *call && domain && !g_ascii_strcasecmp(call, domain))
		problem(out, conf, "call_domain", "must differ from domain");
}

static int xg_check_config(const struct tt_conf *conf, char **errors)
{
	GString *out = g_string_new(NULL);
	cfg_problems(conf, out);
	bool bad = out->len > 0;
	*errors = g_string_free(out, !bad);
	return bad ? -EINVAL : 0;
}

static int read_cfg(struct xg_cfg *c, const struct tt_conf *conf)
{
	/* the core ran xg_check_config before start: server parses, domain and secret set */
	parse_server(tt_conf_str(conf, "xmpp", "server"), &c->server_host, &c->server_port);
	c->domain = conf_dup(conf, "domain");
	c->secret = conf_dup(conf, "secret");
	c->call_domain = conf_dup(conf, "call_domain");
	c->call_secret = conf_dup(conf, "call_secret");
	c->reconnect_min_s = (unsigned)tt_conf_int(conf, "xmpp", "reconnect_min");
	c->reconnect_max_s = (unsigned)tt_conf_int(conf, "xmpp", "reconnect_max");
	if (c->reconnect_max_s < c->reconnect_min_s)
		c->reconnect_max_s = c->reconnect_min_s;
	c->keepalive_interval_s = (unsigned)tt_conf_int(conf, "xmpp", "keepalive_interval");
	c->history = (unsigned)tt_conf_int(conf, "xmpp", "history");
	c->talking_interval_s = (unsigned)tt_conf_int(conf, "xmpp", "talking_interval");
	return 0;
}

static void cfg_clear(struct xg_cfg *c)
{
	g_free(c->server_host);
	g_free(c->domain);
	g_free(c->secret);
	g_free(c->call_domain);
	g_free(c->call_secret);
	memset(c, 0, sizeof *c);
}

/* ---- dispatch ---- */

/* The domain part of a JID ("room@dom/res" -> "dom"), copied into buf. */
static const char *jid_domain(const char *jid, char *buf, size_t len)
{
	if (!jid)
		return NULL;
	const char *at = strchr(jid, '@');
	const char *slash = strchr(jid, '/');
	const char *start = at && (!slash || at < slash) ? at + 1 : jid;
	size_t n = slash && slash > start ? (size_t)(slash - start) : strlen(start);
	if (n == 0 || n >= len)
		return NULL;
	memcpy(buf, start, n);
	buf[n] = '\0';
	return buf;
}

void xg_stanza_in(struct xg_gw *gw, xmpp_stanza_t *st)
{
	char dom[256];
	const char *d = jid_domain(xmpp_stanza_get_to(st), dom, sizeof dom);
	bool done = false;
	if (d && !g_ascii_strcasecmp(d, gw->cfg.domain))
		done = xg_muc_stanza(gw, st);
	else if (d && gw->cfg.call_domain && !g_ascii_strcasecmp(d, gw->cfg.call_domain))
		done = xg_jingle_stanza(gw, st);
	if (!done) {
		const char *name = xmpp_stanza_get_name(st);
		/* Requests we do not serve get an error; everything else is dropped. */
		if (name && (!strcmp(name, "iq") || !strcmp(name, "message")))
			xg_reply_error(gw, st, "cancel", "service-unavailable", NULL);
	}
}

void xg_reply_error(struct xg_gw *gw, xmpp_stanza_t *st, const char *type, const char *cond,
		    const char *text)
{
	const char *t = xmpp_stanza_get_type(st);
	const char *name = xmpp_stanza_get_name(st);
	const char *from = xmpp_stanza_get_from(st);
	if (!name || !from || (t && !strcmp(t, "error")))
		return;   /* never answer an error with an error */
	if (!strcmp(name, "iq") && t && strcmp(t, "get") && strcmp(t, "set"))
		return;   /* results are not requests */
	gw->error_replies++;
	if (!strcmp(cond, "bad-request"))
		gw->malformed++;
	xmpp_stanza_t *r = xmpp_stanza_new(gw->ctx);
	xmpp_stanza_set_name(r, name);
	xmpp_stanza_set_type(r, "error");
	const char *id = xmpp_stanza_get_id(st);
	if (id)
		xmpp_stanza_set_id(r, id);
	if (xmpp_stanza_get_to(st))
		xmpp_stanza_set_from(r, xmpp_stanza_get_to(st));
	xmpp_stanza_set_to(r, from);
	xmpp_stanza_t *e = xmpp_stanza_new(gw->ctx);
	xmpp_stanza_set_name(e, "error");
	xmpp_stanza_set_type(e, type);
	xmpp_stanza_t *c = xmpp_stanza_new(gw->ctx);
	xmpp_stanza_set_name(c, cond);
	xmpp_stanza_set_ns(c, "urn:ietf:params:xml:ns:xmpp-stanzas");
	xmpp_stanza_add_child_ex(e, c, 0);
	if (text) {
		xmpp_stanza_t *tx = xmpp_stanza_new(gw->ctx);
		xmpp_stanza_set_name(tx, "text");
		xmpp_stanza_set_ns(tx, "urn:ietf:params:xml:ns:xmpp-stanzas");
		xmpp_stanza_t *body = xmpp_stanza_new(gw->ctx);
		xmpp_stanza_set_text(body, text);
		xmpp_stanza_add_child_ex(tx, body, 0);
		xmpp_stanza_add_child_ex(e, tx, 0);
	}
	xmpp_stanza_add_child_ex(r, e, 0);
	xg_send(gw, r);
	xmpp_stanza_release(r);
}

/* ---- lifecycle ---- */

static void xg_free(void *state);

/* The core waits at most 1.5 s for every gateway's stopped(). */
#define STOP_WAIT_US (1000 * 1000)

/* libstrophe's own log, at our levels; its debug output is the whole XML stream. */
static void strophe_log(void *arg, xmpp_log_level_t level, const char *area, const char *msg)
{
	(void)arg;
	if (level >= XMPP_LEVEL_ERROR)
		tt_warn("libstrophe %s: %s", area, msg);
	else if (level >= XMPP_LEVEL_WARN)
		tt_info("libstrophe %s: %s", area, msg);
}

static int xg_start(struct tt_gw_handle *h, const struct tt_core_api *api,
		    const struct tt_conf *conf, void **statep)
{
	struct xg_gw *gw = g_new0(struct xg_gw, 1);
	gw->h = h;
	gw->api = api;
	gw->core = api->core_of(h);
	gw->send = xg_conn_route;
	int rc = read_cfg(&gw->cfg, conf);
	if (!rc) {
		static xmpp_log_t log = { strophe_log, NULL };
		xmpp_initialize();
		gw->ctx = xmpp_ctx_new(NULL, &log);
		rc = gw->ctx ? 0 : -ENOMEM;
	}
	if (!rc)
		rc = xg_muc_new(gw);
	if (!rc && gw->cfg.call_domain)
		rc = xg_jingle_new(gw);
	if (!rc) {
		gw->muc_conn = xg_conn_new(gw, gw->cfg.domain, gw->cfg.secret);
		if (gw->cfg.call_domain)
			gw->call_conn = xg_conn_new(gw, gw->cfg.call_domain,
						    gw->cfg.call_secret ? gw->cfg.call_secret
									: gw->cfg.secret);
		if (!gw->muc_conn || (gw->cfg.call_domain && !gw->call_conn))
			rc = -ENOMEM;
	}
	if (rc) {
		xg_free(gw);
		return rc;
	}
	tt_info("MUC service %s%s%s via %s:%u", gw->cfg.domain,
		gw->cfg.call_domain ? ", calls on " : "",
		gw->cfg.call_domain ? gw->cfg.call_domain : "", gw->cfg.server_host,
		gw->cfg.server_port);
	*statep = gw;
	return 0;
}

static void xg_stop(void *state)
{
	struct xg_gw *gw = state;
	gw->stopping = true;
	if (gw->jingle)
		xg_jingle_stop(gw);
	if (gw->muc)
		xg_muc_stop(gw);
	/* What the MUC and calls queued (unavailable presence, terminates) goes out now if the
	 * socket takes it; stopped() waits for the rest and the stream close. */
	gw->stop_deadline_us = g_get_monotonic_time() + STOP_WAIT_US;
	if (gw->muc_conn) {
		xg_conn_flush(gw->muc_conn);
		xg_conn_close(gw->muc_conn);
	}
	if (gw->call_conn) {
		xg_conn_flush(gw->call_conn);
		xg_conn_close(gw->call_conn);
	}
}

static bool xg_stopped(void *state)
{
	struct xg_gw *gw = state;
	if (g_get_monotonic_time() >= gw->stop_deadline_us)
		return true;
	return (!gw->muc_conn || xg_conn_drained(gw->muc_conn)) &&
	       (!gw->call_conn || xg_conn_drained(gw->call_conn));
}

static void xg_free(void *state)
{
	struct xg_gw *gw = state;
	if (gw->jingle)
		xg_jingle_free(gw);
	if (gw->muc)
		xg_muc_free(gw);
	if (gw->call_conn)
		xg_conn_free(gw->call_conn);
	if (gw->muc_conn)
		xg_conn_free(gw->muc_conn);
	tt_ice_policy_unref(gw->policy);
	if (gw->ctx) {
		xmpp_ctx_free(gw->ctx);
		xmpp_shutdown();
	}
	cfg_clear(&gw->cfg);
	g_free(gw);
}

static void xg_hang_up(void *state, struct tt_participant *p, const char *why)
{
	struct xg_gw *gw = state;
	const struct xg_peer *peer = gw->api->participant_gw_data(p);
	if (peer && peer->kind == XG_PEER_OCCUPANT)
		xg_muc_hang_up(gw, p, why);
	else if (peer && peer->kind == XG_PEER_CALLER)
		xg_jingle_hang_up(gw, p, why);
	else
		gw->api->participant_leave(p, 0);
}

static void xg_on_roster(void *state, const struct tt_roster_event *ev)
{
	xg_muc_roster(state, ev);
	xg_jingle_roster(state, ev);
}

static void xg_on_medium_text(void *state, void *medium_data, const struct tt_text *msg)
{
	xg_muc_medium_text(state, medium_data, msg);
}

static void xg_on_meeting(void *state, const struct tt_meeting_event *ev)
{
	xg_muc_on_meeting(state, ev);
}

static void xg_room_doors(void *state, const char *room, tt_door_h fn, void *arg)
{
	xg_doors(state, room, fn, arg);
}

static int xg_reload(void *state, const struct tt_conf *conf)
{
	struct xg_gw *gw = state;
	gw->cfg.history = (unsigned)tt_conf_int(conf, "xmpp", "history");
	gw->cfg.talking_interval_s = (unsigned)tt_conf_int(conf, "xmpp", "talking_interval");
	return 0;
}

/* ---- statistics ---- */

struct xg_stream_stats {
	bool up;
	uint64_t connects, disconnects, failures, reconnects, fd_refused;
	uint64_t stanzas_in, stanzas_out, dropped, keepalives;
};
struct xg_stats {
	struct xg_stream_stats muc, call;
	uint64_t error_replies, malformed;
};

static void stream_stats(const struct xg_conn *c, struct xg_stream_stats *o)
{
	struct xg_conn_stats s;
	if (!c)
		return;
	xg_conn_stats(c, &s);
	*o = (struct xg_stream_stats){
		.up = s.online, .connects = s.connects, .disconnects = s.disconnects,
		.failures = s.failures, .reconnects = s.reconnects, .fd_refused = s.fd_refused,
		.stanzas_in = s.stanzas_in, .stanzas_out = s.stanzas_out, .dropped = s.dropped,
		.keepalives = s.keepalives,
	};
}

static void xg_stats(void *state, void *out)
{
	struct xg_gw *gw = state;
	struct xg_stats *st = out;
	stream_stats(gw->muc_conn, &st->muc);
	stream_stats(gw->call_conn, &st->call);
	st->error_replies = gw->error_replies;
	st->malformed = gw->malformed;
}

#define C TT_STAT_COUNTER
#define F(member, ty, grp, name, fl, help) \
	TT_STAT_FIELD(struct xg_stats, member, ty, grp, name, fl, help)
#define STREAM(m, g)                                                                         \
	F(m.up, BOOL, g, "up", 0, "The component stream is up (handshake done)."),            \
	F(m.connects, U64, g, "connects", C, "Handshakes completed."),                         \
	F(m.disconnects, U64, g, "disconnects", C, "Streams lost after they were up."),        \
	F(m.failures, U64, g, "failures", C, "Connection attempts that never came up."),       \
	F(m.reconnects, U64, g, "reconnects", C, "Reconnects scheduled (with backoff)."),      \
	F(m.fd_refused, U64, g, "fd_refused", C,                                               \
	  "Sockets refused: fd above libstrophe's select() limit."),                           \
	F(m.stanzas_in, U64, g, "stanzas_in", C, "Stanzas received."),                         \
	F(m.stanzas_out, U64, g, "stanzas_out", C, "Stanzas queued for sending."),             \
	F(m.dropped, U64, g, "dropped", C, "Stanzas dropped because the stream was down."),  \
	F(m.keepalives, U64, g, "keepalives", C, "Whitespace keepalives sent (idle stream).")
static const struct tt_stat_field xg_stat_fields[] = {
	STREAM(muc, "muc_stream"),
	STREAM(call, "call_stream"),
	F(error_replies, U64, NULL, "error_replies", C, "Stanza error replies sent."),
	F(malformed, U64, NULL, "malformed", C,
	  "Stanzas refused as malformed (bad-request replies)."),
	{ NULL, NULL, 0, 0, 0, NULL },
};
#undef STREAM
#undef F
#undef C

const struct tt_gateway tt_gateway_xmpp = {
	.api_version = TT_GATEWAY_API_VERSION,
	.name = XG_GW_NAME,
	.network = XG_NETWORK,
	.conf_keys = keys,
	.start = xg_start,
	.stop = xg_stop,
	.stopped = xg_stopped,
	.free = xg_free,
	.hang_up = xg_hang_up,
	.on_roster = xg_on_roster,
	.on_medium_text = xg_on_medium_text,
	.reload = xg_reload,
	.stat_fields = xg_stat_fields,
	.stats_size = sizeof(struct xg_stats),
	.stats = xg_stats,
	.check_config = xg_check_config,
	.on_meeting = xg_on_meeting,
	.doors = xg_room_doors,
};
