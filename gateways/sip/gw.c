/* gw.c: the SIP gateway's descriptor, its config rows, and sofia-sip's NUA on the core's
 * GLib loop: start/stop, the per-source request limit, the validation layer in front of
 * every request, and the dispatch of NUA events to calls, MESSAGE and OPTIONS. */
#define TT_LOG_DOMAIN "sip"
#include "sip.h"

#include <stdio.h>
#include <string.h>

#include <sofia-sip/msg.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nta_tag.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_log.h>
#include <sofia-sip/tport_tag.h>

#include <tutti/certfiles.h>
#include <tutti/errno.h>
#include <tutti/log.h>

#include "validate.h"

#define R TT_CONF_RELOADABLE

static const struct tt_conf_key keys[] = {
	{ "sip", "listen", TT_CONF_STRING, "127.0.0.1", 0, 255, NULL, 0,
	  "Address the SIP listeners bind to (0.0.0.0 or :: for every interface)." },
	{ "sip", "port", TT_CONF_INT, "5060", 1, 65535, NULL, 0,
	  "UDP and TCP port for sip: URIs." },
	{ "sip", "transports", TT_CONF_LIST, "udp,tcp", 0, 0, NULL, 0,
	  "Plain transports to listen on: udp, tcp or both." },
	{ "sip", "tls_port", TT_CONF_INT, "5061", 1, 65535, NULL, 0,
	  "TLS port for sips: URIs, used when tls_cert_dir is set." },
	{ "sip", "tls_cert_dir", TT_CONF_STRING, "", 0, 4096, NULL, 0,
	  "Directory with agent.pem (certificate and key) and cafile.pem; empty: no TLS." },
	{ "sip", "aliases", TT_CONF_LIST, "", 0, 0, NULL, R,
	  "Numbers (or names) that lead to rooms, as \"number=room\" entries." },
	{ "sip", "default_room", TT_CONF_STRING, "", 0, 64, NULL, R,
	  "Room for INVITEs whose Request-URI has no user part; empty: 404." },
	{ "sip", "codecs", TT_CONF_LIST, "opus,g722,pcmu,pcma", 0, 0, NULL, R,
	  "Codec preference when answering and offering (opus, g722, pcmu, pcma)." },
	{ "sip", "ptime", TT_CONF_INT, "20", 10, 60, NULL, R,
	  "Packet time in ms when the peer asks for none (10, 20, 40 or 60)." },
	{ "sip", "srtp", TT_CONF_ENUM, "offer", 0, 0, "off|offer|require", R,
	  "SDES-SRTP: off, offer (used when the peer has a=crypto) or require (488 otherwise)." },
	{ "sip", "unknown_room", TT_CONF_ENUM, "auto", 0, 0, "auto|404|pin", R,
	  "A call to a room that does not exist: 404, or pin (answered and asked for a PIN "
	  "that is never right, like a PIN room, so that rooms cannot be enumerated); auto: pin "
	  "when a [room.NAME] has a PIN." },
	{ "sip", "pin_attempts", TT_CONF_INT, "3", 1, 10, NULL, R,
	  "Wrong PIN entries before the call is hung up." },
	{ "sip", "prompts_dir", TT_CONF_STRING, "", 0, 4096, NULL, 0,
	  "Directory of the spoken prompts (the .wav files of gateways/sip/prompts and its words/ "
	  "folder, one sample rate); empty: the built-in ones." },
	{ "sip", "pin_timeout", TT_CONF_INT, "60", 5, 600, NULL, R,
	  "Seconds a caller has to enter a room PIN before the call is hung up (in a room "
	  "with a moderator PIN and no PIN: before being admitted as a participant)." },
	{ "sip", "session_timer", TT_CONF_INT, "1800", 0, 86400, NULL, 0,
	  "RFC 4028 session interval in seconds; 0 turns session timers off." },
	{ "sip", "min_se", TT_CONF_INT, "90", 90, 86400, NULL, 0,
	  "Smallest session interval accepted (Min-SE), seconds." },
	{ "sip", "rate_limit", TT_CONF_INT, "200", 1, 100000, NULL, R,
	  "New requests per second accepted from one source address (503 beyond)." },
	{ "sip", "rate_burst", TT_CONF_INT, "400", 1, 100000, NULL, R,
	  "Requests one source address may send at once before rate_limit applies." },
	{ "sip", "auth_users", TT_CONF_STRING, "", 0, 4096, NULL, 0,
	  "File of users callers must authenticate as (digest, sofia-sip's auth module format); empty: no authentication." },
	{ "sip", "auth_realm", TT_CONF_STRING, "tutti", 0, 255, NULL, 0,
	  "Digest realm for auth_users." },
	{ "sip", "symmetric_response", TT_CONF_BOOL, "true", 0, 0, NULL, 0,
	  "Answer UDP requests to their source address and port even without rport (NAT)." },
	{ "sip", "public_host", TT_CONF_STRING, "", 0, 255, NULL, R,
	  "Host (and :port) of the room addresses the bridge shows (*0, the web page, the API): "
	  "sip:ROOM@public_host; empty: listen and port, or this machine's name when listen is "
	  "a wildcard." },
	{ NULL, NULL, 0, NULL, 0, 0, NULL, 0, NULL },
};

struct sip_bucket {
	double tokens;
	gint64 last_us;
};

/* Token bucket per source address: a flood from one address gets 503 and costs us one
 * hash lookup, while everybody else goes on. Buckets of quiet sources are swept lazily. */
bool tt__sip_rate_ok(struct sipgw *gw, const struct sockaddr *sa)
{
	char key[64] = "";
	if (!sa)
		return true;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, key, sizeof key);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, key,
			  sizeof key);
	if (!key[0])
		return true;
	gint64 now = g_get_monotonic_time();
	struct sip_bucket *b = g_hash_table_lookup(gw->rate, key);
	if (!b) {
		if (g_hash_table_size(gw->rate) > 10000)
			g_hash_table_remove_all(gw->rate);
		b = g_new0(struct sip_bucket, 1);
		b->tokens = gw->rate_burst;
		b->last_us = now;
		g_hash_table_insert(gw->rate, g_strdup(key), b);
	}
	b->tokens += (double)(now - b->last_us) * gw->rate_per_s / 1e6;
	if (b->tokens > gw->rate_burst)
		b->tokens = gw->rate_burst;
	b->last_us = now;
	if (b->tokens < 1.0)
		return false;
	b->tokens -= 1.0;
	return true;
}

static bool rate_ok(struct sipgw *gw)
{
	msg_t *msg = nua_current_request(gw->nua);
	su_addrinfo_t *ai = msg ? msg_addrinfo(msg) : NULL;
	return tt__sip_rate_ok(gw, ai ? ai->ai_addr : NULL);
}

static bool is_request_event(nua_event_t ev)
{
	switch (ev) {
	case nua_i_invite: case nua_i_bye: case nua_i_options: case nua_i_message:
	case nua_i_info: case nua_i_update: case nua_i_subscribe: case nua_i_notify:
	case nua_i_method: case nua_i_register: case nua_i_refer: case nua_i_publish:
	case nua_i_prack:
		return true;
	default:
		return false;
	}
}

static void count_request(struct sipgw *gw, nua_event_t ev)
{
	switch (ev) {
	case nua_i_invite: gw->st.invite++; break;
	case nua_i_bye: gw->st.bye++; break;
	case nua_i_options: gw->st.options++; break;
	case nua_i_message: gw->st.message++; break;
	case nua_i_subscribe: gw->st.subscribe++; break;
	default: gw->st.other++; break;
	}
}

void tt__sip_count_response(struct sipgw *gw, int status)
{
	if (status >= 100 && status < 700)
		gw->st.resp[status / 100 - 1]++;
}

static void answer_options(struct sipgw *gw, nua_handle_t *nh)
{
	sip_respond(gw, nh, SIP_200_OK, NUTAG_WITH_THIS(gw->nua), SIPTAG_ALLOW_STR(TT_SIP_ALLOW),
		    SIPTAG_ACCEPT_STR("application/sdp, text/plain"),
		    SIPTAG_SUPPORTED_STR(TT_SIP_SUPPORTED), TAG_END());
}

static void nua_cb(nua_event_t ev, int status, char const *phrase, nua_t *nua,
		   struct sipgw *gw, nua_handle_t *nh, struct sip_call *c, sip_t const *sip,
		   tagi_t tags[])
{
	if (ev == nua_r_shutdown) {
		if (status >= 200)
			gw->shut_down = true;
		return;
	}
	if (is_request_event(ev)) {
		count_request(gw, ev);
		struct tt_sip_verdict v;
		int st = tt_sip_validate(sip, &v);
		if (st == 0 && !c && !rate_ok(gw)) {
			st = v.status = 503, v.phrase = "Service Unavailable";
			gw->st.rate_limited++;
		} else if (st > 0) {
			gw->st.rejected++;
		}
		if (st > 0) {
			tt_debug("%s: %d %s", sip_method_name(sip->sip_request->rq_method,
							       "request"), st, v.phrase);
			sip_respond(gw, nh, st, v.phrase, NUTAG_WITH_THIS(nua),
				    TAG_IF(st == 420, SIPTAG_UNSUPPORTED_STR(v.unsupported)),
				    TAG_IF(v.accept, SIPTAG_ACCEPT_STR(v.accept)),
				    TAG_IF(st == 503, SIPTAG_RETRY_AFTER_STR("5")),
				    TAG_IF(st == 501 || st == 405, SIPTAG_ALLOW_STR(TT_SIP_ALLOW)),
				    TAG_END());
			if (!c)
				nua_handle_destroy(nh);
			return;
		}
	}
	if (!c && tt__sip_sub_event(gw, ev, status, nh, sip, tags))
		return;
	if (!c && (ev == nua_i_invite || ev == nua_i_message || ev == nua_i_subscribe) &&
	    !tt__sip_auth_check(gw, nh, sip))
		return;
	/* requests that set a dialog's next hop: never let sofia resolve a name we were sent */
	if ((ev == nua_i_invite || ev == nua_i_subscribe || ev == nua_i_update) &&
	    !tt__sip_next_hop(gw, nh, sip)) {
		sip_respond(gw, nh, SIP_500_INTERNAL_SERVER_ERROR, NUTAG_WITH_THIS(nua), TAG_END());
		if (!c)
			nua_handle_destroy(nh);
		return;
	}
	switch (ev) {
	case nua_i_invite:
		tt__sip_call_invite(gw, nh, c, sip);
		return;
	case nua_i_subscribe:
		if (c) {
			sip_respond(gw, nh, SIP_403_FORBIDDEN, NUTAG_WITH_THIS(nua), TAG_END());
			return;
		}
		tt__sip_subscribe(gw, nh, sip);
		return;
	case nua_i_options:
		answer_options(gw, nh);
		if (!c)
			nua_handle_destroy(nh);
		return;
	case nua_i_message:
		tt__sip_message(gw, nh, c, sip);
		return;
	case nua_i_register:
	case nua_i_publish:
	case nua_i_refer:
	case nua_i_method:
		gw->st.rejected++;
		sip_respond(gw, nh, SIP_405_METHOD_NOT_ALLOWED, NUTAG_WITH_THIS(nua),
			    SIPTAG_ALLOW_STR(TT_SIP_ALLOW), TAG_END());
		if (!c)
			nua_handle_destroy(nh);
		return;
	default:
		break;
	}
	if (c) {
		tt__sip_call_event(gw, ev, status, phrase, nh, c, sip, tags);
		return;
	}
	/* a stray handle nobody owns (a response to nothing, an event after the call was
	 * freed): nothing to do, but do not leak it */
	if (ev == nua_i_terminated || ev == nua_i_notify || ev == nua_i_bye ||
	    ev == nua_i_info || ev == nua_i_update)
		nua_handle_destroy(nh);
}

static bool some_room_has_pin(const struct tt_conf *conf)
{
	bool pin = false;
	for (const char *const *r = tt_conf_instances(conf, "room"); *r && !pin; r++) {
		char *sec = g_strconcat("room.", *r, NULL);
		pin = tt_conf_is_set(conf, sec, "pin");
		g_free(sec);
	}
	return pin;
}

static void load_conf(struct sipgw *gw, const struct tt_conf *conf)
{
	gw->conf = conf;
	g_hash_table_remove_all(gw->aliases);
	for (const char *const *a = tt_conf_list(conf, "sip", "aliases"); *a; a++) {
		const char *eq = strchr(*a, '=');
		if (eq && eq > *a && eq[1])
			g_hash_table_insert(gw->aliases, g_strndup(*a, (gsize)(eq - *a)),
					    g_strdup(eq + 1));
	}
	g_free(gw->default_room);
	gw->default_room = g_strdup(tt_conf_str(conf, "sip", "default_room"));
	g_strfreev(gw->codecs);
	GPtrArray *cs = g_ptr_array_new();
	for (const char *const *c = tt_conf_list(conf, "sip", "codecs"); *c; c++)
		if (!strcmp(*c, "opus") || !strcmp(*c, "g722") || !strcmp(*c, "pcmu") ||
		    !strcmp(*c, "pcma"))
			g_ptr_array_add(cs, g_strdup(*c));
		else
			tt_warn("[sip] codecs: unknown codec %s ignored", *c);
	g_ptr_array_add(cs, NULL);
	gw->codecs = (char **)g_ptr_array_free(cs, FALSE);
	gw->pol.codecs = (const char *const *)gw->codecs;
	gw->pol.ptime = (unsigned)tt_conf_int(conf, "sip", "ptime");
	const char *srtp = tt_conf_str(conf, "sip", "srtp");
	gw->pol.srtp = !g_strcmp0(srtp, "off")       ? TT_SIP_SRTP_OFF
		       : !g_strcmp0(srtp, "require") ? TT_SIP_SRTP_REQUIRE
						     : TT_SIP_SRTP_OFFER;
	const char *unknown = tt_conf_str(conf, "sip", "unknown_room");
	gw->decoy = !g_strcmp0(unknown, "pin") ||
		    (!g_strcmp0(unknown, "auto") && some_room_has_pin(conf));
	gw->pin_attempts = (unsigned)tt_conf_int(conf, "sip", "pin_attempts");
	gw->pin_timeout = (unsigned)tt_conf_int(conf, "sip", "pin_timeout");
	gw->rate_per_s = (unsigned)tt_conf_int(conf, "sip", "rate_limit");
	gw->rate_burst = (unsigned)tt_conf_int(conf, "sip", "rate_burst");
	g_free(gw->public_host);
	const char *pub = tt_conf_str(conf, "sip", "public_host");
	if (pub && *pub) {
		gw->public_host = g_strdup(pub);
	} else {
		/* a wildcard listener has no address to give: the machine's name is the best
		 * guess (public_host says better) */
		const char *host = tt_conf_str(conf, "sip", "listen");
		bool any = !strcmp(host, "0.0.0.0") || !strcmp(host, "::") || !*host;
		if (any)
			host = g_get_host_name();
		bool v6 = strchr(host, ':') != NULL;
		long long port = tt_conf_int(conf, "sip", "port");
		gw->public_host = port == 5060 ? g_strdup_printf("%s%s%s", v6 ? "[" : "", host,
								   v6 ? "]" : "")
					       : g_strdup_printf("%s%s%s:%lld", v6 ? "[" : "", host,
								   v6 ? "]" : "", port);
	}
}

static void sip_free(void *state);

/* sofia-sip reads <tls_cert_dir>/agent.pem (the certificate and its key in one file)
 * itself, and when that file is missing or wrong it either fails without a word or
 * listens without TLS: check it first (the core runs this at --check-config and before
 * start alike). */
static int sip_check_config(const struct tt_conf *conf, char **errors)
{
	const char *dir = tt_conf_str(conf, "sip", "tls_cert_dir");
	*errors = NULL;
	if (!dir || !*dir)
		return 0;
	char *agent = g_build_filename(dir, "agent.pem", NULL);
	char *err = NULL;
	int rc = tt_certfiles_check(agent, agent, NULL, &err);
	if (rc)
		*errors = g_strdup_printf("%s:%d: [sip] tls_cert_dir: %s\n",
					  tt_conf_path(conf) ? tt_conf_path(conf) : "-",
					  tt_conf_line(conf, "sip", "tls_cert_dir"), err);
	g_free(err);
	g_free(agent);
	return rc ? -EINVAL : 0;
}

static int sip_start(struct tt_gw_handle *h, const struct tt_core_api *core,
		     const struct tt_conf *conf, void **statep)
{
	struct sipgw *gw = g_new0(struct sipgw, 1);
	int rc = 0;
	gw->h = h;
	gw->core = core;
	gw->calls = g_hash_table_new(g_direct_hash, g_direct_equal);
	gw->subs = g_hash_table_new(g_direct_hash, g_direct_equal);
	gw->aliases = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	gw->rate = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	gw->sess_ids = (uint64_t)g_get_real_time();
	load_conf(gw, conf);
	tt__sip_prompts_load(gw, tt_conf_str(conf, "sip", "prompts_dir"));
	if (gw->pol.codecs[0] == NULL) {
		tt_error("[sip] codecs: no usable codec");
		rc = -EINVAL;
		goto out;
	}
	su_init();
	/* sofia logs to stdout by default; our log is stderr, and its chatter is not ours */
	su_log_set_level(NULL, 0);
	gw->root = su_glib_root_create(gw);
	if (!gw->root) {
		rc = -ENOMEM;
		goto out;
	}
	g_source_attach(su_glib_root_gsource(gw->root), NULL);
	/* without this nua_create() runs the SIP stack in a thread of its own and only the
	 * events come to our loop; the design wants all signalling on the core loop, and a
	 * single thread means no locking between the stack and the gateway */
	su_root_threading(gw->root, 0);

	const char *host = tt_conf_str(conf, "sip", "listen");
	bool v6 = strchr(host, ':') != NULL;
	long long port = tt_conf_int(conf, "sip", "port");
	const char *const *tr = tt_conf_list(conf, "sip", "transports");
	bool udp = false, tcp = false;
	for (; *tr; tr++) {
		if (!strcmp(*tr, "udp"))
			udp = true;
		else if (!strcmp(*tr, "tcp"))
			tcp = true;
		else {
			tt_error("[sip] transports: unknown transport %s (udp, tcp)", *tr);
			rc = -EINVAL;
			goto out;
		}
	}
	char *url = g_strdup_printf("sip:%s%s%s:%lld%s", v6 ? "[" : "", host, v6 ? "]" : "",
				    port, udp && tcp ? "" : udp ? ";transport=udp"
							   : tcp ? ";transport=tcp" : "");
	const char *certs = tt_conf_str(conf, "sip", "tls_cert_dir");
	char *sips = NULL;
	if (certs && *certs)
		sips = g_strdup_printf("sips:%s%s%s:%lld", v6 ? "[" : "", host, v6 ? "]" : "",
				       tt_conf_int(conf, "sip", "tls_port"));
	unsigned timer = (unsigned)tt_conf_int(conf, "sip", "session_timer");
	tt__sip_tls_capture_begin(gw);
	gw->nua = nua_create(gw->root, nua_cb, gw, NUTAG_URL(url),
			     TAG_IF(sips, NUTAG_SIPS_URL(sips)),
			     TAG_IF(sips, NUTAG_CERTIFICATE_DIR(certs)),
			     NUTAG_MEDIA_ENABLE(0), NUTAG_AUTOANSWER(0),
			     NUTAG_ENABLEMESSAGE(1), NUTAG_APPL_METHOD("OPTIONS"),
			     NUTAG_APPL_METHOD("MESSAGE"), NUTAG_APPL_METHOD("INFO"),
			     NUTAG_APPL_METHOD("UPDATE"), NUTAG_APPL_METHOD("SUBSCRIBE"),
			     NUTAG_ALLOW_EVENTS("conference"),
			     NUTAG_ALLOW(TT_SIP_ALLOW),
			     NUTAG_SESSION_TIMER(timer),
			     NUTAG_MIN_SE((unsigned)tt_conf_int(conf, "sip", "min_se")),
			     SIPTAG_SUPPORTED_STR(timer ? "timer" : ""),
			     SIPTAG_USER_AGENT_STR("tutti/" TT_VERSION),
			     /* keep the raw bytes of each header: the validation layer
			      * checks the request line sofia's parser forgives */
			     NTATAG_SIPFLAGS(MSG_DO_EXTRACT_COPY),
			     NTATAG_SERVER_RPORT(tt_conf_bool(conf, "sip", "symmetric_response") ?
						 2 : 1),
			     TAG_NULL());
	tt__sip_tls_capture_end(gw, sips ? certs : NULL);
	if (gw->nua)
		rc = tt__sip_auth_open(gw, tt_conf_str(conf, "sip", "auth_users"),
				       tt_conf_str(conf, "sip", "auth_realm"));
	if (!gw->nua) {
		tt_error("cannot listen on %s%s%s: address in use or not available", url,
			 sips ? " / " : "", sips ? sips : "");
		rc = -EADDRINUSE;
	} else {
		tt_info("listening on %s%s%s", url, sips ? " and " : "", sips ? sips : "");
		gw->symmetric_response = tt_conf_bool(conf, "sip", "symmetric_response");
		if (udp && tt__sip_guard_start(gw, (unsigned)port) == 0)
			tt_warn("guard: sofia-sip's UDP socket on port %lld not found: requests "
				"it drops (other SIP versions, some unknown methods) get no answer",
				port);
	}
	g_free(url);
	g_free(sips);
out:
	if (rc) {
		sip_free(gw);
		return rc;
	}
	*statep = gw;
	return 0;
}

static void sip_stop(void *state)
{
	struct sipgw *gw = state;
	if (gw->shutting_down || !gw->nua)
		return;
	gw->shutting_down = true;
	GList *all = g_hash_table_get_keys(gw->calls);
	for (GList *l = all; l; l = l->next)
		tt__sip_call_hang_up(gw, l->data, "the bridge is shutting down");
	g_list_free(all);
	tt__sip_subs_free(gw);
	tt__sip_guard_stop(gw);
	nua_shutdown(gw->nua);
}

static bool sip_stopped(void *state)
{
	struct sipgw *gw = state;
	return !gw->nua || gw->shut_down;
}

/* sofia-sip aborts the process (an assert in nua_destroy()) unless nua_shutdown() has
 * completed, which takes loop iterations the grace period may not have had: a grace of 0,
 * a loop busy with a flood, a start that failed after nua_create(). Then the stack is left
 * to the process exit: its GSource leaves the loop, so none of it runs again, and the
 * pointers stay reachable here, so leak checkers do not count it. */
static GSList *abandoned;

static void abandon_stack(struct sipgw *gw)
{
	tt_warn("sofia-sip did not finish shutting down in time: its stack is left to the "
		"process exit");
	g_source_destroy(su_glib_root_gsource(gw->root));
	abandoned = g_slist_prepend(g_slist_prepend(abandoned, gw->nua), gw->root);
	gw->nua = NULL;
	gw->root = NULL;
}

static void sip_free(void *state)
{
	struct sipgw *gw = state;
	GList *all = g_hash_table_get_keys(gw->calls);
	for (GList *l = all; l; l = l->next)
		tt__sip_call_free(l->data);
	g_list_free(all);
	tt__sip_subs_free(gw);
	tt__sip_auth_close(gw);
	tt__sip_prompts_free(gw);
	tt__sip_guard_stop(gw);
	tt__sip_tls_free(gw);
	if (gw->nua && !gw->shut_down)
		abandon_stack(gw);
	if (gw->nua)
		nua_destroy(gw->nua);
	if (gw->root) {
		su_root_destroy(gw->root);
		su_deinit();
	}
	g_hash_table_destroy(gw->calls);
	g_hash_table_destroy(gw->subs);
	g_hash_table_destroy(gw->aliases);
	g_hash_table_destroy(gw->rate);
	g_strfreev(gw->codecs);
	g_free(gw->default_room);
	g_free(gw->public_host);
	g_free(gw);
}

static void sip_hang_up(void *state, struct tt_participant *p, const char *why)
{
	struct sipgw *gw = state;
	struct sip_call *c = gw->core->participant_gw_data(p);
	if (c && g_hash_table_contains(gw->calls, c))
		tt__sip_call_hang_up(gw, c, why);
}

/* tls_cert_dir itself needs a restart (sofia binds sips: at start); the agent.pem in it is
 * read again, for an ACME renewal in place (tls.c). */
static int sip_reload(void *state, const struct tt_conf *conf)
{
	load_conf(state, conf);
	return tt__sip_tls_reload(state);
}

static void sip_stats(void *state, void *out)
{
	struct sipgw *gw = state;
	struct sip_stats *st = out;
	*st = gw->st;
	st->guard_answered = gw->guard_answered;
	st->calls = g_hash_table_size(gw->calls);
}

#define ROW(member, ty, grp, name, fl, help) \
	TT_STAT_FIELD(struct sip_stats, member, ty, grp, name, fl, help)
#define C TT_STAT_COUNTER
/* Requests by method; responses by status class, those we send (sip_respond), not those
 * sofia sends by itself: docs/operations.md says so. */
static const struct tt_stat_field sip_stat_fields[] = {
	ROW(calls, U32, NULL, "calls", 0, "calls (INVITE dialogs) now"),
	ROW(invite, U64, "requests", "invite", C, "INVITE requests received (re-INVITEs too)"),
	ROW(bye, U64, "requests", "bye", C, "BYE requests received"),
	ROW(options, U64, "requests", "options", C, "OPTIONS requests received"),
	ROW(message, U64, "requests", "message", C, "MESSAGE requests received"),
	ROW(subscribe, U64, "requests", "subscribe", C, "SUBSCRIBE requests received"),
	ROW(other, U64, "requests", "other", C,
	    "other requests received (NOTIFY, INFO, UPDATE, PRACK, REFER, REGISTER, ...)"),
	ROW(rejected, U64, NULL, "rejected", C,
	    "requests answered 4xx at once (malformed, unsupported, method not allowed)"),
	ROW(rate_limited, U64, NULL, "rate_limited", C,
	    "requests answered 503 for going over [sip] rate_per_s from one address"),
	ROW(guard_answered, U64, NULL, "guard_answered", C,
	    "requests the UDP guard answered before sofia saw them"),
	ROW(resp[0], U64, "responses", "1xx", C, "provisional responses sent (180 Ringing)"),
	ROW(resp[1], U64, "responses", "2xx", C, "2xx responses sent by the gateway"),
	ROW(resp[2], U64, "responses", "3xx", C, "3xx responses sent by the gateway"),
	ROW(resp[3], U64, "responses", "4xx", C,
	    "4xx responses sent by the gateway (wrong PIN, no room, unsupported, ...)"),
	ROW(resp[4], U64, "responses", "5xx", C, "5xx responses sent by the gateway (full, busy)"),
	ROW(resp[5], U64, "responses", "6xx", C, "6xx responses sent by the gateway"),
	{ 0 },
};
#undef ROW
#undef C

const struct tt_gateway tt_gateway_sip = {
	.api_version = TT_GATEWAY_API_VERSION,
	.name = "sip",
	.network = "phone",
	.conf_keys = keys,
	.start = sip_start,
	.stop = sip_stop,
	.stopped = sip_stopped,
	.free = sip_free,
	.hang_up = sip_hang_up,
	.on_dtmf = tt__sip_on_dtmf,
	.on_roster = tt__sip_on_roster,
	.reload = sip_reload,
	.check_config = sip_check_config,
	.on_text_to = tt__sip_on_text_to,
	.on_meeting = tt__sip_on_meeting,
	.doors = tt__sip_doors,
	.stat_fields = sip_stat_fields,
	.stats_size = sizeof(struct sip_stats),
	.stats = sip_stats,
};
