/* guard.c: see guard.h. Every read is bounded by the datagram's length. */
#include "guard.h"

#include <stdbool.h>
#include <string.h>

/* Vias copied into a response: RFC 3261's default Max-Forwards is 70 hops (RFC 4475
 * longreq has 33) */
#define MAX_VIAS 70

struct span {
	const uint8_t *p;
	size_t n;
};

struct out {
	uint8_t *p;
	size_t cap, len;
	bool overflow;
};

static void put(struct out *o, const void *p, size_t n)
{
	if (o->overflow || n > o->cap - o->len) {
		o->overflow = true;
		return;
	}
	memcpy(o->p + o->len, p, n);
	o->len += n;
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* A folded value (CRLF followed by white space) goes out on one line. */
static void put_unfolded(struct out *o, struct span v)
{
	size_t i = 0;
	while (i < v.n) {
		size_t j = i;
		while (j < v.n && v.p[j] != '\r' && v.p[j] != '\n')
			j++;
		put(o, v.p + i, j - i);
		if (j == v.n)
			break;
		while (j < v.n && (v.p[j] == '\r' || v.p[j] == '\n' || v.p[j] == ' ' ||
				   v.p[j] == '\t'))
			j++;
		put(o, " ", 1);
		i = j;
	}
}

static bool token_char(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != 0 && strchr("-.!%*_+`'~", c) != NULL);
}

static bool wsp(uint8_t c)
{
	return c == ' ' || c == '\t';
}

static bool span_ieq(struct span s, const char *lit)
{
	size_t n = strlen(lit);
	if (s.n != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		uint8_t a = s.p[i], b = (uint8_t)lit[i];
		if (a >= 'A' && a <= 'Z')
			a = (uint8_t)(a - 'A' + 'a');
		if (b >= 'A' && b <= 'Z')
			b = (uint8_t)(b - 'A' + 'a');
		if (a != b)
			return false;
	}
	return true;
}

static bool span_eq(struct span a, struct span b)
{
	return a.n == b.n && memcmp(a.p, b.p, a.n) == 0;
}

/* Case-insensitive search for lit in s; offset or -1. */
static long span_ifind(struct span s, const char *lit)
{
	size_t n = strlen(lit);
	for (size_t i = 0; n <= s.n && i <= s.n - n; i++)
		if (span_ieq((struct span){s.p + i, n}, lit))
			return (long)i;
	return -1;
}

/* Methods sofia-sip knows (and so the validation layer judges, never 501). */
static bool method_known(struct span m)
{
	static const char *const known[] = {
		"ACK", "BYE", "CANCEL", "INFO", "INVITE", "MESSAGE", "NOTIFY", "OPTIONS",
		"PRACK", "PUBLISH", "REFER", "REGISTER", "SUBSCRIBE", "UPDATE",
	};
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (m.n == strlen(known[i]) && memcmp(m.p, known[i], m.n) == 0)
			return true;
	return false;
}

/* Next line from *pos: its bytes without CR LF (or LF); false at the end of the data. */
static bool next_line(const uint8_t *d, size_t len, size_t *pos, struct span *line,
		      bool *terminated)
{
	if (*pos >= len)
		return false;
	size_t i = *pos;
	while (i < len && d[i] != '\n')
		i++;
	size_t end = i;
	*terminated = i < len;
	if (end > *pos && d[end - 1] == '\r')
		end--;
	*line = (struct span){d + *pos, end - *pos};
	*pos = i < len ? i + 1 : len;
	return true;
}

/* "METHOD SP Request-URI SP SIP/x.y" with single spaces; false when it is anything else. */
static bool request_line(struct span l, struct span *method, struct span *version)
{
	size_t i = 0;
	while (i < l.n && token_char(l.p[i]))
		i++;
	if (i == 0 || i >= l.n || l.p[i] != ' ')
		return false;
	*method = (struct span){l.p, i};
	size_t u = ++i;
	while (i < l.n && l.p[i] > ' ' && l.p[i] != 0x7f)
		i++;
	if (i == u || i >= l.n || l.p[i] != ' ')
		return false;
	size_t v = ++i;
	if (l.n - v < 7 || !span_ieq((struct span){l.p + v, 4}, "SIP/"))
		return false;
	i = v + 4;
	size_t d = i;
	while (i < l.n && l.p[i] >= '0' && l.p[i] <= '9')
		i++;
	if (i == d || i >= l.n || l.p[i] != '.')
		return false;
	d = ++i;
	while (i < l.n && l.p[i] >= '0' && l.p[i] <= '9')
		i++;
	if (i == d || i != l.n)
		return false;
	*version = (struct span){l.p + v, l.n - v};
	return true;
}

struct headers {
	struct span via[MAX_VIAS];
	size_t n_via;
	struct span from, to, call_id, cseq;
	bool dup;       /* a single-value header twice: sofia's (and validation's) business */
};

static void keep(struct span *slot, struct span v, bool *dup)
{
	if (slot->p)
		*dup = true;
	else
		*slot = v;
}

/* The header block after the request line. false when it does not end in an empty line,
 * a header line has no name, or there are more Vias than we copy. */
static bool read_headers(const uint8_t *d, size_t len, size_t pos, struct headers *h)
{
	struct span line;
	bool term;
	struct span name = {0}, value = {0};
	bool have = false;
	for (;;) {
		if (!next_line(d, len, &pos, &line, &term))
			return false;
		bool cont = line.n > 0 && wsp(line.p[0]);
		if (have && (cont || line.n == 0)) {
			if (cont) {   /* folded: the value runs to the end of this line */
				value.n = (size_t)(line.p + line.n - value.p);
				continue;
			}
		}
		if (have) {
			if (span_ieq(name, "via") || span_ieq(name, "v")) {
				if (h->n_via == MAX_VIAS)
					return false;
				h->via[h->n_via++] = value;
			} else if (span_ieq(name, "from") || span_ieq(name, "f")) {
				keep(&h->from, value, &h->dup);
			} else if (span_ieq(name, "to") || span_ieq(name, "t")) {
				keep(&h->to, value, &h->dup);
			} else if (span_ieq(name, "call-id") || span_ieq(name, "i")) {
				keep(&h->call_id, value, &h->dup);
			} else if (span_ieq(name, "cseq")) {
				keep(&h->cseq, value, &h->dup);
			}
			have = false;
		}
		if (line.n == 0)
			return term;   /* the empty line ends the headers */
		if (cont)
			return false;  /* a continuation with nothing to continue */
		size_t i = 0;
		while (i < line.n && token_char(line.p[i]))
			i++;
		name = (struct span){line.p, i};
		while (i < line.n && wsp(line.p[i]))
			i++;
		if (name.n == 0 || i >= line.n || line.p[i] != ':')
			return false;
		i++;
		while (i < line.n && wsp(line.p[i]))
			i++;
		value = (struct span){line.p + i, line.n - i};
		/* trailing white space is not part of the value */
		while (value.n && wsp(value.p[value.n - 1]))
			value.n--;
		have = true;
	}
}

/* "1*DIGIT LWS method": does the CSeq name this method? */
static bool cseq_names(struct span cseq, struct span method)
{
	size_t i = 0;
	while (i < cseq.n && cseq.p[i] >= '0' && cseq.p[i] <= '9')
		i++;
	if (i == 0 || i >= cseq.n || !wsp(cseq.p[i]))
		return false;
	while (i < cseq.n && wsp(cseq.p[i]))
		i++;
	size_t m = i;
	while (i < cseq.n && token_char(cseq.p[i]))
		i++;
	return i == cseq.n && span_eq((struct span){cseq.p + m, i - m}, method);
}

/* The top Via's sent-by port and rport flag (its first comma-separated value). */
static void top_via(struct span via, struct tt_sip_guard_answer *a)
{
	size_t n = 0;
	while (n < via.n && via.p[n] != ',')
		n++;
	struct span top = {via.p, n};
	size_t i = 0, slashes = 0;
	while (i < top.n && slashes < 2)
		slashes += top.p[i++] == '/';
	while (i < top.n && wsp(top.p[i]))
		i++;
	while (i < top.n && token_char(top.p[i]))   /* the transport */
		i++;
	while (i < top.n && wsp(top.p[i]))
		i++;
	if (i < top.n && top.p[i] == '[') {
		while (i < top.n && top.p[i] != ']')
			i++;
		i += i < top.n;
	} else {
		while (i < top.n && top.p[i] != ':' && top.p[i] != ';' && !wsp(top.p[i]))
			i++;
	}
	unsigned port = 0;
	if (i < top.n && top.p[i] == ':') {
		for (i++; i < top.n && top.p[i] >= '0' && top.p[i] <= '9' && port <= 65535; i++)
			port = port * 10 + (unsigned)(top.p[i] - '0');
	}
	a->via_port = port <= 65535 ? (uint16_t)port : 0;
	struct span params = {top.p + i, top.n - i};
	long r = span_ifind(params, ";rport");
	if (r >= 0) {
		size_t k = (size_t)r + 6;
		a->via_rport = k == params.n || params.p[k] == ';' || params.p[k] == '=' ||
			       wsp(params.p[k]);
	}
}

static bool has_tag(struct span to)
{
	/* after the name-addr's '>' if there is one: a display name may say anything */
	size_t from = 0;
	for (size_t i = 0; i < to.n; i++)
		if (to.p[i] == '>')
			from = i + 1;
	return span_ifind((struct span){to.p + from, to.n - from}, ";tag=") >= 0;
}

/* Copy Via, From, To, Call-ID and CSeq into a response; 0 when the datagram's head does
 * not allow it (see guard.h) or the response would not fit. */
static int reply(const struct headers *h, int status, const char *phrase, const char *extra,
		 const char *to_tag, uint8_t *out, size_t cap, struct tt_sip_guard_answer *answer)
{
	if (h->dup || h->n_via == 0 || !h->from.p || !h->to.p || !h->call_id.p || !h->cseq.p ||
	    status < 100 || status > 699)
		return 0;
	char code[8];
	code[0] = (char)('0' + status / 100);
	code[1] = (char)('0' + status / 10 % 10);
	code[2] = (char)('0' + status % 10);
	code[3] = ' ';
	code[4] = 0;
	struct out o = {.p = out, .cap = cap};
	puts_(&o, "SIP/2.0 ");
	puts_(&o, code);
	puts_(&o, phrase);
	puts_(&o, "\r\n");
	for (size_t i = 0; i < h->n_via; i++) {
		puts_(&o, "Via: ");
		put_unfolded(&o, h->via[i]);
		puts_(&o, "\r\n");
	}
	puts_(&o, "From: ");
	put_unfolded(&o, h->from);
	puts_(&o, "\r\nTo: ");
	put_unfolded(&o, h->to);
	if (!has_tag(h->to)) {
		puts_(&o, ";tag=");
		puts_(&o, to_tag);
	}
	puts_(&o, "\r\nCall-ID: ");
	put_unfolded(&o, h->call_id);
	puts_(&o, "\r\nCSeq: ");
	put_unfolded(&o, h->cseq);
	puts_(&o, "\r\n");
	if (extra)
		puts_(&o, extra);
	puts_(&o, "Content-Length: 0\r\n\r\n");
	if (o.overflow)
		return 0;
	top_via(h->via[0], answer);
	answer->status = status;
	answer->len = o.len;
	return status;
}

int tt_sip_guard(const uint8_t *dgram, size_t len, const char *to_tag, const char *allow,
		 uint8_t *out, size_t cap, struct tt_sip_guard_answer *answer)
{
	memset(answer, 0, sizeof *answer);
	if (!dgram || !out || !to_tag || !allow)
		return 0;
	size_t pos = 0;
	struct span line, method, version;
	bool term;
	if (!next_line(dgram, len, &pos, &line, &term) || !term ||
	    !request_line(line, &method, &version))
		return 0;   /* responses and broken request lines are sofia's and validation's */
	int status;
	const char *phrase;
	if (!span_ieq(version, "SIP/2.0")) {
		status = 505, phrase = "Version Not Supported";
	} else if (!method_known(method)) {
		status = 501, phrase = "Not Implemented";
	} else {
		return 0;
	}
	struct headers h;
	memset(&h, 0, sizeof h);
	if (!read_headers(dgram, len, pos, &h))
		return 0;
	/* validation's order: a CSeq that does not match is a 400 before it is a 501 */
	if (status == 501 && (!h.cseq.p || !cseq_names(h.cseq, method)))
		return 0;
	char extra[512] = "";
	if (status == 501) {
		size_t n = strlen(allow);
		if (n > sizeof extra - 10)
			return 0;
		memcpy(extra, "Allow: ", 7);
		memcpy(extra + 7, allow, n);
		memcpy(extra + 7 + n, "\r\n", 3);
	}
	return reply(&h, status, phrase, extra, to_tag, out, cap, answer);
}

/* The first line of something that is not a response: the request line itself may be
 * broken (RFC 4475 trws: a space after the version), that is the verdict's business. */
static bool request_head(const uint8_t *dgram, size_t len, size_t *pos)
{
	struct span line;
	bool term;
	return next_line(dgram, len, pos, &line, &term) && term && line.n > 0 &&
	       !(line.n >= 4 && span_ieq((struct span){line.p, 4}, "SIP/"));
}

int tt_sip_guard_reply(const uint8_t *dgram, size_t len, int status, const char *phrase,
		       const char *extra, const char *to_tag, uint8_t *out, size_t cap,
		       struct tt_sip_guard_answer *answer)
{
	memset(answer, 0, sizeof *answer);
	if (!dgram || !out || !to_tag || !phrase)
		return 0;
	size_t pos = 0;
	if (!request_head(dgram, len, &pos))
		return 0;
	struct headers h;
	memset(&h, 0, sizeof h);
	if (!read_headers(dgram, len, pos, &h))
		return 0;
	return reply(&h, status, phrase, extra, to_tag, out, cap, answer);
}

/* Every datagram passes here, so this reads only up to the first Via (the top one, by
 * RFC 3261 7.3.1 the first Via header line), not the whole head: a tenth of the cost of
 * read_headers on a typical INVITE. */
bool tt_sip_guard_via_not_udp(const uint8_t *dgram, size_t len)
{
	size_t pos = 0;
	if (!dgram || !request_head(dgram, len, &pos))
		return false;
	struct span line;
	bool term;
	while (next_line(dgram, len, &pos, &line, &term) && line.n > 0) {
		size_t i = 0;
		while (i < line.n && token_char(line.p[i]))
			i++;
		struct span name = {line.p, i};
		while (i < line.n && wsp(line.p[i]))
			i++;
		if (i >= line.n || line.p[i] != ':' ||
		    !(span_ieq(name, "via") || span_ieq(name, "v")))
			continue;
		/* the value, folded lines included: "SIP / 2.0 / transport" */
		const uint8_t *v = line.p + i + 1, *end = line.p + line.n;
		size_t p2 = pos;
		struct span more;
		bool t2;
		while (next_line(dgram, len, &p2, &more, &t2) && more.n > 0 && wsp(more.p[0]))
			end = more.p + more.n;
		size_t k = 0, n = (size_t)(end - v), slashes = 0;
		while (k < n && slashes < 2 && v[k] != ',')
			slashes += v[k++] == '/';
		while (k < n && (wsp(v[k]) || v[k] == '\r' || v[k] == '\n'))
			k++;
		size_t t = k;
		while (k < n && token_char(v[k]))
			k++;
		return slashes == 2 && k > t && !span_ieq((struct span){v + t, k - t}, "udp");
	}
	return false;
}

bool tt_sip_guard_request_uri(const uint8_t *dgram, size_t len, const uint8_t **uri,
			      size_t *n)
{
	size_t pos = 0;
	struct span line, method, version;
	bool term;
	if (!dgram || !next_line(dgram, len, &pos, &line, &term) || !term ||
	    !request_line(line, &method, &version) || !span_ieq(version, "SIP/2.0"))
		return false;
	*uri = method.p + method.n + 1;
	*n = (size_t)(version.p - 1 - *uri);
	return true;
}
