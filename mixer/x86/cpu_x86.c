/* cpu_x86.c: what SIMD level this x86 CPU *and* OS support (CPUID plus XGETBV: a CPU with
 * AVX is useless if the kernel does not save the YMM/ZMM state on context switches). */
#include <cpuid.h>
#include <stdint.h>

#include "tutti/mixer.h"
#include "../cpu.h"

static uint64_t xgetbv0(void)
{
	uint32_t lo, hi;
	/* Encoded as bytes so this file needs no -mxsave. */
	__asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32) | lo;
}

enum tt_mixer_cpu tt__cpu_hw_level(void)
{
	unsigned a, b, c, d;
	enum tt_mixer_cpu lvl = TT_MIXER_CPU_SCALAR;

	if (!__get_cpuid(1, &a, &b, &c, &d))
		return lvl;
	if (!(d & bit_SSE2))
		return lvl;
	lvl = TT_MIXER_CPU_SSE2;
	if (!(c & bit_OSXSAVE) || !(c & bit_AVX))
		return lvl;
	uint64_t xcr0 = xgetbv0();
	if ((xcr0 & 0x6) != 0x6)          /* XMM and YMM state */
		return lvl;
	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(b & bit_AVX2))
		return lvl;
	lvl = TT_MIXER_CPU_AVX2;
	if ((xcr0 & 0xe6) == 0xe6 && (b & bit_AVX512F) && (b & bit_AVX512BW))
		lvl = TT_MIXER_CPU_AVX512;  /* opmask, ZMM_Hi256 and Hi16_ZMM state too */
	return lvl;
}
