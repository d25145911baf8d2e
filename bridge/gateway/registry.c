/* registry.c: checks a gateway descriptor before the core accepts it, and makes the calls
 * into gateways that the core makes from several places. */
#include "registry.h"

#include <string.h>
#include <tutti/errno.h>

#include "stats/stats.h"

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
	if (gw->stats || gw->stat_fields || gw->stats_size) {
		char *detail = NULL;
		if (!gw->stats || !gw->stat_fields || !gw->stats_size) {
			*why = g_strdup_printf("gateway %s: stats, stat_fields and stats_size go "
					       "together", gw->name);
			return -EINVAL;
		}
		if (tt__stats_check(gw->stat_fields, gw->stats_size, &detail)) {
			*why = g_strdup_printf("gateway %s: stat_fields: %s", gw->name, detail);
			g_free(detail);
			return -EINVAL;
		}
	}
	if (gw->check_config && !gw->conf_keys) {
		*why = g_strdup_printf("gateway %s: check_config without conf_keys", gw->name);
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

void *tt__gateway_state(struct tt_core *core, const struct tt_gateway *gw)
{
	for (unsigned i = 0; i < core->n_gws; i++)
		if (core->gws[i].gw == gw && core->gws[i].started)
			return core->gws[i].state;
	return NULL;
}

void tt__gateway_hang_up(struct tt_gw_handle *h, struct tt_participant *p, const char *why)
{
	if (h->started)
		h->gw->hang_up(h->state, p, why);
}

void tt__gateway_dtmf(struct tt_gw_handle *h, struct tt_participant *p, char digit)
{
	if (h->started && h->gw->on_dtmf)
		h->gw->on_dtmf(h->state, p, digit);
}

void *tt__gateway_stats(struct tt_gw_handle *h)
{
	if (!h->started || !h->gw->stats)
		return NULL;
	/* one byte more, zero: a string member the gateway left unterminated ends there */
	void *out = g_malloc0(h->gw->stats_size + 1);
	h->gw->stats(h->state, out);
	return out;
}
