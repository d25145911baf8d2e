/* test_log.c: log level specs. */
#include "tt_test.h"
#include <tutti/log.h>
#include <tutti/errno.h>
#include <glib.h>

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
