/* expo.h: the Prometheus text exposition format 0.0.4, written by hand (Debian has no C
 * client library): a family's HELP and TYPE lines, samples with labels, histograms.
 * Pure functions appending to a GString the caller owns; any thread.
 *
 * Labels are given as a NULL-terminated array of name, value pairs: { "gateway", "sip",
 * "codec", "pcmu", NULL }. Names must be [a-zA-Z_][a-zA-Z0-9_]* (the caller's constants);
 * values may hold anything and are escaped (\\, \", \n). */
#ifndef TT_METRICS_EXPO_H
#define TT_METRICS_EXPO_H

#include <glib.h>
#include <stdint.h>

enum tt__expo_type { TT_EXPO_COUNTER, TT_EXPO_GAUGE, TT_EXPO_HISTOGRAM };

/* "# HELP name help" (help's \\ and newlines escaped) and "# TYPE name type". Every sample
 * of the family must follow before the next family starts. */
void tt__expo_family(GString *out, const char *name, enum tt__expo_type type,
		     const char *help);
/* "name{labels} value": integers in full, other values as %.17g, NaN and +Inf/-Inf as the
 * format spells them. */
void tt__expo_sample(GString *out, const char *name, const char *const *labels, double v);
/* The _bucket series (cumulative, le="bound" and le="+Inf"), _sum and _count of one
 * histogram: counts[i] holds the observations in (bounds[i-1], bounds[i]], counts[n] those
 * above the last bound (not cumulative). `scale` multiplies the bounds (1e-6: microseconds
 * to seconds); sum is already in the exported unit. */
void tt__expo_histogram(GString *out, const char *name, const char *const *labels,
			const double *bounds, const uint64_t *counts, unsigned n, double scale,
			double sum);
/* A metric name from parts: "tutti_" prefix, a group and a field, with units moved to base
 * units ("_ms"/"_us" become "_seconds", *scale set to 1e-3/1e-6, else 1) and "_total"
 * appended for counters. Writes at most size bytes. */
void tt__expo_name(char *buf, size_t size, const char *prefix, const char *group,
		   const char *field, int counter, double *scale);

#endif
