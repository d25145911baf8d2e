/* flood.h: outgoing pacing: the token bucket that keeps the bridge from being killed for
 * flooding, and the reconnect backoff.
 *
 * Thread: the owner's (core thread); pure arithmetic on a caller-supplied monotonic clock,
 * so tests drive it without sleeping. The struct is small and embedded by value. */
#ifndef TT_IRC_FLOOD_H
#define TT_IRC_FLOOD_H

#include <stdint.h>

struct tt__irc_flood {
	int64_t last_us;      /* when `tokens` was last brought up to date */
	int64_t tokens_us;    /* tokens, in units of interval_us (saves floating point) */
	int64_t interval_us;  /* one token every interval */
	int burst;            /* bucket size, in lines */
};

/* burst >= 1 lines, interval_ms >= 1. The bucket starts full. */
void tt__irc_flood_init(struct tt__irc_flood *f, int burst, int interval_ms, int64_t now_us);
/* Takes one token: returns 0 when the line may go now, else the microseconds to wait
 * before asking again (no token is taken then). */
int64_t tt__irc_flood_take(struct tt__irc_flood *f, int64_t now_us);

#endif

/* Reconnect delay after `attempt` consecutive failures (0 for the first): min * 2^attempt
 * capped at max, then "equal jitter": uniformly in [d/2, d], so that many puppets dropped
 * at once do not all come back in the same second. `rnd` is in [0, 1). */
int64_t tt__irc_backoff_ms(int64_t min_ms, int64_t max_ms, unsigned attempt, double rnd);
