/* helpers.h: senders, receivers and tone measurement for the mixer tests. */
#ifndef TT_MIXER_TEST_HELPERS_H
#define TT_MIXER_TEST_HELPERS_H

#include <stdbool.h>
#include <stdint.h>

#include "tutti/codec.h"
#include "tutti/mixer.h"

/* A remote endpoint: encodes a tone (or silence) and pushes packets into its participant;
 * decodes what the mixer sends back into `rx`. */
struct sender {
	struct tt_mixer_part *part;
	struct tt_codec_enc *enc;
	struct tt_codec_dec *dec;
	enum tt_codec_id codec;
	unsigned pcm_rate, rtp_rate, ptime;
	double freq, amp, phase;
	int level;            /* RFC 6464 value to send, or TT_MIXER_LEVEL_ABSENT */
	bool silent;
	uint16_t seq;
	uint32_t ts, ssrc;
	int16_t pcm[2880];
	unsigned fill;
	int16_t *rx;          /* decoded output, room for rx_cap samples */
	unsigned rx_len, rx_cap;
	uint32_t last_rx_ts;
	bool have_rx;
};

int sender_init(struct sender *s, struct tt_mixer_room *m, const char *codec, unsigned room_rate,
		unsigned ptime, double freq, double amp, int level, unsigned rx_cap);
void sender_fini(struct sender *s);
/* Produce 20 ms of audio; push the packets that complete (arrival at now_us). */
void sender_tick(struct sender *s, uint64_t now_us);
/* Decode this tick's output (if any) into rx. */
void sender_receive(struct sender *s);

/* Amplitude of `freq` in pcm (Goertzel), as dBFS of a sine's peak. */
double tone_dbfs(const int16_t *pcm, unsigned n, unsigned rate, double freq);
double rms_dbfs(const int16_t *pcm, unsigned n);
/* Energy that is not a 1 kHz sine (least-squares fit, any phase) against the sine, dB. */
double residual_db(const int16_t *x, unsigned n, unsigned rate);

#endif
