/* conf.h: the configuration: one table of keys drives parsing, validation, defaults,
 * bounds, --print-default-config and docs/tutti.conf.sample.
 *
 * The table is the union of the core's keys and each registered gateway's keys (a gateway
 * brings its own rows in its descriptor; the core never lists protocol keys).
 * A loaded struct tt_conf is immutable; a reload builds a new one. Threading: a tt_conf may
 * be read from any thread once loaded (it is never written after tt_conf_load returns). */
#ifndef TUTTI_CONF_H
#define TUTTI_CONF_H

#include <stdbool.h>

enum tt_conf_type {
	TT_CONF_BOOL,
	TT_CONF_INT,
	TT_CONF_STRING,
	TT_CONF_ENUM,    /* one of `choices`, "a|b|c" */
	TT_CONF_LIST,    /* comma-separated strings */
};

enum tt_conf_flags {
	TT_CONF_RELOADABLE = 1 << 0, /* SIGHUP may change it while running */
	TT_CONF_SECRET     = 1 << 1, /* never logged or printed back */
};

struct tt_conf_key {
	const char *section;   /* "bridge", or a template "irc.*" (many instances) */
	const char *key;
	enum tt_conf_type type;
	const char *def;       /* default as text; NULL: unset unless given */
	long long min, max;    /* TT_CONF_INT bounds; TT_CONF_STRING: max length (0: none) */
	const char *choices;   /* TT_CONF_ENUM: "off|offer|require" */
	unsigned flags;
	const char *help;      /* one line; rendered into the sample config */
};

struct tt_conf;

/* Values. `section` is a concrete section name ("bridge", "irc.libera"). A key that is not
 * in the table is a programming error (logged, returns 0/false/NULL). Strings are borrowed:
 * valid as long as the tt_conf. */
long long tt_conf_int(const struct tt_conf *c, const char *section, const char *key);
bool tt_conf_bool(const struct tt_conf *c, const char *section, const char *key);
const char *tt_conf_str(const struct tt_conf *c, const char *section, const char *key);
/* TT_CONF_LIST: a NULL-terminated vector, borrowed like strings. Never NULL. */
const char *const *tt_conf_list(const struct tt_conf *c, const char *section, const char *key);
/* True when the file set the key (as opposed to the default applying). */
bool tt_conf_is_set(const struct tt_conf *c, const char *section, const char *key);
/* Instances of a template: for "irc" the names after "irc." in file order. NULL-terminated,
 * borrowed. */
const char *const *tt_conf_instances(const struct tt_conf *c, const char *prefix);
/* Line in the file where section/key was given, 0 if not from a file. */
int tt_conf_line(const struct tt_conf *c, const char *section, const char *key);
const char *tt_conf_path(const struct tt_conf *c);

#endif
