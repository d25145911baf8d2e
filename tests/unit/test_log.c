/* test_log.c: log level specs. */
#include "tt_test.h"
#include <tutti/log.h>
#include <tutti/errno.h>
#include <glib.h>
#include <string.h>

TT_TEST(log_levels_per_domain)
{
	char *err = NULL;
	TT_ASSERT_INT_EQ(tt_log_set_levels("warn,sip=debug,mixer=error", &err), 0);
	TT_ASSERT(tt_log_enabled("sip", TT_LOG_DEBUG));
	TT_ASSERT(!tt_log_enabled("mixer", TT_LOG_WARN));
	TT_ASSERT(tt_log_enabled("irc", TT_LOG_WARN));
	TT_ASSERT(!tt_log_enabled("irc", TT_LOG_INFO));
}

TT_TEST(log_bad_spec_changes_nothing)
{
	char *err = NULL;
	TT_ASSERT_INT_EQ(tt_log_set_levels("sip=debug", NULL), 0);
	TT_ASSERT_INT_EQ(tt_log_set_levels("mixer=loud", &err), -EINVAL);
	TT_ASSERT(err != NULL);
	g_free(err);
	TT_ASSERT(tt_log_enabled("sip", TT_LOG_DEBUG));
	TT_ASSERT_STR_EQ(tt_strerror(-EUSERS), "room is full");
}

/* One line, as its format says: logfmt's and JSON's msg quoted and escaped (quotes,
 * backslashes, newlines, control characters, bad UTF-8), the journal's level prefix. */
static char *line(const char *fmt, bool journal, enum tt_log_level lv, const char *msg)
{
	char buf[512];
	TT_ASSERT_INT_EQ(tt_log_set_format(fmt), 0);
	tt_log_set_journal(journal);
	size_t n = tt_log_format_line(buf, sizeof buf, "sip", lv, msg);
	TT_ASSERT(n > 0 && buf[n - 1] == '\n');
	tt_log_set_journal(false);
	tt_log_set_format("text");
	return g_strndup(buf, n);
}

TT_TEST(log_format_logfmt)
{
	char *l = line("logfmt", false, TT_LOG_WARN, "say \"hi\"\nnow \\ \x01 \xff ok");
	TT_ASSERT_MSG(g_regex_match_simple("^ts=\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z "
					   "level=warn domain=sip msg=\"say \\\\\"hi\\\\\"\\\\nnow "
					   "\\\\\\\\ \\\\u0001 \\\\ufffd ok\"\n$", l, 0, 0),
		      "got %s", l);
	g_free(l);
}

TT_TEST(log_format_json_parses)
{
	char *l = line("json", false, TT_LOG_ERROR, "a \"b\"\n\t\xc3\xa9\xff");
	TT_ASSERT_MSG(g_str_has_prefix(l, "{\"ts\":\"") && g_str_has_suffix(l, "}\n"), "%s", l);
	TT_ASSERT_MSG(strstr(l, "\"level\":\"error\",\"domain\":\"sip\","
			     "\"msg\":\"a \\\"b\\\"\\n\\u0009\xc3\xa9\\ufffd\"}") != NULL, "%s", l);
	g_free(l);
}

TT_TEST(log_format_journal_prefix_and_text)
{
	char *l = line("text", true, TT_LOG_DEBUG, "two\nlines");
	TT_ASSERT_MSG(g_str_has_prefix(l, "<7>") && strstr(l, "debug sip: two lines\n"), "%s", l);
	g_free(l);
	l = line("json", true, TT_LOG_INFO, "x");
	TT_ASSERT_MSG(g_str_has_prefix(l, "<6>{"), "%s", l);
	g_free(l);
	l = line("logfmt", true, TT_LOG_ERROR, "x");
	TT_ASSERT_MSG(g_str_has_prefix(l, "<3>ts="), "%s", l);
	g_free(l);
	TT_ASSERT_INT_EQ(tt_log_set_format("yaml"), -EINVAL);
}

TT_TEST(log_format_long_message_stays_valid)
{
	char big[3000];
	memset(big, '"', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	char buf[256];
	TT_ASSERT_INT_EQ(tt_log_set_format("json"), 0);
	size_t n = tt_log_format_line(buf, sizeof buf, "sip", TT_LOG_INFO, big);
	tt_log_set_format("text");
	TT_ASSERT(n <= sizeof buf && n > 100);
	TT_ASSERT(buf[n - 1] == '\n' && buf[n - 2] == '}' && buf[n - 3] == '"');
	TT_ASSERT(buf[n - 4] == '"' && buf[n - 5] == '\\');   /* whole escapes only */
}

/* Fields: logfmt keeps plain values bare and quotes the others, JSON quotes all; a NULL
 * value is left out, a bad key byte becomes '_'; the text format is the sentence alone. */
static char *fields_line(const char *fmt, const char *const *kv)
{
	char buf[1024];
	TT_ASSERT_INT_EQ(tt_log_set_format(fmt), 0);
	size_t n = tt_log_format_fields(buf, sizeof buf, "room", TT_LOG_INFO, kv, "sip-3 joined");
	tt_log_set_format("text");
	TT_ASSERT(n > 0 && buf[n - 1] == '\n');
	return g_strndup(buf, n);
}

TT_TEST(log_fields_in_each_format)
{
	const char *const *kv = TT_KV("event", "join", "room", "team ops", "gone", NULL,
				      "Bad-Key", "a\"b", "empty", "");
	char *l = fields_line("logfmt", kv);
	TT_ASSERT_MSG(strstr(l, " domain=room event=join room=\"team ops\" bad_key=\"a\\\"b\" "
			     "empty=\"\" msg=\"sip-3 joined\"\n") != NULL, "%s", l);
	g_free(l);
	l = fields_line("json", kv);
	TT_ASSERT_MSG(strstr(l, "\"domain\":\"room\",\"event\":\"join\",\"room\":\"team ops\","
			     "\"bad_key\":\"a\\\"b\",\"empty\":\"\",\"msg\":\"sip-3 joined\"}\n") != NULL,
		      "%s", l);
	g_free(l);
	l = fields_line("text", kv);
	TT_ASSERT_MSG(g_str_has_suffix(l, "info  room: sip-3 joined\n"), "%s", l);
	g_free(l);
}

/* A value too long for the line is left out rather than cutting the message. */
TT_TEST(log_fields_never_crowd_out_the_message)
{
	char big[2000];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	char *l = fields_line("json", TT_KV("room", big));
	TT_ASSERT_MSG(strstr(l, "\"msg\":\"sip-3 joined\"}") && !strstr(l, "xxxx"), "%s", l);
	g_free(l);
}
