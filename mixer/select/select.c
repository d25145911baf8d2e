/* select.c: the K loudest voices, stable: a speaker keeps its slot through short pauses
 * (hangover), and a newcomer displaces the quietest speaker only when louder by a margin, so
 * two voices at equal level never trade places every tick. */
#include "select.h"

void tt__sel_offer(struct tt__sel_cand *top, unsigned *ntop, unsigned k, void *who, float db)
{
	unsigned n = *ntop, i;
	if (n == k && (k == 0 || db <= top[n - 1].db))
		return;
	if (n < k)
		n++;
	/* Insertion into a k-long sorted array: k is small (3), N is large. */
	for (i = n - 1; i > 0 && top[i - 1].db < db; i--)
		top[i] = top[i - 1];
	top[i] = (struct tt__sel_cand){who, db};
	*ntop = n;
}

static void drop(struct tt__sel_spk *spk, unsigned *n, unsigned i, void **out, unsigned *nout)
{
	out[(*nout)++] = spk[i].who;
	spk[i] = spk[--*n];
}

unsigned tt__sel_update(struct tt__sel_spk *spk, unsigned n, const struct tt__sel_cfg *cfg,
			const struct tt__sel_cand *top, unsigned ntop,
			void **out, unsigned *nout, void **in, unsigned *nin)
{
	*nout = *nin = 0;
	for (unsigned i = 0; i < n;) {
		if (!spk[i].allowed) {
			drop(spk, &n, i, out, nout);
			continue;
		}
		spk[i].quiet = spk[i].loud ? 0 : spk[i].quiet + 1;
		if (spk[i].quiet > cfg->hangover) {
			drop(spk, &n, i, out, nout);
			continue;
		}
		i++;
	}
	unsigned t = 0;
	for (; t < ntop && n < cfg->k; t++) {
		spk[n++] = (struct tt__sel_spk){.who = top[t].who, .db = top[t].db,
						.allowed = true, .loud = true};
		in[(*nin)++] = top[t].who;
	}
	for (; t < ntop; t++) {
		unsigned q = 0;
		for (unsigned i = 1; i < n; i++)
			if (spk[i].db < spk[q].db)
				q = i;
		if (n == 0 || top[t].db < spk[q].db + cfg->margin_db)
			break;
		out[(*nout)++] = spk[q].who;
		spk[q] = (struct tt__sel_spk){.who = top[t].who, .db = top[t].db,
					      .allowed = true, .loud = true};
		in[(*nin)++] = top[t].who;
	}
	return n;
}
