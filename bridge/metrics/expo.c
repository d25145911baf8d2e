/* expo.c: the Prometheus text format, by hand: escaping, number formatting and the
 * histogram series are the only subtle parts, and each is one function below. */
#include "expo.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char *type_name(enum tt__expo_type t)
{
	return t == TT_EXPO_COUNTER ? "counter" : t == TT_EXPO_GAUGE ? "gauge" : "histogram";
}

void tt__expo_family(GString *out, const char *name, enum tt__expo_type type,
		     const char *help)
{
	g_string_append_printf(out, "# HELP %s ", name);
	for (const char *c = help ? help : ""; *c; c++) {
		if (*c == '\\')
			g_string_append(out, "\\\\");
		else if (*c == '\n')
			g_string_append(out, "\\n");
		else
			g_string_append_c(out, *c);
	}
	g_string_append_printf(out, "\n# TYPE %s %s\n", name, type_name(type));
}

static void label_value(GString *out, const char *v)
{
	for (const char *c = v ? v : ""; *c; c++) {
		if (*c == '\\')
			g_string_append(out, "\\\\");
		else if (*c == '"')
			g_string_append(out, "\\\"");
		else if (*c == '\n')
			g_string_append(out, "\\n");
		else
			g_string_append_c(out, *c);
	}
}

/* {a="x",b="y"} with an extra pair at the end (le for buckets), or nothing at all. */
static void labels_out(GString *out, const char *const *labels, const char *xk,
		       const char *xv)
{
	bool any = (labels && labels[0]) || xk;
	if (!any)
		return;
	g_string_append_c(out, '{');
	bool first = true;
	for (unsigned i = 0; labels && labels[i]; i += 2) {
		g_string_append_printf(out, "%s%s=\"", first ? "" : ",", labels[i]);
		label_value(out, labels[i + 1]);
		g_string_append_c(out, '"');
		first = false;
	}
	if (xk) {
		g_string_append_printf(out, "%s%s=\"", first ? "" : ",", xk);
		label_value(out, xv);
		g_string_append_c(out, '"');
	}
	g_string_append_c(out, '}');
}

static void number(GString *out, double v)
{
	if (isnan(v))
		g_string_append(out, "NaN");
	else if (isinf(v))
		g_string_append(out, v > 0 ? "+Inf" : "-Inf");
	else if (v == floor(v) && fabs(v) < 9007199254740992.0)  /* 2^53: exact integers */
		g_string_append_printf(out, "%.0f", v);
	else {   /* never the locale's decimal comma; 15 digits when they say it exactly */
		char buf[G_ASCII_DTOSTR_BUF_SIZE];
		g_ascii_formatd(buf, sizeof buf, "%.15g", v);
		if (g_ascii_strtod(buf, NULL) != v)
			g_ascii_formatd(buf, sizeof buf, "%.17g", v);
		g_string_append(out, buf);
	}
}

void tt__expo_sample(GString *out, const char *name, const char *const *labels, double v)
{
	g_string_append(out, name);
	labels_out(out, labels, NULL, NULL);
	g_string_append_c(out, ' ');
	number(out, v);
	g_string_append_c(out, '\n');
}

void tt__expo_histogram(GString *out, const char *name, const char *const *labels,
			const double *bounds, const uint64_t *counts, unsigned n, double scale,
			double sum)
{
	uint64_t cum = 0;
	for (unsigned i = 0; i <= n; i++) {
		char le[32];
		cum += counts[i];
		if (i < n)
			g_ascii_formatd(le, sizeof le, "%.9g", bounds[i] * scale);
		else
			g_strlcpy(le, "+Inf", sizeof le);
		g_string_append_printf(out, "%s_bucket", name);
		labels_out(out, labels, "le", le);
		g_string_append_c(out, ' ');
		number(out, (double)cum);
		g_string_append_c(out, '\n');
	}
	g_string_append_printf(out, "%s_sum", name);
	labels_out(out, labels, NULL, NULL);
	g_string_append_c(out, ' ');
	number(out, sum);
	g_string_append_printf(out, "\n%s_count", name);
	labels_out(out, labels, NULL, NULL);
	g_string_append_c(out, ' ');
	number(out, (double)cum);
	g_string_append_c(out, '\n');
}

void tt__expo_name(char *buf, size_t size, const char *prefix, const char *group,
		   const char *field, int counter, double *scale)
{
	size_t fl = strlen(field);
	*scale = 1;
	const char *unit = "";
	if (fl > 3 && !strcmp(field + fl - 3, "_ms")) {
		*scale = 1e-3;
		unit = "_seconds";
		fl -= 3;
	} else if (fl > 3 && !strcmp(field + fl - 3, "_us")) {
		*scale = 1e-6;
		unit = "_seconds";
		fl -= 3;
	}
	snprintf(buf, size, "%s%s%s%.*s%s%s", prefix, group ? group : "", group ? "_" : "",
		 (int)fl, field, unit, counter ? "_total" : "");
}
