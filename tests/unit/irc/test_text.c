/* test_text.c: splitting, formatting codes, CTCP, relay format. */
#include "tt_test.h"
#include "text.h"

#include <glib.h>

struct pieces {
	GPtrArray *a;
	size_t max;
};

static void collect(const char *p, size_t len, void *arg)
{
	struct pieces *ps = arg;
	TT_ASSERT_MSG(len <= ps->max, "piece of %zu > %zu", len, ps->max);
	TT_ASSERT_MSG(g_utf8_validate(p, (gssize)len, NULL), "piece splits a character");
	g_ptr_array_add(ps->a, g_strndup(p, len));
}

TT_TEST(irc_split_utf8_never_mid_character)
{
	/* 2000+ bytes of 2-, 3- and 4-byte characters, no spaces: every cut is forced. */
	GString *s = g_string_new(NULL);
	while (s->len < 2000)
		g_string_append(s, "é€😀ü");
	for (size_t max = 4; max < 64; max++) {
		struct pieces ps = {g_ptr_array_new_with_free_func(g_free), max};
		int n = tt__irc_split(s->str, s->len, max, collect, &ps);
		TT_ASSERT_INT_EQ(n, ps.a->len);
		GString *joined = g_string_new(NULL);
		for (guint i = 0; i < ps.a->len; i++)
			g_string_append(joined, ps.a->pdata[i]);
		TT_ASSERT_STR_EQ(joined->str, s->str);
		g_string_free(joined, TRUE);
		g_ptr_array_free(ps.a, TRUE);
	}
	g_string_free(s, TRUE);
}

TT_TEST(irc_split_lines_and_words)
{
	struct pieces ps = {g_ptr_array_new_with_free_func(g_free), 10};
	const char *t = "one\r\ntwo\n\nthree four five\rabcdefgh ijk";
	TT_ASSERT_INT_EQ(tt__irc_split(t, strlen(t), 10, collect, &ps), 6);
	TT_ASSERT_STR_EQ(ps.a->pdata[0], "one");
	TT_ASSERT_STR_EQ(ps.a->pdata[1], "two");
	TT_ASSERT_STR_EQ(ps.a->pdata[2], "three four");  /* no space in the last quarter */
	TT_ASSERT_STR_EQ(ps.a->pdata[3], " five");
	TT_ASSERT_STR_EQ(ps.a->pdata[4], "abcdefgh ");   /* cut after the space */
	TT_ASSERT_STR_EQ(ps.a->pdata[5], "ijk");
	g_ptr_array_free(ps.a, TRUE);
	TT_ASSERT(tt__irc_split("x", 1, 3, collect, &ps) < 0);
}

TT_TEST(irc_strip_formatting)
{
	const char in[] = "\x02" "bold\x02 \x03" "4,12red\x03 \x03" "99x \x1Dit\x1D \x1F_"
			  "\x0F \x04" "FF00AA,00FF00hex\x16 tab\there\x07";
	char *out = tt__irc_strip(in, sizeof in - 1);
	TT_ASSERT_STR_EQ(out, "bold red x it _ hex tab\there");
	g_free(out);
	/* a comma after a colour without a digit stays text */
	out = tt__irc_strip("\x03" "5,x", 4);
	TT_ASSERT_STR_EQ(out, ",x");
	g_free(out);
	/* invalid UTF-8 (Latin-1 é) is repaired, never passed on */
	out = tt__irc_strip("caf\xe9!", 5);
	TT_ASSERT(g_utf8_validate(out, -1, NULL));
	TT_ASSERT_STR_EQ(out, "caf\xef\xbf\xbd!");
	g_free(out);
}

TT_TEST(irc_sanitize_out_blocks_ctcp_injection)
{
	char *out = tt__irc_sanitize_out("\001VERSION\001 a\nb\x02", 14);
	TT_ASSERT_STR_EQ(out, "VERSION a\nb");
	g_free(out);
}

TT_TEST(irc_ctcp)
{
	char *verb = NULL, *args = NULL;
	TT_ASSERT(tt__irc_ctcp_parse("\001ACTION waves hello\001", &verb, &args));
	TT_ASSERT_STR_EQ(verb, "ACTION");
	TT_ASSERT_STR_EQ(args, "waves hello");
	g_free(verb);
	g_free(args);
	TT_ASSERT(tt__irc_ctcp_parse("\001version", &verb, &args));  /* no closing ^A */
	TT_ASSERT_STR_EQ(verb, "VERSION");
	TT_ASSERT_STR_EQ(args, "");
	g_free(verb);
	g_free(args);
	TT_ASSERT(!tt__irc_ctcp_parse("plain", &verb, &args));
	TT_ASSERT(!tt__irc_ctcp_parse("\001\001", &verb, &args));
}

TT_TEST(irc_format)
{
	char *s = tt__irc_format("<{name}@{network}> {text}", "alice", "phone", "r", "hi");
	TT_ASSERT_STR_EQ(s, "<alice@phone> hi");
	g_free(s);
	s = tt__irc_format("{{name}} [{room}] {x} {text", "a", NULL, "r", "t");
	TT_ASSERT_STR_EQ(s, "{name}} [r] {x} {text");
	g_free(s);
}
