/* cpu_generic.c: CPU level on architectures without SIMD kernels yet: scalar. */
#include "tutti/mixer.h"
#include "cpu.h"

enum tt_mixer_cpu tt__cpu_hw_level(void)
{
	return TT_MIXER_CPU_SCALAR;
}
