/* level.h: a participant's smoothed voice level and talking state (internal).
 * Owned by one participant on the room's media worker thread; no allocation. */
#ifndef TT_MIXER_LEVEL_H
#define TT_MIXER_LEVEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tt__level {
	float db;           /* smoothed, dBov, -127..0 */
	bool talking;
	unsigned above;     /* consecutive ticks over the start threshold */
	unsigned below;     /* consecutive ticks under the stop threshold */
};

struct tt__level_cfg {
	float start_db;     /* talking starts after 2 ticks above this */
	float stop_db;      /* ... and stops after hangover ticks below this */
	unsigned hangover;
};

void tt__level_init(struct tt__level *l);
/* dBov of a frame: RMS against full scale, floored at -127 (RFC 6464's range). */
float tt__level_pcm_dbov(const int16_t *pcm, size_t n);
/* Feed one tick's observation; returns +1 (started talking), -1 (stopped) or 0. */
int tt__level_update(struct tt__level *l, float obs_db, const struct tt__level_cfg *cfg);

#endif
