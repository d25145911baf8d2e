/* stats.h (internal): what the core does with field tables (tutti/stats.h): check one a
 * gateway brings, and render a struct to JSON. Any thread (pure functions of their
 * arguments); the JSON is the caller's. */
#ifndef TT_STATS_INTERNAL_H
#define TT_STATS_INTERNAL_H

#include <jansson.h>
#include <tutti/stats.h>

/* A media worker's report (loop/worker.h struct tt_worker_stats), for GET /api/health:
 * its ticks, and its shared port's counters (shown only when it has one). */
extern const struct tt_stat_field tt__worker_stat_fields[];
extern const struct tt_stat_field tt__worker_port_stat_fields[];

/* 0, or -EINVAL with *why (newly allocated) naming the bad row: a name that is not
 * [a-z0-9_]+, a row past `size`, an unknown type, a name twice in one group. */
int tt__stats_check(const struct tt_stat_field *fields, size_t size, char **why);

/* A new JSON object: one member per row of `fields`, read from `s`; rows with a group go
 * into a sub-object of that name (made at its first row). */
json_t *tt__stats_json(const struct tt_stat_field *fields, const void *s);

/* A numeric row's value as a double (a bool is 0 or 1); false for a string row. */
bool tt__stats_value(const struct tt_stat_field *f, const void *s, double *v);

#endif
