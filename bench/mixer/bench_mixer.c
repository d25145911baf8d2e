/* bench_mixer.c: tutti-bench-mixer: kernel cost per level (and speed-up over scalar measured
 * in the same run), whole-room tick cost for 10..5,000 participants, participants per core.
 *
 * Usage: tutti-bench-mixer [-q]   (-q: quick, fewer ticks and no 5,000 rooms) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tutti/codec.h"
#include "tutti/mixer.h"
#include "kernels.h"

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void machine(void)
{
	char line[256], model[256] = "?";
	FILE *f = fopen("/proc/cpuinfo", "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "model name", 10)) {
			char *c = strchr(line, ':');
			snprintf(model, sizeof(model), "%s", c ? c + 2 : line);
			model[strcspn(model, "\n")] = 0;
			break;
		}
	if (f)
		fclose(f);
	printf("machine: %s, %ld online CPUs; compiler %s; mixer level %s (hw %s)\n", model,
	       sysconf(_SC_NPROCESSORS_ONLN), __VERSION__,
	       tt_mixer_cpu_name(tt_mixer_cpu_detect()), tt_mixer_cpu_name(tt_mixer_cpu_hw()));
}

/* ---- 1. kernels ---- */

static double time_kernel(const struct tt_mix_kernels *k, int which, unsigned iters)
{
	/* Separate allocations, as in the room (p->contrib, m->acc, m->nm1); adjacent static
	 * arrays would let stores to out alias loads from acc modulo 4 KiB. */
	static int16_t *own, *out;
	static int32_t *acc;
	if (!own) {
		own = aligned_alloc(64, 960 * sizeof(*own) + 64);
		out = aligned_alloc(64, 960 * sizeof(*out) + 64);
		acc = aligned_alloc(64, 960 * sizeof(*acc));
	}
	for (int i = 0; i < 960; i++) {
		own[i] = (int16_t)(i * 37);
		acc[i] = i * 1111 - 500000;
	}
	double t0 = now_s();
	for (unsigned i = 0; i < iters; i++) {
		if (which == 0)
			k->sub_sat(out, acc, own, 960);
		else if (which == 1)
			k->acc(acc, own, 960);
		else
			k->gain(out, own, 3000, 960);
		__asm__ volatile("" ::: "memory");
	}
	return (now_s() - t0) / iters * 1e6;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

#define REPS 9

/* Levels are timed interleaved, REPS rounds, and the median kept: this machine is shared,
 * and timing scalar and SIMD at different moments would compare different loads. */
static double kernels(void)
{
	static const char *what[3] = {"N-1 step (sub+sat)", "accumulate", "gain"};
	double t[TT_MIXER_CPU_COUNT][3][REPS], med[TT_MIXER_CPU_COUNT][3];
	int top = (int)tt_mixer_cpu_detect();
	double avx2_nm1 = 0, ratio_avx2 = 0;
	for (int r = 0; r < REPS; r++)
		for (int w = 0; w < 3; w++)
			for (int l = 0; l <= top; l++)
				t[l][w][r] = time_kernel(tt_mix_kernels_get((enum tt_mixer_cpu)l), w,
							 l == 0 ? 5000 : 50000);
	printf("\n## 1. kernels, 48 kHz, 960 samples: us per participant per tick "
	       "(median of %d interleaved rounds; x = speed-up over scalar)\n", REPS);
	printf("%-8s %20s %20s %20s\n", "level", what[0], what[1], what[2]);
	for (int l = 0; l <= top; l++) {
		const struct tt_mix_kernels *k = tt_mix_kernels_get((enum tt_mixer_cpu)l);
		printf("%-8s", k->name);
		for (int w = 0; w < 3; w++) {
			qsort(t[l][w], REPS, sizeof(double), cmp_d);
			med[l][w] = t[l][w][REPS / 2];
			char cell[64];
			snprintf(cell, sizeof(cell), "%.4f (x%.1f)", med[l][w], med[0][w] / med[l][w]);
			printf(" %20s", cell);
		}
		printf("\n");
	}
	if (top >= TT_MIXER_CPU_AVX2) {
		avx2_nm1 = med[TT_MIXER_CPU_AVX2][0];
		ratio_avx2 = med[0][0] / avx2_nm1;
		printf("target: AVX2 N-1 <= 0.1 us and >= 10x scalar: %.4f us, x%.1f -> %s\n",
		       avx2_nm1, ratio_avx2,
		       avx2_nm1 <= 0.1 && ratio_avx2 >= 10 ? "met" : "NOT met");
	}
	return avx2_nm1;
}

/* ---- 2./3. rooms ---- */

#define STREAM 50       /* pre-encoded packets per kind, cycled */

struct stream {
	uint8_t data[STREAM][400];
	size_t len[STREAM];
	int level[STREAM];
};

static void encode_stream(struct stream *s, const char *codec, unsigned rate, double freq,
			  double amp, bool noise)
{
	enum tt_codec_id c = (enum tt_codec_id)tt_codec_find(codec);
	struct tt_codec_params p = {.room_rate = rate, .ptime = 20, .bitrate = 32000,
				    .complexity = 5};
	struct tt_codec_enc *e = NULL;
	unsigned pr = tt_codec_pcm_rate(c, rate), n = pr / 50;
	int16_t pcm[960];
	uint32_t r = 1;
	double ph = 0;
	if (tt_codec_enc_alloc(&e, c, &p))
		abort();
	for (int i = 0; i < STREAM; i++) {
		double sum = 0;
		for (unsigned j = 0; j < n; j++) {
			r = r * 1664525u + 1013904223u;
			double v = noise ? amp * ((double)(r >> 16) / 32768.0 - 1.0)
					 : amp * sin(ph);
			ph += 2 * M_PI * freq / pr;
			pcm[j] = (int16_t)v;
			sum += v * v;
		}
		int len = tt_codec_enc_encode(e, pcm, n, s->data[i], sizeof(s->data[i]));
		if (len <= 0) {   /* never DTX here; keep a valid packet anyway */
			len = tt_codec_enc_encode(e, pcm, n, s->data[i], sizeof(s->data[i]));
		}
		s->len[i] = len > 0 ? (size_t)len : 1;
		double db = sum > 0 ? 10 * log10(sum / n / (32768.0 * 32768.0)) : -127;
		s->level[i] = db < -127 ? 127 : (int)lround(-db);
	}
	tt_codec_enc_free(e);
}

enum scen { TALK3_LEVELS, TALK3_NOLEVELS, NOISY, NOISY_LEVELS };
static const char *scen_name[] = {"3 talkers, RFC 6464 levels", "3 talkers, no levels",
				  "everyone noisy, no levels", "everyone noisy, levels"};

struct result {
	double tick_ms, push_ms;
	unsigned decodes, encodes;
};

static struct result room(const char *codec, unsigned rate, unsigned n, enum scen sc,
			  unsigned ticks)
{
	struct tt_mixer_room *m = NULL;
	struct tt_mixer_room_cfg cfg = {.rate = rate, .max_parts = n, .cpu = TT_MIXER_CPU_AUTO};
	struct tt_mixer_part **p = calloc(n, sizeof(*p));
	static struct stream talk[3], silence, noise;
	struct result res = {0};
	if (tt_mixer_room_alloc(&m, &cfg) || !p)
		abort();
	for (int t = 0; t < 3; t++)
		encode_stream(&talk[t], codec, rate, 300 + 250 * t, 8000, false);
	encode_stream(&silence, codec, rate, 0, 0, false);
	encode_stream(&noise, codec, rate, 0, 1500, true);
	for (unsigned i = 0; i < n; i++) {
		struct tt_mixer_part_cfg pc = {.codec = codec, .ptime = 20, .bitrate = 32000,
					       .complexity = 5};
		if (tt_mixer_part_add(&p[i], m, &pc))
			abort();
	}
	unsigned warm = 10;
	double tick = 0, push = 0;
	for (unsigned t = 0; t < warm + ticks; t++) {
		uint64_t now = (uint64_t)t * 20000;
		double t0 = now_s();
		for (unsigned i = 0; i < n; i++) {
			const struct stream *s = sc == NOISY || sc == NOISY_LEVELS ? &noise :
						 i < 3 ? &talk[i] : &silence;
			unsigned k = t % STREAM;
			bool lv = sc == TALK3_LEVELS || sc == NOISY_LEVELS;
			struct tt_mixer_pkt pk = {
				.payload = s->data[k], .len = s->len[k], .seq = (uint16_t)t,
				.ts = t * (tt_codec_rtp_rate((enum tt_codec_id)tt_codec_find(codec)) /
					   50),
				.ssrc = i + 1, .level = lv ? s->level[k] : TT_MIXER_LEVEL_ABSENT,
				.vad = lv && s != &silence, .arrival_us = now};
			tt_mixer_part_push(p[i], &pk);
		}
		double t1 = now_s();
		tt_mixer_room_tick(m, now + 5000);
		double t2 = now_s();
		if (t >= warm) {
			push += t1 - t0;
			tick += t2 - t1;
		}
	}
	struct tt_mixer_room_stats st;
	tt_mixer_room_stats(m, &st);
	res.tick_ms = tick / ticks * 1e3;
	res.push_ms = push / ticks * 1e3;
	res.decodes = st.decodes_last_tick;
	res.encodes = st.encodes_last_tick;
	tt_mixer_room_free(m);
	free(p);
	return res;
}

static double rooms(const char *title, const char *codec, unsigned rate, bool quick,
		    double *t1000, double *t500noisy)
{
	static const unsigned sizes[] = {10, 100, 500, 1000, 5000};
	printf("\n## %s\n", title);
	printf("%-28s %6s %10s %10s %9s %8s %8s %14s\n", "scenario", "N", "tick ms", "push ms",
	       "us/part", "decodes", "encodes", "parts/core");
	for (int sc = 0; sc < 4; sc++) {
		for (unsigned z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
			unsigned n = sizes[z];
			if (quick && n > 1000)
				continue;
			/* decode-bound rooms get fewer ticks so the default run stays short */
			bool heavy = sc == TALK3_NOLEVELS || sc == NOISY;
			unsigned ticks = quick ? 5 : heavy && n >= 1000 ? 10 : 40;
			if (heavy && n == 5000 && !strcmp(codec, "opus"))
				ticks = 4;
			struct result r = room(codec, rate, n, (enum scen)sc, ticks);
			double per = (r.tick_ms + r.push_ms) * 1e3 / n;
			printf("%-28s %6u %10.3f %10.3f %9.3f %8u %8u %14.0f\n", scen_name[sc], n,
			       r.tick_ms, r.push_ms, per, r.decodes, r.encodes, 20000.0 / per);
			if (sc == TALK3_LEVELS && n == 1000 && t1000)
				*t1000 = r.tick_ms + r.push_ms;
			if (sc == NOISY && n == 500 && t500noisy)
				*t500noisy = r.tick_ms + r.push_ms;
			fflush(stdout);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	bool quick = argc > 1 && !strcmp(argv[1], "-q");
	double t1000 = 0, t500 = 0;
	double t0 = now_s();
	machine();
	kernels();
	rooms("2. room tick, Opus 48 kHz 20 ms, 32 kbit/s, complexity 5 (tick = jitter buffer, "
	      "level, select, decode, mix, encode; push = jitter buffer insert)",
	      "opus", 48000, quick, &t1000, &t500);
	printf("target: 1,000 participants, 3 talkers, levels: tick <= 2 ms: %.3f ms -> %s\n",
	       t1000, t1000 <= 2.0 ? "met" : "NOT met");
	printf("target: 500 participants, everyone noisy: tick <= 20 ms: %.3f ms -> %s\n", t500,
	       t500 <= 20.0 ? "met" : "NOT met");
	rooms("3. room tick, G.711 (PCMU) only, 8 kHz", "pcmu", 8000, quick, NULL, NULL);
	printf("\ntotal run time %.1f s\n", now_s() - t0);
	return 0;
}
