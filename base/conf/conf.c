/* conf.c: loads an INI file against the schema; every problem is reported as FILE:LINE: key.
 *
 * GKeyFile parses values, but it knows no line numbers and forgives unknown keys, duplicate
 * keys and stray lines; so a small scanner walks the file first to map every (section, key)
 * to its line and to report lines GKeyFile would reject, then GKeyFile reads the values. */
#define TT_LOG_DOMAIN "conf"
#include "loader.h"

#include <glib.h>
#include <string.h>
#include <tutti/errno.h>
#include <tutti/log.h>

struct tt_conf_schema {
	GPtrArray *rows;   /* const struct tt_conf_key *, borrowed from static tables */
};

struct value {
	const struct tt_conf_key *row;
	char *text;        /* NULL: unset */
	long long i;
	bool b;
	char **list;       /* TT_CONF_LIST: never NULL once parsed */
	int line;
	bool set;          /* given in the file */
};

struct tt_conf {
	const struct tt_conf_schema *schema;
	char *path;
	GHashTable *values;     /* "section\037key" -> struct value *, every row of every
				   concrete section (defaults filled in) */
	GHashTable *instances;  /* prefix -> GPtrArray of instance names (NULL-terminated) */
	GPtrArray *sections;    /* concrete section names seen or implied, file order */
};

static const char *const empty_list[] = { NULL };

int tt__conf_schema_alloc(struct tt_conf_schema **sp)
{
	struct tt_conf_schema *s = g_new0(struct tt_conf_schema, 1);
	s->rows = g_ptr_array_new();
	*sp = s;
	return 0;
}

struct tt_conf_schema *tt__conf_schema_free(struct tt_conf_schema *s)
{
	if (s) {
		g_ptr_array_free(s->rows, TRUE);
		g_free(s);
	}
	return NULL;
}

static bool is_template(const char *section)
{
	size_t n = strlen(section);
	return n > 2 && section[n - 1] == '*' && section[n - 2] == '.';
}

/* The row for a concrete section name ("irc.libera") and key, or NULL. */
static const struct tt_conf_key *find_row(const struct tt_conf_schema *s, const char *section,
					  const char *key)
{
	for (guint i = 0; i < s->rows->len; i++) {
		const struct tt_conf_key *r = g_ptr_array_index(s->rows, i);
		if (strcmp(r->key, key) != 0)
			continue;
		if (strcmp(r->section, section) == 0)
			return r;
		if (is_template(r->section)) {
			size_t plen = strlen(r->section) - 1; /* "irc." */
			if (strncmp(section, r->section, plen) == 0 && section[plen])
				return r;
		}
	}
	return NULL;
}

static bool section_known(const struct tt_conf_schema *s, const char *section)
{
	for (guint i = 0; i < s->rows->len; i++) {
		const struct tt_conf_key *r = g_ptr_array_index(s->rows, i);
		if (strcmp(r->section, section) == 0)
			return true;
		if (is_template(r->section)) {
			size_t plen = strlen(r->section) - 1;
			if (strncmp(section, r->section, plen) == 0 && section[plen] &&
			    !strchr(section + plen, '.'))
				return true;
		}
	}
	return false;
}

/* Parse text for row into v (only on success). Returns NULL or a static problem text, or
 * a new string in *dyn. */
static const char *parse_value(const struct tt_conf_key *row, const char *text, struct value *v,
			       char **dyn)
{
	struct value out = { .row = row };
	switch (row->type) {
	case TT_CONF_BOOL:
		if (!g_ascii_strcasecmp(text, "true") || !g_ascii_strcasecmp(text, "yes") ||
		    !g_ascii_strcasecmp(text, "on") || !strcmp(text, "1"))
			out.b = true;
		else if (!g_ascii_strcasecmp(text, "false") || !g_ascii_strcasecmp(text, "no") ||
			 !g_ascii_strcasecmp(text, "off") || !strcmp(text, "0"))
			out.b = false;
		else
			return "expected a boolean (true or false)";
		break;
	case TT_CONF_INT: {
		char *end = NULL;
		errno = 0;
		long long x = g_ascii_strtoll(text, &end, 10);
		if (!*text || errno || !end || *end)
			return "expected an integer";
		if (x < row->min || x > row->max) {
			*dyn = g_strdup_printf("%lld is out of range [%lld, %lld]", x, row->min,
					       row->max);
			return *dyn;
		}
		out.i = x;
		break;
	}
	case TT_CONF_ENUM: {
		gchar **ch = g_strsplit(row->choices, "|", -1);
		bool ok = false;
		for (gchar **c = ch; *c; c++)
			if (strcmp(*c, text) == 0)
				ok = true;
		g_strfreev(ch);
		if (!ok) {
			*dyn = g_strdup_printf("'%s' is not one of %s", text, row->choices);
			return *dyn;
		}
		out.i = g_ascii_strtoll(text, NULL, 10); /* numeric enums (rates) read as ints */
		break;
	}
	case TT_CONF_STRING:
		if (row->max > 0 && (long long)strlen(text) > row->max) {
			*dyn = g_strdup_printf("longer than %lld bytes", row->max);
			return *dyn;
		}
		if (!g_utf8_validate(text, -1, NULL))
			return "not valid UTF-8";
		break;
	case TT_CONF_LIST: {
		gchar **items = g_strsplit(text, ",", -1);
		GPtrArray *a = g_ptr_array_new();
		for (gchar **it = items; *it; it++) {
			gchar *t = g_strstrip(*it);
			if (*t)
				g_ptr_array_add(a, g_strdup(t));
		}
		g_strfreev(items);
		g_ptr_array_add(a, NULL);
		out.list = (char **)g_ptr_array_free(a, FALSE);
		break;
	}
	}
	out.text = g_strdup(text);
	*v = out;
	return NULL;
}

static void value_free(gpointer p)
{
	struct value *v = p;
	g_free(v->text);
	g_strfreev(v->list);
	g_free(v);
}

int tt__conf_schema_add(struct tt_conf_schema *s, const struct tt_conf_key *rows,
			const char *owner)
{
	for (const struct tt_conf_key *r = rows; r && r->key; r++) {
		char *dyn = NULL;
		struct value v;
		if (!r->section || !*r->section || find_row(s, r->section, r->key)) {
			tt_error("config row %s.%s from %s: missing section or duplicate",
				 r->section ? r->section : "?", r->key, owner);
			return -EINVAL;
		}
		if (r->type == TT_CONF_ENUM && !r->choices) {
			tt_error("config row %s.%s from %s: enum without choices", r->section,
				 r->key, owner);
			return -EINVAL;
		}
		if (r->def) {
			const char *prob = parse_value(r, r->def, &v, &dyn);
			if (prob) {
				tt_error("config row %s.%s from %s: bad default: %s", r->section,
					 r->key, owner, prob);
				g_free(dyn);
				return -EINVAL;
			}
			g_free(v.text);
			g_strfreev(v.list);
		}
		g_ptr_array_add(s->rows, (gpointer)r);
	}
	return 0;
}

static char *vkey(const char *section, const char *key)
{
	return g_strconcat(section, "\037", key, NULL);
}

/* Fill defaults for every row of a concrete section not yet present. */
static void fill_defaults(struct tt_conf *c, const char *section)
{
	const struct tt_conf_schema *s = c->schema;
	for (guint i = 0; i < s->rows->len; i++) {
		const struct tt_conf_key *r = g_ptr_array_index(s->rows, i);
		if (find_row(s, section, r->key) != r)
			continue;
		char *k = vkey(section, r->key);
		if (g_hash_table_contains(c->values, k)) {
			g_free(k);
			continue;
		}
		struct value *v = g_new0(struct value, 1);
		char *dyn = NULL;
		if (!r->def || parse_value(r, r->def, v, &dyn)) {
			g_free(dyn);
			memset(v, 0, sizeof *v);
			v->row = r;
		}
		if (r->type == TT_CONF_LIST && !v->list)
			v->list = g_new0(char *, 1);
		g_hash_table_insert(c->values, k, v);
	}
}

static void add_section(struct tt_conf *c, const char *section)
{
	for (guint i = 0; i < c->sections->len; i++)
		if (strcmp(g_ptr_array_index(c->sections, i), section) == 0)
			return;
	g_ptr_array_add(c->sections, g_strdup(section));
	const char *dot = strchr(section, '.');
	if (dot) {
		char *prefix = g_strndup(section, (gsize)(dot - section));
		GPtrArray *a = g_hash_table_lookup(c->instances, prefix);
		if (!a) {
			a = g_ptr_array_new_with_free_func(g_free);
			g_hash_table_insert(c->instances, g_strdup(prefix), a);
		} else {
			g_ptr_array_remove_index(a, a->len - 1); /* the NULL terminator */
		}
		g_ptr_array_add(a, g_strdup(dot + 1));
		g_ptr_array_add(a, NULL);
		g_free(prefix);
	}
	fill_defaults(c, section);
}

static void err_add(GString *errs, const char *name, int line, const char *key,
		    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void err_add(GString *errs, const char *name, int line, const char *key,
		    const char *fmt, ...)
{
	va_list ap;
	g_string_append_printf(errs, "%s:%d: %s: ", name, line, key);
	va_start(ap, fmt);
	g_string_append_vprintf(errs, fmt, ap);
	va_end(ap);
	g_string_append_c(errs, '\n');
}

/* Scan lines: record the line of every key, report what GKeyFile would accept silently. */
static void scan(struct tt_conf *c, const char *name, const char *data, size_t len,
		 GHashTable *lines, GString *errs)
{
	gchar *copy = g_strndup(data, len);
	gchar **ls = g_strsplit(copy, "\n", -1);
	char *group = NULL;
	GHashTable *groups_seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	for (int i = 0; ls[i]; i++) {
		int lineno = i + 1;
		gchar *l = g_strstrip(ls[i]);
		if (!*l || *l == '#' || *l == ';')
			continue;
		if (*l == '[') {
			size_t n = strlen(l);
			if (n < 3 || l[n - 1] != ']') {
				err_add(errs, name, lineno, l, "malformed section header");
				continue;
			}
			g_free(group);
			group = g_strndup(l + 1, n - 2);
			if (g_hash_table_contains(groups_seen, group))
				err_add(errs, name, lineno, group,
					"section appears twice (merge the two)");
			else
				g_hash_table_add(groups_seen, g_strdup(group));
			if (!section_known(c->schema, group))
				err_add(errs, name, lineno, group, "unknown section");
			char *k = vkey(group, "");
			g_hash_table_replace(lines, k, GINT_TO_POINTER(lineno));
			continue;
		}
		char *eq = strchr(l, '=');
		if (!eq) {
			err_add(errs, name, lineno, l, "expected 'key = value' or '[section]'");
			continue;
		}
		*eq = '\0';
		gchar *key = g_strstrip(l);
		if (!group) {
			err_add(errs, name, lineno, key, "key outside any [section]");
			continue;
		}
		if (!section_known(c->schema, group))
			continue; /* reported once at the header */
		if (!find_row(c->schema, group, key)) {
			err_add(errs, name, lineno, key, "unknown key in [%s]", group);
			continue;
		}
		char *k = vkey(group, key);
		if (g_hash_table_contains(lines, k))
			err_add(errs, name, lineno, key, "given twice in [%s] (first at line %d)",
				group, GPOINTER_TO_INT(g_hash_table_lookup(lines, k)));
		g_hash_table_insert(lines, k, GINT_TO_POINTER(lineno));
	}
	g_free(group);
	g_hash_table_destroy(groups_seen);
	g_strfreev(ls);
	g_free(copy);
}

static struct tt_conf *conf_new(const struct tt_conf_schema *s, const char *name)
{
	struct tt_conf *c = g_new0(struct tt_conf, 1);
	c->schema = s;
	c->path = g_strdup(name);
	c->values = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, value_free);
	c->instances = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					     (GDestroyNotify)g_ptr_array_unref);
	c->sections = g_ptr_array_new_with_free_func(g_free);
	/* every plain section exists with its defaults, given or not */
	for (guint i = 0; i < s->rows->len; i++) {
		const struct tt_conf_key *r = g_ptr_array_index(s->rows, i);
		if (!is_template(r->section))
			add_section(c, r->section);
	}
	return c;
}

int tt__conf_load_data(struct tt_conf **cp, const struct tt_conf_schema *s, const char *name,
		       const char *data, size_t len, char **errors)
{
	struct tt_conf *c = conf_new(s, name);
	GString *errs = g_string_new(NULL);
	GHashTable *lines = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	GKeyFile *kf = g_key_file_new();
	GError *gerr = NULL;

	if (!g_utf8_validate(data, (gssize)len, NULL)) {
		err_add(errs, name, 1, "file", "not valid UTF-8");
		goto out;
	}
	scan(c, name, data, len, lines, errs);
	if (errs->len)
		goto out;
	if (!g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, &gerr)) {
		err_add(errs, name, 1, "file", "%s", gerr->message);
		goto out;
	}
	gsize ngroups = 0;
	gchar **groups = g_key_file_get_groups(kf, &ngroups);
	for (gsize g = 0; g < ngroups; g++) {
		add_section(c, groups[g]);
		gchar **keys = g_key_file_get_keys(kf, groups[g], NULL, NULL);
		for (gchar **k = keys; k && *k; k++) {
			char *lk = vkey(groups[g], *k);
			int line = GPOINTER_TO_INT(g_hash_table_lookup(lines, lk));
			const struct tt_conf_key *row = find_row(s, groups[g], *k);
			gchar *text = g_key_file_get_string(kf, groups[g], *k, &gerr);
			if (!text) {
				err_add(errs, name, line, *k, "%s", gerr->message);
				g_clear_error(&gerr);
			} else if (row) {
				struct value *v = g_new0(struct value, 1);
				char *dyn = NULL;
				const char *prob = parse_value(row, text, v, &dyn);
				if (prob) {
					err_add(errs, name, line, *k, "%s", prob);
					g_free(v);
				} else {
					v->line = line;
					v->set = true;
					if (row->type == TT_CONF_LIST && !v->list)
						v->list = g_new0(char *, 1);
					g_hash_table_replace(c->values, g_strdup(lk), v);
				}
				g_free(dyn);
			}
			g_free(text);
			g_free(lk);
		}
		g_strfreev(keys);
	}
	g_strfreev(groups);
out:
	g_clear_error(&gerr);
	g_key_file_free(kf);
	g_hash_table_destroy(lines);
	if (errs->len) {
		if (errors)
			*errors = g_string_free(errs, FALSE);
		else
			g_string_free(errs, TRUE);
		tt__conf_free(c);
		return -EINVAL;
	}
	g_string_free(errs, TRUE);
	*cp = c;
	return 0;
}

int tt__conf_load(struct tt_conf **cp, const struct tt_conf_schema *s, const char *path,
		  char **errors)
{
	if (!path)
		return tt__conf_load_data(cp, s, "(defaults)", "", 0, errors);
	gchar *data = NULL;
	gsize len = 0;
	GError *gerr = NULL;
	if (!g_file_get_contents(path, &data, &len, &gerr)) {
		if (errors)
			*errors = g_strdup_printf("%s:0: file: %s\n", path, gerr->message);
		g_error_free(gerr);
		return -ENOENT;
	}
	int rc = tt__conf_load_data(cp, s, path, data, len, errors);
	g_free(data);
	return rc;
}

struct tt_conf *tt__conf_free(struct tt_conf *c)
{
	if (c) {
		g_hash_table_destroy(c->values);
		g_hash_table_destroy(c->instances);
		g_ptr_array_free(c->sections, TRUE);
		g_free(c->path);
		g_free(c);
	}
	return NULL;
}

static const struct value *get(const struct tt_conf *c, const char *section, const char *key)
{
	char *k = vkey(section, key);
	const struct value *v = g_hash_table_lookup(c->values, k);
	g_free(k);
	if (!v) {
		/* a template instance not in the file: use the row's default */
		const struct tt_conf_key *r = find_row(c->schema, section, key);
		if (!r)
			tt_error("programming error: no config key %s.%s", section, key);
	}
	return v;
}

long long tt_conf_int(const struct tt_conf *c, const char *section, const char *key)
{
	const struct value *v = get(c, section, key);
	return v ? v->i : 0;
}

bool tt_conf_bool(const struct tt_conf *c, const char *section, const char *key)
{
	const struct value *v = get(c, section, key);
	return v ? v->b : false;
}

const char *tt_conf_str(const struct tt_conf *c, const char *section, const char *key)
{
	const struct value *v = get(c, section, key);
	return v ? v->text : NULL;
}

const char *const *tt_conf_list(const struct tt_conf *c, const char *section, const char *key)
{
	const struct value *v = get(c, section, key);
	return v && v->list ? (const char *const *)v->list : empty_list;
}

bool tt_conf_is_set(const struct tt_conf *c, const char *section, const char *key)
{
	const struct value *v = get(c, section, key);
	return v && v->set;
}

const char *const *tt_conf_instances(const struct tt_conf *c, const char *prefix)
{
	GPtrArray *a = g_hash_table_lookup(c->instances, prefix);
	return a ? (const char *const *)a->pdata : empty_list;
}

int tt_conf_line(const struct tt_conf *c, const char *section, const char *key)
{
	const struct value *v = get(c, section, key);
	return v ? v->line : 0;
}

const char *tt_conf_path(const struct tt_conf *c)
{
	return c->path;
}

static const char *type_name(const struct tt_conf_key *r)
{
	switch (r->type) {
	case TT_CONF_BOOL: return "boolean";
	case TT_CONF_INT: return "integer";
	case TT_CONF_STRING: return "string";
	case TT_CONF_ENUM: return r->choices;
	case TT_CONF_LIST: return "comma-separated list";
	}
	return "?";
}

static void print_section(const struct tt_conf_schema *s, const char *sec, FILE *out)
{
	if (is_template(sec))
		fprintf(out, "\n#[%.*s.example]\n", (int)strlen(sec) - 2, sec);
	else
		fprintf(out, "\n[%s]\n", sec);
	for (guint i = 0; i < s->rows->len; i++) {
		const struct tt_conf_key *r = g_ptr_array_index(s->rows, i);
		if (strcmp(sec, r->section) != 0)
			continue;
		fprintf(out, "# %s (%s", r->help, type_name(r));
		if (r->type == TT_CONF_INT)
			fprintf(out, ", %lld..%lld", r->min, r->max);
		fprintf(out, "%s)\n", (r->flags & TT_CONF_RELOADABLE) ? ", reloadable" : "");
		fprintf(out, "#%s =%s%s\n", r->key, r->def ? " " : "", r->def ? r->def : "");
	}
}

void tt__conf_print_sample(const struct tt_conf_schema *s, FILE *out)
{
	fprintf(out, "# tutti.conf: every key with its default; generated by "
		     "`tutti --print-default-config`.\n"
		     "# Uncomment and change what you need. Sections named NAME.* may appear "
		     "many times\n# with different names, e.g. [room.standup] or [irc.libera].\n");
	/* One block per section, in order of first appearance: a section's rows may come from
	 * two tables (a gateway's own and the core's implicit `enabled`), and a file that
	 * gives a section twice does not load. */
	GPtrArray *order = g_ptr_array_new();
	for (guint i = 0; i < s->rows->len; i++) {
		const struct tt_conf_key *r = g_ptr_array_index(s->rows, i);
		bool seen = false;
		for (guint j = 0; j < order->len && !seen; j++)
			seen = !strcmp(g_ptr_array_index(order, j), r->section);
		if (!seen)
			g_ptr_array_add(order, (gpointer)r->section);
	}
	for (guint k = 0; k < order->len; k++)
		print_section(s, g_ptr_array_index(order, k), out);
	g_ptr_array_free(order, TRUE);
}

int tt__conf_diff_static(const struct tt_conf *a, const struct tt_conf *b, char **names)
{
	GString *out = g_string_new(NULL);
	int n = 0;
	GHashTableIter it;
	gpointer k, vp;
	/* keys in b that differ from a (new sections count), and keys that vanished */
	for (int pass = 0; pass < 2; pass++) {
		const struct tt_conf *x = pass ? b : a, *y = pass ? a : b;
		g_hash_table_iter_init(&it, x->values);
		while (g_hash_table_iter_next(&it, &k, &vp)) {
			const struct value *v = vp;
			if (v->row->flags & TT_CONF_RELOADABLE)
				continue;
			const struct value *w = g_hash_table_lookup(y->values, k);
			if (w && g_strcmp0(v->text, w->text) == 0)
				continue;
			if (pass == 1 && w)
				continue; /* already counted in pass 0 */
			char *name = g_strdup(k);
			*strchr(name, '\037') = '.';
			g_string_append_printf(out, "%s%s", n ? ", " : "", name);
			g_free(name);
			n++;
		}
	}
	*names = g_string_free(out, FALSE);
	return n;
}
