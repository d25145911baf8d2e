/* rtcp.c: RTCP compound parse/build, receiver statistics and RTT (RFC 3550). */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "tutti/rtcp.h"
#include "bytes.h"


static void parse_rbs(struct tt_rtcp_info *r, const uint8_t *p, unsigned count)
{
	for (unsigned i = 0; i < count; i++, p += 24) {
		r->n_rb_total++;
		if (r->n_rb >= TT_RTCP_MAX_RB)
			continue;
		struct tt_rtcp_rb *b = &r->rb[r->n_rb++];
		b->ssrc = rd32(p);
		b->fraction = p[4];
		uint32_t lost = (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
		b->lost = (lost & 0x800000) ? (int32_t)(lost | 0xff000000u) : (int32_t)lost;
		b->ext_seq = rd32(p + 8);
		b->jitter = rd32(p + 12);
		b->lsr = rd32(p + 16);
		b->dlsr = rd32(p + 20);
	}
}

/* First chunk's CNAME only: we have one source per participant. */
static int parse_sdes(struct tt_rtcp_info *r, const uint8_t *p, size_t len, unsigned count)
{
	if (count == 0)
		return 0;
	if (len < 4)
		return -EINVAL;
	size_t off = 4;
	while (off < len) {
		uint8_t type = p[off];
		if (type == 0)
			return 0;
		if (len - off < 2 || len - off - 2 < p[off + 1])
			return -EINVAL;
		uint8_t n = p[off + 1];
		if (type == 1 && !r->has_cname) {
			size_t k = 0;
			for (size_t i = 0; i < n; i++)
				if (p[off + 2 + i])
					r->cname[k++] = (char)p[off + 2 + i];
			r->cname[k] = 0;
			r->has_cname = true;
		}
		off += 2 + (size_t)n;
	}
	/* A chunk must end with a null item; running off the packet without one is bad. */
	return -EINVAL;
}

int tt_rtcp_parse(struct tt_rtcp_info *info, const uint8_t *pkt, size_t len)
{
	struct tt_rtcp_info r;
	size_t off = 0;

	if (!pkt || len < 4 || len % 4 != 0)
		return -EINVAL;
	memset(&r, 0, sizeof r);
	while (off < len) {
		if (len - off < 4)
			return -EINVAL;
		const uint8_t *p = pkt + off;
		if ((p[0] >> 6) != 2)
			return -EINVAL;
		bool pad = p[0] & 0x20;
		unsigned count = p[0] & 0x1f;
		uint8_t pt = p[1];
		size_t plen = ((size_t)rd16(p + 2) + 1) * 4;
		if (plen > len - off)
			return -EINVAL;
		if (r.n_packets == 0 && (pt < TT_RTCP_SR || pt > TT_RTCP_PSFB))
			return -EINVAL;
		size_t body = plen;
		if (pad) {
			if (off + plen != len)          /* padding only on the last packet */
				return -EINVAL;
			uint8_t n = p[plen - 1];
			if (n == 0 || n > plen - 4)
				return -EINVAL;
			body = plen - n;
		}
		switch (pt) {
		case TT_RTCP_SR:
			if (body < 28 + (size_t)count * 24)
				return -EINVAL;
			if (r.n_packets == 0) {
				r.ssrc = rd32(p + 4);
				r.has_sr = true;
				r.ntp = (uint64_t)rd32(p + 8) << 32 | rd32(p + 12);
				r.rtp_ts = rd32(p + 16);
				r.pkt_count = rd32(p + 20);
				r.octet_count = rd32(p + 24);
			}
			parse_rbs(&r, p + 28, count);
			break;
		case TT_RTCP_RR:
			if (body < 8 + (size_t)count * 24)
				return -EINVAL;
			if (r.n_packets == 0)
				r.ssrc = rd32(p + 4);
			parse_rbs(&r, p + 8, count);
			break;
		case TT_RTCP_SDES:
			if (parse_sdes(&r, p + 4, body - 4, count))
				return -EINVAL;
			break;
		case TT_RTCP_BYE:
			if (body < 4 + (size_t)count * 4)
				return -EINVAL;
			r.bye = true;
			break;
		default:
			if (r.n_packets == 0 && body >= 8)
				r.ssrc = rd32(p + 4);
			break;
		}
		r.n_packets++;
		off += plen;
	}
	*info = r;
	return 0;
}

static void write_rbs(uint8_t *p, const struct tt_rtcp_rb *rb, unsigned n)
{
	for (unsigned i = 0; i < n; i++, p += 24) {
		wr32(p, rb[i].ssrc);
		p[4] = rb[i].fraction;
		uint32_t lost = (uint32_t)rb[i].lost;
		if (rb[i].lost > 0x7fffff)
			lost = 0x7fffff;
		else if (rb[i].lost < -0x800000)
			lost = 0x800000;
		p[5] = (uint8_t)(lost >> 16);
		p[6] = (uint8_t)(lost >> 8);
		p[7] = (uint8_t)lost;
		wr32(p + 8, rb[i].ext_seq);
		wr32(p + 12, rb[i].jitter);
		wr32(p + 16, rb[i].lsr);
		wr32(p + 20, rb[i].dlsr);
	}
}

int tt_rtcp_build(uint8_t *buf, size_t cap, const struct tt_rtcp_report *r)
{
	if (!buf || !r || r->n_rb > TT_RTCP_MAX_RB)
		return -EINVAL;
	size_t cname_len = r->cname ? strlen(r->cname) : 0;
	if (cname_len > TT_RTCP_CNAME_MAX)
		return -EINVAL;
	size_t first = (r->sender ? 28 : 8) + (size_t)r->n_rb * 24;
	/* SDES: header, SSRC, item (2 + len), null item, padded to 4. */
	size_t sdes = r->cname ? 4 + ((4 + 2 + cname_len + 1 + 3) & ~(size_t)3) : 0;
	size_t bye = r->bye ? 8 : 0;
	if (cap < first + sdes + bye)
		return -ENOSPC;

	uint8_t *p = buf;
	p[0] = (uint8_t)(0x80 | r->n_rb);
	p[1] = r->sender ? TT_RTCP_SR : TT_RTCP_RR;
	wr16(p + 2, (uint16_t)(first / 4 - 1));
	wr32(p + 4, r->ssrc);
	if (r->sender) {
		wr32(p + 8, (uint32_t)(r->ntp >> 32));
		wr32(p + 12, (uint32_t)r->ntp);
		wr32(p + 16, r->rtp_ts);
		wr32(p + 20, r->pkt_count);
		wr32(p + 24, r->octet_count);
		write_rbs(p + 28, r->rb, r->n_rb);
	} else {
		write_rbs(p + 8, r->rb, r->n_rb);
	}
	p += first;
	if (r->cname) {
		memset(p, 0, sdes);
		p[0] = 0x81;
		p[1] = TT_RTCP_SDES;
		wr16(p + 2, (uint16_t)(sdes / 4 - 1));
		wr32(p + 4, r->ssrc);
		p[8] = 1;
		p[9] = (uint8_t)cname_len;
		memcpy(p + 10, r->cname, cname_len);
		p += sdes;
	}
	if (r->bye) {
		p[0] = 0x81;
		p[1] = TT_RTCP_BYE;
		wr16(p + 2, 1);
		wr32(p + 4, r->ssrc);
		p += 8;
	}
	return (int)(p - buf);
}

/* ---- receiver statistics: RFC 3550 A.1 (sequence validation), A.3 (loss), A.8 (jitter) */

enum { MAX_DROPOUT = 3000, MAX_MISORDER = 100, MIN_SEQUENTIAL = 2, SEQ_MOD = 1 << 16 };

static void init_seq(struct tt_rtp_rxstats *s, uint16_t seq)
{
	s->base_seq = seq;
	s->max_seq = seq;
	s->bad_seq = SEQ_MOD + 1;
	s->cycles = 0;
	s->received = 0;
	s->received_prior = 0;
	s->expected_prior = 0;
}

/* Returns true when the packet counts as valid for the statistics. */
static bool update_seq(struct tt_rtp_rxstats *s, uint16_t seq)
{
	uint16_t udelta = (uint16_t)(seq - s->max_seq);

	if (s->probation) {
		if (seq == (uint16_t)(s->max_seq + 1)) {
			s->probation--;
			s->max_seq = seq;
			if (s->probation == 0) {
				init_seq(s, seq);
				s->received++;
				return true;
			}
		} else {
			s->probation = MIN_SEQUENTIAL - 1;
			s->max_seq = seq;
		}
		return false;
	}
	if (udelta < MAX_DROPOUT) {
		if (seq < s->max_seq)
			s->cycles += SEQ_MOD;
		s->max_seq = seq;
	} else if (udelta <= SEQ_MOD - MAX_MISORDER) {
		if (seq == s->bad_seq) {
			/* Two sequential packets after a big jump: the sender restarted. */
			init_seq(s, seq);
		} else {
			s->bad_seq = (uint32_t)(seq + 1) & (SEQ_MOD - 1);
			return false;
		}
	}
	/* else duplicate or reordered: counted as received. */
	s->received++;
	return true;
}

void tt_rtp_rxstats_update(struct tt_rtp_rxstats *s, uint32_t ssrc, uint16_t seq,
			   uint32_t ts, uint32_t arrival)
{
	if (!s->init || s->ssrc != ssrc) {
		memset(s, 0, sizeof *s);
		s->init = true;
		s->ssrc = ssrc;
		init_seq(s, seq);
		s->max_seq = (uint16_t)(seq - 1);
		s->probation = MIN_SEQUENTIAL;
	}
	if (!update_seq(s, seq))
		return;
	int64_t transit = (int64_t)(int32_t)(arrival - ts);
	if (s->have_transit) {
		int64_t d = transit - s->transit;
		if (d < 0)
			d = -d;
		/* J += (|D| - J) / 16, kept scaled by 16 (A.8). */
		s->jitter_q4 += (uint32_t)(d - (((int64_t)s->jitter_q4 + 8) >> 4));
	}
	s->transit = transit;
	s->have_transit = true;
}

int32_t tt_rtp_rxstats_lost(const struct tt_rtp_rxstats *s)
{
	if (!s->init || s->probation)
		return 0;
	uint32_t ext_max = s->cycles + s->max_seq;
	int64_t expected = (int64_t)ext_max - s->base_seq + 1;
	return (int32_t)(expected - s->received);
}

uint32_t tt_rtp_rxstats_jitter(const struct tt_rtp_rxstats *s)
{
	return s->jitter_q4 >> 4;
}

void tt_rtp_rxstats_block(struct tt_rtp_rxstats *s, struct tt_rtcp_rb *rb)
{
	memset(rb, 0, sizeof *rb);
	rb->ssrc = s->ssrc;
	if (!s->init || s->probation)
		return;
	uint32_t ext_max = s->cycles + s->max_seq;
	uint32_t expected = ext_max - s->base_seq + 1;
	uint32_t exp_int = expected - s->expected_prior;
	uint32_t rec_int = s->received - s->received_prior;
	s->expected_prior = expected;
	s->received_prior = s->received;
	int64_t lost_int = (int64_t)exp_int - rec_int;
	uint8_t fraction = 0;
	if (exp_int != 0 && lost_int > 0)
		fraction = (uint8_t)((lost_int << 8) / exp_int);
	s->last_fraction = fraction;
	rb->fraction = fraction;
	rb->lost = tt_rtp_rxstats_lost(s);
	rb->ext_seq = ext_max;
	rb->jitter = tt_rtp_rxstats_jitter(s);
}

uint64_t tt_ntp_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t sec = (uint64_t)ts.tv_sec + 2208988800u;  /* 1900 -> 1970 */
	uint64_t frac = ((uint64_t)ts.tv_nsec << 32) / 1000000000u;
	return sec << 32 | frac;
}

int64_t tt_rtcp_rtt_us(const struct tt_rtcp_rb *rb, uint64_t now)
{
	if (rb->lsr == 0)
		return -1;
	uint32_t rtt = tt_ntp_mid32(now) - rb->lsr - rb->dlsr;
	/* A negative RTT (clock step, bogus DLSR) wraps to a huge value: report none. */
	if (rtt > 0x7fffffffu)
		return -1;
	return (int64_t)(((uint64_t)rtt * 1000000u) >> 16);
}
