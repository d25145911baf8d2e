/* flood.c: outgoing token bucket; integer microseconds so refills never drift. */
#include "flood.h"

void tt__irc_flood_init(struct tt__irc_flood *f, int burst, int interval_ms, int64_t now_us)
{
	f->burst = burst < 1 ? 1 : burst;
	f->interval_us = (int64_t)(interval_ms < 1 ? 1 : interval_ms) * 1000;
	f->tokens_us = f->burst * f->interval_us;
	f->last_us = now_us;
}

int64_t tt__irc_flood_take(struct tt__irc_flood *f, int64_t now_us)
{
	int64_t cap = f->burst * f->interval_us;
	if (now_us > f->last_us) {
		f->tokens_us += now_us - f->last_us;
		if (f->tokens_us > cap)
			f->tokens_us = cap;
	}
	f->last_us = now_us;
	if (f->tokens_us >= f->interval_us) {
		f->tokens_us -= f->interval_us;
		return 0;
	}
	return f->interval_us - f->tokens_us;
}
