/* mix_neon.c: NEON kernels (AArch64, where NEON is always present), 8 samples per step. */
#include <arm_neon.h>

#include "kernels.h"
#include "../kernels_impl.h"

static void gain_neon(int16_t *dst, const int16_t *src, int16_t g, size_t n)
{
	const int32x4_t rnd = vdupq_n_s32(2048);
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		int16x8_t s = vld1q_s16(src + i);
		int32x4_t lo = vshrq_n_s32(vaddq_s32(vmull_n_s16(vget_low_s16(s), g), rnd), 12);
		int32x4_t hi = vshrq_n_s32(vaddq_s32(vmull_n_s16(vget_high_s16(s), g), rnd), 12);
		vst1q_s16(dst + i, vcombine_s16(vqmovn_s32(lo), vqmovn_s32(hi)));
	}
	tt__gain_tail(dst, src, g, i, n);
}

static void acc_neon(int32_t *acc, const int16_t *src, size_t n)
{
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		int16x8_t s = vld1q_s16(src + i);
		vst1q_s32(acc + i, vaddw_s16(vld1q_s32(acc + i), vget_low_s16(s)));
		vst1q_s32(acc + i + 4, vaddw_s16(vld1q_s32(acc + i + 4), vget_high_s16(s)));
	}
	tt__acc_tail(acc, src, i, n);
}

static void sat_neon(int16_t *dst, const int32_t *acc, size_t n)
{
	size_t i = 0;
	for (; i + 8 <= n; i += 8)
		vst1q_s16(dst + i, vcombine_s16(vqmovn_s32(vld1q_s32(acc + i)),
						vqmovn_s32(vld1q_s32(acc + i + 4))));
	tt__sat_tail(dst, acc, i, n);
}

static void sub_sat_neon(int16_t *dst, const int32_t *acc, const int16_t *own, size_t n)
{
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		int16x8_t o = vld1q_s16(own + i);
		int32x4_t lo = vsubw_s16(vld1q_s32(acc + i), vget_low_s16(o));
		int32x4_t hi = vsubw_s16(vld1q_s32(acc + i + 4), vget_high_s16(o));
		vst1q_s16(dst + i, vcombine_s16(vqmovn_s32(lo), vqmovn_s32(hi)));
	}
	tt__sub_sat_tail(dst, acc, own, i, n);
}

const struct tt_mix_kernels tt__mix_kernels_neon = {
	.name = "neon",
	.gain = gain_neon,
	.acc = acc_neon,
	.sat = sat_neon,
	.sub_sat = sub_sat_neon,
};
