/* kernels_c.c: the portable scalar reference kernels (built with -fno-tree-vectorize so the
 * benchmark's scalar baseline really is scalar). */
#include "kernels.h"
#include "kernels_impl.h"

static void gain_c(int16_t *dst, const int16_t *src, int16_t g, size_t n)
{
	tt__gain_tail(dst, src, g, 0, n);
}

static void acc_c(int32_t *acc, const int16_t *src, size_t n)
{
	tt__acc_tail(acc, src, 0, n);
}

static void sat_c(int16_t *dst, const int32_t *acc, size_t n)
{
	tt__sat_tail(dst, acc, 0, n);
}

static void sub_sat_c(int16_t *dst, const int32_t *acc, const int16_t *own, size_t n)
{
	tt__sub_sat_tail(dst, acc, own, 0, n);
}

const struct tt_mix_kernels tt__mix_kernels_c = {
	.name = "scalar",
	.gain = gain_c,
	.acc = acc_c,
	.sat = sat_c,
	.sub_sat = sub_sat_c,
};
