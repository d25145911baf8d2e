/* opuscheck.c: tt_opuscheck FILE.opus [-w MS] [HZ...]: decodes an Ogg Opus file with
 * opusfile (as players do) and prints one JSON object: the stream's pre-skip and length,
 * and for every window (100 ms, or MS) the level in dBFS of each tone asked for (Goertzel)
 * and, last, of everything (RMS), so a test can tell who is heard when. Exit 1 when opusfile
 * refuses the file. */
#include <math.h>
#include <opusfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RATE 48000
#define MAX_TONES 16

/* Hann-windowed, so that a loud tone a few hundred Hz away does not leak into a short
 * window's bin (a rectangular 5 ms window could not tell 450 from 750 Hz). */
static double goertzel_db(const float *x, int n, double hz)
{
	double w = 2 * M_PI * hz / RATE, c = 2 * cos(w), s1 = 0, s2 = 0, sum = 0;
	for (int i = 0; i < n; i++) {
		double h = 0.5 - 0.5 * cos(2 * M_PI * i / n);
		double s = x[i] * h + c * s1 - s2;
		sum += h;
		s2 = s1;
		s1 = s;
	}
	double p = s1 * s1 + s2 * s2 - c * s1 * s2;
	double amp = 2 * sqrt(p > 0 ? p : 0) / sum;
	return amp > 1e-7 ? 20 * log10(amp) : -140;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: tt_opuscheck FILE.opus [HZ...]\n");
		return 2;
	}
	int err = 0;
	OggOpusFile *of = op_open_file(argv[1], &err);
	if (!of) {
		fprintf(stderr, "opusfile refuses %s: error %d\n", argv[1], err);
		return 1;
	}
	int first = 2, WIN = RATE / 10;
	if (argc > 3 && !strcmp(argv[2], "-w")) {
		WIN = RATE / 1000 * atoi(argv[3]);
		first = 4;
		if (WIN <= 0 || WIN > RATE)
			return 2;
	}
	int nt = argc - first > MAX_TONES ? MAX_TONES : argc - first;
	double hz[MAX_TONES];
	for (int i = 0; i < nt; i++)
		hz[i] = atof(argv[first + i]);
	const OpusHead *h = op_head(of, -1);
	printf("{\"preskip\": %u, \"channels\": %d, \"pcm_total\": %lld, \"windows\": [",
	       h->pre_skip, h->channel_count, (long long)op_pcm_total(of, -1));
	static float win[RATE];
	int fill = 0, nwin = 0;
	long long total = 0;
	for (;;) {
		float buf[5760 * 2];
		int n = op_read_float(of, buf, 5760, NULL);
		if (n == OP_HOLE)
			continue;
		if (n < 0) {
			fprintf(stderr, "decode error %d\n", n);
			op_free(of);
			return 1;
		}
		if (n == 0)
			break;
		total += n;
		for (int i = 0; i < n; i++) {
			win[fill++] = buf[i];
			if (fill == WIN) {
				printf("%s[", nwin++ ? ", " : "");
				double e = 0;
				for (int t = 0; t < nt; t++)
					printf("%.1f, ", goertzel_db(win, WIN, hz[t]));
				for (int i2 = 0; i2 < WIN; i2++)
					e += (double)win[i2] * win[i2];
				e /= WIN;
				printf("%.1f]", e > 1e-14 ? 10 * log10(e) : -140.0);
				fill = 0;
			}
		}
	}
	printf("], \"decoded\": %lld}\n", total);
	op_free(of);
	return 0;
}
