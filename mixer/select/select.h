/* select.h: top-K speaker selection with hangover and a switch margin (internal).
 * Pure functions over caller arrays, on the room's media worker thread; no allocation. */
#ifndef TT_MIXER_SELECT_H
#define TT_MIXER_SELECT_H

#include <stdbool.h>

struct tt__sel_cand {
	void *who;
	float db;
};

struct tt__sel_spk {
	void *who;
	float db;
	bool allowed;     /* not muted, not on hold, still present */
	bool loud;        /* above the noise floor */
	unsigned quiet;   /* ticks spent not loud */
};

struct tt__sel_cfg {
	unsigned k;
	unsigned hangover;   /* ticks a quiet speaker keeps its slot */
	float margin_db;     /* a challenger must be this much louder to take a slot */
};

/* Keep top[] (at most k, loudest first) as the loudest candidates seen. */
void tt__sel_offer(struct tt__sel_cand *top, unsigned *ntop, unsigned k, void *who, float db);

/* Update the speaker set in place from this tick's state and the best non-speakers (top[],
 * loudest first). Speakers that leave go to out[] (room for 2k). Returns the new count;
 * entries that joined have quiet == 0 and are listed in in[] (room for k). */
unsigned tt__sel_update(struct tt__sel_spk *spk, unsigned nspk, const struct tt__sel_cfg *cfg,
			const struct tt__sel_cand *top, unsigned ntop,
			void **out, unsigned *nout, void **in, unsigned *nin);

#endif
