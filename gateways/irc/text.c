/* text.c: text between the room and IRC: splitting, formatting codes, CTCP, relay format. */
#include "text.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

/* Largest cut <= max that does not fall inside a UTF-8 sequence. Works on invalid input
 * too: after three continuation bytes it gives up and cuts there. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	size_t cut = max;
	for (int i = 0; i < 3 && cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80; i++)
		cut--;
	return cut > 0 ? cut : max;
}

static int split_line(const char *s, size_t len, size_t max, tt__irc_piece_h fn, void *arg)
{
	int n = 0;
	while (len > 0) {
		size_t cut = utf8_cut(s, len, max);
		if (cut < len) {
			/* A word boundary reads better, but not at the price of tiny pieces. */
			for (size_t i = cut; i > cut - cut / 4; i--) {
				if (s[i - 1] == ' ') {
					cut = i;
					break;
				}
			}
		}
		fn(s, cut, arg);
		n++;
		s += cut;
		len -= cut;
	}
	return n;
}

int tt__irc_split(const char *text, size_t len, size_t max, tt__irc_piece_h fn, void *arg)
{
	if (max < 4)
		return -EINVAL;
	int n = 0;
	size_t start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && text[i] != '\n' && text[i] != '\r')
			continue;
		n += split_line(text + start, i - start, max, fn, arg);
		start = i + 1;
	}
	return n;
}

static bool is_hex(char c)
{
	return g_ascii_isxdigit(c);
}

/* Skips ^C's colour arguments: up to two digits, then optionally ',' and up to two. */
static size_t skip_colour(const char *s, size_t i, size_t len)
{
	size_t d = 0;
	while (d < 2 && i < len && g_ascii_isdigit(s[i])) {
		i++;
		d++;
	}
	if (d > 0 && i + 1 < len && s[i] == ',' && g_ascii_isdigit(s[i + 1])) {
		i += 2;
		if (i < len && g_ascii_isdigit(s[i]))
			i++;
	}
	return i;
}

/* Skips ^D's hex colour: six hex digits, then optionally ',' and six more. */
static size_t skip_hex_colour(const char *s, size_t i, size_t len)
{
	size_t d = 0;
	while (d < 6 && i < len && is_hex(s[i])) {
		i++;
		d++;
	}
	if (d == 6 && i < len && s[i] == ',') {
		size_t j = i + 1, e = 0;
		while (e < 6 && j < len && is_hex(s[j])) {
			j++;
			e++;
		}
		if (e == 6)
			i = j;
	}
	return i;
}

char *tt__irc_strip(const char *s, size_t len)
{
	GString *out = g_string_sized_new(len + 1);
	size_t i = 0;
	while (i < len) {
		unsigned char c = (unsigned char)s[i++];
		if (c == 0x03)
			i = skip_colour(s, i, len);
		else if (c == 0x04)
			i = skip_hex_colour(s, i, len);
		else if (c >= 0x20 || c == '\t')
			g_string_append_c(out, (char)c);
		/* other C0 (formatting toggles, CTCP quoting, NUL...) are dropped */
	}
	char *valid = g_utf8_make_valid(out->str, (gssize)out->len);
	g_string_free(out, TRUE);
	return valid;
}

char *tt__irc_sanitize_out(const char *s, size_t len)
{
	GString *out = g_string_sized_new(len + 1);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 || c == '\t' || c == '\n' || c == '\r')
			g_string_append_c(out, (char)c);
	}
	return g_string_free(out, FALSE);
}

bool tt__irc_ctcp_parse(const char *text, char **verb, char **args)
{
	if (!text || text[0] != '\001')
		return false;
	const char *body = text + 1;
	const char *end = strchr(body, '\001');
	size_t blen = end ? (size_t)(end - body) : strlen(body);
	const char *sp = memchr(body, ' ', blen);
	size_t vlen = sp ? (size_t)(sp - body) : blen;
	if (vlen == 0)
		return false;
	*verb = g_ascii_strup(body, (gssize)vlen);
	*args = sp ? g_strndup(sp + 1, blen - vlen - 1) : g_strdup("");
	return true;
}

char *tt__irc_format(const char *fmt, const char *name, const char *network,
		     const char *room, const char *text)
{
	static const char *const keys[] = {"{name}", "{network}", "{room}", "{text}"};
	const char *vals[] = {name, network, room, text};
	GString *out = g_string_new(NULL);
	for (const char *p = fmt; *p;) {
		if (p[0] == '{' && p[1] == '{') {
			g_string_append_c(out, '{');
			p += 2;
			continue;
		}
		bool done = false;
		for (size_t k = 0; k < G_N_ELEMENTS(keys) && *p == '{'; k++) {
			size_t kl = strlen(keys[k]);
			if (strncmp(p, keys[k], kl) == 0) {
				g_string_append(out, vals[k] ? vals[k] : "");
				p += kl;
				done = true;
				break;
			}
		}
		if (!done)
			g_string_append_c(out, *p++);
	}
	return g_string_free(out, FALSE);
}
