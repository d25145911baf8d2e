/* registry.c: checks a gateway descriptor before the core accepts it. */
#include "core/core_types.h"

#include <string.h>
#include <tutti/errno.h>

int tt__gateway_check(const struct tt_gateway *gw, char **why)
{
	if (!gw) {
		*why = g_strdup("NULL descriptor");
		return -EINVAL;
	}
	if (gw->api_version != TT_GATEWAY_API_VERSION) {
		*why = g_strdup_printf("gateway %s: API version %u, the core speaks %u",
				       gw->name ? gw->name : "?", gw->api_version,
				       TT_GATEWAY_API_VERSION);
		return -EPROTO;
	}
	if (!gw->name || !*gw->name || strspn(gw->name, "abcdefghijklmnopqrstuvwxyz0123456789_") !=
	    strlen(gw->name)) {
		*why = g_strdup("gateway name missing or not [a-z0-9_]+");
		return -EINVAL;
	}
	const char *missing = !gw->network ? "network" : !gw->start ? "start" :
			      !gw->stop ? "stop" : !gw->free ? "free" :
			      !gw->hang_up ? "hang_up" : NULL;
	if (missing) {
		*why = g_strdup_printf("gateway %s: mandatory '%s' missing", gw->name, missing);
		return -EINVAL;
	}
	for (const struct tt_conf_key *r = gw->conf_keys; r && r->key; r++) {
		size_t n = strlen(gw->name);
		if (strncmp(r->section, gw->name, n) != 0 ||
		    (r->section[n] != '\0' && strcmp(r->section + n, ".*") != 0)) {
			*why = g_strdup_printf("gateway %s: config section [%s] is not its own",
					       gw->name, r->section);
			return -EINVAL;
		}
	}
	return 0;
}
