/* core_fixture.h: a real core for unit tests, built from a gateway table and a small config
 * (one worker, warnings only, no HTTP server, plus `extra` lines). Core thread (the test's
 * main thread); the caller frees it with tt__core_shutdown + tt__core_free as usual. */
#ifndef TT_TEST_CORE_FIXTURE_H
#define TT_TEST_CORE_FIXTURE_H

#include <tutti/gateway.h>

#include "core/core_priv.h"

/* Allocates and starts the core; asserts (fails the test) on any error. `extra`: more
 * config text appended after the fixture's own sections, or NULL. */
struct tt_core *tt_test_core_make(const struct tt_gateway *const *table, const char *extra);

#endif
