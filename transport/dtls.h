/* dtls.h (internal to transport/): one DTLS-SRTP handshake over a datagram path that is not
 * a socket (the ICE agent). Records we must send go out through send_h, one datagram per
 * call; datagrams received are fed with tt__dtls_input. Worker thread only. */
#ifndef TT_DTLS_H
#define TT_DTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tutti/ice.h"
#include "tutti/srtp.h"

struct tt_dtls;

typedef void (*tt_dtls_send_h)(void *arg, const uint8_t *buf, size_t len);

/* active: we are the client. remote_fp: the signalled "sha-256 AB:..". */
int tt__dtls_alloc(struct tt_dtls **dp, const struct tt_dtls_cert *cert, bool active,
		   const char *remote_fp, tt_dtls_send_h send_h, void *arg);
void tt__dtls_free(struct tt_dtls *d);
/* Start (client: sends the ClientHello; server: waits). */
int tt__dtls_start(struct tt_dtls *d);
/* A datagram whose first byte is 20..63 (RFC 7983). Returns 1 when this completed the
 * handshake (then *srtp is a new SRTP context owned by the caller), 0 while in progress or
 * after completion, -EPERM for a certificate that does not match the fingerprint, -EPROTO
 * for a failed handshake. */
int tt__dtls_input(struct tt_dtls *d, const uint8_t *buf, size_t len, struct tt_srtp **srtp);
/* Retransmission: call every few tens of ms while the handshake runs. 0 or -ETIMEDOUT
 * (gave up). */
int tt__dtls_tick(struct tt_dtls *d);
bool tt__dtls_done(const struct tt_dtls *d);
const char *tt__dtls_suite(const struct tt_dtls *d);

/* For the tests: a DTLS record header starts with a content type 20..63. */
static inline bool tt__dtls_is_record(const uint8_t *b, size_t len)
{
	return len >= 13 && b[0] >= 20 && b[0] <= 63;
}

#endif
