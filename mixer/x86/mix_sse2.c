/* mix_sse2.c: SSE2 kernels, 8 samples per step; only this file is built with -msse2. */
#include <emmintrin.h>

#include "kernels.h"
#include "../kernels_impl.h"

/* Sign-extend 8 int16 into two int32 vectors (SSE2 has no pmovsx). */
static inline void widen(__m128i s, __m128i *lo, __m128i *hi)
{
	*lo = _mm_srai_epi32(_mm_unpacklo_epi16(s, s), 16);
	*hi = _mm_srai_epi32(_mm_unpackhi_epi16(s, s), 16);
}

static void gain_sse2(int16_t *dst, const int16_t *src, int16_t g, size_t n)
{
	const __m128i gv = _mm_set1_epi16(g), rnd = _mm_set1_epi32(2048);
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		__m128i s = _mm_loadu_si128((const __m128i *)(src + i));
		__m128i pl = _mm_mullo_epi16(s, gv), ph = _mm_mulhi_epi16(s, gv);
		__m128i p0 = _mm_srai_epi32(_mm_add_epi32(_mm_unpacklo_epi16(pl, ph), rnd), 12);
		__m128i p1 = _mm_srai_epi32(_mm_add_epi32(_mm_unpackhi_epi16(pl, ph), rnd), 12);
		_mm_storeu_si128((__m128i *)(dst + i), _mm_packs_epi32(p0, p1));
	}
	tt__gain_tail(dst, src, g, i, n);
}

static void acc_sse2(int32_t *acc, const int16_t *src, size_t n)
{
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		__m128i lo, hi;
		widen(_mm_loadu_si128((const __m128i *)(src + i)), &lo, &hi);
		__m128i *a = (__m128i *)(acc + i);
		_mm_storeu_si128(a, _mm_add_epi32(_mm_loadu_si128(a), lo));
		_mm_storeu_si128(a + 1, _mm_add_epi32(_mm_loadu_si128(a + 1), hi));
	}
	tt__acc_tail(acc, src, i, n);
}

static void sat_sse2(int16_t *dst, const int32_t *acc, size_t n)
{
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		const __m128i *a = (const __m128i *)(acc + i);
		_mm_storeu_si128((__m128i *)(dst + i),
				 _mm_packs_epi32(_mm_loadu_si128(a), _mm_loadu_si128(a + 1)));
	}
	tt__sat_tail(dst, acc, i, n);
}

static void sub_sat_sse2(int16_t *dst, const int32_t *acc, const int16_t *own, size_t n)
{
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		__m128i lo, hi;
		widen(_mm_loadu_si128((const __m128i *)(own + i)), &lo, &hi);
		const __m128i *a = (const __m128i *)(acc + i);
		__m128i d0 = _mm_sub_epi32(_mm_loadu_si128(a), lo);
		__m128i d1 = _mm_sub_epi32(_mm_loadu_si128(a + 1), hi);
		_mm_storeu_si128((__m128i *)(dst + i), _mm_packs_epi32(d0, d1));
	}
	tt__sub_sat_tail(dst, acc, own, i, n);
}

const struct tt_mix_kernels tt__mix_kernels_sse2 = {
	.name = "sse2",
	.gain = gain_sse2,
	.acc = acc_sse2,
	.sat = sat_sse2,
	.sub_sat = sub_sat_sse2,
};
