/* cpu.c: SIMD level detection once per process, the TT_MIXER_CPU override, and the const
 * kernel tables indexed by level (no mutable global function pointers). */
#include <pthread.h>
#include <stdlib.h>
#include <strings.h>

#include "tutti/errno.h"
#include "kernels.h"
#include "cpu.h"

extern const struct tt_mix_kernels tt__mix_kernels_c;
#ifdef TT_MIXER_X86
extern const struct tt_mix_kernels tt__mix_kernels_sse2;
extern const struct tt_mix_kernels tt__mix_kernels_avx2;
extern const struct tt_mix_kernels tt__mix_kernels_avx512;
#endif
#ifdef TT_MIXER_NEON
extern const struct tt_mix_kernels tt__mix_kernels_neon;
#endif

static const struct tt_mix_kernels *const kernels[TT_MIXER_CPU_COUNT] = {
	[TT_MIXER_CPU_SCALAR] = &tt__mix_kernels_c,
#ifdef TT_MIXER_X86
	[TT_MIXER_CPU_SSE2] = &tt__mix_kernels_sse2,
	[TT_MIXER_CPU_AVX2] = &tt__mix_kernels_avx2,
	[TT_MIXER_CPU_AVX512] = &tt__mix_kernels_avx512,
#endif
#ifdef TT_MIXER_NEON
	[TT_MIXER_CPU_NEON] = &tt__mix_kernels_neon,
#endif
};

static const char *const names[TT_MIXER_CPU_COUNT] = {"scalar", "sse2", "avx2", "avx512",
							   "neon"};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static enum tt_mixer_cpu hw_level, env_level;

static void detect(void)
{
	hw_level = tt__cpu_hw_level();
	env_level = hw_level;
	const char *s = getenv("TT_MIXER_CPU");
	int l = s && *s ? tt_mixer_cpu_parse(s) : -EINVAL;
	if (l >= 0 && l < (int)env_level)
		env_level = (enum tt_mixer_cpu)l;   /* only ever lower: higher could SIGILL */
}

enum tt_mixer_cpu tt_mixer_cpu_hw(void)
{
	pthread_once(&once, detect);
	return hw_level;
}

enum tt_mixer_cpu tt_mixer_cpu_detect(void)
{
	pthread_once(&once, detect);
	return env_level;
}

const char *tt_mixer_cpu_name(enum tt_mixer_cpu c)
{
	return (unsigned)c < TT_MIXER_CPU_COUNT ? names[c] : "?";
}

int tt_mixer_cpu_parse(const char *s)
{
	for (int i = 0; i < TT_MIXER_CPU_COUNT; i++)
		if (!strcasecmp(s, names[i]))
			return i;
	return -EINVAL;
}

const struct tt_mix_kernels *tt_mix_kernels_get(enum tt_mixer_cpu level)
{
	int l = (unsigned)level < TT_MIXER_CPU_COUNT ? (int)level : TT_MIXER_CPU_SCALAR;
	while (l > 0 && !kernels[l])
		l--;
	return kernels[l];
}
