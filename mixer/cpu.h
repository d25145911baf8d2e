/* cpu.h: the per-architecture hook behind tt_mixer_cpu_detect(). */
#ifndef TT_MIXER_CPU_H
#define TT_MIXER_CPU_H

#include "tutti/mixer.h"

/* What the hardware and OS support; called once (pthread_once). */
enum tt_mixer_cpu tt__cpu_hw_level(void);

#endif
