/* mix_avx512.c: AVX-512 (F+BW) kernels, 32 samples per step; only this file gets the flags.
 * vpmovsdw narrows with saturation in order, so no lane fix-up is needed. */
#include <immintrin.h>

#include "kernels.h"
#include "../kernels_impl.h"

static inline __m512i load16(const int16_t *p)
{
	return _mm512_cvtepi16_epi32(_mm256_loadu_si256((const __m256i *)p));
}

static inline void store_sat(int16_t *dst, __m512i v)
{
	_mm256_storeu_si256((__m256i *)dst, _mm512_cvtsepi32_epi16(v));
}

static void gain_avx512(int16_t *dst, const int16_t *src, int16_t g, size_t n)
{
	const __m512i gv = _mm512_set1_epi32(g), rnd = _mm512_set1_epi32(2048);
	size_t i = 0;
	for (; i + 32 <= n; i += 32) {
		__m512i p0 = _mm512_mullo_epi32(load16(src + i), gv);
		__m512i p1 = _mm512_mullo_epi32(load16(src + i + 16), gv);
		store_sat(dst + i, _mm512_srai_epi32(_mm512_add_epi32(p0, rnd), 12));
		store_sat(dst + i + 16, _mm512_srai_epi32(_mm512_add_epi32(p1, rnd), 12));
	}
	tt__gain_tail(dst, src, g, i, n);
}

static void acc_avx512(int32_t *acc, const int16_t *src, size_t n)
{
	size_t i = 0;
	for (; i + 32 <= n; i += 32) {
		int32_t *a = acc + i;
		_mm512_storeu_si512(a, _mm512_add_epi32(_mm512_loadu_si512(a), load16(src + i)));
		_mm512_storeu_si512(a + 16, _mm512_add_epi32(_mm512_loadu_si512(a + 16),
							     load16(src + i + 16)));
	}
	tt__acc_tail(acc, src, i, n);
}

static void sat_avx512(int16_t *dst, const int32_t *acc, size_t n)
{
	size_t i = 0;
	for (; i + 32 <= n; i += 32) {
		store_sat(dst + i, _mm512_loadu_si512(acc + i));
		store_sat(dst + i + 16, _mm512_loadu_si512(acc + i + 16));
	}
	tt__sat_tail(dst, acc, i, n);
}

static void sub_sat_avx512(int16_t *dst, const int32_t *acc, const int16_t *own, size_t n)
{
	size_t i = 0;
	for (; i + 32 <= n; i += 32) {
		store_sat(dst + i, _mm512_sub_epi32(_mm512_loadu_si512(acc + i), load16(own + i)));
		store_sat(dst + i + 16, _mm512_sub_epi32(_mm512_loadu_si512(acc + i + 16),
							 load16(own + i + 16)));
	}
	tt__sub_sat_tail(dst, acc, own, i, n);
}

const struct tt_mix_kernels tt__mix_kernels_avx512 = {
	.name = "avx512",
	.gain = gain_avx512,
	.acc = acc_avx512,
	.sat = sat_avx512,
	.sub_sat = sub_sat_avx512,
};
