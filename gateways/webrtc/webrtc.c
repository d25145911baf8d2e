/* webrtc.c: the WebRTC gateway: browsers join rooms over a WebSocket on the bridge's HTTP
 * server, and their audio comes in over the ICE + DTLS-SRTP transport. This file is the
 * descriptor, the [webrtc] configuration and the fan-out of roster and text events to the
 * sessions (session.c). Core thread only. */
#define TT_LOG_DOMAIN "webrtc"
#include <errno.h>
#include <string.h>
#include <tutti/errno.h>
#include <tutti/log.h>

#include "webrtc_priv.h"

#define R TT_CONF_RELOADABLE
static const struct tt_conf_key keys[] = {
	{ "webrtc", "ws_path", TT_CONF_STRING, "/ws", 0, 200, NULL, 0,
	  "Path of the signalling WebSocket on the HTTP server (web/app.js connects to /ws)." },
	{ "webrtc", "ice_addresses", TT_CONF_STRING, "", 0, 1024, NULL, 0,
	  "Comma-separated local IP addresses to gather ICE candidates on; empty: every "
	  "non-loopback interface." },
	{ "webrtc", "allow_loopback", TT_CONF_BOOL, "false", 0, 0, NULL, 0,
	  "Also gather on 127.0.0.1 (tests, or a browser on this machine)." },
	{ "webrtc", "ice_servers", TT_CONF_LIST, "", 0, 0, NULL, R,
	  "STUN and TURN servers handed to every browser in the join answer, as URLs: "
	  "stun:host[:port], turn:host[:port][?transport=udp|tcp], turns:host[:port]; turn: "
	  "and turns: need turn_secret. The bridge's own agent uses stun_server and "
	  "turn_server instead." },
	{ "webrtc", "turn_secret", TT_CONF_STRING, "", 0, 255, NULL, TT_CONF_SECRET | R,
	  "The TURN server's shared secret (coturn: use-auth-secret, static-auth-secret): "
	  "browsers (and the bridge's agent, with turn_server) get REST-API credentials "
	  "made from it, user name <expiry>:<turn_user>." },
	{ "webrtc", "turn_ttl", TT_CONF_INT, "86400", 60, 2592000, NULL, R,
	  "Seconds TURN credentials made from turn_secret stay valid: a relayed call ends "
	  "when its credentials expire (the allocation's refresh is refused), so this is "
	  "longer than any meeting; a leaked one is usable that long." },
	{ "webrtc", "stun_server", TT_CONF_STRING, "", 0, 255, NULL, 0,
	  "STUN server IP address for the bridge's own server-reflexive candidates; empty: "
	  "none." },
	{ "webrtc", "stun_port", TT_CONF_INT, "3478", 1, 65535, NULL, 0,
	  "STUN server port." },
	{ "webrtc", "turn_server", TT_CONF_STRING, "", 0, 255, NULL, 0,
	  "TURN (UDP) server IP address for the bridge's own relayed candidates; empty: "
	  "none." },
	{ "webrtc", "turn_port", TT_CONF_INT, "3478", 1, 65535, NULL, 0,
	  "TURN server port." },
	{ "webrtc", "turn_user", TT_CONF_STRING, "", 0, 255, NULL, 0,
	  "TURN user name: the bridge's own with turn_password, or the part after the "
	  "expiry in REST-API user names made from turn_secret (may be empty)." },
	{ "webrtc", "turn_password", TT_CONF_STRING, "", 0, 255, NULL, TT_CONF_SECRET,
	  "TURN password of the bridge's own agent (unused when turn_secret is set)." },
	{ "webrtc", "port_min", TT_CONF_INT, "0", 0, 65535, NULL, 0,
	  "Lowest UDP port for ICE host candidates; 0: any." },
	{ "webrtc", "port_max", TT_CONF_INT, "0", 0, 65535, NULL, 0,
	  "Highest UDP port for ICE host candidates; 0: any." },
	{ "webrtc", "consent_freshness", TT_CONF_BOOL, "true", 0, 0, NULL, 0,
	  "RFC 7675 consent checks: a browser that vanishes is dropped." },
	{ "webrtc", "ice_lite", TT_CONF_ENUM, "auto", 0, 0, "auto|on|off", 0,
	  "ICE-lite: browsers' media on each worker's shared UDP port ([media] address and "
	  "port range), checks answered by the bridge, no ICE agent per browser; off: full "
	  "ICE (libnice) with a port per browser; auto: lite unless stun_server or "
	  "turn_server is set (the bridge behind NAT, or relayed on its side: they need full "
	  "ICE). Lite needs [media] address to be one the browsers reach: 0.0.0.0, one of "
	  "ice_addresses, or 127.0.0.1 with allow_loopback; legs get full ICE otherwise." },
	{ "webrtc", "dtls_cert", TT_CONF_STRING, "", 0, 4096, NULL, 0,
	  "PEM certificate for DTLS; empty: an ECDSA P-256 one is generated at start." },
	{ "webrtc", "dtls_key", TT_CONF_STRING, "", 0, 4096, NULL, 0,
	  "PEM private key for dtls_cert (empty: in the same file)." },
	{ "webrtc", "max_message_bytes", TT_CONF_INT, "65536", 1024, 1048576, NULL, 0,
	  "Largest signalling message accepted (an SDP offer fits in 16 KiB)." },
	{ "webrtc", "max_messages_per_s", TT_CONF_INT, "50", 1, 10000, NULL, 0,
	  "Signalling messages per second per connection (bursts of twice that)." },
	{ "webrtc", "max_send_stall_ms", TT_CONF_INT, "10000", 500, 600000, NULL, 0,
	  "A browser is disconnected as not reading (close code 1008) when a message it was "
	  "sent has waited this long for its socket to take it." },
	{ "webrtc", "max_send_backlog_bytes", TT_CONF_INT, "1048576", 65536, 67108864, NULL, 0,
	  "A browser is disconnected as not reading (close code 1008) when more than this "
	  "many bytes of messages wait for its socket." },
	{ "webrtc", "public_url", TT_CONF_STRING, "", 0, 1024, NULL, R,
	  "The web client's address as people reach it (https://bridge.example.org, behind a "
	  "proxy or a name), for the room's link in the page's 'ways in' panel and in every "
	  "network's list of doors; empty: made from [http] (http or https, listen address, "
	  "port; 0.0.0.0 and :: become this machine's host name)." },
	{ "webrtc", "max_per_address", TT_CONF_INT, "32", 1, 100000, NULL, R,
	  "Open signalling connections allowed from one IP address." },
	{ NULL, NULL, 0, NULL, 0, 0, NULL, 0, NULL },
};

static int make_policy(struct wr_gw *gw, const struct tt_conf *c)
{
	struct tt_dtls_cert *cert = NULL;
	const char *cf = tt_conf_str(c, "webrtc", "dtls_cert");
	int rc = cf && *cf ? tt_dtls_cert_load(&cert, cf, tt_conf_str(c, "webrtc", "dtls_key"))
			   : tt_dtls_cert_generate(&cert);
	if (rc) {
		tt_error("webrtc.dtls_cert %s: %s", cf && *cf ? cf : "(generated)", tt_strerror(rc));
		return rc;
	}
	struct tt_ice_settings s = {
		.addresses = tt_conf_str(c, "webrtc", "ice_addresses"),
		.allow_loopback = tt_conf_bool(c, "webrtc", "allow_loopback"),
		.stun_server = tt_conf_str(c, "webrtc", "stun_server"),
		.stun_port = (unsigned)tt_conf_int(c, "webrtc", "stun_port"),
		.turn_server = tt_conf_str(c, "webrtc", "turn_server"),
		.turn_port = (unsigned)tt_conf_int(c, "webrtc", "turn_port"),
		.turn_user = tt_conf_str(c, "webrtc", "turn_user"),
		.turn_password = tt_conf_str(c, "webrtc", "turn_password"),
		.turn_secret = tt_conf_str(c, "webrtc", "turn_secret"),
		.turn_ttl = (unsigned)tt_conf_int(c, "webrtc", "turn_ttl"),
		.port_min = (unsigned)tt_conf_int(c, "webrtc", "port_min"),
		.port_max = (unsigned)tt_conf_int(c, "webrtc", "port_max"),
		.consent_freshness = tt_conf_bool(c, "webrtc", "consent_freshness"),
		.cert = cert,
	};
	const char *lite = tt_conf_str(c, "webrtc", "ice_lite");
	bool relay = (s.stun_server && *s.stun_server) || (s.turn_server && *s.turn_server);
	s.lite = !strcmp(lite, "on") || (!strcmp(lite, "auto") && !relay);
	if (!strcmp(lite, "on") && relay)
		tt_warn("webrtc.ice_lite = on: stun_server and turn_server are not used (lite "
			"ICE has only the shared port's host candidates)");
	tt_info("ICE: %s", s.lite ? "lite, on each worker's shared UDP port" : "full (libnice)");
	rc = tt_ice_policy_alloc(&gw->policy, &s);
	tt_dtls_cert_unref(cert);
	if (rc)
		tt_error("webrtc: ICE settings refused: %s", tt_strerror(rc));
	else
		tt_info("DTLS fingerprint %s",
			tt_dtls_cert_fingerprint(tt_ice_policy_cert(gw->policy)));
	return rc;
}

static void wr_free(void *state);

static int wr_start(struct tt_gw_handle *h, const struct tt_core_api *core,
		    const struct tt_conf *conf, void **statep)
{
	struct wr_gw *gw = g_new0(struct wr_gw, 1);
	gw->h = h;
	gw->core = core;
	gw->per_peer = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	gw->refused = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	gw->by_room = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					    (GDestroyNotify)g_ptr_array_unref);
	gw->max_per_peer = (unsigned)tt_conf_int(conf, "webrtc", "max_per_address");
	gw->roster_dirty = g_ptr_array_new();
	gw->state_dirty = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	gw->public_url = wr_public_url(conf);
	gw->ws_path = g_strdup(tt_conf_str(conf, "webrtc", "ws_path"));
	gw->ws_ops = (struct tt_ws_ops){
		.open = wr_session_open,
		.message = wr_session_message,
		.close = wr_session_close,
		.max_message = (size_t)tt_conf_int(conf, "webrtc", "max_message_bytes"),
		.max_rate = (unsigned)tt_conf_int(conf, "webrtc", "max_messages_per_s"),
		.max_backlog_bytes = (size_t)tt_conf_int(conf, "webrtc", "max_send_backlog_bytes"),
		.max_stall_ms = (unsigned)tt_conf_int(conf, "webrtc", "max_send_stall_ms"),
	};
	int rc = wr_ice_servers_load(gw, conf);
	if (!rc)
		rc = make_policy(gw, conf);
	if (!rc) {
		rc = core->ws_register(h, gw->ws_path, &gw->ws_ops, gw);
		if (rc)
			tt_error("webrtc: cannot serve %s: %s", gw->ws_path, tt_strerror(rc));
	}
	if (rc) {
		wr_free(gw);
		return rc;
	}
	*statep = gw;
	return 0;
}

static void wr_stop(void *state)
{
	struct wr_gw *gw = state;
	gw->stopping = true;
	GList *copy = g_list_copy(gw->sessions);
	for (GList *l = copy; l; l = l->next)
		wr_session_hang_up(l->data, "the bridge is shutting down");
	g_list_free(copy);
}

static bool wr_stopped(void *state)
{
	struct wr_gw *gw = state;
	return gw->sessions == NULL;
}

static void wr_free(void *state)
{
	struct wr_gw *gw = state;
	/* Unregistering closes what is left without calling us back: end those here. */
	if (gw->ws_path)
		gw->core->ws_register(gw->h, gw->ws_path, NULL, NULL);
	wr_roster_free(gw);
	wr_meeting_free(gw);
	while (gw->sessions) {
		struct wr_session *s = gw->sessions->data;
		s->ws = NULL;
		wr_session_hang_up(s, NULL);
		gw->sessions = g_list_delete_link(gw->sessions, gw->sessions);
		s->st = WR_CLOSED;
		wr_session_unref(s);   /* in-flight attach results hold their own */
	}
	tt_ice_policy_unref(gw->policy);
	g_hash_table_destroy(gw->per_peer);
	g_hash_table_destroy(gw->refused);
	g_hash_table_destroy(gw->by_room);
	g_free(gw->ws_path);
	g_free(gw->public_url);
	wr_ice_servers_free(gw);
	g_free(gw);
}

static void wr_hang_up(void *state, struct tt_participant *p, const char *why)
{
	struct wr_gw *gw = state;
	struct wr_session *s = gw->core->participant_gw_data(p);
	if (s && s->p == p)
		wr_session_hang_up(s, why);
	else
		gw->core->participant_leave(p, 0);  /* not ours any more: end it anyway */
}

static void wr_on_roster(void *state, const struct tt_roster_event *ev)
{
	wr_roster_event(state, ev);
}

/* Once per browser in the room but the sender's, whose page shows its own line already:
 * the bus decides that (textbus.h). */
static void wr_on_text_to(void *state, struct tt_participant *p, const struct tt_text *msg)
{
	struct wr_gw *gw = state;
	struct wr_session *s = gw->core->participant_gw_data(p);
	if (!s || s->p != p)
		return;
	wr_session_send(s, json_pack("{s:s, s:o, s:s, s:b, s:b}", "type", "chat", "from",
				     wr_entry_json(&msg->from), "text", msg->text, "action",
				     !!(msg->flags & TT_TEXT_ACTION), "notice",
				     !!(msg->flags & TT_TEXT_NOTICE)));
}

static int wr_reload(void *state, const struct tt_conf *conf)
{
	struct wr_gw *gw = state;
	gw->max_per_peer = (unsigned)tt_conf_int(conf, "webrtc", "max_per_address");
	g_free(gw->public_url);
	gw->public_url = wr_public_url(conf);
	return wr_ice_servers_reload(gw, conf);
}

const struct tt_gateway tt_gateway_webrtc = {
	.api_version = TT_GATEWAY_API_VERSION,
	.name = "webrtc",
	.network = "web",
	.conf_keys = keys,
	.start = wr_start,
	.stop = wr_stop,
	.free = wr_free,
	.hang_up = wr_hang_up,
	.stopped = wr_stopped,
	.on_roster = wr_on_roster,
	.reload = wr_reload,
	.on_text_to = wr_on_text_to,
	.on_meeting = wr_on_meeting,
	.doors = wr_doors,
	.check_config = wr_ice_servers_check,
};
