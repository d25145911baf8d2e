/* opus_vad.h: whether an Opus packet carries voice, read from the SILK layer's voice-activity
 * flags without decoding (internal).
 *
 * Why: a phone that sends no RFC 6464 level still sends ordinary SILK or hybrid frames while
 * its user is quiet, and decoding everyone to learn who talks was 69 % of a 100-participant
 * room's CPU. The encoder already decided: each SILK frame starts with its VAD flag (RFC
 * 6716, 4.2.3), the first symbols of the range coder. Those symbols are coded with
 * probability 1/2 from the coder's initial state, so they are exactly the first bits of the
 * frame's first byte, most significant first: mid-channel VAD flags (one per 20 ms SILK
 * frame; one for a 10 ms frame), the mid LBRR flag, then the same for the side channel of a
 * stereo frame.
 *
 * Limits, by design: CELT-only packets (TOC configs 16-31) carry no flag (UNKNOWN: decode
 * them as before); an encoder that sets the flag on every frame makes every packet VOICE
 * (decoded as before: correct, only no cheaper); libopus's own VAD calls steady noise
 * "no voice", which is what speaker selection wants anyway.
 *
 * Pure function, any thread, no allocation. */
#ifndef TT_MIXER_OPUS_VAD_H
#define TT_MIXER_OPUS_VAD_H

#include <stddef.h>
#include <stdint.h>

enum tt__opus_vad {
	TT__OPUS_VAD_UNKNOWN = -1,   /* CELT-only, or not a valid Opus packet */
	TT__OPUS_VAD_QUIET = 0,      /* SILK or hybrid, every VAD flag clear (or DTX) */
	TT__OPUS_VAD_VOICE = 1,      /* some SILK frame says voice */
};

enum tt__opus_vad tt__opus_vad(const uint8_t *pkt, size_t len);

#endif
