/* sdes.c: RFC 4568 `a=crypto` parsing and generation for SRTP master keys. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <openssl/rand.h>

#include "tutti/sdes.h"

static bool is_b64(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	       (ch >= '0' && ch <= '9') || ch == '+' || ch == '/';
}

/* Exactly key_len bytes, padded or not. We validate the alphabet and length ourselves so
 * GLib's lenient decoder (which skips junk) only ever sees canonical input. */
int tt_sdes_key_decode(uint8_t *out, enum tt_srtp_suite suite, const char *b64, size_t len)
{
	size_t key_len = tt_srtp_key_len(suite);
	if (!out || !b64 || key_len == 0)
		return -EINVAL;
	size_t chars = (key_len * 4 + 2) / 3;       /* without padding */
	size_t padded = (key_len + 2) / 3 * 4;
	if (len != chars && len != padded)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (i < chars ? !is_b64(b64[i]) : b64[i] != '=')
			return -EINVAL;
	}
	char tmp[48];
	guchar dec[48];
	memcpy(tmp, b64, chars);
	while (chars % 4)
		tmp[chars++] = '=';
	gint state = 0;
	guint save = 0;
	gsize n = g_base64_decode_step(tmp, chars, dec, &state, &save);
	if (n != key_len)
		return -EINVAL;
	memcpy(out, dec, key_len);
	memset(dec, 0, sizeof dec);
	return 0;
}

int tt_sdes_key_encode(char *buf, size_t cap, const uint8_t *key, size_t key_len)
{
	if (!buf || !key || key_len > TT_SRTP_MAX_KEY_LEN)
		return -EINVAL;
	size_t need = (key_len + 2) / 3 * 4 + 1;
	if (cap < need)
		return -ENOSPC;
	char tmp[64];
	gint state = 0, save = 0;
	gsize n = g_base64_encode_step(key, key_len, FALSE, tmp, &state, &save);
	n += g_base64_encode_close(FALSE, tmp + n, &state, &save);
	memcpy(buf, tmp, n);
	buf[n] = 0;
	return (int)n;
}

/* A cursor over the attribute; every read is bounded by `end`. */
struct cur {
	const char *p, *end;
};

static size_t token(struct cur *c, const char **tok, const char *stops)
{
	*tok = c->p;
	while (c->p < c->end && !strchr(stops, *c->p))
		c->p++;
	return (size_t)(c->p - *tok);
}

static int parse_u64(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	if (n == 0 || n > 20)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		if (v > (max - (uint64_t)(s[i] - '0')) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/* "|2^31" or "|12345": key lifetime in packets (RFC 4568 6.1). */
static int parse_lifetime(const char *s, size_t n, uint64_t *out)
{
	uint64_t e;
	if (n > 2 && s[0] == '2' && s[1] == '^') {
		if (parse_u64(s + 2, n - 2, 63, &e) || e == 0)
			return -EINVAL;
		*out = (uint64_t)1 << e;
		return 0;
	}
	return parse_u64(s, n, UINT64_MAX, out) || *out == 0 ? -EINVAL : 0;
}

int tt_sdes_parse(struct tt_sdes_crypto *out, const char *line, size_t len)
{
	struct tt_sdes_crypto c;
	struct cur cu;
	const char *t;
	size_t n;
	uint64_t v;
	int err;

	if (!out || !line)
		return -EINVAL;
	memset(&c, 0, sizeof c);
	cu.p = line;
	cu.end = line + len;
	while (cu.end > cu.p && (cu.end[-1] == '\r' || cu.end[-1] == '\n'))
		cu.end--;
	if ((size_t)(cu.end - cu.p) >= 9 && memcmp(cu.p, "a=crypto:", 9) == 0)
		cu.p += 9;

	n = token(&cu, &t, " \t");
	if (parse_u64(t, n, 999999999, &v) || n > 9)
		return -EINVAL;
	c.tag = (uint32_t)v;
	if (cu.p >= cu.end)
		return -EINVAL;
	cu.p++;

	n = token(&cu, &t, " \t");
	err = tt_srtp_suite_from_name(&c.suite, t, n);
	if (err)
		return n ? err : -EINVAL;
	c.key_len = tt_srtp_key_len(c.suite);
	if (cu.p >= cu.end)
		return -EINVAL;
	cu.p++;

	n = token(&cu, &t, ":");
	if (n != 6 || memcmp(t, "inline", 6) != 0 || cu.p >= cu.end)
		return -EINVAL;
	cu.p++;
	n = token(&cu, &t, "| \t;");
	if (tt_sdes_key_decode(c.key, c.suite, t, n))
		return -EINVAL;
	/* Up to two '|' fields: lifetime (optional) then MKI "value:length". */
	for (int field = 0; field < 2 && cu.p < cu.end && *cu.p == '|'; field++) {
		cu.p++;
		n = token(&cu, &t, "| \t;");
		const char *colon = memchr(t, ':', n);
		if (!colon) {
			if (field == 1 || parse_lifetime(t, n, &c.lifetime))
				return -EINVAL;
			continue;
		}
		uint64_t mki, mlen;
		if (parse_u64(t, (size_t)(colon - t), UINT32_MAX, &mki) ||
		    parse_u64(colon + 1, n - (size_t)(colon - t) - 1, 128, &mlen) || mlen == 0)
			return -EINVAL;
		c.mki = (uint32_t)mki;
		c.mki_len = (unsigned)mlen;
		field = 1;
	}
	/* A second key ("inline:...;inline:...") is legal but we take exactly one. */
	if (cu.p < cu.end && *cu.p == ';')
		return -ENOTSUP;
	if (cu.p < cu.end && *cu.p != ' ' && *cu.p != '\t')
		return -EINVAL;
	*out = c;
	memset(&c, 0, sizeof c);
	return 0;
}

int tt_sdes_generate(struct tt_sdes_crypto *c, uint32_t tag, enum tt_srtp_suite suite)
{
	size_t kl = tt_srtp_key_len(suite);
	if (!c || kl == 0 || tag == 0 || tag > 999999999)
		return -EINVAL;
	memset(c, 0, sizeof *c);
	if (RAND_bytes(c->key, (int)kl) != 1)
		return -EIO;
	c->tag = tag;
	c->suite = suite;
	c->key_len = kl;
	return 0;
}

int tt_sdes_format(const struct tt_sdes_crypto *c, char *buf, size_t cap)
{
	char key[64];
	if (!c || !buf || tt_sdes_key_encode(key, sizeof key, c->key, c->key_len) < 0)
		return -EINVAL;
	int n = snprintf(buf, cap, "%u %s inline:%s", c->tag, tt_srtp_suite_name(c->suite),
			 key);
	memset(key, 0, sizeof key);
	if (n < 0 || (size_t)n >= cap)
		return -ENOSPC;
	return n;
}
