/* flood.c: outgoing pacing: token bucket (integer microseconds, no drift) and backoff. */
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

int64_t tt__irc_backoff_ms(int64_t min_ms, int64_t max_ms, unsigned attempt, double rnd)
{
	if (min_ms < 1)
		min_ms = 1;
	if (max_ms < min_ms)
		max_ms = min_ms;
	int64_t d = min_ms;
	for (unsigned i = 0; i < attempt && d < max_ms; i++)
		d *= 2;
	if (d > max_ms)
		d = max_ms;
	if (rnd < 0 || rnd >= 1)
		rnd = 0;
	return d / 2 + (int64_t)((double)(d - d / 2) * rnd);
}
