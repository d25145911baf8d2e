/* plc.h: SpanDSP's packet loss concealment, with a guard for a bug in Debian 12's copy. */
#ifndef TT_CODEC_PLC_H
#define TT_CODEC_PLC_H

#include "spandsp_inc.h"

/* plc_fillin(), safe: see plc.c. */
void tt__plc_fillin(plc_state_t *s, int16_t *amp, int len);

#endif
