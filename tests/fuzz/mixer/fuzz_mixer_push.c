/* fuzz_mixer_push.c: RTP payloads and header fields as a network sends them, into
 * tt_mixer_part_push() and through the tick (jitter buffer, codec parsers, decoders).
 *
 * Input: byte 0 picks the codecs and ptime; then records of
 *   [len:1][seq:2][ts:4][ssrc:1][level:1][flags:1][payload:len]
 * flags bit 0: tick after this record; bit 1: toggle mute; bit 2: toggle deaf. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tutti/mixer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *codecs[] = {"opus", "g722", "pcmu", "pcma"};
	static const unsigned ptimes[] = {10, 20, 40, 60};
	static const unsigned rates[] = {8000, 16000, 24000, 48000};
	if (size < 1)
		return 0;
	struct tt_mixer_room *m = NULL;
	struct tt_mixer_room_cfg cfg = {.rate = rates[(data[0] >> 4) & 3], .max_parts = 3,
					.speakers = 2, .cpu = TT_MIXER_CPU_AUTO};
	if (tt_mixer_room_alloc(&m, &cfg))
		return 0;
	struct tt_mixer_part *p[3] = {0};
	for (int i = 0; i < 3; i++) {
		struct tt_mixer_part_cfg pc = {.codec = codecs[(data[0] + i) & 3],
					       .ptime = ptimes[(data[0] >> 2) & 3], .fec = true};
		if (tt_mixer_part_add(&p[i], m, &pc))
			goto out;
	}
	size_t off = 1;
	uint64_t now = 0;
	unsigned rec = 0;
	bool mute = false, deaf = false;
	while (off + 11 <= size) {
		const uint8_t *r = data + off;
		size_t len = r[0];
		if (off + 11 + len > size)
			break;
		struct tt_mixer_pkt pk = {
			.payload = r + 11, .len = len, .seq = (uint16_t)(r[1] << 8 | r[2]),
			.ts = (uint32_t)r[3] << 24 | (uint32_t)r[4] << 16 | (uint32_t)r[5] << 8 | r[6],
			.ssrc = r[7], .level = r[8] > 127 ? TT_MIXER_LEVEL_ABSENT : r[8],
			.vad = r[8] & 1, .arrival_us = now};
		struct tt_mixer_part *to = p[rec++ % 3];
		tt_mixer_part_push(to, &pk);
		if (r[9] & 2)
			tt_mixer_part_set_mute(to, mute = !mute);
		if (r[9] & 4)
			tt_mixer_part_set_deaf(to, deaf = !deaf);
		if (r[9] & 1) {
			now += 20000;
			tt_mixer_room_tick(m, now);
			struct tt_mixer_out o;
			for (int i = 0; i < 3; i++)
				tt_mixer_part_output(p[i], &o);
			struct tt_mixer_event ev;
			while (tt_mixer_room_event_next(m, &ev))
				;
		}
		off += 11 + len;
	}
	for (int i = 0; i < 5; i++)
		tt_mixer_room_tick(m, now += 20000);
out:
	tt_mixer_room_free(m);
	return 0;
}
