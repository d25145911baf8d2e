/* opus_vad.c: the SILK VAD flags of an Opus packet (see opus_vad.h for the rule). The
 * packet's framing (codes 0-3, RFC 6716 3.2) is libopus's opus_packet_parse, not ours. */
#include "opus_vad.h"

#include <opus.h>

enum tt__opus_vad tt__opus_vad(const uint8_t *pkt, size_t len)
{
	const unsigned char *frames[48];
	opus_int16 sizes[48];
	unsigned char toc;
	if (!pkt || len < 1 || len > 1275 * 48)
		return TT__OPUS_VAD_UNKNOWN;
	unsigned config = pkt[0] >> 3;
	if (config >= 16)
		return TT__OPUS_VAD_UNKNOWN;   /* CELT-only: no SILK layer, no flag */
	int n = opus_packet_parse(pkt, (opus_int32)len, &toc, frames, sizes, NULL);
	if (n <= 0)
		return TT__OPUS_VAD_UNKNOWN;
	/* SILK frames per Opus frame: 10 and 20 ms have one, 40 ms two, 60 ms three; hybrid
	 * frames are 10 or 20 ms */
	static const unsigned silk_frames[4] = { 1, 1, 2, 3 };
	unsigned nf = config < 12 ? silk_frames[config & 3] : 1;
	unsigned stereo = (toc >> 2) & 1;
	/* mid: bits 7 .. 8-nf; LBRR; side: the next nf bits */
	unsigned mid = ((1u << nf) - 1) << (8 - nf);
	unsigned side = stereo ? ((1u << nf) - 1) << (8 - 2 * nf - 1) : 0;
	for (int i = 0; i < n; i++) {
		/* an empty frame or a DTX frame (one or two bytes) carries no voice */
		if (sizes[i] <= 2)
			continue;
		if (frames[i][0] & (mid | side))
			return TT__OPUS_VAD_VOICE;
	}
	return TT__OPUS_VAD_QUIET;
}
