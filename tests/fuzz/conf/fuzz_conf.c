/* fuzz_conf.c: the config loader (base/conf/conf.c) on an operator's INI text, against the
 * real key table: the core's rows and every gateway this build has (the same schema
 * `tutti --print-default-config` prints).
 *
 * Checks: a text either loads with no errors, or fails with one "NAME:LINE: ..." message per
 * problem and no config; loading the same text twice gives configs with no differences;
 * every accessor of every instance answers. */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tutti/conf.h>
#include <tutti/gateway.h>
#include <tutti/log.h>

#include "conf/loader.h"
#include "core/core_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

extern const struct tt_gateway *const tt__gateway_table[];

static struct tt_conf_schema *schema;
static struct tt_conf *defaults;

/* What the gateways and the core read, by section: the accessors must answer for any
 * loaded config (a key missing from the table would log and return 0). */
static void read_some(const struct tt_conf *c)
{
	static const char *const templates[] = { "irc", "room", NULL };
	(void)tt_conf_int(c, "bridge", "workers");
	(void)tt_conf_str(c, "bridge", "log_level");
	(void)tt_conf_bool(c, "http", "enabled");
	(void)tt_conf_str(c, "http", "admin_token");
	(void)tt_conf_int(c, "media", "port_min");
	for (const char *const *t = templates; *t; t++) {
		const char *const *inst = tt_conf_instances(c, *t);
		for (unsigned i = 0; inst && inst[i]; i++) {
			char *sec = g_strconcat(*t, ".", inst[i], NULL);
			if (!strcmp(*t, "room")) {
				(void)tt_conf_str(c, sec, "pin");
				(void)tt_conf_int(c, sec, "rate");
				(void)tt_conf_line(c, sec, "rate");
			} else {
				const char *const *l = tt_conf_list(c, sec, "channels");
				for (unsigned k = 0; l[k]; k++)   /* never NULL */
					(void)strlen(l[k]);
			}
			g_free(sec);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!schema) {
		tt_log_set_levels("error", NULL);
		char *errors = NULL;
		if (tt__core_build_schema(&schema, tt__gateway_table) ||
		    tt__conf_load_data(&defaults, schema, "empty", "", 0, &errors))
			abort();
	}
	if (size > 65536)
		return 0;
	struct tt_conf *a = NULL, *b = NULL;
	char *ea = NULL, *eb = NULL;
	int ra = tt__conf_load_data(&a, schema, "fuzz.conf", (const char *)data, size, &ea);
	int rb = tt__conf_load_data(&b, schema, "fuzz.conf", (const char *)data, size, &eb);
	if (ra != rb || (ra == 0) != (a != NULL) || (ra == 0) != (ea == NULL))
		__builtin_trap();
	if (ra) {
		if (!eb || strcmp(ea, eb) || strncmp(ea, "fuzz.conf", 9))
			__builtin_trap();
	} else {
		char *names = NULL;
		if (tt__conf_diff_static(a, b, &names) != 0)
			__builtin_trap();
		g_free(names);
		names = NULL;
		(void)tt__conf_diff_static(defaults, a, &names);
		g_free(names);
		read_some(a);
	}
	g_free(ea);
	g_free(eb);
	tt__conf_free(a);
	tt__conf_free(b);
	return 0;
}
