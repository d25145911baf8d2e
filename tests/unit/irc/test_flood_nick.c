/* test_flood_nick.c: the token bucket and nick handling. */
#include "tt_test.h"
#include "flood.h"
#include "nick.h"

#include <glib.h>

TT_TEST(irc_flood_bucket)
{
	struct tt__irc_flood f;
	tt__irc_flood_init(&f, 3, 500, 1000000);
	for (int i = 0; i < 3; i++)
		TT_ASSERT_INT_EQ(tt__irc_flood_take(&f, 1000000), 0);
	/* empty: wait one interval */
	TT_ASSERT_INT_EQ(tt__irc_flood_take(&f, 1000000), 500000);
	TT_ASSERT_INT_EQ(tt__irc_flood_take(&f, 1200000), 300000);
	TT_ASSERT_INT_EQ(tt__irc_flood_take(&f, 1500000), 0);
	TT_ASSERT(tt__irc_flood_take(&f, 1500000) > 0);
	/* a long pause refills only up to the burst */
	for (int i = 0; i < 3; i++)
		TT_ASSERT_INT_EQ(tt__irc_flood_take(&f, 100000000), 0);
	TT_ASSERT(tt__irc_flood_take(&f, 100000000) > 0);
	/* a clock going backwards does not mint tokens */
	TT_ASSERT(tt__irc_flood_take(&f, 50) > 0);
}

TT_TEST(irc_nick_from_name)
{
	struct { const char *in, *suffix, *out; size_t max; } cases[] = {
		{"alice", NULL, "alice", 16},
		{"José Müller", NULL, "Jose_Muller", 16},
		{"9lives", NULL, "_9lives", 16},
		{"-x", NULL, "_-x", 16},
		{"   ", NULL, "guest", 16},
		{"日本", NULL, "guest", 16},  /* no transliteration known: not empty either */
		{"a very long display name", NULL, "a_very_lo", 9},
		{"bob", "[m]", "bob[m]", 16},
		{"roberta", "|tt", "robert|tt", 9},
		{"x", "bad suffix", "x", 9},
		{"a:b!c@d", NULL, "abcd", 16},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *n = tt__irc_nick_from_name(cases[i].in, cases[i].suffix, cases[i].max);
		TT_ASSERT_STR_EQ(n, cases[i].out);
		TT_ASSERT(tt__irc_nick_valid(n, cases[i].max));
		g_free(n);
	}
}

TT_TEST(irc_nick_case_mapping)
{
	TT_ASSERT(tt__irc_nick_eq("Nick[a]", "nick{A}"));
	TT_ASSERT(tt__irc_nick_eq("a\\b~", "A|B^"));
	TT_ASSERT(!tt__irc_nick_eq("abc", "abcd"));
	char *f = tt__irc_nick_fold("AB[\\]~");
	TT_ASSERT_STR_EQ(f, "ab{|}^");
	g_free(f);
	TT_ASSERT(!tt__irc_nick_valid("a b", 16));
	TT_ASSERT(!tt__irc_nick_valid("1a", 16));
	TT_ASSERT(!tt__irc_nick_valid("abcdefghij", 9));
}

static bool taken(const char *nick, void *arg)
{
	const char *const *used = arg;
	for (; *used; used++)
		if (tt__irc_nick_eq(*used, nick))
			return true;
	return false;
}

TT_TEST(irc_nick_unique)
{
	const char *used[] = {"alice", "ALICE1", "alice2", NULL};
	char *n = tt__irc_nick_unique("alice", 16, 0, taken, used);
	TT_ASSERT_STR_EQ(n, "alice3");
	g_free(n);
	n = tt__irc_nick_unique("bob", 16, 0, taken, used);
	TT_ASSERT_STR_EQ(n, "bob");
	g_free(n);
	/* the base is shortened so the number still fits */
	const char *used9[] = {"abcdefghi", NULL};
	n = tt__irc_nick_unique("abcdefghi", 9, 0, taken, used9);
	TT_ASSERT_STR_EQ(n, "abcdefgh1");
	g_free(n);
	n = tt__irc_nick_unique("abc", 9, 12, NULL, NULL);
	TT_ASSERT_STR_EQ(n, "abc12");
	g_free(n);
}
