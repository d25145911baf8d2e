/* cpu_arm.c: AArch64 always has NEON (Advanced SIMD is mandatory in ARMv8-A). */
#include "tutti/mixer.h"
#include "../cpu.h"

enum tt_mixer_cpu tt__cpu_hw_level(void)
{
	return TT_MIXER_CPU_NEON;
}
