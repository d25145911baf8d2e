/* ice.c: the ICE + DTLS-SRTP transport: a libnice agent (one stream, one component: rtcp-mux)
 * on the worker's GMainContext, trickle candidates both ways, RFC 7675 consent freshness,
 * and RFC 7983 demultiplexing of what arrives: DTLS to dtls.c, RTP/RTCP to the generic
 * transport (which unprotects with the keys the handshake exported). STUN never reaches us:
 * libnice consumes it. */
#define _GNU_SOURCE    /* udp_priv.h: struct mmsghdr */
#define TT_LOG_DOMAIN "ice"
#include <arpa/inet.h>
#include <errno.h>
#include <nice/agent.h>
#include <nice/interfaces.h>
#include <stdlib.h>
#include <string.h>

#include "dtls.h"
#include "ice_lite.h"
#include "tutti/ice.h"
#include "tutti/log.h"
#include "tutti/srtp.h"
#include "transport_impl.h"

#define DTLS_TIMER_MS 50
#define MAX_DGRAM 1600

struct tt_ice_policy {
	gint ref;
	char **addresses;
	bool allow_loopback;
	char *stun_server, *turn_server, *turn_user, *turn_password, *turn_secret;
	unsigned stun_port, turn_port, port_min, port_max, turn_ttl;
	bool consent;
	bool lite;
	struct tt_dtls_cert *cert;
};

struct tt_ice {
	struct tt_transport *t;
	struct tt_ice_policy *policy;
	GMainContext *ctx;
	NiceAgent *agent;
	guint stream;
	tt_ice_cand_h cand_h;
	void *cand_arg;
	struct tt_dtls *dtls;
	GSource *dtls_timer;
	char *ufrag, *pwd;
	struct tt__lite *lite;          /* ICE-lite on a shared port instead of an agent */
	bool have_remote, connected, failed, dtls_done;
	char remote[64];
	uint8_t buf[MAX_DGRAM];
};

/* ---- policy ---- */

int tt_ice_policy_alloc(struct tt_ice_policy **pp, const struct tt_ice_settings *s)
{
	if (!pp || !s || !s->cert || s->port_min > s->port_max)
		return -EINVAL;
	struct tt_ice_policy *p = g_new0(struct tt_ice_policy, 1);
	p->ref = 1;
	p->addresses = g_strsplit(s->addresses ? s->addresses : "", ",", -1);
	for (char **a = p->addresses; *a; a++)
		g_strstrip(*a);
	p->allow_loopback = s->allow_loopback;
	p->stun_server = s->stun_server && *s->stun_server ? g_strdup(s->stun_server) : NULL;
	p->turn_server = s->turn_server && *s->turn_server ? g_strdup(s->turn_server) : NULL;
	p->turn_user = g_strdup(s->turn_user ? s->turn_user : "");
	p->turn_password = g_strdup(s->turn_password ? s->turn_password : "");
	p->turn_secret = s->turn_secret && *s->turn_secret ? g_strdup(s->turn_secret) : NULL;
	p->turn_ttl = s->turn_ttl ? s->turn_ttl : 86400;
	p->stun_port = s->stun_port ? s->stun_port : 3478;
	p->turn_port = s->turn_port ? s->turn_port : 3478;
	p->port_min = s->port_min;
	p->port_max = s->port_max;
	p->consent = s->consent_freshness;
	p->lite = s->lite;
	p->cert = tt_dtls_cert_ref(s->cert);
	*pp = p;
	return 0;
}

struct tt_ice_policy *tt_ice_policy_ref(struct tt_ice_policy *p)
{
	if (p)
		g_atomic_int_inc(&p->ref);
	return p;
}

struct tt_ice_policy *tt_ice_policy_unref(struct tt_ice_policy *p)
{
	if (p && g_atomic_int_dec_and_test(&p->ref)) {
		g_strfreev(p->addresses);
		g_free(p->stun_server);
		g_free(p->turn_server);
		g_free(p->turn_user);
		g_free(p->turn_password);
		g_free(p->turn_secret);
		tt_dtls_cert_unref(p->cert);
		g_free(p);
	}
	return NULL;
}

const struct tt_dtls_cert *tt_ice_policy_cert(const struct tt_ice_policy *p)
{
	return p ? p->cert : NULL;
}

int tt_ice_policy_with_turn_secret(struct tt_ice_policy **pp, const struct tt_ice_policy *from,
				   const char *turn_secret, unsigned turn_ttl)
{
	if (!pp || !from)
		return -EINVAL;
	struct tt_ice_policy *p = g_new0(struct tt_ice_policy, 1);
	*p = *from;
	p->ref = 1;
	p->addresses = g_strdupv(from->addresses);
	p->stun_server = g_strdup(from->stun_server);
	p->turn_server = g_strdup(from->turn_server);
	p->turn_user = g_strdup(from->turn_user);
	p->turn_password = g_strdup(from->turn_password);
	p->turn_secret = turn_secret && *turn_secret ? g_strdup(turn_secret) : NULL;
	p->turn_ttl = turn_ttl ? turn_ttl : 86400;
	p->cert = tt_dtls_cert_ref(from->cert);
	*pp = p;
	return 0;
}

bool tt_ice_policy_lite(const struct tt_ice_policy *p)
{
	return p && p->lite;
}

/* ---- transport ops ---- */

static int ice_send_batch(void *impl, const struct tt_transport_out *out, unsigned n)
{
	struct tt_ice *ice = impl;
	/* Nothing leaves before SRTP is on: plain RTP must never reach the wire. */
	if (!ice->dtls_done || ice->failed)
		return 0;
	unsigned sent = 0;
	for (unsigned i = 0; i < n; i++) {
		if (nice_agent_send(ice->agent, ice->stream, 1, (guint)out[i].len,
				    (const gchar *)out[i].data) == (gint)out[i].len)
			sent++;
	}
	return (int)sent;
}

static int ice_local(void *impl, struct sockaddr_storage *ss, socklen_t *len)
{
	struct tt_ice *ice = impl;
	NiceCandidate *l = NULL, *r = NULL;
	if (!nice_agent_get_selected_pair(ice->agent, ice->stream, 1, &l, &r) || !l)
		return -ENOTCONN;
	memset(ss, 0, sizeof *ss);
	nice_address_copy_to_sockaddr(&l->addr, (struct sockaddr *)ss);
	*len = ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	return 0;
}

static void ice_destroy(void *impl)
{
	struct tt_ice *ice = impl;
	if (ice->dtls_timer) {
		g_source_destroy(ice->dtls_timer);
		g_source_unref(ice->dtls_timer);
	}
	if (ice->agent) {
		g_signal_handlers_disconnect_matched(ice->agent, G_SIGNAL_MATCH_DATA, 0, 0, NULL,
						     NULL, ice);
		nice_agent_attach_recv(ice->agent, ice->stream, 1, ice->ctx, NULL, NULL);
		nice_agent_remove_stream(ice->agent, ice->stream);
		/* libnice may still have idle callbacks queued that reference the agent; they hold
		 * their own references, so dropping ours here is safe. */
		g_object_unref(ice->agent);
	}
	tt__dtls_free(ice->dtls);
	tt_ice_policy_unref(ice->policy);
	g_free(ice->ufrag);
	g_free(ice->pwd);
	g_main_context_unref(ice->ctx);
	g_free(ice);
}

static const struct tt_transport_ops ice_ops = {
	.kind = "ice",
	.send_batch = ice_send_batch,
	.local = ice_local,
	.destroy = ice_destroy,
};

/* ---- agent callbacks (worker thread) ---- */

static void fail(struct tt_ice *ice, int reason)
{
	if (ice->failed)
		return;
	ice->failed = true;
	tt__transport_fail(ice->t, reason);
}

static void dtls_out(void *arg, const uint8_t *buf, size_t len)
{
	struct tt_ice *ice = arg;
	nice_agent_send(ice->agent, ice->stream, 1, (guint)len, (const gchar *)buf);
}

static void on_recv(NiceAgent *agent, guint stream, guint comp, guint len, gchar *data,
		    gpointer arg)
{
	struct tt_ice *ice = arg;
	if (ice->failed || len == 0 || len > sizeof ice->buf)
		return;
	uint8_t b0 = (uint8_t)data[0];
	if (b0 >= 20 && b0 <= 63) {            /* DTLS (RFC 7983) */
		struct tt_srtp *srtp = NULL;
		if (!ice->dtls)
			return;
		int rc = tt__dtls_input(ice->dtls, (const uint8_t *)data, len, &srtp);
		if (rc == 1) {
			tt_transport_set_srtp(ice->t, srtp);
			ice->dtls_done = true;
		} else if (rc < 0) {
			fail(ice, rc);
		}
		return;
	}
	if (b0 >= 128 && b0 <= 191 && ice->dtls_done) {   /* RTP / RTCP */
		memcpy(ice->buf, data, len);
		tt__transport_input(ice->t, ice->buf, len);
		return;
	}
	tt__transport_count_bleed(ice->t);   /* media before keys, or unknown */
}

static gboolean on_dtls_timer(gpointer arg)
{
	struct tt_ice *ice = arg;
	if (ice->dtls && !ice->failed) {
		int rc = tt__dtls_tick(ice->dtls);
		if (rc < 0)
			fail(ice, rc);
	}
	return G_SOURCE_CONTINUE;
}

static void start_dtls(struct tt_ice *ice)
{
	if (!ice->dtls || ice->failed)
		return;
	int rc = tt__dtls_start(ice->dtls);
	if (rc < 0)
		fail(ice, rc);
}

static void on_state(NiceAgent *agent, guint stream, guint comp, guint state, gpointer arg)
{
	struct tt_ice *ice = arg;
	if (stream != ice->stream)
		return;
	switch (state) {
	case NICE_COMPONENT_STATE_CONNECTED:
	case NICE_COMPONENT_STATE_READY:
		if (!ice->connected) {
			ice->connected = true;
			tt__transport_set_latched(ice->t, true);
			start_dtls(ice);
		}
		break;
	case NICE_COMPONENT_STATE_FAILED:
		/* Connectivity checks failed, or (RFC 7675) consent expired: the peer is gone. */
		tt_debug("ICE failed%s", ice->connected ? " (consent lost)" : "");
		fail(ice, -ETIMEDOUT);
		break;
	default:
		break;
	}
}

static void on_pair(NiceAgent *agent, guint stream, guint comp, NiceCandidate *l,
		    NiceCandidate *r, gpointer arg)
{
	struct tt_ice *ice = arg;
	char ip[NICE_ADDRESS_STRING_LEN];
	nice_address_to_string(&r->addr, ip);
	g_snprintf(ice->remote, sizeof ice->remote, "%s:%u", ip, nice_address_get_port(&r->addr));
}

static void on_candidate(NiceAgent *agent, NiceCandidate *c, gpointer arg)
{
	struct tt_ice *ice = arg;
	if (c->stream_id != ice->stream || c->component_id != 1 || !ice->cand_h)
		return;
	gchar *sdp = nice_agent_generate_local_candidate_sdp(agent, c);
	if (sdp)
		ice->cand_h(ice->cand_arg, g_str_has_prefix(sdp, "a=") ? sdp + 2 : sdp);
	g_free(sdp);
}

static void on_gathered(NiceAgent *agent, guint stream, gpointer arg)
{
	struct tt_ice *ice = arg;
	if (stream == ice->stream && ice->cand_h)
		ice->cand_h(ice->cand_arg, NULL);
}

/* ---- construction ---- */

static int add_address(NiceAgent *agent, const char *ip)
{
	NiceAddress a;
	nice_address_init(&a);
	if (!nice_address_set_from_string(&a, ip))
		return -EINVAL;
	return nice_agent_add_local_address(agent, &a) ? 0 : -EINVAL;
}

/* With a shared secret the credentials are made here, per transport, so that a bridge that
 * runs for months never hands its TURN server expired ones; a refresh of the allocation
 * after turn_ttl fails, which bounds a relayed call to turn_ttl s. */
static int set_relay(struct tt_ice *ice, const struct tt_ice_policy *p)
{
	char *user = NULL, *pass = NULL;
	if (p->turn_secret &&
	    tt_turn_rest_credential(&user, &pass, p->turn_secret, p->turn_user,
				    g_get_real_time() / G_USEC_PER_SEC + p->turn_ttl))
		return -EIO;
	gboolean ok = nice_agent_set_relay_info(ice->agent, ice->stream, 1, p->turn_server,
						p->turn_port, user ? user : p->turn_user,
						pass ? pass : p->turn_password,
						NICE_RELAY_TYPE_TURN_UDP);
	g_free(user);
	g_free(pass);
	return ok ? 0 : -EIO;
}

static int setup_agent(struct tt_ice *ice, const struct tt_ice_cfg *icfg)
{
	struct tt_ice_policy *p = ice->policy;
	NiceAgentOption opts = NICE_AGENT_OPTION_ICE_TRICKLE | NICE_AGENT_OPTION_REGULAR_NOMINATION;
	if (p->consent)
		opts |= NICE_AGENT_OPTION_CONSENT_FRESHNESS;
	ice->agent = nice_agent_new_full(ice->ctx, NICE_COMPATIBILITY_RFC5245, opts);
	if (!ice->agent)
		return -ENOMEM;
	g_object_set(ice->agent, "controlling-mode", icfg->controlling, "ice-tcp", FALSE,
		     "upnp", FALSE, NULL);
	if (p->stun_server)
		g_object_set(ice->agent, "stun-server", p->stun_server, "stun-server-port",
			     p->stun_port, NULL);
	for (char **a = p->addresses; *a; a++) {
		if (**a && add_address(ice->agent, *a)) {
			tt_warn("ICE: cannot use address %s", *a);
			return -EINVAL;
		}
	}
	if (p->allow_loopback && add_address(ice->agent, "127.0.0.1"))
		return -EIO;
	ice->stream = nice_agent_add_stream(ice->agent, 1);
	if (!ice->stream)
		return -EIO;
	nice_agent_set_stream_name(ice->agent, ice->stream, "audio");
	if (p->port_min && p->port_max)
		nice_agent_set_port_range(ice->agent, ice->stream, 1, p->port_min, p->port_max);
	if (p->turn_server && set_relay(ice, p))
		return -EIO;
	g_signal_connect(ice->agent, "component-state-changed", G_CALLBACK(on_state), ice);
	g_signal_connect(ice->agent, "new-selected-pair-full", G_CALLBACK(on_pair), ice);
	g_signal_connect(ice->agent, "new-candidate-full", G_CALLBACK(on_candidate), ice);
	g_signal_connect(ice->agent, "candidate-gathering-done", G_CALLBACK(on_gathered), ice);
	if (!nice_agent_attach_recv(ice->agent, ice->stream, 1, ice->ctx, on_recv, ice))
		return -EIO;
	gchar *u = NULL, *pw = NULL;
	if (!nice_agent_get_local_credentials(ice->agent, ice->stream, &u, &pw))
		return -EIO;
	ice->ufrag = u;
	ice->pwd = pw;
	return 0;
}

void tt__ice_wrap_free(struct tt_ice *ice)
{
	tt_ice_policy_unref(ice->policy);
	g_main_context_unref(ice->ctx);
	g_free(ice);
}

/* The host candidates of a lite transport: the shared port on its bound address, or on a
 * wildcard one each address the policy names (ice_addresses; else every interface's),
 * and 127.0.0.1 with allow_loopback. Type preference 126 (host), local preference by
 * order (RFC 8445 5.1.2.1). IPv4 only: the worker's port is. */
static void lite_candidates(struct tt_ice *ice, const struct tt_udp_mux *mux)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	if (tt_udp_mux_local(mux, &ss, &len) || ss.ss_family != AF_INET)
		goto done;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;
	unsigned port = ntohs(sin->sin_port);
	GPtrArray *ips = g_ptr_array_new_with_free_func(g_free);
	char bound[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &sin->sin_addr, bound, sizeof bound);
	if (sin->sin_addr.s_addr != htonl(INADDR_ANY)) {
		g_ptr_array_add(ips, g_strdup(bound));
	} else {
		for (char **a = ice->policy->addresses; *a; a++)
			if (**a && strchr(*a, '.'))
				g_ptr_array_add(ips, g_strdup(*a));
		if (ips->len == 0) {
			GList *all = nice_interfaces_get_local_ips(FALSE);
			for (GList *i = all; i; i = i->next)
				if (strchr(i->data, '.'))
					g_ptr_array_add(ips, g_strdup(i->data));
			g_list_free_full(all, g_free);
		}
		if (ice->policy->allow_loopback)
			g_ptr_array_add(ips, g_strdup("127.0.0.1"));
	}
	for (guint i = 0; i < ips->len && ice->cand_h; i++) {
		char cand[128];
		unsigned prio = (126u << 24) | ((65535u - i) << 8) | 255u;
		g_snprintf(cand, sizeof cand, "candidate:%u 1 udp %u %s %u typ host", i + 1, prio,
			   (const char *)ips->pdata[i], port);
		ice->cand_h(ice->cand_arg, cand);
	}
	g_ptr_array_free(ips, TRUE);
done:
	if (ice->cand_h)
		ice->cand_h(ice->cand_arg, NULL);
}

/* Lite gives the browser the shared port's address only, so it is used where that address
 * is one the browsers may reach: a wildcard bind (candidates: ice_addresses or every
 * interface), an address ice_addresses names, or 127.0.0.1 with allow_loopback and no
 * ice_addresses (tests, a browser on this machine). Otherwise ([media] address is the
 * default 127.0.0.1 and browsers are elsewhere) the leg keeps full ICE, which gathers on
 * the ICE addresses with ports of its own. */
static bool lite_fits(const struct tt_ice_policy *p, const struct tt_udp_mux *mux)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	if (tt_udp_mux_local(mux, &ss, &len) || ss.ss_family != AF_INET)
		return false;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;
	if (sin->sin_addr.s_addr == htonl(INADDR_ANY))
		return true;
	char bound[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &sin->sin_addr, bound, sizeof bound);
	bool named = false;
	for (char **a = p->addresses; *a; a++) {
		if (!strcmp(*a, bound))
			return true;
		named = named || **a;
	}
	return p->allow_loopback && !named && !strcmp(bound, "127.0.0.1");
}

int tt_transport_ice_alloc(struct tt_transport **tp, struct tt_ice **icep,
			   const struct tt_transport_cfg *cfg, const struct tt_ice_cfg *icfg)
{
	if (!tp || !icep || !cfg || !cfg->ctx || !icfg || !icfg->policy)
		return -EINVAL;
	struct tt_ice *ice = g_new0(struct tt_ice, 1);
	ice->ctx = g_main_context_ref(cfg->ctx);
	ice->policy = tt_ice_policy_ref(icfg->policy);
	ice->cand_h = icfg->cand_h;
	ice->cand_arg = icfg->cand_arg;
	if (ice->policy->lite && icfg->mux && !icfg->controlling &&
	    lite_fits(ice->policy, icfg->mux)) {
		int rc = tt__lite_alloc(&ice->lite, &ice->t, cfg, icfg->mux, ice->policy->cert,
					ice->policy->consent, ice);
		if (rc) {
			tt__ice_wrap_free(ice);
			return rc;
		}
		/* as libnice does with host candidates: from inside the alloc */
		lite_candidates(ice, icfg->mux);
		*tp = ice->t;
		*icep = ice;
		return 0;
	}
	int err = setup_agent(ice, icfg);
	if (!err)
		err = tt__transport_alloc(&ice->t, cfg, &ice_ops, ice);
	if (err) {
		ice_destroy(ice);
		return err;
	}
	ice->dtls_timer = g_timeout_source_new(DTLS_TIMER_MS);
	g_source_set_callback(ice->dtls_timer, on_dtls_timer, ice, NULL);
	g_source_attach(ice->dtls_timer, ice->ctx);
	/* libnice 0.1.21 signals host candidates from inside this call (measured), before the
	 * caller has *icep: cand_h must not need it, and a gateway gets them before its attach
	 * result. Server-reflexive and relayed ones come later, from the agent's sources. */
	if (!nice_agent_gather_candidates(ice->agent, ice->stream)) {
		tt_transport_free(ice->t);
		return -EIO;
	}
	*tp = ice->t;
	*icep = ice;
	return 0;
}

const char *tt_ice_ufrag(const struct tt_ice *ice)
{
	return ice->lite ? tt__lite_ufrag(ice->lite) : ice->ufrag;
}

const char *tt_ice_pwd(const struct tt_ice *ice)
{
	return ice->lite ? tt__lite_pwd(ice->lite) : ice->pwd;
}

static bool ice_chars_ok(const char *s, size_t min, size_t max)
{
	size_t n = s ? strlen(s) : 0;
	if (n < min || n > max)
		return false;
	for (size_t i = 0; i < n; i++)  /* RFC 8839 ice-char: ALPHA / DIGIT / "+" / "/" */
		if (!g_ascii_isalnum(s[i]) && s[i] != '+' && s[i] != '/')
			return false;
	return true;
}

int tt_ice_credentials_check(const char *ufrag, const char *pwd, const char *fp)
{
	if (!ice_chars_ok(ufrag, 4, TT_ICE_UFRAG_MAX) || !ice_chars_ok(pwd, 22, TT_ICE_PWD_MAX))
		return -EINVAL;
	return tt_dtls_fingerprint_check(fp);
}

/* libnice (0.1.21) keeps remote candidates that come before the credentials, and answers
 * the peer's checks that arrive meanwhile once it has them (conn_check_remote_credentials_set),
 * so a leg may learn them late: a Jingle transport in pieces. */
int tt_ice_set_remote(struct tt_ice *ice, const char *ufrag, const char *pwd, const char *fp,
		      enum tt_dtls_setup setup)
{
	if (ice->have_remote)
		return -EALREADY;
	if (tt_ice_credentials_check(ufrag, pwd, fp))
		return -EINVAL;
	if (ice->lite) {
		int rc = tt__lite_set_remote(ice->lite, ufrag, fp, setup);
		ice->have_remote = rc == 0;
		return rc;
	}
	int err = tt__dtls_alloc(&ice->dtls, ice->policy->cert, setup == TT_DTLS_ACTIVE, fp,
				 dtls_out, ice);
	if (err)
		return err;
	if (!nice_agent_set_remote_credentials(ice->agent, ice->stream, ufrag, pwd)) {
		tt__dtls_free(ice->dtls);   /* so that a later call can try again */
		ice->dtls = NULL;
		return -EIO;
	}
	ice->have_remote = true;
	if (ice->connected)   /* checks can succeed before the answer arrives (peer-reflexive) */
		start_dtls(ice);
	return 0;
}

/* A decimal of 1..max_digits digits (no sign, no space: g_ascii_strtoull takes both) no
 * larger than max. */
static bool cand_number(const char *s, size_t max_digits, guint64 max)
{
	size_t n = strlen(s);
	if (n < 1 || n > max_digits)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!g_ascii_isdigit(s[i]))
			return false;
	return g_ascii_strtoull(s, NULL, 10) <= max;
}

/* RFC 8839 token (transport, candidate type, extension names and values here: no space,
 * printable ASCII). */
static bool cand_token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

/* An IP literal, or an mDNS name (RFC 8839 allows FQDNs; browsers send only "<uuid>.local"
 * to hide their address, and we ignore those). */
static bool cand_address(const char *s)
{
	if (g_hostname_is_ip_address(s))
		return true;
	if (!g_str_has_suffix(s, ".local") || strlen(s) > 253)
		return false;
	for (; *s; s++)
		if (!g_ascii_isalnum(*s) && *s != '-' && *s != '.')
			return false;
	return true;
}

/* libnice's parser reads no state of the agent it is given (it checks its type, nothing
 * else, and takes no lock), so one agent that never gets a stream serves every thread.
 * Created once and kept for the process's life. */
static NiceAgent *parse_agent(void)
{
	static gsize once;
	static NiceAgent *agent;
	if (g_once_init_enter(&once)) {
		GMainContext *ctx = g_main_context_new();
		agent = nice_agent_new(ctx, NICE_COMPATIBILITY_RFC5245);
		g_main_context_unref(ctx);   /* the agent keeps its own reference */
		g_once_init_leave(&once, 1);
	}
	return agent;
}

/* The candidate line with "a=" in front, parsed by libnice, or NULL. */
static NiceCandidate *nice_parse(NiceAgent *agent, guint stream, const char *cand)
{
	gchar *line = g_strconcat("a=", cand, NULL);
	NiceCandidate *c = nice_agent_parse_remote_candidate_sdp(agent, stream, line);
	g_free(line);
	return c;
}

/* The grammar of RFC 8839 5.1 first, then libnice for what we would use. libnice alone is
 * too lenient (0.1.21): it reads numbers with strtoull and no end check ("x" is component
 * 0, port "99999" is 34463, "9x" is 9), takes any foundation (cut to 32), any address
 * getaddrinfo takes ("1" is 0.0.0.1), and reads "TCP" without a tcptype as TCP-SO after a
 * GLib critical. "candidate:garbage" must be refused where the client can be told (the
 * core thread), not dropped later on the worker. */
int tt_ice_candidate_check(const char *cand)
{
	if (!cand)
		return -EINVAL;
	if (g_str_has_prefix(cand, "a="))
		cand += 2;
	if (!g_str_has_prefix(cand, "candidate:") || strlen(cand) > 512 ||
	    !g_utf8_validate(cand, -1, NULL))
		return -EINVAL;
	/* foundation component transport priority address port "typ" type [name value]... */
	gchar **f = g_strsplit(cand + 10, " ", 0);
	guint n = g_strv_length(f);
	int rc = -EINVAL;
	if (n < 8 || n % 2 || strcmp(f[6], "typ"))
		goto out;
	if (!ice_chars_ok(f[0], 1, 32) || !cand_number(f[1], 3, 256) ||
	    !g_ascii_strtoull(f[1], NULL, 10) || !cand_token(f[2]) ||
	    !cand_number(f[3], 10, G_MAXUINT32) || !cand_address(f[4]) ||
	    !cand_number(f[5], 5, 65535) || !cand_token(f[7]))
		goto out;
	for (guint i = 8; i < n; i += 2) {
		if (!cand_token(f[i]) || !cand_token(f[i + 1]))
			goto out;
		if (!strcmp(f[i], "raddr") && !cand_address(f[i + 1]))
			goto out;
		if (!strcmp(f[i], "rport") && !cand_number(f[i + 1], 5, 65535))
			goto out;
	}
	if (strcmp(f[1], "1") || g_ascii_strcasecmp(f[2], "udp") ||
	    g_str_has_suffix(f[4], ".local")) {
		rc = 0;   /* RTCP component (we require rtcp-mux), TCP, mDNS: not usable */
		goto out;
	}
	NiceCandidate *c = nice_parse(parse_agent(), 1, cand);
	if (c) {
		nice_candidate_free(c);
		rc = 1;
	}
out:
	g_strfreev(f);
	return rc;
}

int tt_ice_add_candidate(struct tt_ice *ice, const char *cand)
{
	if (ice->lite) {   /* a lite agent learns addresses from the checks alone */
		int rc = cand && *cand ? tt_ice_candidate_check(cand) : 0;
		return rc < 0 ? rc : 0;
	}
	if (!cand || !*cand) {
		nice_agent_peer_candidate_gathering_done(ice->agent, ice->stream);
		return 0;
	}
	int rc = tt_ice_candidate_check(cand);
	if (rc <= 0)
		return rc;
	if (g_str_has_prefix(cand, "a="))
		cand += 2;
	NiceCandidate *c = nice_parse(ice->agent, ice->stream, cand);
	if (!c)
		return -EINVAL;
	int err = 0;
	GSList *l = g_slist_append(NULL, c);
	if (nice_agent_set_remote_candidates(ice->agent, ice->stream, 1, l) < 0)
		err = -EINVAL;
	g_slist_free(l);
	nice_candidate_free(c);
	return err;
}

void tt_ice_info(const struct tt_ice *ice, struct tt_ice_info *info)
{
	if (ice->lite) {
		tt__lite_info(ice->lite, info);
		return;
	}
	memset(info, 0, sizeof *info);
	info->connected = ice->connected;
	info->dtls_done = ice->dtls_done;
	info->dtls_failed = ice->failed && ice->dtls && !ice->dtls_done;
	info->srtp_suite = ice->dtls_done ? tt__dtls_suite(ice->dtls) : NULL;
	g_strlcpy(info->remote, ice->remote, sizeof info->remote);
}
