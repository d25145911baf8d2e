/* rtcp.h: RTCP (RFC 3550) compound packets: parsing SR/RR/SDES/BYE, building SR or RR with
 * an SDES CNAME (and BYE), and the receiver-side statistics behind report blocks (extended
 * highest sequence, cumulative and fractional loss, interarrival jitter) and RTT from
 * LSR/DLSR.
 *
 * Pure computation on caller memory: no allocation, no I/O, any thread (a struct
 * tt_rtp_rxstats belongs to the one thread that feeds it). Parsers check every length before
 * reading and leave their output untouched on error. */
#ifndef TUTTI_RTCP_H
#define TUTTI_RTCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tt_rtcp_pt {
	TT_RTCP_SR = 200,
	TT_RTCP_RR = 201,
	TT_RTCP_SDES = 202,
	TT_RTCP_BYE = 203,
	TT_RTCP_APP = 204,
	TT_RTCP_RTPFB = 205,
	TT_RTCP_PSFB = 206,
};

#define TT_RTCP_MAX_RB     4      /* report blocks kept from one compound; more are counted */
#define TT_RTCP_CNAME_MAX  255

struct tt_rtcp_rb {
	uint32_t ssrc;          /* the source this block reports on */
	uint8_t fraction;       /* lost since last report, /256 */
	int32_t lost;           /* cumulative, 24-bit signed */
	uint32_t ext_seq;
	uint32_t jitter;        /* RTP timestamp units */
	uint32_t lsr;           /* middle 32 bits of the NTP time of the last SR received */
	uint32_t dlsr;          /* 1/65536 s since then */
};

/* What one compound packet said (unknown packet types are skipped, not errors). */
struct tt_rtcp_info {
	uint32_t ssrc;          /* sender SSRC of the first packet */
	bool has_sr;
	uint64_t ntp;           /* SR: NTP timestamp, 32.32 */
	uint32_t rtp_ts;
	uint32_t pkt_count, octet_count;
	unsigned n_rb;          /* blocks stored (<= TT_RTCP_MAX_RB) */
	unsigned n_rb_total;    /* blocks seen */
	struct tt_rtcp_rb rb[TT_RTCP_MAX_RB];
	bool has_cname;
	char cname[TT_RTCP_CNAME_MAX + 1];   /* NUL-terminated copy, may hold any bytes but NUL */
	bool bye;
	unsigned n_packets;
};

/* Parse a compound RTCP packet (already SRTCP-unprotected). Validity per RFC 3550 A.2: every
 * packet is version 2, lengths add up exactly, padding only on the last one, and the first is
 * SR or RR (reduced-size RTCP, RFC 5506, is accepted too: any known type first).
 * 0 or -EINVAL; *info untouched on error. */
int tt_rtcp_parse(struct tt_rtcp_info *info, const uint8_t *pkt, size_t len);

/* A report to build. If `sender`, an SR with the sender info, else an RR. */
struct tt_rtcp_report {
	uint32_t ssrc;
	bool sender;
	uint64_t ntp;
	uint32_t rtp_ts;
	uint32_t pkt_count, octet_count;
	unsigned n_rb;                     /* 0..TT_RTCP_MAX_RB */
	struct tt_rtcp_rb rb[TT_RTCP_MAX_RB];
	const char *cname;                 /* NULL: no SDES */
	bool bye;                          /* append a BYE */
};

/* Build the compound packet into buf. Returns its length, -ENOSPC or -EINVAL. */
int tt_rtcp_build(uint8_t *buf, size_t cap, const struct tt_rtcp_report *r);

/* ---- receiver statistics (RFC 3550 appendix A.1, A.3, A.8) ---- */

struct tt_rtp_rxstats {
	bool init;
	uint32_t ssrc;
	uint16_t max_seq;
	uint32_t cycles;          /* shifted count of sequence number cycles */
	uint32_t base_seq;
	uint32_t bad_seq;
	uint32_t probation;
	uint32_t received;
	uint32_t expected_prior, received_prior;
	int64_t transit;
	bool have_transit;
	uint32_t jitter_q4;       /* jitter * 16, RTP units (A.8) */
	uint8_t last_fraction;
};

/* Feed one RTP packet: its header fields and the arrival time converted to RTP timestamp
 * units of the same clock. */
void tt_rtp_rxstats_update(struct tt_rtp_rxstats *s, uint32_t ssrc, uint16_t seq,
			   uint32_t ts, uint32_t arrival);
/* Fill a report block (lsr/dlsr left 0 for the caller) and start a new fraction interval. */
void tt_rtp_rxstats_block(struct tt_rtp_rxstats *s, struct tt_rtcp_rb *rb);
/* Cumulative lost so far (may be negative with duplicates) and jitter in RTP units. */
int32_t tt_rtp_rxstats_lost(const struct tt_rtp_rxstats *s);
uint32_t tt_rtp_rxstats_jitter(const struct tt_rtp_rxstats *s);

/* ---- time ---- */

/* NTP 32.32 time now (wall clock). */
uint64_t tt_ntp_now(void);
/* Middle 32 bits, as carried in LSR. */
static inline uint32_t tt_ntp_mid32(uint64_t ntp) { return (uint32_t)(ntp >> 16); }
/* Round-trip time in microseconds from a report block about our stream, received at NTP
 * time `now`; -1 when the block carries no LSR (peer has not seen an SR of ours). */
int64_t tt_rtcp_rtt_us(const struct tt_rtcp_rb *rb, uint64_t now);

#endif
