/* lg_selftest.c: a stand-in bridge for --selftest: one UDP socket per participant and a
 * thread that every 20 ms (absolute deadlines) mixes the latest frame of each and sends
 * everyone the sum without themself (N-1), from the port they send to. It exists so the
 * generator's pacing, receive and tone checks run in ctest without the daemon. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lg.h"
#include "tutti/rtp.h"

#define FIFO 4
#define MAX_SAMPLES 320

struct fb_part {
	int fd;
	struct sockaddr_storage peer;
	socklen_t plen;
	bool have_peer;
	struct lg_codec_ctx dec, enc;
	int16_t fifo[FIFO][MAX_SAMPLES];
	int head, count;
	uint16_t seq;
	uint32_t ts;
};

struct lg_fake_bridge {
	pthread_t th;
	atomic_bool stop;
	int n;
	enum lg_codec codec;
	int samples;
	bool full_mix;
	struct fb_part *p;
	int32_t mix[MAX_SAMPLES];
};

static void drain(struct lg_fake_bridge *b, struct fb_part *p)
{
	uint8_t buf[2048];
	for (;;) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof from;
		ssize_t n = recvfrom(p->fd, buf, sizeof buf, MSG_DONTWAIT,
				     (struct sockaddr *)&from, &fl);
		if (n <= 0)
			return;
		struct tt_rtp_hdr h;
		if (tt_rtp_parse(&h, buf, (size_t)n) || tt_rtp_is_rtcp(buf, (size_t)n))
			continue;
		if (!p->have_peer) {         /* symmetric RTP: answer where it came from */
			p->peer = from;
			p->plen = fl;
			p->have_peer = true;
		}
		if (p->count == FIFO) {      /* overflow: drop the oldest */
			p->head = (p->head + 1) % FIFO;
			p->count--;
		}
		int slot = (p->head + p->count) % FIFO;
		if (lg_decode(&p->dec, h.payload, h.payload_len, p->fifo[slot]) == b->samples)
			p->count++;
	}
}

static void tick(struct lg_fake_bridge *b)
{
	static const int16_t silence[MAX_SAMPLES];
	memset(b->mix, 0, sizeof b->mix);
	const int16_t *own[b->n];
	for (int i = 0; i < b->n; i++) {
		struct fb_part *p = &b->p[i];
		drain(b, p);
		own[i] = silence;
		if (p->count) {
			own[i] = p->fifo[p->head];
			p->head = (p->head + 1) % FIFO;
			p->count--;
			for (int s = 0; s < b->samples; s++)
				b->mix[s] += own[i][s];
		}
	}
	for (int i = 0; i < b->n; i++) {
		struct fb_part *p = &b->p[i];
		int16_t out[MAX_SAMPLES];
		uint8_t pkt[1500];
		if (!p->have_peer)
			continue;
		for (int s = 0; s < b->samples; s++) {
			int32_t v = b->mix[s] - (b->full_mix ? 0 : own[i][s]);
			out[s] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
		}
		struct tt_rtp_hdr h = {.pt = (uint8_t)lg_codec_pt(b->codec), .seq = p->seq++,
				       .ts = p->ts, .ssrc = 0x7e570000u + (uint32_t)i};
		p->ts += (uint32_t)(lg_codec_rtp_rate(b->codec) * LG_FRAME_MS / 1000);
		int hl = tt_rtp_write(pkt, sizeof pkt, &h);
		int n = lg_encode(&p->enc, out, pkt + hl, sizeof pkt - (size_t)hl);
		if (hl > 0 && n > 0)
			sendto(p->fd, pkt, (size_t)(hl + n), 0, (struct sockaddr *)&p->peer,
			       p->plen);
	}
}

static void *run(void *arg)
{
	struct lg_fake_bridge *b = arg;
	struct timespec next;
	clock_gettime(CLOCK_MONOTONIC, &next);
	while (!atomic_load(&b->stop)) {
		next.tv_nsec += LG_FRAME_MS * 1000000L;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
			;
		tick(b);
	}
	return NULL;
}

int lg_fake_bridge_start(struct lg_fake_bridge **bp, int n, enum lg_codec codec,
			 uint16_t *ports, bool full_mix)
{
	struct lg_fake_bridge *b = calloc(1, sizeof *b);
	int err = -ENOMEM;
	if (!b)
		return -ENOMEM;
	b->n = n;
	b->codec = codec;
	b->full_mix = full_mix;
	b->p = calloc((size_t)n, sizeof *b->p);
	if (!b->p)
		goto out;
	for (int i = 0; i < n; i++)
		b->p[i].fd = -1;
	for (int i = 0; i < n; i++) {
		struct fb_part *p = &b->p[i];
		struct sockaddr_in a = {.sin_family = AF_INET,
					.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		socklen_t al = sizeof a;
		p->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (p->fd < 0 || bind(p->fd, (struct sockaddr *)&a, sizeof a) ||
		    getsockname(p->fd, (struct sockaddr *)&a, &al)) {
			err = -errno;
			goto out;
		}
		ports[i] = ntohs(a.sin_port);
		err = lg_codec_open(&p->dec, codec, false, true);
		if (!err)
			err = lg_codec_open(&p->enc, codec, true, false);
		if (err)
			goto out;
	}
	b->samples = b->p[0].dec.samples;
	err = -pthread_create(&b->th, NULL, run, b);
	if (err)
		goto out;
	*bp = b;
	return 0;
out:
	b->n = b->p ? n : 0;
	for (int i = 0; b->p && i < n; i++) {
		if (b->p[i].fd >= 0)
			close(b->p[i].fd);
		lg_codec_close(&b->p[i].dec);
		lg_codec_close(&b->p[i].enc);
	}
	free(b->p);
	free(b);
	return err;
}

void lg_fake_bridge_stop(struct lg_fake_bridge *b)
{
	if (!b)
		return;
	atomic_store(&b->stop, true);
	pthread_join(b->th, NULL);
	for (int i = 0; i < b->n; i++) {
		close(b->p[i].fd);
		lg_codec_close(&b->p[i].dec);
		lg_codec_close(&b->p[i].enc);
	}
	free(b->p);
	free(b);
}
