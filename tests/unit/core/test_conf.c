/* test_conf.c: the config table and loader: defaults, bounds, every error path with
 * FILE:LINE: key, templates, secrets, reload diffs. */
#include "tt_test.h"

#include <glib.h>
#include <string.h>
#include <tutti/errno.h>

#include "conf/loader.h"
#include "core/core_priv.h"  /* the core's rows */

static const struct tt_conf_key extra[] = {
	{ "irc.*", "server", TT_CONF_STRING, "localhost", 0, 64, NULL, 0, "server" },
	{ "irc.*", "port", TT_CONF_INT, "6667", 1, 65535, NULL, 0, "port" },
	{ "irc.*", "channels", TT_CONF_LIST, "", 0, 0, NULL, 0, "channels" },
	{ "sip", "srtp", TT_CONF_ENUM, "offer", 0, 0, "off|offer|require", 0, "policy" },
	{ NULL, NULL, 0, NULL, 0, 0, NULL, 0, NULL },
};

static struct tt_conf_schema *schema(void)
{
	struct tt_conf_schema *s = NULL;
	TT_ASSERT_INT_EQ(tt__conf_schema_alloc(&s), 0);
	TT_ASSERT_INT_EQ(tt__conf_schema_add(s, tt__core_conf_keys, "core"), 0);
	TT_ASSERT_INT_EQ(tt__conf_schema_add(s, extra, "test"), 0);
	return s;
}

static char *load_err(struct tt_conf_schema *s, const char *text)
{
	struct tt_conf *c = NULL;
	char *errs = NULL;
	int rc = tt__conf_load_data(&c, s, "t.conf", text, strlen(text), &errs);
	TT_ASSERT_MSG(rc == -EINVAL, "expected an error for:\n%s", text);
	TT_ASSERT(c == NULL);
	TT_ASSERT(errs != NULL);
	return errs;
}

static void expect_err(struct tt_conf_schema *s, const char *text, const char *want)
{
	char *errs = load_err(s, text);
	TT_ASSERT_MSG(strstr(errs, want) != NULL, "want '%s' in:\n%s", want, errs);
	g_free(errs);
}

TT_TEST(conf_defaults_without_file)
{
	struct tt_conf_schema *s = schema();
	struct tt_conf *c = NULL;
	TT_ASSERT_INT_EQ(tt__conf_load(&c, s, NULL, NULL), 0);
	TT_ASSERT_INT_EQ(tt_conf_int(c, "http", "port"), 8080);
	TT_ASSERT_STR_EQ(tt_conf_str(c, "http", "listen"), "127.0.0.1");
	TT_ASSERT(tt_conf_bool(c, "rooms", "on_demand"));
	TT_ASSERT_INT_EQ(tt_conf_int(c, "rooms", "rate"), 48000);
	TT_ASSERT_STR_EQ(tt_conf_str(c, "sip", "srtp"), "offer");
	TT_ASSERT(!tt_conf_is_set(c, "http", "port"));
	TT_ASSERT(tt_conf_str(c, "http", "admin_token") == NULL);
	TT_ASSERT(tt_conf_instances(c, "irc")[0] == NULL);
	tt__conf_free(c);
	tt__conf_schema_free(s);
}

TT_TEST(conf_values_templates_and_lines)
{
	struct tt_conf_schema *s = schema();
	struct tt_conf *c = NULL;
	const char *text = "# a comment\n[http]\nport = 9000\n\n[irc.libera]\n"
			   "channels = #a=r1, #b=r2:key ,\n[irc.oftc]\nport=6697\n"
			   "[room.standup]\npin = 42\n";
	TT_ASSERT_INT_EQ(tt__conf_load_data(&c, s, "t.conf", text, strlen(text), NULL), 0);
	TT_ASSERT_INT_EQ(tt_conf_int(c, "http", "port"), 9000);
	TT_ASSERT_INT_EQ(tt_conf_line(c, "http", "port"), 3);
	const char *const *inst = tt_conf_instances(c, "irc");
	TT_ASSERT_STR_EQ(inst[0], "libera");
	TT_ASSERT_STR_EQ(inst[1], "oftc");
	TT_ASSERT(inst[2] == NULL);
	const char *const *ch = tt_conf_list(c, "irc.libera", "channels");
	TT_ASSERT_STR_EQ(ch[0], "#a=r1");
	TT_ASSERT_STR_EQ(ch[1], "#b=r2:key");
	TT_ASSERT(ch[2] == NULL);
	TT_ASSERT_INT_EQ(tt_conf_int(c, "irc.libera", "port"), 6667);  /* template default */
	TT_ASSERT_INT_EQ(tt_conf_int(c, "irc.oftc", "port"), 6697);
	TT_ASSERT_STR_EQ(tt_conf_str(c, "room.standup", "pin"), "42");
	TT_ASSERT_STR_EQ(tt_conf_instances(c, "room")[0], "standup");
	tt__conf_free(c);
	tt__conf_schema_free(s);
}

TT_TEST(conf_every_error_names_file_line_key)
{
	struct tt_conf_schema *s = schema();
	expect_err(s, "[http]\nport = 0\n", "t.conf:2: port: 0 is out of range [1, 65535]");
	expect_err(s, "[http]\nport = 80x\n", "t.conf:2: port: expected an integer");
	expect_err(s, "[http]\nenabled = perhaps\n", "t.conf:2: enabled: expected a boolean");
	expect_err(s, "[sip]\nsrtp = always\n", "t.conf:2: srtp: 'always' is not one of off|offer|require");
	expect_err(s, "[http]\nnope = 1\n", "t.conf:2: nope: unknown key in [http]");
	expect_err(s, "\n[nope]\nx = 1\n", "t.conf:2: nope: unknown section");
	expect_err(s, "[irc.a.b]\n", "t.conf:1: irc.a.b: unknown section");
	expect_err(s, "port = 1\n", "t.conf:1: port: key outside any [section]");
	expect_err(s, "[http]\njust words\n", "t.conf:2: just words: expected 'key = value'");
	expect_err(s, "[http\n", "t.conf:1: [http: malformed section header");
	expect_err(s, "[http]\nport = 1\nport = 2\n", "t.conf:3: port: given twice in [http] (first at line 2)");
	expect_err(s, "[http]\n[http]\n", "t.conf:2: http: section appears twice");
	expect_err(s, "[room.x]\npin = 123456789012345678901234567890123\n",
		   "t.conf:2: pin: longer than 32 bytes");
	expect_err(s, "[bridge]\nlog_level = \xff\xfe\n", "not valid UTF-8");
	/* several problems are all reported, one line each */
	char *errs = load_err(s, "[http]\nport = 0\nbogus = 1\n[x]\n");
	TT_ASSERT(strstr(errs, "t.conf:3: bogus") && strstr(errs, "t.conf:4: x"));
	g_free(errs);
	/* a missing file */
	struct tt_conf *c = NULL;
	errs = NULL;
	TT_ASSERT_INT_EQ(tt__conf_load(&c, s, "/nonexistent/tutti.conf", &errs), -ENOENT);
	TT_ASSERT(errs && strstr(errs, "/nonexistent/tutti.conf:0: file:"));
	g_free(errs);
	tt__conf_schema_free(s);
}

TT_TEST(conf_schema_refuses_bad_rows)
{
	struct tt_conf_schema *s = schema();
	static const struct tt_conf_key dup[] = {
		{ "http", "port", TT_CONF_INT, "1", 1, 2, NULL, 0, "dup" },
		{ NULL, NULL, 0, NULL, 0, 0, NULL, 0, NULL },
	};
	static const struct tt_conf_key bad_default[] = {
		{ "x", "n", TT_CONF_INT, "7", 1, 5, NULL, 0, "out of its own bounds" },
		{ NULL, NULL, 0, NULL, 0, 0, NULL, 0, NULL },
	};
	TT_ASSERT_INT_EQ(tt__conf_schema_add(s, dup, "t"), -EINVAL);
	TT_ASSERT_INT_EQ(tt__conf_schema_add(s, bad_default, "t"), -EINVAL);
	tt__conf_schema_free(s);
}

TT_TEST(conf_reload_diff_names_static_keys)
{
	struct tt_conf_schema *s = schema();
	struct tt_conf *a = NULL, *b = NULL;
	const char *ta = "[http]\nport = 1000\n[rooms]\nspeakers = 3\n";
	const char *tb = "[http]\nport = 1001\n[rooms]\nspeakers = 4\n";
	TT_ASSERT_INT_EQ(tt__conf_load_data(&a, s, "a", ta, strlen(ta), NULL), 0);
	TT_ASSERT_INT_EQ(tt__conf_load_data(&b, s, "b", tb, strlen(tb), NULL), 0);
	char *names = NULL;
	TT_ASSERT_INT_EQ(tt__conf_diff_static(a, b, &names), 1);  /* speakers is reloadable */
	TT_ASSERT_STR_EQ(names, "http.port");
	g_free(names);
	tt__conf_free(a);
	tt__conf_free(b);
	tt__conf_schema_free(s);
}

TT_TEST(conf_sample_lists_every_key)
{
	struct tt_conf_schema *s = schema();
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	tt__conf_print_sample(s, f);
	fclose(f);
	TT_ASSERT(strstr(buf, "[http]\n") && strstr(buf, "#port = 8080\n"));
	TT_ASSERT(strstr(buf, "#[irc.example]\n"));
	TT_ASSERT(strstr(buf, "off|offer|require"));
	/* the sample, uncommented or not, parses */
	struct tt_conf *c = NULL;
	TT_ASSERT_INT_EQ(tt__conf_load_data(&c, s, "sample", buf, len, NULL), 0);
	tt__conf_free(c);
	free(buf);
	tt__conf_schema_free(s);
}
