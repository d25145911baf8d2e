/* sdp_guard.c: a strict line check that every SDP from the network passes before
 * sofia-sip's parser sees it. */
#include <tutti/sdp_guard.h>

#include <glib.h>
#include <string.h>

/* RFC 8866 token characters. */
static bool tchar(char c)
{
	return g_ascii_isalnum(c) || (c && strchr("!#$%&'*+-.^_`{|}~", c));
}

/* "m=<token> <port>[/<n>] <token>[/<token>]... <token>[ <token>]..." exactly. */
static bool mline_ok(const char *p, const char *end)
{
	const char *q = p;
	while (q < end && tchar(*q))
		q++;
	if (q == p || q == end || *q++ != ' ')
		return false;
	p = q;
	while (q < end && g_ascii_isdigit(*q))
		q++;
	if (q == p || q - p > 5)
		return false;
	if (q < end && *q == '/') {
		p = ++q;
		while (q < end && g_ascii_isdigit(*q))
			q++;
		if (q == p || q - p > 5)
			return false;
	}
	if (q == end || *q++ != ' ')
		return false;
	for (;;) {                        /* proto: tokens joined by '/' */
		p = q;
		while (q < end && tchar(*q))
			q++;
		if (q == p)
			return false;
		if (q < end && *q == '/') {
			q++;
			continue;
		}
		break;
	}
	if (q == end || *q != ' ')
		return false;
	while (q < end) {                 /* at least one format */
		if (*q++ != ' ')
			return false;
		p = q;
		while (q < end && tchar(*q))
			q++;
		if (q == p)
			return false;
	}
	return true;
}

/* Checked before sofia-sip sees the text: printable ASCII, "x=value" lines, and m-lines
 * exactly as the grammar says. Malformed m-lines (a protocol with bytes >= 0x80, or with
 * '=' or ':' in it) make sofia-sip's parser ask for 2 GiB (found by fuzz_webrtc_sdp;
 * reproducers sofia_oom_* in the corpus). Browsers', phones' and PBXs' SDP is ASCII. */
bool tt_sdp_lines_ok(const char *sdp, size_t len)
{
	const char *p = sdp, *end = sdp + len;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *e = eol ? eol : end;
		if (e > p && e[-1] == '\r')
			e--;
		for (const char *c = p; c < e; c++)
			if ((*c < 0x20 && *c != '\t') || *c > 0x7e)
				return false;
		if (e > p) {
			if (e - p < 2 || !g_ascii_islower(p[0]) || p[1] != '=')
				return false;
			if (p[0] == 'm' && !mline_ok(p + 2, e))
				return false;
		}
		p = eol ? eol + 1 : end;
	}
	return true;
}

