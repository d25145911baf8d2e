/* speech.c: which word clips say a text (speech.h says why clips). Pure. */
#include "speech.h"

#include <string.h>

static const char *const letters[26] = {
	"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m",
	"n", "o", "p", "q", "r", "s", "t", "u", "v", "w", "x", "y", "z",
};
static const char *const digits[10] = { "0", "1", "2", "3", "4", "5", "6", "7", "8", "9" };

const char *tt_sip_speech_char(char ch)
{
	if (ch >= 'a' && ch <= 'z')
		return letters[ch - 'a'];
	if (ch >= 'A' && ch <= 'Z')
		return letters[ch - 'A'];
	if (ch >= '0' && ch <= '9')
		return digits[ch - '0'];
	switch (ch) {
	case '.': return "dot";
	case '@': return "at";
	case ':': return "colon";
	case '/': return "slash";
	case '-': return "dash";
	case '_': return "underscore";
	case '#': return "hash";
	case '+': return "plus";
	case ' ': return "space";
	default: return NULL;
	}
}

void tt_sip_speech_spell(GPtrArray *out, const char *text, unsigned max)
{
	unsigned said = 0;
	for (const char *s = text; s && *s && (!max || said < max); s++) {
		const char *clip = tt_sip_speech_char(*s);
		if (clip) {
			g_ptr_array_add(out, (gpointer)clip);
			said++;
		}
	}
}

void tt_sip_speech_number(GPtrArray *out, unsigned n)
{
	char buf[16];
	g_snprintf(buf, sizeof buf, "%u", n);
	tt_sip_speech_spell(out, buf, 0);
}

void tt_sip_speech_uri(GPtrArray *out, const char *uri)
{
	static const char *const schemes[] = { "sip", "sips", "xmpp", "irc", "ircs", "http",
					       "https", "tel" };
	if (!uri)
		return;
	const char *colon = strchr(uri, ':');
	const char *rest = uri;
	for (size_t i = 0; colon && i < G_N_ELEMENTS(schemes); i++) {
		size_t n = strlen(schemes[i]);
		if ((size_t)(colon - uri) == n && !g_ascii_strncasecmp(uri, schemes[i], n)) {
			g_ptr_array_add(out, (gpointer)schemes[i]);
			g_ptr_array_add(out, (gpointer)"colon");
			rest = colon + 1;
			break;
		}
	}
	if (rest != uri && rest[0] == '/' && rest[1] == '/')
		rest += 2;
	const char *q = strchr(rest, '?');
	char *body = g_strndup(rest, q ? (gsize)(q - rest) : strlen(rest));
	tt_sip_speech_spell(out, body, 0);
	g_free(body);
}
