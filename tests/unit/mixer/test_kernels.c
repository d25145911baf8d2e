/* test_kernels.c: every SIMD kernel equals the scalar reference bit for bit, at every level
 * this CPU offers, on odd lengths, unaligned buffers and values at the int16 limits. */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "tt_test.h"
#include "kernels.h"

#define MAXN 1000

static uint32_t rng = 12345;

static int16_t rnd16(void)
{
	rng = rng * 1664525u + 1013904223u;
	/* a third of the values at or near the limits */
	switch ((rng >> 8) % 6) {
	case 0: return 32767;
	case 1: return -32768;
	case 2: return (int16_t)(32767 - (int)((rng >> 16) & 3));
	default: return (int16_t)(rng >> 16);
	}
}

static int32_t rnd32(void)
{
	rng = rng * 1664525u + 1013904223u;
	switch ((rng >> 4) % 4) {
	case 0: return 3 * 32767 + (int32_t)((rng >> 12) & 1023);   /* saturates high */
	case 1: return -3 * 32768 - (int32_t)((rng >> 12) & 1023);  /* saturates low */
	default: return (int32_t)(rng >> 8) % 70000 - 35000;
	}
}

static const size_t lengths[] = {0, 1, 7, 8, 15, 16, 17, 31, 33, 63, 65, 160, 479, 960, 999};

TT_TEST(mixer_kernels_bitexact)
{
	const struct tt_mix_kernels *ref = tt_mix_kernels_get(TT_MIXER_CPU_SCALAR);
	enum tt_mixer_cpu hw = tt_mixer_cpu_hw();
	/* +1 element so that offset 1 makes every vector access unaligned */
	int16_t *src = malloc((MAXN + 1) * 2), *own = malloc((MAXN + 1) * 2);
	int16_t *d1 = malloc((MAXN + 1) * 2), *d2 = malloc((MAXN + 1) * 2);
	int32_t *a1 = malloc((MAXN + 1) * 4), *a2 = malloc((MAXN + 1) * 4);
	static const int16_t gains[] = {0, 1, 4096, 2048, 4095, 12345, 32767};
	unsigned tried = 0;

	TT_ASSERT(src && own && d1 && d2 && a1 && a2);
	for (int lvl = TT_MIXER_CPU_SSE2; lvl <= (int)hw; lvl++) {
		const struct tt_mix_kernels *k = tt_mix_kernels_get((enum tt_mixer_cpu)lvl);
		tried++;
		for (size_t li = 0; li < sizeof(lengths) / sizeof(lengths[0]); li++) {
			for (int off = 0; off < 2; off++) {
				size_t n = lengths[li];
				int16_t *s = src + off, *o = own + off;
				for (size_t i = 0; i < n; i++) {
					s[i] = rnd16();
					o[i] = rnd16();
					a1[off + i] = a2[off + i] = rnd32();
				}
				for (size_t g = 0; g < sizeof(gains) / sizeof(gains[0]); g++) {
					ref->gain(d1 + off, s, gains[g], n);
					k->gain(d2 + off, s, gains[g], n);
					for (size_t i = 0; i < n; i++)
						TT_ASSERT_MSG(d1[off + i] == d2[off + i],
							      "%s gain n=%zu i=%zu g=%d", k->name, n,
							      i, gains[g]);
				}
				ref->acc(a1 + off, s, n);
				k->acc(a2 + off, s, n);
				for (size_t i = 0; i < n; i++)
					TT_ASSERT_MSG(a1[off + i] == a2[off + i], "%s acc n=%zu i=%zu",
						      k->name, n, i);
				ref->sat(d1 + off, a1 + off, n);
				k->sat(d2 + off, a2 + off, n);
				for (size_t i = 0; i < n; i++)
					TT_ASSERT_MSG(d1[off + i] == d2[off + i], "%s sat n=%zu i=%zu",
						      k->name, n, i);
				ref->sub_sat(d1 + off, a1 + off, o, n);
				k->sub_sat(d2 + off, a2 + off, o, n);
				for (size_t i = 0; i < n; i++)
					TT_ASSERT_MSG(d1[off + i] == d2[off + i],
						      "%s sub_sat n=%zu i=%zu", k->name, n, i);
			}
		}
	}
	printf("kernels: checked %u SIMD level(s) up to %s\n", tried, tt_mixer_cpu_name(hw));
	free(src); free(own); free(d1); free(d2); free(a1); free(a2);
}

TT_TEST(mixer_kernels_saturate_not_wrap)
{
	for (int lvl = 0; lvl <= (int)tt_mixer_cpu_hw(); lvl++) {
		const struct tt_mix_kernels *k = tt_mix_kernels_get((enum tt_mixer_cpu)lvl);
		int32_t acc[37] = {0};
		int16_t loud[37], out[37];
		for (int i = 0; i < 37; i++)
			loud[i] = (i & 1) ? 30000 : -30000;
		for (int t = 0; t < 3; t++)
			k->acc(acc, loud, 37);
		k->sat(out, acc, 37);
		for (int i = 0; i < 37; i++)
			TT_ASSERT_INT_EQ(out[i], (i & 1) ? 32767 : -32768);
		/* N-1 of a clipped sum is computed from the exact sum, not the clipped one */
		k->sub_sat(out, acc, loud, 37);
		for (int i = 0; i < 37; i++)
			TT_ASSERT_INT_EQ(out[i], (i & 1) ? 32767 : -32768);
		int16_t big[37];
		for (int i = 0; i < 37; i++)
			big[i] = (i & 1) ? 32767 : -32768;
		k->gain(out, big, 8192, 37);          /* +6 dB on full scale */
		for (int i = 0; i < 37; i++)
			TT_ASSERT_INT_EQ(out[i], (i & 1) ? 32767 : -32768);
	}
}

TT_TEST(mixer_cpu_override_parse)
{
	TT_ASSERT_INT_EQ(tt_mixer_cpu_parse("scalar"), TT_MIXER_CPU_SCALAR);
	TT_ASSERT_INT_EQ(tt_mixer_cpu_parse("AVX2"), TT_MIXER_CPU_AVX2);
	TT_ASSERT(tt_mixer_cpu_parse("neon9") < 0);
	TT_ASSERT(tt_mixer_cpu_detect() <= tt_mixer_cpu_hw());
	/* the environment override is honoured by a fresh process, at every level */
	char exe[512], cmd[700];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	TT_ASSERT(n > 0);
	exe[n] = 0;
	for (int l = 0; l <= (int)tt_mixer_cpu_hw(); l++) {
		snprintf(cmd, sizeof(cmd), "TT_MIXER_CPU=%s '%s' -t mixer_cpu_env_child >/dev/null",
			 tt_mixer_cpu_name((enum tt_mixer_cpu)l), exe);
		TT_ASSERT_MSG(system(cmd) == 0, "child at %s", tt_mixer_cpu_name((enum tt_mixer_cpu)l));
	}
}

TT_TEST(mixer_cpu_env_child)
{
	const char *e = getenv("TT_MIXER_CPU");
	if (!e)
		tt_test_skip("only run by mixer_cpu_override_parse");
	TT_ASSERT_INT_EQ(tt_mixer_cpu_detect(), tt_mixer_cpu_parse(e));
	struct tt_mixer_room *m = NULL;
	struct tt_mixer_room_cfg cfg = {.rate = 48000, .max_parts = 2, .cpu = TT_MIXER_CPU_AUTO};
	TT_ASSERT_INT_EQ(tt_mixer_room_alloc(&m, &cfg), 0);
	TT_ASSERT_INT_EQ(tt_mixer_room_cpu(m), tt_mixer_cpu_parse(e));
	tt_mixer_room_free(m);
}
