/* plc.c: SpanDSP PLC guard. libspandsp 0.0.6 (Debian 12) rotates the history buffer with
 * memcpy() between overlapping ranges at the start of every loss (normalise_history), which
 * is undefined behaviour whenever buf_ptr < PLC_HISTORY_LEN / 2; our fuzzer hit it
 * (ASan memcpy-param-overlap). Upstream SpanDSP now uses a memmove there. We do the same
 * rotation ourselves, with memmove, so the library finds buf_ptr == 0 and skips its copy. */
#include <string.h>

#include "plc.h"

void tt__plc_fillin(plc_state_t *s, int16_t *amp, int len)
{
	if (s->missing_samples == 0 && s->buf_ptr > 0 && s->buf_ptr < PLC_HISTORY_LEN) {
		int16_t tmp[PLC_HISTORY_LEN];
		int p = s->buf_ptr;
		memcpy(tmp, s->history, (size_t)p * sizeof(*tmp));
		memmove(s->history, s->history + p, (size_t)(PLC_HISTORY_LEN - p) * sizeof(*tmp));
		memcpy(s->history + PLC_HISTORY_LEN - p, tmp, (size_t)p * sizeof(*tmp));
		s->buf_ptr = 0;
	}
	plc_fillin(s, amp, len);
}
