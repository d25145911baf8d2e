/* sdp.h: SDP offer/answer for the SIP gateway, on top of sofia-sip's SDP parser.
 *
 * Pure functions on caller memory (no core, no NUA), any thread; the SDP comes from the
 * network, so negotiate() checks everything it uses and leaves *m untouched on error.
 * Keys in struct tt_sip_media are secret: never log them. */
#ifndef TT_SIP_SDP_H
#define TT_SIP_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <tutti/sdes.h>

enum tt_sip_srtp_policy {
	TT_SIP_SRTP_OFF,      /* plain RTP only: RTP/SAVP offers get 488 */
	TT_SIP_SRTP_OFFER,    /* SRTP when the peer offers a=crypto, plain RTP otherwise */
	TT_SIP_SRTP_REQUIRE,  /* SDES-SRTP or 488 */
};

struct tt_sip_sdp_policy {
	const char *const *codecs;   /* preference order, NULL-terminated: opus g722 pcmu pcma */
	enum tt_sip_srtp_policy srtp;
	unsigned ptime;              /* ours when the peer says nothing: 10, 20, 40, 60 */
};

#define TT_SIP_SDP_MAX_M 8

/* What an offer (or the answer to our offer) negotiated. */
struct tt_sip_media {
	char codec[8];               /* "opus", "g722", "pcmu", "pcma" */
	uint8_t pt;
	unsigned ptime;
	int dtmf_pt;                 /* telephone-event payload type, -1: none */
	unsigned dtmf_rate;
	struct sockaddr_storage remote;  /* remote_len 0: no address yet (0.0.0.0, port 0) */
	socklen_t remote_len;
	unsigned peer_mode;          /* 0 inactive, 1 sendonly, 2 recvonly, 3 sendrecv (peer's view) */
	bool hold;                   /* peer's sendonly/inactive or c=0.0.0.0: it holds us */
	bool savp;                   /* the accepted m-line said RTP/SAVP */
	bool srtp;                   /* SDES keying: crypto is the peer's key */
	struct tt_sdes_crypto crypto;
	/* every m-line of the offer, so the answer has the same count (RFC 3264 6) */
	unsigned n_m;
	int chosen;                  /* index of the accepted audio line */
	struct { char type[16]; char proto[24]; char fmt[8]; } m[TT_SIP_SDP_MAX_M];
};

/* Negotiate an offer against the policy (offer=true), or check the answer to our own offer
 * (offer=false: the codec must be one of ours). 0 and *m filled; -EBADMSG (SDP does not
 * parse), -ENOTSUP (nothing acceptable: *warning is a Warning header value for the 488),
 * -EINVAL (bad arguments). */
int tt_sip_sdp_negotiate(struct tt_sip_media *m, const char *sdp, size_t len,
			 const struct tt_sip_sdp_policy *pol, bool offer, const char **warning);

/* Write an SDP into buf: the answer for m (m != NULL), or our offer of every policy codec
 * (m == NULL). local: where the peer sends to; ours: our SDES key (NULL: plain RTP). The
 * direction mirrors the peer's (its sendonly gets our recvonly).
 * Returns the length (NUL-terminated) or -ENOSPC / -EINVAL. */
int tt_sip_sdp_write(char *buf, size_t cap, const struct tt_sip_media *m,
		     const struct tt_sip_sdp_policy *pol, const struct sockaddr *local,
		     const struct tt_sdes_crypto *ours, uint64_t sess_id, uint64_t version);

/* Codec name (lower case) for an SDP encoding name and clock rate, NULL if unsupported. */
const char *tt_sip_codec_name(const char *encoding, unsigned long rate);

#endif
