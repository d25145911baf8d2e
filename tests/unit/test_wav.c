/* test_wav.c: the prompts' WAV reader takes exactly what the prompt scripts write. */
#include "tt_test.h"
#include <tutti/wav.h>
#include <errno.h>
#include <glib.h>
#include <string.h>

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/* RIFF, an odd-sized chunk before fmt (padding), fmt, data with 3 samples. */
static size_t make(uint8_t *b, uint16_t format, uint16_t channels, uint32_t rate, uint16_t bits)
{
	memcpy(b, "RIFF", 4);
	memcpy(b + 8, "WAVE", 4);
	size_t o = 12;
	memcpy(b + o, "LIST", 4);
	put32(b + o + 4, 3);
	o += 8 + 3 + 1;
	memcpy(b + o, "fmt ", 4);
	put32(b + o + 4, 16);
	put16(b + o + 8, format);
	put16(b + o + 10, channels);
	put32(b + o + 12, rate);
	put32(b + o + 16, rate * channels * bits / 8);
	put16(b + o + 20, (uint16_t)(channels * bits / 8));
	put16(b + o + 22, bits);
	o += 24;
	memcpy(b + o, "data", 4);
	put32(b + o + 4, 6);
	put16(b + o + 8, 1);
	put16(b + o + 10, 0xffff);
	put16(b + o + 12, 0x7fff);
	o += 14;
	put32(b + 4, (uint32_t)(o - 8));
	return o;
}

TT_TEST(wav_reads_mono_pcm16_past_other_chunks)
{
	uint8_t b[128];
	size_t n = make(b, 1, 1, 16000, 16);
	struct tt_wav w = {0};
	TT_ASSERT_INT_EQ(tt_wav_parse(&w, b, n), 0);
	TT_ASSERT_INT_EQ(w.rate, 16000);
	TT_ASSERT_INT_EQ(w.n, 3);
	TT_ASSERT_INT_EQ(w.pcm[0], 1);
	TT_ASSERT_INT_EQ(w.pcm[1], -1);
	TT_ASSERT_INT_EQ(w.pcm[2], 32767);
	g_free(w.pcm);
}

TT_TEST(wav_refuses_what_it_would_have_to_guess)
{
	uint8_t b[128];
	struct tt_wav w = {0};
	TT_ASSERT_INT_EQ(tt_wav_parse(&w, b, make(b, 3, 1, 16000, 16)), -EINVAL); /* float */
	TT_ASSERT_INT_EQ(tt_wav_parse(&w, b, make(b, 1, 2, 16000, 16)), -EINVAL); /* stereo */
	TT_ASSERT_INT_EQ(tt_wav_parse(&w, b, make(b, 1, 1, 16000, 8)), -EINVAL);  /* 8 bit */
	TT_ASSERT_INT_EQ(tt_wav_parse(&w, b, make(b, 1, 1, 96000, 16)), -EINVAL); /* rate */
	size_t n = make(b, 1, 1, 8000, 16);
	for (size_t cut = 0; cut < n; cut++) /* every truncation, none read past the end */
		TT_ASSERT_INT_EQ(tt_wav_parse(&w, b, cut), -EINVAL);
	put32(b + 16, 0xfffffff0u); /* a chunk claiming more than the file */
	TT_ASSERT_INT_EQ(tt_wav_parse(&w, b, n), -EINVAL);
	TT_ASSERT(w.pcm == NULL);
	TT_ASSERT_INT_EQ(tt_wav_load(&w, "/nonexistent/tutti.wav"), -ENOENT);
}
