/* kernels_impl.h: the scalar definition of each kernel, per sample, shared by the `_c`
 * reference and the SIMD files' tail loops so both compute the very same thing. */
#ifndef TT_MIXER_KERNELS_IMPL_H
#define TT_MIXER_KERNELS_IMPL_H

#include <stddef.h>
#include <stdint.h>

static inline int16_t tt__sat16(int32_t v)
{
	return v > 32767 ? 32767 : (v < -32768 ? -32768 : (int16_t)v);
}

/* >> on a negative int32 is arithmetic with GCC and Clang (documented), as srai is. */
static inline void tt__gain_tail(int16_t *dst, const int16_t *src, int16_t g, size_t i, size_t n)
{
	for (; i < n; i++)
		dst[i] = tt__sat16(((int32_t)src[i] * g + 2048) >> 12);
}

static inline void tt__acc_tail(int32_t *acc, const int16_t *src, size_t i, size_t n)
{
	for (; i < n; i++)
		acc[i] += src[i];
}

static inline void tt__sat_tail(int16_t *dst, const int32_t *acc, size_t i, size_t n)
{
	for (; i < n; i++)
		dst[i] = tt__sat16(acc[i]);
}

static inline void tt__sub_sat_tail(int16_t *dst, const int32_t *acc, const int16_t *own,
				    size_t i, size_t n)
{
	for (; i < n; i++)
		dst[i] = tt__sat16(acc[i] - own[i]);
}

#endif
