/* level.c: level smoothing and talking detection with hysteresis: two thresholds 10 dB apart
 * and a hangover, so a breath between words is not a stop/start pair on everyone's roster. */
#include <math.h>

#include "level.h"

#define START_TICKS 2

void tt__level_init(struct tt__level *l)
{
	*l = (struct tt__level){.db = -127.0f};
}

float tt__level_pcm_dbov(const int16_t *pcm, size_t n)
{
	int64_t sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += (int32_t)pcm[i] * pcm[i];
	if (!n || !sum)
		return -127.0f;
	double db = 10.0 * log10((double)sum / (double)n / (32768.0 * 32768.0));
	return db < -127.0 ? -127.0f : (float)db;
}

int tt__level_update(struct tt__level *l, float obs_db, const struct tt__level_cfg *cfg)
{
	/* Instant attack: a voice is selected in the tick its first loud packet plays, so no
	 * onset is clipped (the 4 ms fade-in keeps it click-free). Slow release, so the level
	 * does not dip between syllables. Talking events still need START_TICKS. */
	if (obs_db > l->db)
		l->db = obs_db;
	else
		l->db += 0.2f * (obs_db - l->db);

	if (!l->talking) {
		l->above = l->db >= cfg->start_db ? l->above + 1 : 0;
		if (l->above >= START_TICKS) {
			l->talking = true;
			l->below = 0;
			return 1;
		}
		return 0;
	}
	l->below = l->db < cfg->stop_db ? l->below + 1 : 0;
	if (l->below > cfg->hangover) {
		l->talking = false;
		l->above = 0;
		return -1;
	}
	return 0;
}
