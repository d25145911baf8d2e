/* ice_servers.c: the STUN and TURN servers browsers are told about in `joined` ([webrtc]
 * ice_servers), with TURN REST-API credentials made from turn_secret at each join. Core
 * thread only (the gateway's state); the credential maths is transport/ice_servers.c. */
#define TT_LOG_DOMAIN "webrtc"
#include <errno.h>
#include <string.h>
#include <tutti/errno.h>
#include <tutti/log.h>

#include "webrtc_priv.h"

static void problem(GString *out, const struct tt_conf *c, const char *key, const char *what,
		    const char *value)
{
	g_string_append_printf(out, "%s:%d: [webrtc] %s: %s", tt_conf_path(c) ? tt_conf_path(c) : "-",
			       tt_conf_line(c, "webrtc", key), key, what);
	if (value)
		g_string_append_printf(out, ": \"%s\"", value);
	g_string_append_c(out, '\n');
}

/* What the rows' types cannot say about the URLs; shared by start and --check-config. */
int wr_ice_servers_check(const struct tt_conf *c, char **errors)
{
	GString *out = g_string_new(NULL);
	const char *const *urls = tt_conf_list(c, "webrtc", "ice_servers");
	const char *secret = tt_conf_str(c, "webrtc", "turn_secret");
	bool turn = false;
	for (const char *const *u = urls; *u; u++) {
		const char *why = NULL;
		if (tt_ice_server_url_check(*u, &why))
			problem(out, c, "ice_servers", why, *u);
		turn = turn || tt_ice_server_url_is_turn(*u);
	}
	if (turn && !(secret && *secret))
		problem(out, c, "ice_servers", "turn: and turns: URLs need [webrtc] turn_secret "
			"(the TURN server's static-auth-secret)", NULL);
	bool bad = out->len > 0;
	*errors = g_string_free(out, !bad);
	return bad ? -EINVAL : 0;
}

int wr_ice_servers_load(struct wr_gw *gw, const struct tt_conf *c)
{
	/* the URLs passed wr_ice_servers_check: the core runs it before start */
	const char *secret = tt_conf_str(c, "webrtc", "turn_secret");
	gw->ice_urls = g_strdupv((char **)tt_conf_list(c, "webrtc", "ice_servers"));
	gw->turn_secret = g_strdup(secret && *secret ? secret : NULL);
	gw->turn_user = g_strdup(tt_conf_str(c, "webrtc", "turn_user"));
	gw->turn_ttl = tt_conf_int(c, "webrtc", "turn_ttl");
	return 0;
}

/* SIGHUP: the browsers' servers and the TURN secret and lifetime, for joins from now on
 * (a live call keeps what its join got, its leg its policy). Checked first: a bad value
 * keeps every old one, since half a TURN setup (new URLs, old secret) helps nobody. */
int wr_ice_servers_reload(struct wr_gw *gw, const struct tt_conf *c)
{
	char *errors = NULL;
	if (wr_ice_servers_check(c, &errors)) {
		tt_error("reload: ice_servers, turn_secret and turn_ttl keep their old values:\n%s",
			 errors);
		g_free(errors);
		return -EINVAL;
	}
	const char *secret = tt_conf_str(c, "webrtc", "turn_secret");
	long long ttl = tt_conf_int(c, "webrtc", "turn_ttl");
	struct tt_ice_policy *p = NULL;
	int rc = tt_ice_policy_with_turn_secret(&p, gw->policy, secret, (unsigned)ttl);
	if (rc) {
		tt_error("reload: the bridge's ICE settings: %s (kept the old ones)", tt_strerror(rc));
		return rc;
	}
	tt_ice_policy_unref(gw->policy);
	gw->policy = p;
	g_strfreev(gw->ice_urls);
	g_free(gw->turn_secret);
	gw->ice_urls = g_strdupv((char **)tt_conf_list(c, "webrtc", "ice_servers"));
	gw->turn_secret = g_strdup(secret && *secret ? secret : NULL);
	gw->turn_ttl = ttl;
	return 0;
}

void wr_ice_servers_free(struct wr_gw *gw)
{
	g_strfreev(gw->ice_urls);
	g_free(gw->turn_secret);
	g_free(gw->turn_user);
	gw->ice_urls = NULL;
	gw->turn_secret = gw->turn_user = NULL;
}

/* One RTCIceServer for the STUN URLs, one for the TURN URLs with fresh credentials, so a
 * page passes the array to RTCPeerConnection as it is. */
json_t *wr_ice_servers_json(struct wr_gw *gw)
{
	json_t *out = json_array(), *stun = json_array(), *turn = json_array();
	for (char **u = gw->ice_urls; u && *u; u++)
		json_array_append_new(tt_ice_server_url_is_turn(*u) ? turn : stun,
				      json_string(*u));
	if (json_array_size(stun))
		json_array_append_new(out, json_pack("{s:O}", "urls", stun));
	char *user = NULL, *cred = NULL;
	if (json_array_size(turn) && gw->turn_secret &&
	    !tt_turn_rest_credential(&user, &cred, gw->turn_secret, gw->turn_user,
				     g_get_real_time() / G_USEC_PER_SEC + gw->turn_ttl))
		json_array_append_new(out, json_pack("{s:O, s:s, s:s}", "urls", turn, "username",
						     user, "credential", cred));
	else if (json_array_size(turn))
		tt_warn("TURN credentials not made: TURN servers left out of the answer");
	g_free(user);
	g_free(cred);
	json_decref(stun);
	json_decref(turn);
	return out;
}
