/* mix_avx2.c: AVX2 kernels, 16 samples per step; only this file is built with -mavx2. */
#include <immintrin.h>

#include "kernels.h"
#include "../kernels_impl.h"

/* packs works per 128-bit lane; 0xD8 puts the four 64-bit quarters back in order. */
static inline __m256i pack_sat(__m256i a, __m256i b)
{
	return _mm256_permute4x64_epi64(_mm256_packs_epi32(a, b), 0xD8);
}

static inline __m256i load16(const int16_t *p)
{
	return _mm256_cvtepi16_epi32(_mm_loadu_si128((const __m128i *)p));
}

static void gain_avx2(int16_t *dst, const int16_t *src, int16_t g, size_t n)
{
	const __m256i gv = _mm256_set1_epi32(g), rnd = _mm256_set1_epi32(2048);
	size_t i = 0;
	for (; i + 16 <= n; i += 16) {
		__m256i p0 = _mm256_mullo_epi32(load16(src + i), gv);
		__m256i p1 = _mm256_mullo_epi32(load16(src + i + 8), gv);
		p0 = _mm256_srai_epi32(_mm256_add_epi32(p0, rnd), 12);
		p1 = _mm256_srai_epi32(_mm256_add_epi32(p1, rnd), 12);
		_mm256_storeu_si256((__m256i *)(dst + i), pack_sat(p0, p1));
	}
	tt__gain_tail(dst, src, g, i, n);
}

static void acc_avx2(int32_t *acc, const int16_t *src, size_t n)
{
	size_t i = 0;
	for (; i + 16 <= n; i += 16) {
		__m256i *a = (__m256i *)(acc + i);
		_mm256_storeu_si256(a, _mm256_add_epi32(_mm256_loadu_si256(a), load16(src + i)));
		_mm256_storeu_si256(a + 1, _mm256_add_epi32(_mm256_loadu_si256(a + 1),
							     load16(src + i + 8)));
	}
	tt__acc_tail(acc, src, i, n);
}

static void sat_avx2(int16_t *dst, const int32_t *acc, size_t n)
{
	size_t i = 0;
	for (; i + 16 <= n; i += 16) {
		const __m256i *a = (const __m256i *)(acc + i);
		_mm256_storeu_si256((__m256i *)(dst + i),
				    pack_sat(_mm256_loadu_si256(a), _mm256_loadu_si256(a + 1)));
	}
	tt__sat_tail(dst, acc, i, n);
}

static void sub_sat_avx2(int16_t *dst, const int32_t *acc, const int16_t *own, size_t n)
{
	size_t i = 0;
	for (; i + 16 <= n; i += 16) {
		const __m256i *a = (const __m256i *)(acc + i);
		__m256i d0 = _mm256_sub_epi32(_mm256_loadu_si256(a), load16(own + i));
		__m256i d1 = _mm256_sub_epi32(_mm256_loadu_si256(a + 1), load16(own + i + 8));
		_mm256_storeu_si256((__m256i *)(dst + i), pack_sat(d0, d1));
	}
	tt__sub_sat_tail(dst, acc, own, i, n);
}

const struct tt_mix_kernels tt__mix_kernels_avx2 = {
	.name = "avx2",
	.gain = gain_avx2,
	.acc = acc_avx2,
	.sat = sat_avx2,
	.sub_sat = sub_sat_avx2,
};
