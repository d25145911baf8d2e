/* address.c: the [cluster] redis address, and the checks of the [cluster] keys that do not
 * need Redis (shared by both backends). */
#include "cluster.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <tutti/conf.h>
#include <tutti/errno.h>

int tt__cluster_parse_address(const char *s, char **host, int *port, bool *unix_path,
			      const char **why)
{
	if (!s || !*s) {
		*why = "empty";
		return -EINVAL;
	}
	if (s[0] == '/') {
		*host = g_strdup(s);
		*port = 0;
		*unix_path = true;
		return 0;
	}
	const char *colon;
	char *h;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close == s + 1) {
			*why = "an IPv6 address is written [ADDR]:PORT";
			return -EINVAL;
		}
		h = g_strndup(s + 1, (gsize)(close - s - 1));
		colon = close[1] == ':' ? close + 1 : NULL;
		if (close[1] && !colon) {
			g_free(h);
			*why = "expected ':' after ']'";
			return -EINVAL;
		}
	} else {
		colon = strrchr(s, ':');
		if (colon && strchr(s, ':') != colon) {
			*why = "an IPv6 address is written [ADDR]:PORT";
			return -EINVAL;
		}
		h = colon ? g_strndup(s, (gsize)(colon - s)) : g_strdup(s);
	}
	long p = 6379;
	if (colon) {
		char *end = NULL;
		p = strtol(colon + 1, &end, 10);
		if (!colon[1] || *end || p < 1 || p > 65535) {
			g_free(h);
			*why = "the port must be 1..65535";
			return -EINVAL;
		}
	}
	if (!*h) {
		g_free(h);
		*why = "no host";
		return -EINVAL;
	}
	*host = h;
	*port = (int)p;
	*unix_path = false;
	return 0;
}

/* Also what cluster.c starts with, so the start and --check-config refuse the same. */
int tt__cluster_check_conf(const struct tt_conf *c, char **why)
{
	const char *redis = tt_conf_str(c, "cluster", "redis");
	if (!redis || !*redis)
		return 0;
	GString *out = g_string_new(NULL);
#ifndef TT_HAVE_HIREDIS
	g_string_append_printf(out, "%s:%d: [cluster] redis: this tutti was built without "
			       "hiredis (libhiredis-dev); it runs as a single node only\n",
			       tt_conf_path(c), tt_conf_line(c, "cluster", "redis"));
#else
	char *host = NULL;
	int port;
	bool ux;
	const char *err = NULL;
	if (tt__cluster_parse_address(redis, &host, &port, &ux, &err))
		g_string_append_printf(out, "%s:%d: [cluster] redis: %s (HOST:PORT or /path)\n",
				       tt_conf_path(c), tt_conf_line(c, "cluster", "redis"), err);
	g_free(host);
	const char *url = tt_conf_str(c, "cluster", "public_url");
	if (url && *url && !g_str_has_prefix(url, "https://") && !g_str_has_prefix(url, "http://"))
		g_string_append_printf(out, "%s:%d: [cluster] public_url: must start with "
				       "https:// (or http://)\n", tt_conf_path(c),
				       tt_conf_line(c, "cluster", "public_url"));
	const char *api = tt_conf_str(c, "cluster", "api_url");
	if (api && *api && !g_str_has_prefix(api, "http://"))
		g_string_append_printf(out, "%s:%d: [cluster] api_url: must start with http:// "
				       "(a private address of this node)\n", tt_conf_path(c),
				       tt_conf_line(c, "cluster", "api_url"));
	const char *node = tt_conf_str(c, "cluster", "node");
	for (const char *p = node; p && *p; p++)
		if (!g_ascii_isalnum(*p) && !strchr("._-", *p)) {
			g_string_append_printf(out, "%s:%d: [cluster] node: only A-Z a-z 0-9 . _ -\n",
					       tt_conf_path(c), tt_conf_line(c, "cluster", "node"));
			break;
		}
#endif
	if (!out->len) {
		g_string_free(out, TRUE);
		return 0;
	}
	*why = g_string_free(out, FALSE);
	return -EINVAL;
}
