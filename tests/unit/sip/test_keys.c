/* Unit tests of the SIP in-call key table (gateways/sip/keys.h) and of how dynamic prompts
 * are spelled (speech.h): the sequences docs/sip.md promises, and the ones that must do
 * nothing. */
#include <glib.h>
#include <string.h>

#include "keys.h"
#include "speech.h"
#include "tt_test.h"

/* Feeds keys; returns the commands completed, as letters (one per key that completed
 * one), and the last number in *n. */
static char *feed(struct sip_keys *k, const char *keys, unsigned *n)
{
	static const char names[] = "-hlHNALmMRDeEB";   /* enum sip_key_cmd order */
	GString *out = g_string_new(NULL);
	for (const char *s = keys; *s; s++) {
		unsigned num = 9999;
		enum sip_key_cmd c = tt_sip_keys_feed(k, *s, &num);
		if (c != SIP_KEY_NONE)
			g_string_append_c(out, names[c]);
		if (c == SIP_KEY_MUTE_ONE && n)
			*n = num;
	}
	return g_string_free(out, FALSE);
}

#define FEED_EQ(keys, want)                                                    \
	do {                                                                   \
		struct sip_keys k = { 0 };                                     \
		char *got = feed(&k, keys, NULL);                              \
		TT_ASSERT_STR_EQ(got, want);                                   \
		g_free(got);                                                   \
	} while (0)

TT_TEST(sip_keys_table)
{
	FEED_EQ("*0", "h");
	FEED_EQ("*1", "l");
	FEED_EQ("*2", "H");
	FEED_EQ("*3", "N");
	FEED_EQ("*4", "A");
	FEED_EQ("*5", "L");
	FEED_EQ("*6", "m");
	FEED_EQ("*8", "R");
	FEED_EQ("*9", "D");
	FEED_EQ("*#1", "eE");
	FEED_EQ("*62*6", "mm");      /* a lone key between commands does nothing */
	FEED_EQ("**6", "m");         /* '*' again: still a command to come */
}

TT_TEST(sip_keys_nothing_without_star)
{
	FEED_EQ("0123456789#ABCD", "");
	FEED_EQ("*A6", "");          /* A-D cancel */
	FEED_EQ("*#2", "e");         /* the end asked, not confirmed */
	FEED_EQ("*#*6", "em");       /* '*' cancels the confirmation and starts a command */
	FEED_EQ("*7", "");           /* waits for the number */
}

TT_TEST(sip_keys_mute_one_numbers)
{
	struct sip_keys k = { 0 };
	unsigned n = 0;
	char *got = feed(&k, "*712#", &n);
	TT_ASSERT_STR_EQ(got, "M");
	TT_ASSERT_INT_EQ(n, 12);
	g_free(got);
	got = feed(&k, "*7#", &n);
	TT_ASSERT_STR_EQ(got, "M");
	TT_ASSERT_INT_EQ(n, 0);        /* whoever is talking */
	g_free(got);
	got = feed(&k, "*71234#6", &n);   /* too many digits: refused, then nothing */
	TT_ASSERT_STR_EQ(got, "B");
	g_free(got);
	got = feed(&k, "*73*6", &n);   /* '*' abandons the number for a new command */
	TT_ASSERT_STR_EQ(got, "m");
	g_free(got);
	got = feed(&k, "*7999#", &n);
	TT_ASSERT_STR_EQ(got, "M");
	TT_ASSERT_INT_EQ(n, 999);
	g_free(got);
}

TT_TEST(sip_keys_moderator_only)
{
	TT_ASSERT(!tt_sip_key_is_moderator(SIP_KEY_HELP));
	TT_ASSERT(!tt_sip_key_is_moderator(SIP_KEY_LIST));
	TT_ASSERT(!tt_sip_key_is_moderator(SIP_KEY_HAND));
	TT_ASSERT(!tt_sip_key_is_moderator(SIP_KEY_MUTE_SELF));
	TT_ASSERT(!tt_sip_key_is_moderator(SIP_KEY_DECLINE));
	TT_ASSERT(tt_sip_key_is_moderator(SIP_KEY_MUTE_ONE));
	TT_ASSERT(tt_sip_key_is_moderator(SIP_KEY_MUTE_ALL));
	TT_ASSERT(tt_sip_key_is_moderator(SIP_KEY_LOCK));
	TT_ASSERT(tt_sip_key_is_moderator(SIP_KEY_RECORD));
	TT_ASSERT(tt_sip_key_is_moderator(SIP_KEY_END));
}

static char *joined(GPtrArray *a)
{
	g_ptr_array_add(a, NULL);
	char *s = g_strjoinv(" ", (char **)a->pdata);
	g_ptr_array_free(a, TRUE);
	return s;
}

TT_TEST(sip_speech_spells_uris)
{
	GPtrArray *a = g_ptr_array_new();
	tt_sip_speech_uri(a, "sip:Lobby-1@example.org:5070");
	char *s = joined(a);
	TT_ASSERT_STR_EQ(s, "sip colon l o b b y dash 1 at e x a m p l e dot o r g colon 5 0 7 0");
	g_free(s);
	a = g_ptr_array_new();
	tt_sip_speech_uri(a, "xmpp:team@conference.x.org?join");
	s = joined(a);
	TT_ASSERT_STR_EQ(s, "xmpp colon t e a m at c o n f e r e n c e dot x dot o r g");
	g_free(s);
	a = g_ptr_array_new();
	tt_sip_speech_uri(a, "https://b.example/r_1");
	s = joined(a);
	TT_ASSERT_STR_EQ(s, "https colon b dot e x a m p l e slash r underscore 1");
	g_free(s);
	a = g_ptr_array_new();
	tt_sip_speech_uri(a, "weird:x");   /* an unknown scheme is spelled */
	s = joined(a);
	TT_ASSERT_STR_EQ(s, "w e i r d colon x");
	g_free(s);
}

TT_TEST(sip_speech_names_and_numbers)
{
	GPtrArray *a = g_ptr_array_new();
	tt_sip_speech_number(a, 105);
	tt_sip_speech_spell(a, "Zoë (home)", 0);   /* UTF-8 and brackets are not said */
	tt_sip_speech_spell(a, "abcdef", 3);
	char *s = joined(a);
	TT_ASSERT_STR_EQ(s, "1 0 5 z o space h o m e a b c");
	g_free(s);
	TT_ASSERT(tt_sip_speech_char('\0') == NULL);
	TT_ASSERT(tt_sip_speech_char('\xc3') == NULL);
}
