/* loader.h: the config schema and loader (base/: uses nothing of tutti's). The daemon builds
 * the schema from the core's rows and every gateway's; tests and fuzz targets build smaller
 * ones. Gateways never see this header: they read values through tutti/conf.h.
 * Threading: the schema is built once on the core thread before anything else runs; loaded
 * configs are immutable and may be read from any thread. */
#ifndef TT_BASE_CONF_LOADER_H
#define TT_BASE_CONF_LOADER_H

#include <stdio.h>
#include <tutti/conf.h>

struct tt_conf_schema;

/* A new, empty schema; rows come from tt__conf_schema_add (the core's, each gateway's). */
int tt__conf_schema_alloc(struct tt_conf_schema **sp);
/* Add rows (terminated by key == NULL). -EINVAL if a row is malformed or a duplicate. */
int tt__conf_schema_add(struct tt_conf_schema *s, const struct tt_conf_key *rows,
			const char *owner);
struct tt_conf_schema *tt__conf_schema_free(struct tt_conf_schema *s);

/* Load `path` (NULL: embedded defaults only). On error returns -EINVAL and appends one
 * "FILE:LINE: key: problem" line per problem to *errors (a new string; g_free it). */
int tt__conf_load(struct tt_conf **cp, const struct tt_conf_schema *s, const char *path,
		  char **errors);
/* Same from text already in memory (tests). `name` is used in messages. */
int tt__conf_load_data(struct tt_conf **cp, const struct tt_conf_schema *s, const char *name,
		       const char *data, size_t len, char **errors);
struct tt_conf *tt__conf_free(struct tt_conf *c);

/* The schema rendered as a commented sample config. */
void tt__conf_print_sample(const struct tt_conf_schema *s, FILE *out);
/* Rows of one key in the schema that changed between a and b and are not reloadable:
 * appends "section.key" names to *names (new string) and returns how many. */
int tt__conf_diff_static(const struct tt_conf *a, const struct tt_conf *b, char **names);

#endif
