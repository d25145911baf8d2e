/* rtp.h: RTP (RFC 3550) header parsing and building, RFC 8285 header extensions with the
 * RFC 6464 audio level, and RFC 4733 telephone-events (DTMF).
 *
 * Everything here is pure computation on caller buffers: no allocation, no I/O, any thread.
 * Parsers face the network: they check every length before reading, never assert on input,
 * and leave their outputs untouched when they return an error. Pointers in a parsed header
 * borrow the packet buffer and are valid as long as it is. */
#ifndef TUTTI_RTP_H
#define TUTTI_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TT_RTP_HDR_LEN   12
#define TT_RTP_MAX_CSRC  15

/* A parsed (or to-be-written) RTP header. */
struct tt_rtp_hdr {
	bool marker;
	uint8_t pt;                  /* 0..127 */
	uint16_t seq;
	uint32_t ts;
	uint32_t ssrc;
	uint8_t cc;                  /* CSRC count, 0..15 */
	uint32_t csrc[TT_RTP_MAX_CSRC];
	bool has_ext;
	uint16_t ext_profile;        /* 0xBEDE one-byte, 0x100x two-byte (RFC 8285), or other */
	const uint8_t *ext;          /* extension data (after the 4-byte extension header) */
	size_t ext_len;              /* bytes, a multiple of 4 */
	const uint8_t *payload;      /* parse: borrowed from the packet */
	size_t payload_len;          /* without padding */
	uint8_t pad_len;             /* parse: padding bytes removed (0 if none) */
	size_t hdr_len;              /* parse: bytes before the payload */
};

/* Parse pkt[0..len). 0, or -EINVAL (not RTP version 2, or truncated anywhere: CSRC list,
 * extension, padding larger than what follows the header). *h untouched on error. */
int tt_rtp_parse(struct tt_rtp_hdr *h, const uint8_t *pkt, size_t len);

/* Write h's fixed header, CSRCs and extension (h->ext, h->ext_len; ext_len must be a multiple
 * of 4) into buf. Returns the header length (payload goes right after), or -ENOSPC, -EINVAL.
 * Padding is never written: SRTP and our payloads need none. */
int tt_rtp_write(uint8_t *buf, size_t cap, const struct tt_rtp_hdr *h);

/* RTCP or RTP on a muxed port (RFC 5761 section 4): true when the second byte is an RTCP
 * packet type (192..223, i.e. marker+PT in 64..95). len < 2 gives false. */
bool tt_rtp_is_rtcp(const uint8_t *pkt, size_t len);

/* ---- header extensions (RFC 8285) ---- */

struct tt_rtp_ext_elem {
	uint8_t id;        /* one-byte form: 1..14; two-byte form: 1..255 */
	uint8_t len;       /* one-byte form: 1..16; two-byte form: 0..255 */
	const uint8_t *data;
};

/* Find element `id` in h's extension (one- or two-byte form). 0 and *data and *len set, -ENOENT,
 * or -EINVAL (malformed element list; outputs untouched). */
int tt_rtp_ext_find(const struct tt_rtp_hdr *h, uint8_t id, const uint8_t **data,
		    size_t *len);

/* Build an extension block from n elements into out (padded to 4 bytes); the one-byte form
 * when every element allows it, else the two-byte form. Returns its length (for
 * tt_rtp_hdr.ext_len) and writes *profile, or -ENOSPC / -EINVAL. */
int tt_rtp_ext_build(uint8_t *out, size_t cap, uint16_t *profile,
		     const struct tt_rtp_ext_elem *e, size_t n);

/* RFC 6464 client-to-mixer audio level: element `id`, 1 byte: V flag + level in -dBov
 * (0 loudest .. 127 silence). 0, -ENOENT, or -EINVAL (wrong size / malformed). */
int tt_rtp_audio_level(const struct tt_rtp_hdr *h, uint8_t id, bool *vad, uint8_t *level);

/* ---- RFC 4733 telephone-events ---- */

struct tt_dtmf_event {
	uint8_t event;       /* 0-9, 10 '*', 11 '#', 12-15 'A'-'D', others (tones) possible */
	bool end;
	uint8_t volume;      /* 0..63, -dBm0 */
	uint16_t duration;   /* in RTP timestamp units */
};

/* Parse a telephone-event payload (4 bytes; a packet may carry several redundant blocks:
 * the first is used). 0 or -EINVAL. */
int tt_dtmf_parse(struct tt_dtmf_event *ev, const uint8_t *payload, size_t len);
/* The digit for an event code, or 0 for non-DTMF events (> 15). */
char tt_dtmf_digit(uint8_t event);

/* Turns a stream of telephone-event packets into digits, once per event although the end
 * packet is sent three times (RFC 4733 section 2.5.1.4). Zero-initialise; per stream. */
struct tt_dtmf_rx {
	uint32_t ts;          /* RTP timestamp of the last event reported */
	bool reported;
};

/* Feed one telephone-event packet. Returns 1 and *digit when an event ended for the first
 * time, 0 when nothing new, -EINVAL for a malformed payload. */
int tt_dtmf_rx_input(struct tt_dtmf_rx *rx, const struct tt_rtp_hdr *h, char *digit);

#endif
