/* lg_stream.c: what the load generator measures on each return stream: loss and jitter
 * (RFC 3550, via the transport library), late packets, which tones are audible, and tone
 * onsets for latency. */
#include <string.h>

#include "lg.h"

void lg_rx_init(struct lg_rx *rx, uint32_t ts_rate, bool analyse, int ntones)
{
	memset(rx, 0, sizeof *rx);
	rx->ts_rate = ts_rate;
	rx->analyse = analyse;
	rx->ntones = ntones > LG_MAX_TONES ? LG_MAX_TONES : ntones;
}

void lg_rx_packet(struct lg_rx *rx, uint32_t ssrc, uint16_t seq, uint32_t ts,
		  int64_t arrival_us, int64_t late_us)
{
	uint32_t arrival = (uint32_t)((uint64_t)arrival_us * rx->ts_rate / 1000000u);
	tt_rtp_rxstats_update(&rx->rs, ssrc, seq, ts, arrival);
	rx->packets++;
	/* Transit relative to the fastest packet: a steady sender makes this the queueing
	 * delay; ts unwraps through int32 differences from the first packet. */
	if (!rx->have_base)
		rx->ts0 = ts;
	int64_t ts_us = (int64_t)(int32_t)(ts - rx->ts0) * 1000000 / rx->ts_rate;
	int64_t transit = arrival_us - ts_us;
	if (!rx->have_base || transit < rx->min_transit_us) {
		rx->min_transit_us = transit;
		rx->have_base = true;
	}
	if (transit - rx->min_transit_us > late_us)
		rx->late++;
}

void lg_rx_frame(struct lg_rx *rx, const int16_t *pcm, size_t n, int rate, int64_t arrival_us)
{
	if (!rx->analyse)
		return;
	double total = lg_power(pcm, n);
	rx->total_energy += total;
	rx->frames++;
	double e0 = 0;
	for (int k = 0; k < rx->ntones; k++) {
		/* Goertzel power of a sine of amplitude A is A^2/4; mean square is A^2/2. */
		double e = 2.0 * lg_goertzel(pcm, n, rate, lg_tone_freq(k));
		rx->tone_energy[k] += e;
		if (k == 0)
			e0 = e;
	}
	/* Tone 0 is gated on and off by its talker; an onset is a frame where it appears
	 * with at least a tenth of full scale after being absent. */
	bool on = e0 > 0.001;
	if (on && !rx->tone0_on && rx->n_onsets < 64)
		rx->onset_rx_us[rx->n_onsets++] = arrival_us;
	rx->tone0_on = on;
}

unsigned lg_rx_tones(const struct lg_rx *rx, double share)
{
	unsigned mask = 0;
	if (rx->frames == 0 || rx->total_energy <= 0)
		return 0;
	for (int k = 0; k < rx->ntones; k++)
		if (rx->tone_energy[k] / rx->total_energy >= share)
			mask |= 1u << k;
	return mask;
}
