/* sdes.h: SDP security descriptions (RFC 4568): parse and generate the `a=crypto` attribute
 * that carries SRTP master keys for plain RTP (SIP, and the HTTP API's "srtp" object).
 *
 * Pure functions on caller memory, any thread. The parser faces the network: it checks
 * every length, never asserts, and leaves *c untouched on error. Keys are secret: callers
 * must not log a struct tt_sdes_crypto or a formatted line. */
#ifndef TUTTI_SDES_H
#define TUTTI_SDES_H

#include <stddef.h>
#include <stdint.h>

#include "tutti/srtp.h"

struct tt_sdes_crypto {
	uint32_t tag;                         /* 1..999999999 */
	enum tt_srtp_suite suite;
	uint8_t key[TT_SRTP_MAX_KEY_LEN];     /* master key || salt */
	size_t key_len;                       /* tt_srtp_key_len(suite) */
	uint64_t lifetime;                    /* packets; 0 when not given */
	unsigned mki_len;                     /* 0 when no MKI was given */
	uint32_t mki;
};

/* Parse one attribute value: "1 AES_CM_128_HMAC_SHA1_80 inline:KEY[|2^31][|1:4] [params]",
 * with or without the leading "a=crypto:" and a trailing CR/LF. Only one key per line; a
 * suite we do not support gives -ENOTSUP (the offerer may list others); anything malformed
 * -EINVAL. Session parameters are ignored (RFC 4568 lets an answerer reject them; none of the
 * ones we could see change the keying we do). */
int tt_sdes_parse(struct tt_sdes_crypto *c, const char *line, size_t len);

/* Fill c with a fresh random key for suite (OpenSSL RAND_bytes). 0, -EINVAL or -EIO. */
int tt_sdes_generate(struct tt_sdes_crypto *c, uint32_t tag, enum tt_srtp_suite suite);

/* Write "TAG SUITE inline:KEY" (no "a=crypto:", no lifetime or MKI) NUL-terminated into buf.
 * Returns its length or -ENOSPC. */
int tt_sdes_format(const struct tt_sdes_crypto *c, char *buf, size_t cap);

/* Base64 of a bare key||salt (the HTTP API's "key"): decode exactly tt_srtp_key_len(suite)
 * bytes. 0 or -EINVAL; out untouched on error. Encode writes a NUL-terminated string,
 * returns its length or -ENOSPC. */
int tt_sdes_key_decode(uint8_t *out, enum tt_srtp_suite suite, const char *b64, size_t len);
int tt_sdes_key_encode(char *buf, size_t cap, const uint8_t *key, size_t key_len);

#endif
