/* rtp.c: RTP header, RFC 8285 extension and RFC 4733 event parsing and building. */
#include <errno.h>
#include <string.h>

#include "tutti/rtp.h"
#include "bytes.h"


bool tt_rtp_is_rtcp(const uint8_t *pkt, size_t len)
{
	if (len < 2)
		return false;
	return pkt[1] >= 192 && pkt[1] <= 223;
}

int tt_rtp_parse(struct tt_rtp_hdr *h, const uint8_t *pkt, size_t len)
{
	struct tt_rtp_hdr r;

	if (!pkt || len < TT_RTP_HDR_LEN || (pkt[0] >> 6) != 2)
		return -EINVAL;
	memset(&r, 0, sizeof r);
	bool padding = pkt[0] & 0x20;
	r.has_ext = pkt[0] & 0x10;
	r.cc = pkt[0] & 0x0f;
	r.marker = pkt[1] & 0x80;
	r.pt = pkt[1] & 0x7f;
	r.seq = rd16(pkt + 2);
	r.ts = rd32(pkt + 4);
	r.ssrc = rd32(pkt + 8);

	size_t off = TT_RTP_HDR_LEN;
	if (len - off < (size_t)r.cc * 4)
		return -EINVAL;
	for (unsigned i = 0; i < r.cc; i++, off += 4)
		r.csrc[i] = rd32(pkt + off);

	if (r.has_ext) {
		if (len - off < 4)
			return -EINVAL;
		r.ext_profile = rd16(pkt + off);
		size_t words = rd16(pkt + off + 2);
		off += 4;
		if (len - off < words * 4)
			return -EINVAL;
		r.ext = pkt + off;
		r.ext_len = words * 4;
		off += words * 4;
	}

	size_t end = len;
	if (padding) {
		/* The count includes itself, so 0 is invalid; it may not eat into the header. */
		uint8_t n = pkt[len - 1];
		if (n == 0 || n > len - off)
			return -EINVAL;
		r.pad_len = n;
		end = len - n;
	}
	r.hdr_len = off;
	r.payload = pkt + off;
	r.payload_len = end - off;
	*h = r;
	return 0;
}

int tt_rtp_write(uint8_t *buf, size_t cap, const struct tt_rtp_hdr *h)
{
	if (!buf || !h || h->cc > TT_RTP_MAX_CSRC || h->pt > 127)
		return -EINVAL;
	if (h->has_ext && (h->ext_len % 4 != 0 || h->ext_len / 4 > 0xffff ||
			   (h->ext_len && !h->ext)))
		return -EINVAL;
	size_t need = TT_RTP_HDR_LEN + (size_t)h->cc * 4 + (h->has_ext ? 4 + h->ext_len : 0);
	if (cap < need)
		return -ENOSPC;
	buf[0] = (uint8_t)(0x80 | (h->has_ext ? 0x10 : 0) | h->cc);
	buf[1] = (uint8_t)((h->marker ? 0x80 : 0) | h->pt);
	wr16(buf + 2, h->seq);
	wr32(buf + 4, h->ts);
	wr32(buf + 8, h->ssrc);
	size_t off = TT_RTP_HDR_LEN;
	for (unsigned i = 0; i < h->cc; i++, off += 4)
		wr32(buf + off, h->csrc[i]);
	if (h->has_ext) {
		wr16(buf + off, h->ext_profile);
		wr16(buf + off + 2, (uint16_t)(h->ext_len / 4));
		off += 4;
		if (h->ext_len)
			memcpy(buf + off, h->ext, h->ext_len);
		off += h->ext_len;
	}
	return (int)off;
}

/* One walk over the element list serves both forms; returns -ENOENT when id is absent and
 * -EINVAL when an element runs past the block. */
int tt_rtp_ext_find(const struct tt_rtp_hdr *h, uint8_t id, const uint8_t **data, size_t *len)
{
	if (!h || !h->has_ext || id == 0)
		return -ENOENT;
	const uint8_t *p = h->ext;
	size_t n = h->ext_len, off = 0;
	bool one = h->ext_profile == 0xBEDE;
	bool two = (h->ext_profile & 0xfff0) == 0x1000;

	if (!one && !two)
		return -ENOENT;
	if (n && !p)
		return -EINVAL;
	while (off < n) {
		uint8_t eid, elen;
		if (p[off] == 0) {          /* padding byte between elements */
			off++;
			continue;
		}
		if (one) {
			eid = p[off] >> 4;
			elen = (uint8_t)((p[off] & 0x0f) + 1);
			if (eid == 15)      /* reserved: stop processing (RFC 8285 4.2) */
				return -ENOENT;
			off += 1;
		} else {
			if (n - off < 2)
				return -EINVAL;
			eid = p[off];
			elen = p[off + 1];
			off += 2;
		}
		if (n - off < elen)
			return -EINVAL;
		if (eid == id) {
			*data = p + off;
			*len = elen;
			return 0;
		}
		off += elen;
	}
	return -ENOENT;
}

int tt_rtp_ext_build(uint8_t *out, size_t cap, uint16_t *profile,
		     const struct tt_rtp_ext_elem *e, size_t n)
{
	bool one = true;
	size_t need = 0;

	if (!out || !profile || (n && !e))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (e[i].id == 0 || (e[i].len && !e[i].data))
			return -EINVAL;
		if (e[i].id > 14 || e[i].len < 1 || e[i].len > 16)
			one = false;
	}
	for (size_t i = 0; i < n; i++)
		need += (one ? 1u : 2u) + e[i].len;
	size_t padded = (need + 3) & ~(size_t)3;
	if (padded > cap)
		return -ENOSPC;
	size_t off = 0;
	for (size_t i = 0; i < n; i++) {
		if (one) {
			out[off++] = (uint8_t)(e[i].id << 4 | (e[i].len - 1));
		} else {
			out[off++] = e[i].id;
			out[off++] = e[i].len;
		}
		if (e[i].len)
			memcpy(out + off, e[i].data, e[i].len);
		off += e[i].len;
	}
	memset(out + off, 0, padded - off);
	*profile = one ? 0xBEDE : 0x1000;
	return (int)padded;
}

int tt_rtp_audio_level(const struct tt_rtp_hdr *h, uint8_t id, bool *vad, uint8_t *level)
{
	const uint8_t *d;
	size_t n;
	int err = tt_rtp_ext_find(h, id, &d, &n);
	if (err)
		return err;
	/* RFC 6464 allows a one-byte element; some senders pad it to more, but the value is
	 * always in the first byte. */
	if (n < 1)
		return -EINVAL;
	*vad = d[0] & 0x80;
	*level = d[0] & 0x7f;
	return 0;
}

int tt_dtmf_parse(struct tt_dtmf_event *ev, const uint8_t *payload, size_t len)
{
	if (!payload || len < 4)
		return -EINVAL;
	ev->event = payload[0];
	ev->end = payload[1] & 0x80;
	ev->volume = payload[1] & 0x3f;
	ev->duration = rd16(payload + 2);
	return 0;
}

char tt_dtmf_digit(uint8_t event)
{
	static const char map[16] = "0123456789*#ABCD";
	return event < 16 ? map[event] : 0;
}

int tt_dtmf_rx_input(struct tt_dtmf_rx *rx, const struct tt_rtp_hdr *h, char *digit)
{
	struct tt_dtmf_event ev;
	if (tt_dtmf_parse(&ev, h->payload, h->payload_len))
		return -EINVAL;
	/* All packets of one event share its RTP timestamp; a new timestamp is a new event. */
	if (rx->reported && rx->ts == h->ts)
		return 0;
	if (!ev.end)
		return 0;
	char d = tt_dtmf_digit(ev.event);
	rx->ts = h->ts;
	rx->reported = true;
	if (!d)
		return 0;
	*digit = d;
	return 1;
}
