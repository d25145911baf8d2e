/* rtp_fuzzer.c: RTP header, extension, audio level and telephone-event parsing. */
#include <stdint.h>
#include <string.h>

#include "tutti/rtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tt_rtp_hdr h;
	if (tt_rtp_parse(&h, data, size) != 0)
		return 0;
	/* Everything the header points at must lie inside the input. */
	if (h.payload < data || h.payload + h.payload_len > data + size)
		__builtin_trap();
	if (h.has_ext && (h.ext < data || h.ext + h.ext_len > data + size))
		__builtin_trap();
	for (unsigned id = 1; id < 256; id++) {
		const uint8_t *d;
		size_t n;
		if (tt_rtp_ext_find(&h, (uint8_t)id, &d, &n) == 0 &&
		    (d < h.ext || d + n > h.ext + h.ext_len))
			__builtin_trap();
	}
	bool vad;
	uint8_t level;
	tt_rtp_audio_level(&h, 1, &vad, &level);
	struct tt_dtmf_rx rx = {0};
	char digit;
	tt_dtmf_rx_input(&rx, &h, &digit);
	/* Rebuilding the parsed header must give back the same bytes. */
	uint8_t out[4096];
	if (h.hdr_len <= sizeof out) {
		int n = tt_rtp_write(out, sizeof out, &h);
		if (n != (int)h.hdr_len || (out[0] | (data[0] & 0x20)) != data[0] ||
		    memcmp(out + 1, data + 1, (size_t)n - 1) != 0)
			__builtin_trap();
	}
	return 0;
}
