/* bench_record.c: tutti-bench-record: what recording costs a room, as a ratio to the same
 * room not recording, measured in the same run with the modes interleaved round by round
 * (so a busy machine's drift hits every mode alike).
 *
 * A room of N participants (3 talking, the rest sending silence; one in five G.711, the
 * rest Opus, K = 3) runs 250 ticks (5 s of audio) per mode: off; the mix; the mix and a
 * track per participant. The cost is the CPU of the tick plus the worker's copy (the same
 * record layout media/media_rec.c builds) on the ticking thread, plus all the recorder
 * thread's CPU (Ogg muxing, G.711 decode and Opus encode for tracks, writes to a tmpfs or
 * disk under $TMPDIR). The senders' own encoding is outside the measured spans.
 *
 * Usage: tutti-bench-record [-q] [ROUNDS]   (-q: N = 10 only) */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "helpers.h"
#include "tt_test.h"
#include "loop/mq.h"
#include "record/sink.h"
#include "tutti/log.h"
#include "tutti/mixer.h"

#define TICKS 250

enum mode { OFF, MIX, TRACKS, MODES };
static const char *const mode_name[MODES] = { "off", "mix", "mix+tracks" };

/* helpers.c's checks (the mixer tests' senders) end the benchmark with the reason. */
void tt__test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s:%d: ", file, line);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static double cpu_s(clockid_t c)
{
	struct timespec t;
	clock_gettime(c, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* The worker's copy, as media_rec.c makes it. */
static size_t put(uint8_t *at, uint8_t kind, const char *id, uint8_t codec,
		  const struct tt_mixer_unit *u, uint32_t rate)
{
	struct tt_rec_rec r = { .kind = kind, .codec = codec, .len = (uint16_t)u->len,
				.dur = u->dur, .rtp_rate = rate };
	if (id)
		g_strlcpy(r.id, id, sizeof r.id);
	if (at) {
		memcpy(at, &r, sizeof r);
		if (u->len)
			memcpy(at + sizeof r, u->data, u->len);
	}
	return sizeof r + u->len;
}

static size_t build(struct tt_mixer_room *m, struct sender *s, unsigned n, bool tracks,
		    uint8_t *at)
{
	size_t len = 0;
	struct tt_mixer_out out;
	tt_mixer_room_record_out(m, &out);
	for (unsigned i = 0; i < out.n; i++) {
		struct tt_mixer_unit u = { out.payload[i].data, out.payload[i].len, out.ts_inc,
					   false };
		len += put(at ? at + len : NULL, TT_REC_MIX, NULL, 0, &u, 48000);
	}
	for (unsigned i = 0; tracks && i < n; i++) {
		struct tt_mixer_unit u[TT_MIXER_UNITS_MAX];
		unsigned k = tt_mixer_part_pulled(s[i].part, u, TT_MIXER_UNITS_MAX);
		enum tt_codec_id c = tt_mixer_part_codec(s[i].part);
		char id[16];
		snprintf(id, sizeof id, "p%u", i);
		for (unsigned j = 0; j < k; j++)
			len += put(at ? at + len : NULL, u[j].lost ? TT_REC_LOST : TT_REC_TRACK,
				   id, (uint8_t)c, &u[j], tt_codec_rtp_rate(c));
	}
	return len;
}

static void on_failed(void *core, struct tt_rec_sink *s, const char *why)
{
	fprintf(stderr, "recording failed: %s\n", why);
}

/* One mode's 250 ticks; returns CPU seconds (ticking thread's spans + recorder thread). */
static double run(struct tt_mixer_room *m, struct sender *s, unsigned n, enum mode md,
		  struct tt_mq *mq, const char *dir, unsigned round, uint64_t *t0)
{
	struct tt_rec_sink *sink = NULL;
	char base[64];
	snprintf(base, sizeof base, "n%u-%s-%u", n, mode_name[md], round);
	if (md != OFF) {
		struct tt_codec_params p = { .room_rate = 48000, .ptime = 20, .bitrate = 32000,
					     .complexity = 5 };
		struct tt_rec_sink_cfg c = { .dir = dir, .base = base, .queue = 100000,
					     .tracks = md == TRACKS, .core_mq = mq,
					     .on_failed = on_failed };
		if (tt__rec_sink_new(&sink, &c) || tt_mixer_room_record(m, &p)) {
			fprintf(stderr, "cannot record into %s\n", dir);
			exit(1);
		}
	}
	double proc0 = cpu_s(CLOCK_PROCESS_CPUTIME_ID), self0 = cpu_s(CLOCK_THREAD_CPUTIME_ID);
	double spans = 0, unmeasured = 0;
	for (unsigned t = 0; t < TICKS; t++, (*t0)++) {
		uint64_t now = *t0 * 20000;
		double a = cpu_s(CLOCK_THREAD_CPUTIME_ID);
		for (unsigned i = 0; i < n; i++)
			sender_tick(&s[i], now);
		double b = cpu_s(CLOCK_THREAD_CPUTIME_ID);
		tt_mixer_room_tick(m, now + 1000);
		if (sink) {
			size_t len = build(m, s, n, md == TRACKS, NULL);
			struct tt_rec_tick *tk = g_malloc(sizeof *tk + len);
			*tk = (struct tt_rec_tick){ .tick = t, .len = (uint32_t)len,
						    .mix_preskip = tt_mixer_room_record_preskip(m) };
			build(m, s, n, md == TRACKS, (uint8_t *)(tk + 1));
			tt__rec_sink_push(sink, tk);
		}
		double c = cpu_s(CLOCK_THREAD_CPUTIME_ID);
		spans += c - b;
		unmeasured += b - a;
	}
	if (sink) {
		tt_mixer_room_record(m, NULL);
		tt__rec_sink_finish(sink, json_object());
		tt__rec_sink_end(sink);
		tt__rec_sink_join(sink);   /* its CPU is in the process clock now */
		tt__rec_sink_unref(sink);
	}
	double self = cpu_s(CLOCK_THREAD_CPUTIME_ID) - self0;
	double others = cpu_s(CLOCK_PROCESS_CPUTIME_ID) - proc0 - self;
	(void)unmeasured;
	return spans + (others > 0 ? others : 0);
}

static void room(unsigned n, unsigned rounds, const char *dir, struct tt_mq *mq)
{
	struct tt_mixer_room *m = NULL;
	struct tt_mixer_room_cfg cfg = {.rate = 48000, .max_parts = n + 1,
					.cpu = TT_MIXER_CPU_AUTO};
	struct sender *s = calloc(n, sizeof(*s));
	tt_mixer_room_alloc(&m, &cfg);
	for (unsigned i = 0; i < n; i++) {
		double f = i < 3 ? 400 + 300 * i : 0;
		sender_init(&s[i], m, i % 5 == 4 ? "pcmu" : "opus", 48000, 20, f, 6000, 15, 0);
		s[i].silent = i >= 3;
	}
	uint64_t t0 = 0;
	double sum[MODES] = { 0 };
	run(m, s, n, OFF, mq, dir, 0, &t0);   /* warm up: jitter buffers, selection */
	for (unsigned r = 0; r < rounds; r++)
		for (int md = 0; md < MODES; md++)
			sum[md] += run(m, s, n, (enum mode)md, mq, dir, r, &t0);
	printf("N = %4u: per tick off %7.1f us | mix %7.1f us (x%.3f) | mix+tracks %7.1f us "
	       "(x%.3f)   [%u rounds of %u ticks]\n", n,
	       sum[OFF] / rounds / TICKS * 1e6, sum[MIX] / rounds / TICKS * 1e6,
	       sum[MIX] / sum[OFF], sum[TRACKS] / rounds / TICKS * 1e6, sum[TRACKS] / sum[OFF],
	       rounds, TICKS);
	for (unsigned i = 0; i < n; i++)
		sender_fini(&s[i]);
	free(s);
	tt_mixer_room_free(m);
}

int main(int argc, char **argv)
{
	bool quick = argc > 1 && !strcmp(argv[1], "-q");
	unsigned rounds = argc > 1 + quick ? (unsigned)atoi(argv[1 + quick]) : 5;
	if (!rounds)
		rounds = 5;
	tt_log_set_levels("warn", NULL);   /* each recording's start and end are logged */
	char *dir = g_dir_make_tmp("tutti-bench-record-XXXXXX", NULL);
	struct tt_mq *mq = NULL;
	tt_mq_alloc(&mq, NULL, NULL);
	printf("recording cost per room, files in %s (removed after)\n", dir);
	room(10, rounds, dir, mq);
	if (!quick)
		room(100, rounds, dir, mq);
	tt_mq_free(mq);
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *name;
	while (d && (name = g_dir_read_name(d))) {
		char *p = g_build_filename(dir, name, NULL);
		g_unlink(p);
		g_free(p);
	}
	if (d)
		g_dir_close(d);
	g_rmdir(dir);
	g_free(dir);
	return 0;
}
