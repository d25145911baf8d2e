/* kernels.h: the mixer's sample kernels, one const table per SIMD level.
 *
 * Every variant is bit-exact with the scalar `_c` reference (tests check it at every level
 * the CPU has). Buffers need no alignment and lengths need not be multiples of the vector
 * width. Pure functions over caller memory: any thread. */
#ifndef TT_MIXER_KERNELS_H
#define TT_MIXER_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "tutti/mixer.h"

/* Gains are Q12: 4096 = 1.0, range 0..32767 (about +18 dB). */
#define TT_MIX_GAIN_ONE 4096

struct tt_mix_kernels {
	const char *name;
	/* dst[i] = sat16((src[i] * g + 2048) >> 12) */
	void (*gain)(int16_t *dst, const int16_t *src, int16_t g, size_t n);
	/* acc[i] += src[i] (exact in int32 for up to 65536 sources) */
	void (*acc)(int32_t *acc, const int16_t *src, size_t n);
	/* dst[i] = sat16(acc[i]): the full mix, saturated once */
	void (*sat)(int16_t *dst, const int32_t *acc, size_t n);
	/* dst[i] = sat16(acc[i] - own[i]): the N-1 step */
	void (*sub_sat)(int16_t *dst, const int32_t *acc, const int16_t *own, size_t n);
};

/* The table for a level; a level not built in falls back to the best one below it. */
const struct tt_mix_kernels *tt_mix_kernels_get(enum tt_mixer_cpu level);

#endif
