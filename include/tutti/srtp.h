/* srtp.h: SRTP/SRTCP protection (libsrtp2) for any transport: plain UDP with SDES keys, or
 * ICE+DTLS with keys exported from the DTLS handshake.
 *
 * One struct tt_srtp holds two libsrtp sessions made once (outbound and inbound, for any
 * SSRC) and reused for the life of the media; replay protection is on. Errors are returned,
 * never logged per packet: the transport counts them.
 * Threading: a tt_srtp belongs to the thread of the transport that uses it; alloc/free may
 * run on any thread (library initialisation is once-only and thread-safe). */
#ifndef TUTTI_SRTP_H
#define TUTTI_SRTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tt_srtp_suite {
	TT_SRTP_AES_CM_128_HMAC_SHA1_80 = 0,
	TT_SRTP_AES_CM_128_HMAC_SHA1_32,
	TT_SRTP_AEAD_AES_128_GCM,
	TT_SRTP_SUITE_COUNT,
};

/* Bytes a protected packet may grow by; a send buffer needs this much headroom. */
#define TT_SRTP_MAX_TRAILER 148
/* Longest master key + salt of any suite. */
#define TT_SRTP_MAX_KEY_LEN 30

struct tt_srtp;

/* RFC 4568 name <-> suite. name_to: 0 and *suite, or -ENOTSUP. to_name: static string. */
int tt_srtp_suite_from_name(enum tt_srtp_suite *suite, const char *name, size_t len);
const char *tt_srtp_suite_name(enum tt_srtp_suite suite);
/* Master key + salt length of a suite (30, 30, 28), 0 for an invalid suite. */
size_t tt_srtp_key_len(enum tt_srtp_suite suite);

/* Make a context: tx_key protects what we send, rx_key checks what we receive; each
 * tt_srtp_key_len(suite) bytes (key then salt), copied. -EINVAL, -ENOTSUP (suite not in
 * this libsrtp build), -ENOMEM. *sp is written only on success. */
int tt_srtp_alloc(struct tt_srtp **sp, enum tt_srtp_suite suite, const uint8_t *tx_key,
		  const uint8_t *rx_key);
/* Frees; returns NULL. NULL is allowed. */
struct tt_srtp *tt_srtp_free(struct tt_srtp *s);

/* Protect in place: buf holds *len bytes of RTP (or RTCP) and has room for cap bytes
 * (*len + TT_SRTP_MAX_TRAILER is always enough). 0 and the new *len, -ENOSPC, -EINVAL. */
int tt_srtp_protect(struct tt_srtp *s, uint8_t *buf, size_t *len, size_t cap, bool rtcp);
/* Unprotect in place. 0 and the new *len, -EBADMSG (authentication failed or malformed),
 * -EALREADY (replayed or too old). The packet must not be used on error. */
int tt_srtp_unprotect(struct tt_srtp *s, uint8_t *buf, size_t *len, bool rtcp);

#endif
