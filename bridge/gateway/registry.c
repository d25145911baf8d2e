/* registry.c: checks a gateway descriptor before the core accepts it, and makes the calls
 * into gateways that the core makes from several places. */
#include "registry.h"

#include <string.h>
#include <tutti/errno.h>

#include "stats/stats.h"

static bool label_ok(const char *s)
{
	return s && *s && !(*s >= '0' && *s <= '9') &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(s) &&
	       strcmp(s, "gateway") != 0;   /* /metrics' own label on tutti_gateway_up */
}

/* The labelled instances (API 6): all four or none, a table that passes the stats check,
 * and no row whose metric name a stat_fields row already makes. */
static int check_instances(const struct tt_gateway *gw, char **why)
{
	if (!gw->instances && !gw->instance_stat_fields && !gw->instance_stats_size &&
	    !gw->instance_label)
		return 0;
	if (!gw->instances || !gw->instance_stat_fields || !gw->instance_stats_size ||
	    !gw->instance_label) {
		*why = g_strdup_printf("gateway %s: instances, instance_stat_fields, "
				       "instance_stats_size and instance_label go together",
				       gw->name);
		return -EINVAL;
	}
	if (!label_ok(gw->instance_label)) {
		*why = g_strdup_printf("gateway %s: instance_label is not [a-z_][a-z0-9_]* "
				       "(or is \"gateway\")", gw->name);
		return -EINVAL;
	}
	char *detail = NULL;
	if (tt__stats_check(gw->instance_stat_fields, gw->instance_stats_size, &detail)) {
		*why = g_strdup_printf("gateway %s: instance_stat_fields: %s", gw->name, detail);
		g_free(detail);
		return -EINVAL;
	}
	for (const struct tt_stat_field *f = gw->instance_stat_fields; f->name; f++) {
		/* the JSON API adds the label as a member of each instance's object, beside
		 * its rows and groups */
		const char *member = f->group ? f->group : f->name;
		if (!strcmp(member, gw->instance_label)) {
			*why = g_strdup_printf("gateway %s: instance field '%s' twice (also the "
					       "instance_label)", gw->name, member);
			return -EINVAL;
		}
		for (const struct tt_stat_field *g = gw->stat_fields; g && g->name; g++)
			if (!strcmp(f->name, g->name) && !g_strcmp0(f->group, g->group)) {
				*why = g_strdup_printf("gateway %s: instance field '%s' twice "
						       "(also in stat_fields)", gw->name, f->name);
				return -EINVAL;
			}
	}
	return 0;
}

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
	int e = check_instances(gw, why);
	if (e)
		return e;
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

static void instance_keep(void *arg, const char *label_value, const void *stats)
{
	struct tt__gw_instances *in = arg;
	if (!label_value || !stats)
		return;
	/* one byte more, zero: a string member left unterminated ends there */
	char *copy = g_malloc0(in->size + 1);
	memcpy(copy, stats, in->size);
	g_ptr_array_add(in->labels, g_strdup(label_value));
	g_ptr_array_add(in->stats, copy);
}

struct tt__gw_instances *tt__gateway_instances(struct tt_gw_handle *h)
{
	if (!h->started || !h->gw->instances)
		return NULL;
	struct tt__gw_instances *in = g_new0(struct tt__gw_instances, 1);
	in->size = h->gw->instance_stats_size;
	in->labels = g_ptr_array_new_with_free_func(g_free);
	in->stats = g_ptr_array_new_with_free_func(g_free);
	h->gw->instances(h->state, instance_keep, in);
	return in;
}

struct tt__gw_instances *tt__gw_instances_free(struct tt__gw_instances *in)
{
	if (in) {
		g_ptr_array_free(in->labels, TRUE);
		g_ptr_array_free(in->stats, TRUE);
		g_free(in);
	}
	return NULL;
}
