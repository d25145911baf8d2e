/* conf_priv.h: the config schema and loader, internal to the core.
 * Threading: the schema is built once on the core thread before anything else runs; loaded
 * configs are immutable and may be read from any thread. */
#ifndef TT_CONF_PRIV_H
#define TT_CONF_PRIV_H

#include <stdio.h>
#include <tutti/conf.h>

struct tt_conf_schema;

/* The core's own rows, terminated by key == NULL. */
extern const struct tt_conf_key tt__core_conf_keys[];

/* A schema is the core's rows plus every gateway's. Returns a new schema. */
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
