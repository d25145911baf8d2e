/* bench_vad.c: tutti-bench-vad: how often speaker selection differs when quiet Opus inputs
 * without audio levels are judged by their SILK VAD flags ([media] opus_vad, the default)
 * instead of being decoded, on real speech and noise, and what it saves.
 *
 * A meeting of phones (no RFC 6464 levels, Opus VOIP mode at 32 kbit/s, as softphones and
 * desk phones send): T talkers take turns with espeak-ng's speech (with interruptions and
 * short overlaps), each over its own microphone noise; Q quiet participants send only
 * noise, from a near-silent -75 dBFS to a loud -40 dBFS fan, and one a steady mains hum.
 * The same packets go into two rooms in lockstep, one trusting the flags and one decoding
 * everything, and every tick's speaker sets are compared against the truth (which talker's
 * speech is on in that 20 ms).
 *
 * Usage: tutti-bench-vad [--seconds S] [--talkers T] [--quiet Q] [--seed N]
 *        (needs espeak-ng; writes its WAVs to a temporary directory) */
#include <errno.h>
#include <getopt.h>
#include <glib.h>
#include <math.h>
#include <opus.h>
#include <speex/speex_resampler.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tutti/mixer.h"
#include "tutti/wav.h"

#define RATE 48000
#define FRAME 960
#define MAXP 64

static const char *const sentences[] = {
	"The quarterly numbers look better than we expected, mostly because the new "
	"customers arrived early.",
	"I am not so sure about that. Could you share the slides again so we can all see them?",
	"Let us move on to the next item, the release date, which depends on the testing.",
	"Right, and the testing team needs two more weeks, maybe three if the lab is busy.",
	"Can everybody hear me? I think my connection dropped for a second there.",
	"Yes, we hear you fine. Go ahead with the budget question.",
};
static const char *const voices[] = { "en", "en+f3", "en-us", "en+m3", "en+f2", "en+m7" };

struct talker_audio {
	int16_t *pcm;   /* the participant's whole signal, RATE, noise included */
	bool *on;       /* per tick: its speech is on (the truth) */
};

static uint32_t rnd(uint32_t *s)
{
	*s = *s * 1664525u + 1013904223u;
	return *s >> 8;
}

static double urand(uint32_t *s)
{
	return (double)rnd(s) / (double)(1u << 24);
}

/* espeak-ng's sentence at RATE (it speaks at 22050 Hz). */
static int speak(const char *dir, unsigned i, int16_t **pcm, size_t *n)
{
	char *path = g_strdup_printf("%s/s%u.wav", dir, i);
	char *cmd = g_strdup_printf("espeak-ng -v %s -s 165 -w %s \"%s\"", voices[i % 6], path,
				    sentences[i % 6]);
	int rc = system(cmd);
	g_free(cmd);
	struct tt_wav w;
	if (rc != 0 || tt_wav_load(&w, path) != 0) {
		g_free(path);
		return -ENOENT;
	}
	g_free(path);
	int err;
	SpeexResamplerState *rs = speex_resampler_init(1, w.rate, RATE, 5, &err);
	spx_uint32_t in = (spx_uint32_t)w.n, out = (spx_uint32_t)(w.n * RATE / w.rate + 64);
	*pcm = g_new0(int16_t, out);
	speex_resampler_process_int(rs, 0, w.pcm, &in, *pcm, &out);
	speex_resampler_destroy(rs);
	*n = out;
	g_free(w.pcm);
	return 0;
}

static void add_noise(int16_t *pcm, size_t n, double dbfs, uint32_t *seed)
{
	double a = 32767.0 * pow(10.0, dbfs / 20.0) * sqrt(3.0);
	for (size_t i = 0; i < n; i++) {
		double v = pcm[i] + a * (2 * urand(seed) - 1);
		pcm[i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : lrint(v));
	}
}

static void add_hum(int16_t *pcm, size_t n, double dbfs)
{
	double a = 32767.0 * pow(10.0, dbfs / 20.0);
	for (size_t i = 0; i < n; i++) {
		double t = (double)i / RATE, v = 0;
		for (int h = 1; h <= 5; h += 2)
			v += sin(2 * M_PI * 50 * h * t) / h;
		pcm[i] = (int16_t)lrint(pcm[i] + a * v);
	}
}

struct room_run {
	struct tt_mixer_room *m;
	struct tt_mixer_part *p[MAXP];
	uint64_t missed, speech, noise_selected, set_ticks;
};

static int room_new(struct room_run *r, unsigned np, bool decode_all)
{
	struct tt_mixer_room_cfg cfg = {.rate = RATE, .max_parts = np, .cpu = TT_MIXER_CPU_AUTO,
					.decode_all_levels = decode_all};
	memset(r, 0, sizeof *r);
	int rc = tt_mixer_room_alloc(&r->m, &cfg);
	for (unsigned i = 0; !rc && i < np; i++) {
		struct tt_mixer_part_cfg pc = {.codec = "opus", .pt = 111, .ptime = 20,
					       .bitrate = 32000, .complexity = 5};
		rc = tt_mixer_part_add(&r->p[i], r->m, &pc);
	}
	return rc;
}

int main(int argc, char **argv)
{
	unsigned seconds = 120, nt = 4, nq = 28;
	uint32_t seed = 1, seed0;
	static const struct option lo[] = {
		{"seconds", 1, 0, 's'}, {"talkers", 1, 0, 't'}, {"quiet", 1, 0, 'q'},
		{"seed", 1, 0, 'r'}, {0, 0, 0, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's': seconds = (unsigned)atoi(optarg); break;
		case 't': nt = (unsigned)atoi(optarg); break;
		case 'q': nq = (unsigned)atoi(optarg); break;
		case 'r': seed = (uint32_t)atoi(optarg); break;
		default:
			fprintf(stderr, "usage: tutti-bench-vad [--seconds S] [--talkers T] "
					"[--quiet Q] [--seed N]\n");
			return 2;
		}
	}
	unsigned np = nt + nq, ticks = seconds * 50;
	if (nt < 1 || nt > 6 || np > MAXP || seconds < 10) {
		fprintf(stderr, "talkers 1..6, talkers + quiet <= %d, seconds >= 10\n", MAXP);
		return 2;
	}
	seed0 = seed;
	char *dir = g_dir_make_tmp("tt-bench-vad-XXXXXX", NULL);
	int16_t *clip[6];
	size_t clip_n[6];
	for (unsigned i = 0; i < 6; i++)
		if (!dir || speak(dir, i, &clip[i], &clip_n[i])) {
			fprintf(stderr, "tutti-bench-vad: espeak-ng is needed (apt-get install "
					"espeak-ng)\n");
			return 77;
		}

	/* the truth and the signals: turns of one sentence each, a random talker, pauses of
	 * 0.2-1.5 s, and one turn in four interrupted by another talker after 1-2 s */
	size_t total = (size_t)ticks * FRAME;
	struct talker_audio *a = calloc(np, sizeof *a);
	for (unsigned i = 0; i < np; i++) {
		a[i].pcm = calloc(total, sizeof(int16_t));
		a[i].on = calloc(ticks, sizeof(bool));
	}
	size_t at = RATE;
	unsigned turns = 0, overlaps = 0;
	while (at < total) {
		unsigned who = rnd(&seed) % nt, s = rnd(&seed) % 6;
		size_t len = clip_n[s];
		for (size_t k = 0; k < len && at + k < total; k++)
			a[who].pcm[at + k] = clip[s][k];
		if (nt > 1 && rnd(&seed) % 4 == 0) {
			unsigned other = (who + 1 + rnd(&seed) % (nt - 1)) % nt, s2 = rnd(&seed) % 6;
			size_t from = at + (size_t)((1.0 + urand(&seed)) * RATE);
			for (size_t k = 0; k < clip_n[s2] / 3 && from + k < total; k++)
				a[other].pcm[from + k] = (int16_t)(clip[s2][k] / 2);
			overlaps++;
		}
		turns++;
		at += len + (size_t)((0.2 + 1.3 * urand(&seed)) * RATE);
	}
	for (unsigned i = 0; i < nt; i++)
		for (unsigned t = 0; t < ticks; t++) {
			double e = 0;
			for (unsigned k = 0; k < FRAME; k++)
				e += (double)a[i].pcm[(size_t)t * FRAME + k] * a[i].pcm[(size_t)t * FRAME + k];
			/* speech is "on" when the frame is within 30 dB of full-scale speech */
			a[i].on[t] = 10 * log10(e / FRAME + 1e-9) - 90.3 > -40;
		}
	/* microphone noise: talkers -65 dBFS; the quiet ones from -75 to -40 dBFS, the last a
	 * steady hum at -35 dBFS */
	for (unsigned i = 0; i < np; i++) {
		double db = i < nt ? -65 : -75 + 35.0 * (i - nt) / (nq > 1 ? nq - 1 : 1);
		if (i == np - 1 && nq > 1)
			add_hum(a[i].pcm, total, -35);
		else
			add_noise(a[i].pcm, total, db, &seed);
	}

	OpusEncoder **enc = calloc(np, sizeof *enc);
	for (unsigned i = 0; i < np; i++) {
		int err;
		enc[i] = opus_encoder_create(RATE, 1, OPUS_APPLICATION_VOIP, &err);
		opus_encoder_ctl(enc[i], OPUS_SET_BITRATE(32000));
		opus_encoder_ctl(enc[i], OPUS_SET_COMPLEXITY(5));
	}
	struct room_run run[2];
	if (room_new(&run[0], np, false) || room_new(&run[1], np, true)) {
		fprintf(stderr, "tutti-bench-vad: room\n");
		return 1;
	}
	uint64_t differ = 0, enc_bytes = 0, enc_n = 0, sel[2][MAXP] = {{0}};
	uint16_t seq = 0;
	for (unsigned t = 0; t < ticks; t++) {
		uint64_t now = (uint64_t)t * 20000;
		for (unsigned i = 0; i < np; i++) {
			uint8_t pkt[1500];
			int len = opus_encode(enc[i], a[i].pcm + (size_t)t * FRAME, FRAME, pkt, sizeof pkt);
			if (len <= 0)
				continue;
			if (i >= nt) {
				enc_bytes += (uint64_t)len;
				enc_n++;
			}
			struct tt_mixer_pkt pk = {.payload = pkt, .len = (size_t)len, .seq = seq,
						  .ts = t * FRAME, .ssrc = 1000 + i,
						  .level = TT_MIXER_LEVEL_ABSENT, .arrival_us = now};
			for (int r = 0; r < 2; r++)
				tt_mixer_part_push(run[r].p[i], &pk);
		}
		seq++;
		uint64_t sets[2] = { 0, 0 };
		for (int r = 0; r < 2; r++) {
			tt_mixer_room_tick(run[r].m, now);
			for (unsigned i = 0; i < np; i++)
				if (tt_mixer_part_is_speaker(run[r].p[i])) {
					sets[r] |= 1ull << i;
					sel[r][i]++;
				}
			if (t < 50)
				continue;   /* the first second: everyone's encoder settles */
			for (unsigned i = 0; i < nt; i++) {
				/* the truth lags the mix by the jitter buffer's 20-40 ms and the
				 * selection's onset (two ticks above the threshold): a talker counts
				 * as missed only when on for the last 4 ticks */
				bool on = t >= 4 && a[i].on[t] && a[i].on[t - 1] && a[i].on[t - 2] &&
					  a[i].on[t - 3] && a[i].on[t - 4];
				run[r].speech += on;
				run[r].missed += on && !(sets[r] & (1ull << i));
			}
			for (unsigned i = nt; i < np; i++)
				run[r].noise_selected += (sets[r] >> i) & 1;
		}
		/* which quiet phone holds a free slot is a tie among noises, decided by
		 * hysteresis and history: only the talkers' places are compared */
		uint64_t talkers = (1ull << nt) - 1;
		if (t >= 50)
			differ += (sets[0] & talkers) != (sets[1] & talkers);
	}
	struct tt_mixer_room_stats st[2];
	for (int r = 0; r < 2; r++)
		tt_mixer_room_stats(run[r].m, &st[r]);
	unsigned measured = ticks - 50;
	printf("## Opus VAD flags against decoding every phone (tutti-bench-vad)\n\n");
	printf("%u s of a meeting: %u talkers (espeak-ng speech, %u turns, %u interrupted), %u quiet "
	       "phones (noise -75..-40 dBFS, one 50 Hz hum at -35 dBFS; their frames average %.1f "
	       "bytes), Opus VOIP 32 kbit/s, no audio levels, K = 3, seed %u.\n\n",
	       seconds, nt, turns, overlaps, nq, enc_n ? (double)enc_bytes / enc_n : 0, seed0);
	printf("| rule | decodes per tick | talker ticks missed (of on) | noise selected (participant ticks) | VAD quiet ticks | spot checks found loud |\n");
	printf("|---|---:|---:|---:|---:|---:|\n");
	for (int r = 0; r < 2; r++)
		printf("| %s | %.2f | %.2f %% (%llu of %llu) | %llu | %llu | %llu |\n",
		       r ? "decode every input (opus_vad = false)" : "VAD flags (opus_vad = true)",
		       (double)st[r].decodes / ticks,
		       run[r].speech ? 100.0 * (double)run[r].missed / (double)run[r].speech : 0,
		       (unsigned long long)run[r].missed, (unsigned long long)run[r].speech,
		       (unsigned long long)run[r].noise_selected,
		       (unsigned long long)st[r].vad_quiet, (unsigned long long)st[r].vad_distrusted);
	printf("\nTicks where the talkers in the speaker set differ between the two rules: %.2f %% "
	       "(%llu of %u); "
	       "decodes ratio flags/all: %.3f.\n",
	       100.0 * (double)differ / measured, (unsigned long long)differ, measured,
	       st[1].decodes ? (double)st[0].decodes / (double)st[1].decodes : 0);
	if (getenv("TT_BENCH_VAD_DEBUG"))
		for (unsigned i = 0; i < np; i++)
			fprintf(stderr, "participant %u: selected %llu / %llu ticks\n", i,
				(unsigned long long)sel[0][i], (unsigned long long)sel[1][i]);
	for (int r = 0; r < 2; r++)
		tt_mixer_room_free(run[r].m);
	for (unsigned i = 0; i < np; i++) {
		opus_encoder_destroy(enc[i]);
		free(a[i].pcm);
		free(a[i].on);
	}
	free(enc);
	free(a);
	for (unsigned i = 0; i < 6; i++)
		g_free(clip[i]);
	char *rm = g_strdup_printf("rm -rf %s", dir);
	if (system(rm) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	g_free(rm);
	g_free(dir);
	return 0;
}
