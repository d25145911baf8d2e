/* nick.c: nicks from display names, case mapping, uniqueness. */
#include "nick.h"

#include <glib.h>
#include <string.h>

static bool is_special(char c)
{
	return strchr("[]\\`_^{|}", c) != NULL && c != '\0';
}

static bool nick_char_ok(char c, bool first)
{
	if (g_ascii_isalpha(c) || is_special(c))
		return true;
	return !first && (g_ascii_isdigit(c) || c == '-');
}

bool tt__irc_nick_valid(const char *s, size_t maxlen)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > maxlen)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!nick_char_ok(s[i], i == 0))
			return false;
	return true;
}

char *tt__irc_nick_from_name(const char *name, const char *suffix, size_t maxlen)
{
	if (maxlen < 2)
		maxlen = 2;
	/* g_str_to_ascii transliterates ("José" -> "Jose") and needs valid UTF-8. */
	char *valid = g_utf8_make_valid(name ? name : "", -1);
	char *ascii = g_str_to_ascii(valid, "C");
	GString *n = g_string_new(NULL);
	for (const char *p = ascii; *p; p++) {
		if (*p == ' ' && n->len > 0 && n->str[n->len - 1] != '_')
			g_string_append_c(n, '_');
		else if (nick_char_ok(*p, false))
			g_string_append_c(n, *p);
	}
	while (n->len > 0 && n->str[n->len - 1] == '_')
		g_string_truncate(n, n->len - 1);
	if (n->len == 0)
		g_string_assign(n, "guest");
	if (!nick_char_ok(n->str[0], true))
		g_string_prepend_c(n, '_');
	size_t slen = 0;
	if (suffix) {
		for (const char *p = suffix; *p; p++) {
			if (!nick_char_ok(*p, false)) {
				suffix = NULL;
				break;
			}
		}
	}
	if (suffix)
		slen = strlen(suffix);
	if (slen >= maxlen)
		slen = 0;
	if (n->len + slen > maxlen)
		g_string_truncate(n, maxlen - slen);
	if (slen)
		g_string_append(n, suffix);
	g_free(ascii);
	g_free(valid);
	return g_string_free(n, FALSE);
}

static char fold_char(char c)
{
	switch (c) {
	case '[': return '{';
	case ']': return '}';
	case '\\': return '|';
	case '~': return '^';
	default: return g_ascii_tolower(c);
	}
}

bool tt__irc_nick_eq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (fold_char(*a) != fold_char(*b))
			return false;
	return *a == *b;
}

char *tt__irc_nick_fold(const char *s)
{
	char *r = g_strdup(s);
	for (char *p = r; *p; p++)
		*p = fold_char(*p);
	return r;
}

char *tt__irc_nick_unique(const char *base, size_t maxlen, unsigned attempt,
			  tt__irc_nick_taken_h taken, void *arg)
{
	for (unsigned i = attempt; i < 10000; i++) {
		char num[8] = "";
		if (i > 0)
			g_snprintf(num, sizeof num, "%u", i);
		size_t nl = strlen(num);
		size_t bl = strlen(base);
		if (nl >= maxlen)
			return NULL;
		if (bl + nl > maxlen)
			bl = maxlen - nl;
		char *cand = g_strdup_printf("%.*s%s", (int)bl, base, num);
		if (!taken || !taken(cand, arg))
			return cand;
		g_free(cand);
	}
	return NULL;
}
