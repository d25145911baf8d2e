/* test_expo.c: the Prometheus text format as written by hand (bridge/metrics/expo.c):
 * label values escaped, HELP escaped, TYPE lines, histogram buckets cumulative with +Inf,
 * _sum and _count, numbers without a locale, and unit names moved to seconds. */
#include "tt_test.h"

#include <glib.h>
#include <math.h>
#include <string.h>

#include "metrics/expo.h"

TT_TEST(expo_label_values_are_escaped)
{
	GString *o = g_string_new(NULL);
	const char *labels[] = { "gateway", "a\"b\\c\nd", "codec", "", NULL };
	tt__expo_sample(o, "tutti_x", labels, 3);
	TT_ASSERT_STR_EQ(o->str, "tutti_x{gateway=\"a\\\"b\\\\c\\nd\",codec=\"\"} 3\n");
	g_string_free(o, TRUE);
}

TT_TEST(expo_family_help_and_type)
{
	GString *o = g_string_new(NULL);
	tt__expo_family(o, "tutti_c_total", TT_EXPO_COUNTER, "two\nlines \\ \"quoted\"");
	tt__expo_family(o, "tutti_g", TT_EXPO_GAUGE, NULL);
	TT_ASSERT_STR_EQ(o->str, "# HELP tutti_c_total two\\nlines \\\\ \"quoted\"\n"
				 "# TYPE tutti_c_total counter\n"
				 "# HELP tutti_g \n# TYPE tutti_g gauge\n");
	g_string_free(o, TRUE);
}

TT_TEST(expo_numbers)
{
	GString *o = g_string_new(NULL);
	tt__expo_sample(o, "a", NULL, 18446744073709551615.0);  /* beyond 2^53: %g form */
	tt__expo_sample(o, "b", NULL, 0.25);
	tt__expo_sample(o, "f", NULL, 0.1 + 0.2);   /* not 0.3: 17 digits */
	tt__expo_sample(o, "c", NULL, INFINITY);
	tt__expo_sample(o, "d", NULL, NAN);
	tt__expo_sample(o, "e", NULL, -7);
	TT_ASSERT_STR_EQ(o->str, "a 1.8446744073709552e+19\nb 0.25\nf 0.30000000000000004\n"
				 "c +Inf\nd NaN\ne -7\n");
	g_string_free(o, TRUE);
}

TT_TEST(expo_histogram_is_cumulative_with_inf_sum_count)
{
	GString *o = g_string_new(NULL);
	const double bounds[] = { 100, 1000 };
	const uint64_t counts[] = { 2, 3, 1 };   /* per bucket, the last above 1000 */
	const char *labels[] = { "worker", "0", NULL };
	tt__expo_histogram(o, "t_seconds", labels, bounds, counts, 2, 1e-6, 0.0125);
	TT_ASSERT_STR_EQ(o->str,
		"t_seconds_bucket{worker=\"0\",le=\"0.0001\"} 2\n"
		"t_seconds_bucket{worker=\"0\",le=\"0.001\"} 5\n"
		"t_seconds_bucket{worker=\"0\",le=\"+Inf\"} 6\n"
		"t_seconds_sum{worker=\"0\"} 0.0125\n"
		"t_seconds_count{worker=\"0\"} 6\n");
	g_string_truncate(o, 0);
	tt__expo_histogram(o, "h", NULL, bounds, counts, 2, 1, 7);
	TT_ASSERT(strstr(o->str, "h_bucket{le=\"100\"} 2\n") != NULL);
	TT_ASSERT(strstr(o->str, "h_sum 7\nh_count 6\n") != NULL);
	g_string_free(o, TRUE);
}

TT_TEST(expo_names_in_base_units)
{
	char n[128];
	double scale;
	tt__expo_name(n, sizeof n, "tutti_leg_", NULL, "packets_in", 1, &scale);
	TT_ASSERT_STR_EQ(n, "tutti_leg_packets_in_total");
	TT_ASSERT(scale == 1);
	tt__expo_name(n, sizeof n, "tutti_worker_", NULL, "max_late_us", 0, &scale);
	TT_ASSERT_STR_EQ(n, "tutti_worker_max_late_seconds");
	TT_ASSERT(scale == 1e-6);
	tt__expo_name(n, sizeof n, "tutti_leg_", "jitter_buffer", "depth_ms", 0, &scale);
	TT_ASSERT_STR_EQ(n, "tutti_leg_jitter_buffer_depth_seconds");
	TT_ASSERT(scale == 1e-3);
}
