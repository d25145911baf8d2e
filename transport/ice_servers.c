/* ice_servers.c: what peers are told about STUN and TURN servers: the check of an ICE
 * server URL (RFC 7064 stun:/stuns:, RFC 7065 turn:/turns:) and TURN REST-API credentials
 * computed from a shared secret (coturn's use-auth-secret, draft-uberti-behave-turn-rest).
 * Pure functions of their arguments; any thread. */
#include <errno.h>
#include <glib.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#include "tutti/ice.h"

static bool host_ok(const char *h, size_t n)
{
	if (!n || n > 253)
		return false;
	if (h[0] == '[') {   /* an IPv6 literal */
		if (n < 4 || h[n - 1] != ']')
			return false;
		char tmp[64];
		if (n - 2 >= sizeof tmp)
			return false;
		memcpy(tmp, h + 1, n - 2);
		tmp[n - 2] = '\0';
		return g_hostname_is_ip_address(tmp) && strchr(tmp, ':');
	}
	/* a name or an IPv4 address: LDH labels of 1..63, no leading or trailing '-' */
	size_t label = 0;
	for (size_t i = 0; i < n; i++) {
		char c = h[i];
		if (c == '.') {
			if (!label || h[i - 1] == '-')
				return false;
			label = 0;
		} else if (g_ascii_isalnum(c) || (c == '-' && label)) {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return label && h[n - 1] != '-';
}

int tt_ice_server_url_check(const char *url, const char **why)
{
	static const struct { const char *scheme; bool turn; } schemes[] = {
		{ "stun:", false }, { "stuns:", false }, { "turn:", true }, { "turns:", true },
	};
	const char *dummy;
	if (!why)
		why = &dummy;
	*why = "not a stun:, stuns:, turn: or turns: URL";
	if (!url)
		return -EINVAL;
	size_t i;
	for (i = 0; i < G_N_ELEMENTS(schemes); i++)
		if (!g_ascii_strncasecmp(url, schemes[i].scheme, strlen(schemes[i].scheme)))
			break;
	if (i == G_N_ELEMENTS(schemes))
		return -EINVAL;
	const char *h = url + strlen(schemes[i].scheme);
	if (!strncmp(h, "//", 2)) {
		*why = "no \"//\" after the scheme (RFC 7064: stun:host:port)";
		return -EINVAL;
	}
	const char *q = strchr(h, '?');
	const char *end = q ? q : h + strlen(h);
	/* the port: after the last ':' unless that is inside an IPv6 literal */
	const char *colon = NULL;
	const char *rb = memchr(h, ']', (size_t)(end - h));
	for (const char *c = rb ? rb : h; c < end; c++)
		if (*c == ':')
			colon = c;
	const char *hend = colon ? colon : end;
	if (!host_ok(h, (size_t)(hend - h))) {
		*why = "the host is not a name, an IPv4 address or a [bracketed] IPv6 address";
		return -EINVAL;
	}
	if (colon) {
		const char *p = colon + 1;
		unsigned port = 0;
		if (p == end || end - p > 5) {
			*why = "the port is not a number 1..65535";
			return -EINVAL;
		}
		for (; p < end; p++) {
			if (!g_ascii_isdigit(*p)) {
				*why = "the port is not a number 1..65535";
				return -EINVAL;
			}
			port = port * 10 + (unsigned)(*p - '0');
		}
		if (!port || port > 65535) {
			*why = "the port is not a number 1..65535";
			return -EINVAL;
		}
	}
	if (q) {
		if (!schemes[i].turn || (strcmp(q, "?transport=udp") && strcmp(q, "?transport=tcp"))) {
			*why = schemes[i].turn ? "the only query is ?transport=udp or ?transport=tcp"
					       : "stun: URLs take no query";
			return -EINVAL;
		}
	}
	*why = NULL;
	return 0;
}

bool tt_ice_server_url_is_turn(const char *url)
{
	return url && (!g_ascii_strncasecmp(url, "turn:", 5) ||
		       !g_ascii_strncasecmp(url, "turns:", 6));
}

int tt_turn_rest_credential(char **userp, char **credp, const char *secret, const char *user,
			    long long expiry)
{
	if (!userp || !credp || !secret || !*secret || expiry < 0)
		return -EINVAL;
	char *u = user && *user ? g_strdup_printf("%lld:%s", expiry, user)
				: g_strdup_printf("%lld", expiry);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	if (!HMAC(EVP_sha1(), secret, (int)strlen(secret), (const unsigned char *)u, strlen(u), md,
		  &n)) {
		g_free(u);
		return -EIO;
	}
	*userp = u;
	*credp = g_base64_encode(md, n);
	return 0;
}
