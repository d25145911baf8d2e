/* core_fixture.c: see core_fixture.h. The config goes through a real file, as the daemon's
 * does, so the loader's path is the one tested. */
#include "core_fixture.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "tt_test.h"

struct tt_core *tt_test_core_make(const struct tt_gateway *const *table, const char *extra)
{
	char *path = g_strdup("/tmp/tt-unit-XXXXXX");
	int fd = g_mkstemp(path);
	TT_ASSERT(fd >= 0);
	char *text = g_strdup_printf("[bridge]\nworkers = 1\nlog_level = warn\n"
				     "[http]\nenabled = false\n%s", extra ? extra : "");
	TT_ASSERT(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	struct tt_core *core = NULL;
	TT_ASSERT_INT_EQ(tt__core_alloc(&core, table, path, NULL), 0);
	TT_ASSERT_INT_EQ(tt__core_start(core), 0);
	g_unlink(path);
	g_free(path);
	g_free(text);
	return core;
}
