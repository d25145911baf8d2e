/* tt_test.h: a tiny test registry; each TT_TEST registers itself, no central list.
 *
 * Each test runs in a forked child with a timeout (a crash or hang fails one test, not the
 * run; LeakSanitizer checks each child at exit). `-t NAME` runs one test in-process, for gdb.
 * `-l` lists the tests. Threading: tests themselves may start threads; the runner does not. */
#ifndef TT_TEST_H
#define TT_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tt_test {
	const char *name;
	const char *file;
	void (*fn)(void);
	struct tt_test *next;
};

void tt__test_register(struct tt_test *t);
void tt__test_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 3, 4)));

#define TT_TEST(fname)                                                         \
	static void fname(void);                                               \
	static struct tt_test fname##_tt_reg = {#fname, __FILE__, fname, NULL};\
	__attribute__((constructor)) static void fname##_tt_ctor(void)          \
	{ tt__test_register(&fname##_tt_reg); }                                \
	static void fname(void)

#define TT_ASSERT(cond)                                                        \
	do { if (!(cond)) tt__test_fail(__FILE__, __LINE__, "%s", #cond); } while (0)

#define TT_ASSERT_MSG(cond, ...)                                               \
	do { if (!(cond)) tt__test_fail(__FILE__, __LINE__, __VA_ARGS__); } while (0)

#define TT_ASSERT_INT_EQ(a, b)                                                 \
	do { long long tt_a_ = (long long)(a), tt_b_ = (long long)(b);         \
	     if (tt_a_ != tt_b_)                                               \
		tt__test_fail(__FILE__, __LINE__, "%s == %s (%lld != %lld)",   \
			      #a, #b, tt_a_, tt_b_); } while (0)

#define TT_ASSERT_STR_EQ(a, b)                                                 \
	do { const char *tt_a_ = (a), *tt_b_ = (b);                            \
	     if (!tt_a_ || !tt_b_ || strcmp(tt_a_, tt_b_) != 0)                \
		tt__test_fail(__FILE__, __LINE__, "%s == %s (\"%s\" != \"%s\")",\
			      #a, #b, tt_a_ ? tt_a_ : "(null)",                \
			      tt_b_ ? tt_b_ : "(null)"); } while (0)

/* Directory of ../shared (test corpora), or NULL: tests needing it skip. */
const char *tt_test_shared_dir(void);
/* Mark the running test as skipped with a reason, and end it. */
void tt_test_skip(const char *why) __attribute__((noreturn));

#endif
