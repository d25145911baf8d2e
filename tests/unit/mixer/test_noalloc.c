/* test_noalloc.c: the tick and push never allocate. This binary interposes malloc and
 * friends (the executable's definitions win over glibc's for every shared library too, so
 * libopus, SpeexDSP and SpanDSP are counted as well). Not built with sanitizers, which
 * interpose them themselves. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "tt_test.h"

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static volatile int counting;
static volatile unsigned long allocs;

void *malloc(size_t n)
{
	if (counting)
		allocs++;
	return __libc_malloc(n);
}

void *calloc(size_t a, size_t b)
{
	if (counting)
		allocs++;
	return __libc_calloc(a, b);
}

void *realloc(void *p, size_t n)
{
	if (counting)
		allocs++;
	return __libc_realloc(p, n);
}

int posix_memalign(void **p, size_t al, size_t n)
{
	if (counting)
		allocs++;
	*p = __libc_memalign(al, n);
	return *p ? 0 : ENOMEM;
}

void free(void *p)
{
	if (counting && p)
		allocs++;
	__libc_free(p);
}

TT_TEST(mixer_tick_does_not_allocate)
{
	static const char *codecs[] = {"opus", "g722", "pcmu", "pcma", "opus"};
	struct tt_mixer_room *m = NULL;
	struct tt_mixer_room_cfg cfg = {.rate = 48000, .max_parts = 8, .cpu = TT_MIXER_CPU_AUTO};
	struct sender s[6];
	/* the interposition works (else this test could not fail) */
	counting = 1;
	void *volatile probe = malloc(16);
	free(probe);
	counting = 0;
	TT_ASSERT_INT_EQ(allocs, 2);
	TT_ASSERT_INT_EQ(tt_mixer_room_alloc(&m, &cfg), 0);
	for (int i = 0; i < 6; i++) {
		TT_ASSERT_INT_EQ(sender_init(&s[i], m, codecs[i % 5], 48000, i == 4 ? 10 : 20,
					     300 + 200 * i, 6000, i == 2 ? TT_MIXER_LEVEL_ABSENT : 20,
					     0), 0);
	}
	for (int t = 0; t < 200; t++) {
		uint64_t now = (uint64_t)t * 20000;
		/* talkers come and go, so selection, fades, handovers and warm-ups all run */
		for (int i = 0; i < 6; i++)
			s[i].silent = ((t / 25) + i) % 3 == 0;
		if (t == 120)
			tt_mixer_part_set_mute(s[1].part, true);
		/* counted: the pushes (and the senders' own encoding, which must not either) */
		unsigned long before = allocs;
		counting = 1;
		for (int i = 0; i < 6; i++) {
			if (t % 7 == 3 && i == 0)
				continue;   /* a loss now and then: concealment */
			sender_tick(&s[i], now);
		}
		tt_mixer_room_tick(m, now);
		struct tt_mixer_event ev;
		while (tt_mixer_room_event_next(m, &ev))
			;
		for (int i = 0; i < 6; i++) {
			struct tt_mixer_out o;
			tt_mixer_part_output(s[i].part, &o);
		}
		counting = 0;
		TT_ASSERT_MSG(allocs == before, "tick %d allocated %lu times", t, allocs - before);
	}
	for (int i = 0; i < 6; i++)
		sender_fini(&s[i]);
	tt_mixer_room_free(m);
}
