/* main.c: the tutti command line: run, check or print the configuration. */
#define TT_LOG_DOMAIN "main"
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <tutti/certfiles.h>
#include <tutti/errno.h>
#include <tutti/log.h>

#include "cluster/cluster.h"
#include "core/core_priv.h"

/* Generated from the gateways the build enabled (gateways_table.c). */
extern const struct tt_gateway *const tt__gateway_table[];

static int check_config(const char *path)
{
	struct tt_conf_schema *s = NULL;
	struct tt_conf *c = NULL;
	char *errors = NULL;
	int rc = tt__core_build_schema(&s, tt__gateway_table);
	if (rc == 0)
		rc = tt__conf_load(&c, s, path, &errors);
	/* Then what only the gateways know (a key another one makes required), for the
	 * gateways this file enables: the problems their start would refuse. */
	if (rc == 0) {
		GString *more = g_string_new(NULL);
		const char *cert = tt_conf_str(c, "http", "tls_cert");
		char *cerr = NULL;
		if (tt_conf_bool(c, "http", "enabled") && cert && *cert &&
		    tt_certfiles_check(cert, tt_conf_str(c, "http", "tls_key"), NULL, &cerr)) {
			rc = -EINVAL;
			g_string_append_printf(more, "%s:%d: [http] tls_cert: %s\n", path,
					       tt_conf_line(c, "http", "tls_cert"), cerr);
		}
		g_free(cerr);
		char *clerr = NULL;
		if (tt__cluster_check_conf(c, &clerr)) {
			rc = -EINVAL;
			g_string_append(more, clerr);
		}
		g_free(clerr);
		for (const struct tt_gateway *const *g = tt__gateway_table; *g; g++) {
			char *e = NULL;
			if ((*g)->check_config && tt_conf_bool(c, (*g)->name, "enabled") &&
			    (*g)->check_config(c, &e)) {
				rc = -EINVAL;
				g_string_append(more, e ? e : "");
				if (!e)
					g_string_append_printf(more, "%s: [%s]: invalid\n", path,
							       (*g)->name);
			}
			g_free(e);
		}
		errors = g_string_free(more, FALSE);
	}
	if (rc) {
		if (errors)
			fputs(errors, stdout);
	} else {
		printf("%s: ok\n", path);
	}
	g_free(errors);
	tt__conf_free(c);
	tt__conf_schema_free(s);
	return rc ? 1 : 0;
}

static int print_default_config(void)
{
	struct tt_conf_schema *s = NULL;
	if (tt__core_build_schema(&s, tt__gateway_table))
		return 1;
	tt__conf_print_sample(s, stdout);
	tt__conf_schema_free(s);
	return 0;
}

int main(int argc, char **argv)
{
	gchar *config = NULL, *check = NULL, *log_level = NULL, *log_format = NULL;
	gboolean print_default = FALSE, version = FALSE;
	GOptionEntry entries[] = {
		{ "config", 'c', 0, G_OPTION_ARG_FILENAME, &config,
		  "Configuration file (default: the embedded defaults)", "FILE" },
		{ "check-config", 0, 0, G_OPTION_ARG_FILENAME, &check,
		  "Check FILE; print FILE:LINE: key: problem for each error; exit 0 or 1", "FILE" },
		{ "print-default-config", 0, 0, G_OPTION_ARG_NONE, &print_default,
		  "Print every key with its default and help as a sample config", NULL },
		{ "log-level", 'l', 0, G_OPTION_ARG_STRING, &log_level,
		  "Override bridge.log_level, e.g. info,sip=debug,mixer=warn", "SPEC" },
		{ "log-format", 0, 0, G_OPTION_ARG_STRING, &log_format,
		  "Log lines as text (the default), logfmt (key=value) or json (one object per "
		  "line); under systemd each line starts with its journal level (<3>..<7>)",
		  "FORMAT" },
		{ "version", 'V', 0, G_OPTION_ARG_NONE, &version, "Print the version", NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};
	/* A GSocketClient (IRC, the webhook) asks GIO's proxy resolver, which reads the
	 * desktop's proxy settings through GSettings; the dconf backend then writes
	 * $HOME/.cache/dconf/user, i.e. /var/lib/tutti/.cache for the service (found under
	 * systemd: it kept dpkg --purge from removing the state directory). A daemon has no
	 * desktop settings: in memory, unless the caller chose a backend. Before any thread. */
	g_setenv("GSETTINGS_BACKEND", "memory", FALSE);
	GError *err = NULL;
	GOptionContext *oc = g_option_context_new("- multiprotocol audio conferencing bridge");
	/* Named from the gateway table, so that --help never promises a network this build
	 * does not have. */
	GString *nets = g_string_new(NULL);
	for (const struct tt_gateway *const *g = tt__gateway_table; *g; g++)
		g_string_append_printf(nets, "%s%s (%s)", nets->len ? ", " : "", (*g)->name,
				       (*g)->network);
	char *summary = g_strdup_printf(
		"Rooms with participants from every gateway of this build, one mixer.\n"
		"Gateways: %s; plain RTP through the admin API.\n"
		"With no --config, runs the embedded defaults (HTTP on 127.0.0.1:8080).",
		nets->len ? nets->str : "none");
	g_string_free(nets, TRUE);
	g_option_context_set_summary(oc, summary);
	g_free(summary);
	g_option_context_add_main_entries(oc, entries, NULL);
	if (!g_option_context_parse(oc, &argc, &argv, &err)) {
		fprintf(stderr, "tutti: %s (try --help)\n", err->message);
		g_error_free(err);
		g_option_context_free(oc);
		return 2;
	}
	g_option_context_free(oc);
	int rc = 0;
	if (tt_log_set_format(log_format ? log_format : "text") != 0) {
		fprintf(stderr, "tutti: --log-format must be text, logfmt or json\n");
		rc = 2;
	} else if (version) {
		printf("tutti %s\n", TT_VERSION);
	} else if (check) {
		rc = check_config(check);
	} else if (print_default) {
		rc = print_default_config();
	} else {
		struct tt_core *core = NULL;
		rc = tt__core_alloc(&core, tt__gateway_table, config, log_level);
		if (rc == 0)
			rc = tt__core_start(core);
		if (rc == 0) {
			tt_info("tutti %s running", TT_VERSION);
			rc = tt__core_run(core);
		}
		tt__core_free(core);
		rc = rc ? 1 : 0;
	}
	g_free(config);
	g_free(check);
	g_free(log_level);
	g_free(log_format);
	return rc;
}
