/* line.c: the strict IRC line parser; faces the network, so it trusts nothing. */
#include "line.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

static bool is_tag_key_char(char c)
{
	return g_ascii_isalnum(c) || c == '-' || c == '/' || c == '.';
}

/* Unescapes an IRCv3 tag value in place. An unknown escape "\x" becomes "x" and a lone
 * trailing backslash is dropped, as the message-tags spec asks. */
static void tag_unescape(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (*r != '\\') {
			*w++ = *r;
			continue;
		}
		r++;
		switch (*r) {
		case '\0': r--; break;
		case ':': *w++ = ';'; break;
		case 's': *w++ = ' '; break;
		case 'r': *w++ = '\r'; break;
		case 'n': *w++ = '\n'; break;
		default: *w++ = *r; break;
		}
	}
	*w = '\0';
}

/* Splits "k=v;k2;+k3=v3" (NUL-terminated, in the message's buffer) into m's tags. */
static int parse_tags(struct tt__irc_msg *m, char *s)
{
	while (*s) {
		if (m->ntags == TT_IRC_MAX_TAGS)
			return -EINVAL;
		char *end = strchr(s, ';');
		if (end)
			*end = '\0';
		char *eq = strchr(s, '=');
		if (eq)
			*eq = '\0';
		const char *k = s[0] == '+' ? s + 1 : s;
		if (!*k)
			return -EINVAL;
		for (const char *p = k; *p; p++)
			if (!is_tag_key_char(*p))
				return -EINVAL;
		if (eq)
			tag_unescape(eq + 1);
		m->tags[m->ntags].key = s;
		m->tags[m->ntags].value = eq ? eq + 1 : "";
		m->ntags++;
		if (!end)
			break;
		s = end + 1;
	}
	return 0;
}

static void split_prefix(struct tt__irc_msg *m, char *p)
{
	m->prefix = g_strdup(p);  /* freed with the message: see msg_free */
	char *at = strchr(p, '@');
	if (at) {
		*at = '\0';
		m->host = at + 1;
	}
	char *bang = strchr(p, '!');
	if (bang) {
		*bang = '\0';
		m->user = bang + 1;
	}
	m->nick = p;
}

static bool command_ok(char *c)
{
	size_t n = strlen(c);
	if (n == 3 && g_ascii_isdigit(c[0]) && g_ascii_isdigit(c[1]) && g_ascii_isdigit(c[2]))
		return true;
	if (n == 0)
		return false;
	for (char *p = c; *p; p++) {
		if (!g_ascii_isalpha(*p))
			return false;
		*p = g_ascii_toupper(*p);
	}
	return true;
}

static char *skip_spaces(char *p)
{
	while (*p == ' ')
		p++;
	return p;
}

/* The body after the tags: [':' prefix SP] command *(SP param) [SP ':' trailing]. */
static int parse_body(struct tt__irc_msg *m, char *p)
{
	if (*p == ':') {
		char *sp = strchr(p, ' ');
		if (!sp || sp == p + 1)
			return -EINVAL;
		*sp = '\0';
		split_prefix(m, p + 1);
		p = skip_spaces(sp + 1);
	}
	char *sp = strchr(p, ' ');
	if (sp)
		*sp = '\0';
	if (!command_ok(p))
		return -EINVAL;
	m->command = p;
	p = sp ? skip_spaces(sp + 1) : p + strlen(p);
	while (*p) {
		if (m->nparams == TT_IRC_MAX_PARAMS)
			return -EINVAL;
		/* RFC 2812: after 14 middle params the rest is trailing, with or without ':'. */
		if (*p == ':' || m->nparams == TT_IRC_MAX_PARAMS - 1) {
			m->params[m->nparams++] = *p == ':' ? p + 1 : p;
			break;
		}
		sp = strchr(p, ' ');
		if (sp)
			*sp = '\0';
		m->params[m->nparams++] = p;
		if (!sp)
			break;
		p = skip_spaces(sp + 1);
	}
	return 0;
}

int tt__irc_msg_parse(struct tt__irc_msg **mp, const char *line, size_t len)
{
	struct tt__irc_msg *m = NULL;
	int err;

	if (!mp || (!line && len))
		return -EINVAL;
	if (len >= 2 && line[len - 2] == '\r' && line[len - 1] == '\n')
		len -= 2;
	else if (len >= 1 && (line[len - 1] == '\r' || line[len - 1] == '\n'))
		len -= 1;
	if (len == 0)
		return -EINVAL;
	if (memchr(line, '\0', len) || memchr(line, '\r', len) || memchr(line, '\n', len))
		return -EINVAL;

	size_t tags_len = 0;
	if (line[0] == '@') {
		const char *sp = memchr(line, ' ', len);
		if (!sp)
			return -EINVAL;
		tags_len = (size_t)(sp - line) + 1;
		if (tags_len > TT_IRC_TAGS_MAX)
			return -EMSGSIZE;
		if (tags_len == 2)  /* "@ " */
			return -EINVAL;
		while (tags_len < len && line[tags_len] == ' ')
			tags_len++;
	}
	if (len - tags_len + 2 > TT_IRC_LINE_MAX)
		return -EMSGSIZE;
	if (len == tags_len)
		return -EINVAL;

	m = g_new0(struct tt__irc_msg, 1);
	m->buf = g_strndup(line, len);
	char *body = m->buf + tags_len;
	if (tags_len) {
		char *sp = strchr(m->buf, ' ');
		*sp = '\0';
		err = parse_tags(m, m->buf + 1);
		if (err)
			goto out;
	}
	err = parse_body(m, body);
	if (err)
		goto out;
	*mp = m;
	m = NULL;
out:
	tt__irc_msg_free(m);
	return err;
}

void tt__irc_msg_free(struct tt__irc_msg *m)
{
	if (!m)
		return;
	g_free((char *)m->prefix);
	g_free(m->buf);
	g_free(m);
}

const char *tt__irc_msg_tag(const struct tt__irc_msg *m, const char *key)
{
	for (size_t i = 0; i < m->ntags; i++)
		if (strcmp(m->tags[i].key, key) == 0)
			return m->tags[i].value;
	return NULL;
}

const char *tt__irc_msg_param(const struct tt__irc_msg *m, size_t i)
{
	return i < m->nparams ? m->params[i] : NULL;
}

bool tt__irc_middle_ok(const char *s)
{
	if (!s || !*s || *s == ':')
		return false;
	for (; *s; s++)
		if (*s == ' ' || *s == '\r' || *s == '\n')
			return false;
	return true;
}
