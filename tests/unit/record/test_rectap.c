/* test_rectap.c: the mixer's recording tap. The recorded mix costs no encode where
 * listeners share an Opus encoder, and still comes every tick when everyone is a speaker
 * (nobody listens to the shared mix) or nobody speaks Opus; the room-wide notice is heard by
 * every participant and is in the recording; a participant's pulled units are its packets. */
#include <math.h>
#include <opus.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "tt_test.h"

#define TICKS 50

static struct tt_codec_params rec_params(void)
{
	return (struct tt_codec_params){ .room_rate = 48000, .ptime = 20, .bitrate = 32000,
					 .complexity = 5 };
}

/* Decodes the recorded packets of each tick into pcm (48 kHz). */
struct rec_rx {
	OpusDecoder *dec;
	int16_t *pcm;
	unsigned len, cap, packets;
};

static void rec_take(struct rec_rx *r, struct tt_mixer_room *m)
{
	struct tt_mixer_out o;
	tt_mixer_room_record_out(m, &o);
	for (unsigned i = 0; i < o.n; i++) {
		r->packets++;
		if (r->len + 960 > r->cap)
			continue;
		int n = opus_decode(r->dec, o.payload[i].data, (opus_int32)o.payload[i].len,
				    r->pcm + r->len, 960, 0);
		if (n > 0)
			r->len += (unsigned)n;
	}
}

static void run_room(const char *codec, bool listeners, unsigned *packets, double *tone,
		     unsigned *enc_per_tick_on, unsigned *enc_per_tick_off)
{
	struct tt_mixer_room *m = NULL;
	struct tt_mixer_room_cfg cfg = {.rate = 48000, .max_parts = 8, .cpu = TT_MIXER_CPU_AUTO};
	struct sender s[4];
	unsigned n = listeners ? 4 : 2;   /* 2 talkers, K = 3: with 4, two listen */
	tt_mixer_room_alloc(&m, &cfg);
	for (unsigned i = 0; i < n; i++) {
		sender_init(&s[i], m, codec, 48000, 20, i == 0 ? 500 : i == 1 ? 900 : 0, 6000, 15,
			    48000 / 50 * TICKS * 2);
		s[i].silent = i >= 2;
	}
	struct rec_rx r = { .cap = 960 * TICKS * 2 };
	int e;
	r.dec = opus_decoder_create(48000, 1, &e);
	r.pcm = calloc(r.cap, sizeof(*r.pcm));
	unsigned enc_off = 0, enc_on = 0;
	struct tt_codec_params p = rec_params();
	for (int t = 0; t < 2 * TICKS; t++) {
		uint64_t now = (uint64_t)t * 20000;
		if (t == TICKS)
			tt_mixer_room_record(m, &p);
		for (unsigned i = 0; i < n; i++)
			sender_tick(&s[i], now);
		tt_mixer_room_tick(m, now + 1000);
		struct tt_mixer_room_stats st;
		tt_mixer_room_stats(m, &st);
		if (t > TICKS / 2 && t < TICKS)
			enc_off += st.encodes_last_tick;
		if (t > TICKS + TICKS / 2)
			enc_on += st.encodes_last_tick;
		if (t >= TICKS)
			rec_take(&r, m);
		for (unsigned i = 0; i < n; i++)
			sender_receive(&s[i]);
	}
	*packets = r.packets;
	/* the last half second: both talkers in the recording */
	*tone = fmin(tone_dbfs(r.pcm + r.len - 24000, 24000, 48000, 500),
		     tone_dbfs(r.pcm + r.len - 24000, 24000, 48000, 900));
	*enc_per_tick_on = enc_on;
	*enc_per_tick_off = enc_off;
	tt_mixer_room_record(m, NULL);
	for (unsigned i = 0; i < n; i++)
		sender_fini(&s[i]);
	tt_mixer_room_free(m);
	opus_decoder_destroy(r.dec);
	free(r.pcm);
}

TT_TEST(record_mix_shares_the_listeners_encoder)
{
	unsigned pk, on, off;
	double tone;
	run_room("opus", true, &pk, &tone, &on, &off);
	TT_ASSERT_MSG(pk == TICKS, "%u recorded packets in %d ticks", pk, TICKS);
	TT_ASSERT_MSG(tone > -40, "the talkers in the recording: %.1f dBFS", tone);
	/* same encodes per tick with and without the recording (windows of equal length) */
	TT_ASSERT_MSG(on <= off, "recording added encodes: %u against %u", on, off);
}

TT_TEST(record_mix_every_tick_without_listeners)
{
	unsigned pk, on, off;
	double tone;
	run_room("opus", false, &pk, &tone, &on, &off);   /* both talkers are speakers */
	TT_ASSERT_MSG(pk == TICKS, "%u recorded packets in %d ticks", pk, TICKS);
	TT_ASSERT_MSG(tone > -40, "the talkers in the recording: %.1f dBFS", tone);
	run_room("pcmu", true, &pk, &tone, &on, &off);    /* nobody speaks Opus */
	TT_ASSERT_MSG(pk == TICKS, "G.711 room: %u recorded packets in %d ticks", pk, TICKS);
	TT_ASSERT_MSG(tone > -40, "G.711 room: the talkers in the recording: %.1f dBFS", tone);
	TT_ASSERT_MSG(on > off, "G.711 room: the recording's own encoder is not counted");
}

TT_TEST(record_room_notice_heard_by_all_and_recorded)
{
	struct tt_mixer_room *m = NULL;
	struct tt_mixer_room_cfg cfg = {.rate = 48000, .max_parts = 8, .cpu = TT_MIXER_CPU_AUTO};
	struct sender s[3];   /* 0 talks (a speaker), 1 and 2 listen (one G.711) */
	tt_mixer_room_alloc(&m, &cfg);
	const char *codec[3] = { "opus", "opus", "pcmu" };
	for (int i = 0; i < 3; i++) {
		TT_ASSERT_INT_EQ(sender_init(&s[i], m, codec[i], 48000, 20, i == 0 ? 500 : 0, 6000,
					     15, 48000 / 50 * TICKS), 0);
		s[i].silent = i != 0;
	}
	struct tt_codec_params p = rec_params();
	TT_ASSERT_INT_EQ(tt_mixer_room_record(m, &p), 0);
	unsigned n = 48000;   /* 1 s of 1200 Hz */
	int16_t *pcm = malloc(n * sizeof(*pcm));
	for (unsigned i = 0; i < n; i++)
		pcm[i] = (int16_t)lrint(8000 * sin(2 * M_PI * 1200 * i / 48000));
	TT_ASSERT_INT_EQ(tt_mixer_room_play(m, pcm, n), 0);
	free(pcm);
	struct rec_rx r = { .cap = 960 * TICKS };
	int e;
	r.dec = opus_decoder_create(48000, 1, &e);
	r.pcm = calloc(r.cap, sizeof(*r.pcm));
	unsigned units = 0, packets = 0;
	for (int t = 0; t < TICKS; t++) {
		uint64_t now = (uint64_t)t * 20000;
		for (int i = 0; i < 3; i++)
			sender_tick(&s[i], now);
		tt_mixer_room_tick(m, now + 1000);
		struct tt_mixer_unit u[TT_MIXER_UNITS_MAX];
		unsigned k = tt_mixer_part_pulled(s[0].part, u, TT_MIXER_UNITS_MAX);
		for (unsigned j = 0; j < k; j++) {
			units++;
			packets += u[j].data != NULL && u[j].len > 2;
		}
		rec_take(&r, m);
		for (int i = 0; i < 3; i++)
			sender_receive(&s[i]);
	}
	TT_ASSERT_MSG(units >= TICKS - 1 && packets >= TICKS / 2, "pulled %u units, %u packets",
		      units, packets);
	/* 0.4 .. 0.9 s: the notice plays */
	for (int i = 0; i < 3; i++) {
		unsigned rate = i == 2 ? 8000 : 48000, from = rate * 4 / 10, len = rate / 2;
		double db = tone_dbfs(s[i].rx + from, len, rate, 1200);
		TT_ASSERT_MSG(db > -30, "participant %d hears the notice at %.1f dBFS", i, db);
	}
	double db = tone_dbfs(r.pcm + 19200, 24000, 48000, 1200);
	TT_ASSERT_MSG(db > -30, "the recording has the notice at %.1f dBFS", db);
	double talker = tone_dbfs(r.pcm + 19200, 24000, 48000, 500);
	TT_ASSERT_MSG(talker > -40, "the recording has the talker at %.1f dBFS", talker);
	for (int i = 0; i < 3; i++)
		sender_fini(&s[i]);
	tt_mixer_room_free(m);
	opus_decoder_destroy(r.dec);
	free(r.pcm);
}
