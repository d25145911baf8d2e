/* loadgen.c: tt_loadgen: creates N plain RTP participants through the admin API (or a
 * loopback stand-in with --selftest), sends paced Opus/G.711 with RFC 6464 levels (K talkers
 * with distinct tones, the rest silent), receives every return stream and reports loss, late
 * packets, jitter, N-1 correctness, added latency and the bridge's CPU. --janus URL runs the
 * same load against Janus AudioBridge (lg_janus.c) for comparison. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "lg.h"
#include "tutti/rtp.h"

#define CYCLE 50            /* frames in a pre-encoded loop: 1 s */
#define GATE_ON 20          /* talker 0 sounds 400 ms of each second: onsets for latency */
#define WARMUP 25           /* frames before analysis starts */

struct opts {
	const char *url, *room, *token, *janus;
	int n, talkers, seconds, pid, sample, ext_id;
	enum lg_codec codec;
	bool json, check, selftest, keep_room, fault, no_levels;
	int late_ms;
	double quiet_dbfs;   /* --no-levels: the quiet participants' microphone noise */
	/* --also-url/--also-pid: more nodes of one cascaded room (docs/scale-out.md):
	 * participant i joins urls[i % nurls] (urls[0] is --url, which makes the room first,
	 * so it is the room's home); the CPU figure sums every pid */
	const char *urls[8];
	int nurls, pids[8], npids;
};

struct frame {
	uint8_t data[LG_MAX_PAYLOAD];
	int len;
	uint8_t level;
	bool vad;
};

struct part {
	int fd;
	char id[128];
	int node;            /* index into opts.urls */
	bool talker, sampled;
	uint16_t seq;
	uint32_t ts, ssrc;
	struct lg_rx rx;
	struct lg_codec_ctx dec;
};

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: tt_loadgen [--url http://127.0.0.1:8080] [--room NAME] [-n N]\n"
		"  [--talkers K] [--codec opus|pcmu|pcma] [--seconds S] [--pid PID]\n"
		"  [--token TOKEN] [--json] [--check] [--selftest] [--sample M]\n"
		"  [--late-ms MS] [--ext-id ID] [--keep-room] [--selftest-fault]\n"
		"  [--no-levels [--quiet-dbfs DB]]  (as phones: no RFC 6464 levels, Opus in\n"
		"   VOIP mode; quiet participants send a microphone's noise, -60 dBFS RMS by\n"
		"   default, as ordinary SILK frames; --quiet-dbfs -200 sends digital silence)\n"
		"  [--janus http://127.0.0.1:8088/janus]  (Janus AudioBridge instead of tutti;\n"
		"   --room is then a number)\n"
		"  [--also-url URL]... [--also-pid PID]...  (one room over several cascaded\n"
		"   nodes: participants joined round-robin, CPU summed over the pids)\n");
}

static int parse_opts(struct opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{"url", 1, 0, 'u'}, {"room", 1, 0, 'r'}, {"talkers", 1, 0, 'k'},
		{"codec", 1, 0, 'c'}, {"seconds", 1, 0, 's'}, {"pid", 1, 0, 'p'},
		{"token", 1, 0, 't'}, {"json", 0, 0, 'j'}, {"check", 0, 0, 'C'},
		{"selftest", 0, 0, 'S'}, {"sample", 1, 0, 'm'}, {"late-ms", 1, 0, 'l'},
		{"ext-id", 1, 0, 'e'}, {"selftest-fault", 0, 0, 'F'}, {"keep-room", 0, 0, 'K'},
		{"janus", 1, 0, 'J'}, {"no-levels", 0, 0, 'L'}, {"quiet-dbfs", 1, 0, 'Q'}, {"help", 0, 0, 'h'},
		{"also-url", 1, 0, 'U'}, {"also-pid", 1, 0, 'P'},
		{0, 0, 0, 0},
	};
	*o = (struct opts){.url = "http://127.0.0.1:8080", .room = "loadgen", .n = 10,
			   .talkers = 3, .seconds = 10, .sample = 4, .ext_id = 1,
			   .late_ms = 60, .codec = LG_OPUS, .quiet_dbfs = -60};
	int c;
	while ((c = getopt_long(argc, argv, "n:h", lo, NULL)) != -1) {
		switch (c) {
		case 'u': o->url = optarg; break;
		case 'r': o->room = optarg; break;
		case 'n': o->n = atoi(optarg); break;
		case 'k': o->talkers = atoi(optarg); break;
		case 'c':
			if (lg_codec_parse(&o->codec, optarg))
				return -EINVAL;
			break;
		case 's': o->seconds = atoi(optarg); break;
		case 'p': o->pid = atoi(optarg); break;
		case 't': o->token = optarg; break;
		case 'j': o->json = true; break;
		case 'C': o->check = true; break;
		case 'S': o->selftest = true; break;
		case 'm': o->sample = atoi(optarg); break;
		case 'l': o->late_ms = atoi(optarg); break;
		case 'e': o->ext_id = atoi(optarg); break;
		case 'K': o->keep_room = true; break;
		case 'F': o->fault = o->selftest = true; break;
		case 'J': o->janus = optarg; break;
		case 'L': o->no_levels = true; break;
		case 'Q': o->quiet_dbfs = atof(optarg); break;
		case 'U':
			if (o->nurls >= 7)
				return -EINVAL;
			o->urls[1 + o->nurls++] = optarg;
			break;
		case 'P':
			if (o->npids >= 7)
				return -EINVAL;
			o->pids[1 + o->npids++] = atoi(optarg);
			break;
		default: return -EINVAL;
		}
	}
	if (o->no_levels)
		o->ext_id = 0;
	o->urls[0] = o->url;
	o->nurls++;
	o->pids[0] = o->pid;
	o->npids++;
	if (o->n < 1 || o->n > 20000 || o->talkers < 0 || o->talkers > LG_MAX_TONES ||
	    o->talkers > o->n || o->seconds < 1 || o->ext_id < 0 || o->ext_id > 14 ||
	    o->sample < 0 || (o->janus && o->selftest))
		return -EINVAL;
	return 0;
}

/* A microphone's self-noise: white, uniform, `dbfs` RMS against full scale (uniform in
 * +-a has RMS a/sqrt(3)). A 1 s loop of it is as steady as real hiss. */
static void noise_fill(int16_t *pcm, size_t n, double dbfs, uint32_t *seed)
{
	double rms = 32767.0 * pow(10.0, dbfs / 20.0), a = rms * sqrt(3.0);
	for (size_t i = 0; i < n; i++) {
		*seed = *seed * 1664525u + 1013904223u;
		double u = (double)(*seed >> 8) / (double)(1u << 24) * 2.0 - 1.0;
		pcm[i] = (int16_t)lrint(a * u);
	}
}

/* Pre-encode one second of each talker's tone (talker 0 gated) and of silence, so the
 * sending loop only copies bytes, like a real client that has its frames ready. */
static int pre_encode(const struct opts *o, struct frame (*tone)[CYCLE], struct frame *silence)
{
	struct lg_codec_ctx c;
	int16_t pcm[320];
	uint32_t seed = 12345;
	double amp = o->talkers ? fmin(8000.0, 24000.0 / o->talkers) : 0;
	for (int k = -1; k < o->talkers; k++) {
		if (lg_codec_open(&c, o->codec, true, false))
			return -ENOMEM;
		/* A phone's encoder: VOIP mode codes speech, and the silence between it, in
		 * SILK (35-36 byte frames of digital silence at 32 kbit/s), where the default
		 * AUDIO mode sends 3-byte CELT silence frames that decode almost for free. */
		if (o->no_levels && c.enc)
			opus_encoder_ctl(c.enc, OPUS_SET_APPLICATION(OPUS_APPLICATION_VOIP));
		/* Encode two cycles and keep the second: the encoder has settled by then. */
		for (int f = 0; f < 2 * CYCLE; f++) {
			struct frame *fr = k < 0 ? &silence[f % CYCLE] : &tone[k][f % CYCLE];
			bool on = k > 0 || (k == 0 && f % CYCLE < GATE_ON);
			if (on)
				lg_tone_fill(pcm, (size_t)c.samples, c.rate, lg_tone_freq(k), amp,
					     (uint64_t)f * (uint64_t)c.samples);
			else if (o->no_levels && o->quiet_dbfs > -150)
				noise_fill(pcm, (size_t)c.samples, o->quiet_dbfs, &seed);
			else
				memset(pcm, 0, sizeof pcm);
			fr->len = lg_encode(&c, pcm, fr->data, sizeof fr->data);
			double p = lg_power(pcm, (size_t)c.samples);
			double db = p > 0 ? -10.0 * log10(p) : 127;
			fr->level = (uint8_t)(db > 127 ? 127 : db < 0 ? 0 : lrint(db));
			fr->vad = on;
		}
		lg_codec_close(&c);
	}
	return 0;
}

static int send_frame(const struct opts *o, struct part *p, const struct frame *fr)
{
	uint8_t pkt[1600], ext[8];
	uint8_t lv = (uint8_t)((fr->vad ? 0x80 : 0) | fr->level);
	struct tt_rtp_ext_elem e = {(uint8_t)o->ext_id, 1, &lv};
	struct tt_rtp_hdr h = {.pt = (uint8_t)lg_codec_pt(o->codec), .seq = p->seq++,
			       .ts = p->ts, .ssrc = p->ssrc, .marker = p->seq == 1};
	p->ts += (uint32_t)(lg_codec_rtp_rate(o->codec) * LG_FRAME_MS / 1000);
	if (o->ext_id) {
		h.has_ext = true;
		h.ext = ext;
		h.ext_len = (size_t)tt_rtp_ext_build(ext, sizeof ext, &h.ext_profile, &e, 1);
	}
	int hl = tt_rtp_write(pkt, sizeof pkt, &h);
	if (hl < 0 || fr->len <= 0)
		return -EINVAL;
	memcpy(pkt + hl, fr->data, (size_t)fr->len);
	return send(p->fd, pkt, (size_t)(hl + fr->len), MSG_DONTWAIT) < 0 ? -errno : 0;
}

static void receive(const struct opts *o, struct part *p, bool analyse)
{
	uint8_t buf[2048];
	int16_t pcm[320];
	for (;;) {
		ssize_t n = recv(p->fd, buf, sizeof buf, MSG_DONTWAIT);
		if (n <= 0)
			return;
		int64_t t = now_us();
		struct tt_rtp_hdr h;
		if (tt_rtp_is_rtcp(buf, (size_t)n) || tt_rtp_parse(&h, buf, (size_t)n))
			continue;
		lg_rx_packet(&p->rx, h.ssrc, h.seq, h.ts, t, (int64_t)o->late_ms * 1000);
		if (p->sampled && analyse &&
		    lg_decode(&p->dec, h.payload, h.payload_len, pcm) == p->dec.samples)
			lg_rx_frame(&p->rx, pcm, (size_t)p->dec.samples, p->dec.rate, t);
	}
}

static int cpu_ticks1(int pid, long long *ticks)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -errno;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	unsigned long long ut, st;
	/* after ")": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
	 * utime stime */
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			 &ut, &st) != 2)
		return -EINVAL;
	*ticks = (long long)(ut + st);
	return 0;
}

/* every node's process (--pid and --also-pid) */
static const struct opts *cpu_opts;
static int cpu_ticks(int pid, long long *ticks)
{
	long long sum = 0, t;
	for (int i = 0; i < cpu_opts->npids; i++) {
		int err = cpu_ticks1(i ? cpu_opts->pids[i] : pid, &t);
		if (err)
			return err;
		sum += t;
	}
	*ticks = sum;
	return 0;
}

/* ---- participants through the API, or the self-test bridge ---- */

static int api_call_at(const struct opts *o, const char *url, const char *method,
		       const char *path, json_t *body, json_t **reply, int want)
{
	struct lg_http_resp r = {0};
	char *txt = body ? json_dumps(body, JSON_COMPACT) : NULL;
	int err = lg_http_request(url, o->token, method, path, txt, &r);
	free(txt);
	if (err) {
		fprintf(stderr, "%s %s: %s\n", method, path, strerror(-err));
		return err;
	}
	if (r.status != want && !(want == 200 && r.status == 201) &&
	    !(want == 200 && r.status == 204)) {
		fprintf(stderr, "%s %s: HTTP %d %s\n", method, path, r.status, r.body);
		free(r.body);
		return -EPROTO;
	}
	if (reply)
		*reply = json_loads(r.body, 0, NULL);
	free(r.body);
	return 0;
}

static int api_call(const struct opts *o, const char *method, const char *path, json_t *body,
		    json_t **reply, int want)
{
	return api_call_at(o, o->url, method, path, body, reply, want);
}

static int open_socket(struct sockaddr_in *local)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t l = sizeof a;
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) ||
	    getsockname(fd, (struct sockaddr *)&a, &l)) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	int sz = 1 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
	*local = a;
	return fd;
}

static int connect_to(int fd, const char *hostport)
{
	char host[64];
	const char *colon = strrchr(hostport, ':');
	if (!colon || (size_t)(colon - hostport) >= sizeof host)
		return -EINVAL;
	snprintf(host, sizeof host, "%.*s", (int)(colon - hostport), hostport);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
	if (inet_pton(AF_INET, host, &a.sin_addr) != 1)
		return -EINVAL;
	return connect(fd, (struct sockaddr *)&a, sizeof a) ? -errno : 0;
}

static int setup_api(const struct opts *o, struct part *parts)
{
	char path[512];
	json_t *room = json_pack("{s:i,s:i}", "rate", 48000, "speakers",
				 o->talkers > 3 ? o->talkers : 3);
	snprintf(path, sizeof path, "/api/rooms/%s", o->room);
	int err = 0;
	for (int u = 0; u < o->nurls && !err; u++)   /* the first node first: the room's home */
		err = api_call_at(o, o->urls[u], "PUT", path, room, NULL, 200);
	json_decref(room);
	if (err)
		return err;
	for (int i = 0; i < o->n; i++) {
		struct sockaddr_in local;
		char remote[64], name[32];
		parts[i].fd = open_socket(&local);
		if (parts[i].fd < 0)
			return parts[i].fd;
		snprintf(remote, sizeof remote, "127.0.0.1:%u", ntohs(local.sin_port));
		snprintf(name, sizeof name, "lg%d", i);
		json_t *req = json_pack("{s:s,s:s,s:s,s:s,s:i,s:i}", "name", name,
					"transport", "rtp", "remote", remote, "codec",
					lg_codec_name(o->codec), "pt", lg_codec_pt(o->codec),
					"ptime", LG_FRAME_MS);
		if (o->ext_id)
			json_object_set_new(req, "audio_level_ext_id", json_integer(o->ext_id));
		json_t *rep = NULL;
		snprintf(path, sizeof path, "/api/rooms/%s/participants", o->room);
		parts[i].node = i % o->nurls;
		err = api_call_at(o, o->urls[parts[i].node], "POST", path, req, &rep, 201);
		json_decref(req);
		const char *id = NULL, *loc = NULL;
		if (!err && json_unpack(rep, "{s:s,s:s}", "id", &id, "local", &loc) != 0)
			err = -EPROTO;
		if (!err) {
			snprintf(parts[i].id, sizeof parts[i].id, "%s", id);
			err = connect_to(parts[i].fd, loc);
		}
		json_decref(rep);
		if (err) {
			fprintf(stderr, "participant %d: %s\n", i, strerror(-err));
			return err;
		}
	}
	return 0;
}

/* Janus room ids are numbers: --room when it is one, else a fixed id. */
static uint64_t janus_room(const struct opts *o)
{
	char *end = NULL;
	unsigned long long r = strtoull(o->room, &end, 10);
	return end && !*end && r > 0 ? (uint64_t)r : 4242;
}

static int setup_janus(const struct opts *o, struct part *parts, struct lg_janus **jp)
{
	int err = lg_janus_open(jp, o->janus, janus_room(o), 48000);
	for (int i = 0; !err && i < o->n; i++) {
		struct sockaddr_in local;
		char remote[96], name[32];
		int rpt = -1;
		parts[i].fd = open_socket(&local);
		if (parts[i].fd < 0)
			return parts[i].fd;
		snprintf(name, sizeof name, "lg%d", i);
		err = lg_janus_join(*jp, name, "127.0.0.1", ntohs(local.sin_port),
				    lg_codec_pt(o->codec), o->ext_id, remote, sizeof remote, &rpt);
		if (!err)
			err = connect_to(parts[i].fd, remote);
		if (err)
			fprintf(stderr, "janus participant %d: %s\n", i, strerror(-err));
	}
	return err;
}

/* The media workers' tick counters from GET /api/health, summed (max for max_late_us). */
struct health {
	long long ticks, late, skipped, max_late_us;
	bool ok;
};

static void health_sample(const struct opts *o, struct health *h)
{
	json_t *rep = NULL, *w;
	size_t i;
	*h = (struct health){0};
	if (api_call(o, "GET", "/api/health", NULL, &rep, 200) || !rep)
		return;
	json_array_foreach(json_object_get(rep, "workers"), i, w) {
		json_int_t t = 0, l = 0, s = 0, m = 0;
		if (json_unpack(w, "{s:I,s:I,s:I,s:I}", "ticks", &t, "late", &l, "skipped", &s,
				"max_late_us", &m))
			continue;
		h->ticks += t;
		h->late += l;
		h->skipped += s;
		h->max_late_us = m > h->max_late_us ? m : h->max_late_us;
		h->ok = true;
	}
	json_decref(rep);
}

static void teardown_api(const struct opts *o, struct part *parts)
{
	char path[512];
	for (int i = 0; i < o->n; i++) {
		if (!parts[i].id[0])
			continue;
		snprintf(path, sizeof path, "/api/rooms/%s/participants/%s", o->room, parts[i].id);
		api_call_at(o, o->urls[parts[i].node], "DELETE", path, NULL, NULL, 200);
	}
	if (!o->keep_room) {
		snprintf(path, sizeof path, "/api/rooms/%s", o->room);
		for (int u = o->nurls - 1; u >= 0; u--)
			api_call_at(o, o->urls[u], "DELETE", path, NULL, NULL, 200);
	}
}

static int setup_selftest(const struct opts *o, struct part *parts,
			  struct lg_fake_bridge **bridge)
{
	uint16_t *ports = calloc((size_t)o->n, sizeof *ports);
	int err = ports ? lg_fake_bridge_start(bridge, o->n, o->codec, ports, o->fault) : -ENOMEM;
	for (int i = 0; !err && i < o->n; i++) {
		struct sockaddr_in local;
		char loc[32];
		parts[i].fd = open_socket(&local);
		if (parts[i].fd < 0) {
			err = parts[i].fd;
			break;
		}
		snprintf(loc, sizeof loc, "127.0.0.1:%u", ports[i]);
		err = connect_to(parts[i].fd, loc);
	}
	free(ports);
	return err;
}

/* ---- the run ---- */

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static bool is_sampled(const struct opts *o, int i)
{
	/* Talkers and silent listeners both: the first two and the last two. */
	int want[4] = {0, 1, o->n - 1, o->n - 2}, got = 0;
	for (int j = 0; j < 4 && got < o->sample; j++) {
		if (want[j] < 0 || want[j] >= o->n)
			continue;
		bool dup = false;
		for (int k = 0; k < j; k++)
			dup |= want[k] == want[j];
		if (dup)
			continue;
		if (want[j] == i)
			return true;
		got++;
	}
	/* --sample > 4: more silent listeners spread evenly over the room, for latency
	 * percentiles with more than a handful of onsets behind them. */
	int more = o->sample - got, stride = more > 0 ? o->n / more : 0;
	return stride > 0 && i > 1 && i < o->n - 2 && i % stride == stride / 2;
}

int main(int argc, char **argv)
{
	struct opts o;
	if (parse_opts(&o, argc, argv)) {
		usage();
		return 2;
	}
	cpu_opts = &o;
	struct frame (*tone)[CYCLE] = calloc(LG_MAX_TONES, sizeof *tone);
	struct frame *silence = calloc(CYCLE, sizeof *silence);
	struct part *parts = calloc((size_t)o.n, sizeof *parts);
	struct lg_fake_bridge *bridge = NULL;
	struct lg_janus *janus = NULL;
	struct health h0 = {0}, h1 = {0};
	bool api = !o.selftest && !o.janus;
	int64_t *onsets = calloc((size_t)o.seconds + 2, sizeof *onsets);
	int n_onsets = 0, rc = 1, err, ep = -1;
	if (!tone || !silence || !parts || !onsets || pre_encode(&o, tone, silence))
		goto out;
	for (int i = 0; i < o.n; i++) {
		parts[i].fd = -1;
		parts[i].talker = i < o.talkers;
		parts[i].sampled = is_sampled(&o, i);
		parts[i].ssrc = 0x10000000u + (uint32_t)i;
		parts[i].seq = (uint16_t)(i * 7919);
		lg_rx_init(&parts[i].rx, (uint32_t)lg_codec_rtp_rate(o.codec), parts[i].sampled,
			   o.talkers);
		if (parts[i].sampled && lg_codec_open(&parts[i].dec, o.codec, false, true))
			goto out;
	}
	err = o.selftest ? setup_selftest(&o, parts, &bridge)
	      : o.janus ? setup_janus(&o, parts, &janus) : setup_api(&o, parts);
	if (err)
		goto out;
	if (o.selftest && !o.pid)
		o.pid = getpid();
	ep = epoll_create1(EPOLL_CLOEXEC);
	for (int i = 0; i < o.n; i++) {
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
		epoll_ctl(ep, EPOLL_CTL_ADD, parts[i].fd, &ev);
	}

	/* The bridge may have sent to the first participants for seconds while the last ones
	 * were being created: drop that backlog, or every later packet would wait behind it in
	 * our socket buffers and show up as added latency and "late" arrivals. */
	for (int i = 0; i < o.n; i++) {
		uint8_t junk[2048];
		while (recv(parts[i].fd, junk, sizeof junk, MSG_DONTWAIT) > 0)
			;
	}

	long long cpu0 = 0, cpu1 = 0;
	int64_t cpu_t0 = 0, cpu_t1 = 0;
	uint64_t sent = 0, send_err = 0, late_sends = 0;
	int frames = o.seconds * 1000 / LG_FRAME_MS;
	int64_t start = now_us() + 50000, end = start + (int64_t)frames * LG_FRAME_MS * 1000;
	int64_t keepalive_at = start + 10000000;
	struct epoll_event evs[512];
	for (int f = 0; f <= frames; ) {
		int64_t deadline = start + (int64_t)f * LG_FRAME_MS * 1000, t = now_us();
		if (t >= deadline) {
			if (f == frames)
				break;
			/* Absolute deadlines: a late tick is counted, never accumulated. */
			if (t - deadline > 5000)
				late_sends++;
			if (f == WARMUP && o.pid && cpu_ticks(o.pid, &cpu0) == 0)
				cpu_t0 = t;
			if (f == WARMUP && api)
				health_sample(&o, &h0);
			/* Janus ends a session after 60 s without a request (its default). */
			if (janus && t >= keepalive_at) {
				lg_janus_keepalive(janus);
				keepalive_at = t + 10000000;
			}
			if (f % CYCLE == 0 && o.talkers > 0 && n_onsets < o.seconds + 2)
				onsets[n_onsets++] = t;
			for (int i = 0; i < o.n; i++) {
				const struct frame *fr = parts[i].talker ? &tone[i][f % CYCLE]
									 : &silence[f % CYCLE];
				if (send_frame(&o, &parts[i], fr))
					send_err++;
				else
					sent++;
			}
			f++;
			continue;
		}
		int ms = (int)((deadline - t + 999) / 1000);
		int n = epoll_wait(ep, evs, 512, ms > 1 ? ms - 1 : 0);
		for (int i = 0; i < n; i++)
			receive(&o, &parts[evs[i].data.u32], f >= WARMUP);
		if (n <= 0 && ms <= 1) {
			struct timespec ts = {0, 200000};
			nanosleep(&ts, NULL);
		}
	}
	if (o.pid && cpu_t0 && cpu_ticks(o.pid, &cpu1) == 0)
		cpu_t1 = now_us();
	if (api && h0.ok)
		health_sample(&o, &h1);
	/* Drain what is still in flight for 200 ms. */
	while (now_us() < end + 200000) {
		int n = epoll_wait(ep, evs, 512, 20);
		for (int i = 0; i < n; i++)
			receive(&o, &parts[evs[i].data.u32], true);
	}

	/* ---- report ---- */
	uint64_t rx = 0, lost = 0, late = 0;
	double jit_sum = 0, jit_max = 0;
	int streams = 0, checked = 0, wrong = 0;
	int64_t lat[1024];
	int n_lat = 0;
	json_t *js = json_object(), *jl = json_array();
	for (int i = 0; i < o.n; i++) {
		struct part *p = &parts[i];
		rx += p->rx.packets;
		late += p->rx.late;
		int32_t l = tt_rtp_rxstats_lost(&p->rx.rs);
		lost += l > 0 ? (uint64_t)l : 0;
		if (p->rx.packets) {
			double j = tt_rtp_rxstats_jitter(&p->rx.rs) * 1000.0 / lg_codec_rtp_rate(o.codec);
			jit_sum += j;
			jit_max = fmax(jit_max, j);
			streams++;
		}
		if (!p->sampled)
			continue;
		unsigned expect = 0;
		for (int k = 0; k < o.talkers; k++)
			if (k != i)
				expect |= 1u << k;
		unsigned heard = lg_rx_tones(&p->rx, 0.3 / (o.talkers ? o.talkers : 1));
		checked++;
		wrong += heard != expect;
		json_array_append_new(jl, json_pack("{s:i,s:i,s:i,s:b}", "participant", i,
						    "expected", expect, "heard", heard,
						    "ok", heard == expect));
		if (!o.json)
			printf("listener %d: expected tones 0x%x heard 0x%x %s\n", i, expect, heard,
			       heard == expect ? "ok" : "WRONG");
		/* Latency: each detected onset of tone 0 against the last onset sent before it. */
		for (int k = 0; i != 0 && k < p->rx.n_onsets && n_lat < 1024; k++) {
			int64_t a = p->rx.onset_rx_us[k], best = -1;
			for (int m = 0; m < n_onsets; m++)
				if (onsets[m] <= a && a - onsets[m] < 900000)
					best = a - onsets[m];
			if (best >= 0)
				lat[n_lat++] = best;
		}
	}
	qsort(lat, (size_t)n_lat, sizeof lat[0], cmp_i64);
	double loss_pct = rx + lost ? 100.0 * (double)lost / (double)(rx + lost) : 100.0;
	double late_pct = rx ? 100.0 * (double)late / (double)rx : 0;
	double lat_med = n_lat ? lat[n_lat / 2] / 1000.0 : -1;
	double lat_max = n_lat ? lat[n_lat - 1] / 1000.0 : -1;
	/* nearest rank: with fewer than 100 samples this is the maximum */
	int r99 = n_lat ? (int)ceil(0.99 * n_lat) - 1 : 0;
	double lat_p99 = n_lat ? lat[r99] / 1000.0 : -1;
	double cpu = cpu_t1 > cpu_t0 ? 100.0 * (double)(cpu1 - cpu0) / sysconf(_SC_CLK_TCK) /
					((double)(cpu_t1 - cpu_t0) / 1e6) : -1;
	json_object_set_new(js, "mode", json_string(o.selftest ? "selftest" : o.janus ? "janus"
										       : "api"));
	json_object_set_new(js, "codec", json_string(lg_codec_name(o.codec)));
	json_object_set_new(js, "levels", json_boolean(o.ext_id != 0));
	double quiet_bytes = 0;
	for (int f = 0; f < CYCLE; f++)
		quiet_bytes += silence[f].len;
	json_object_set_new(js, "quiet_frame_bytes", json_real(quiet_bytes / CYCLE));
	json_object_set_new(js, "participants", json_integer(o.n));
	json_object_set_new(js, "talkers", json_integer(o.talkers));
	json_object_set_new(js, "seconds", json_integer(o.seconds));
	json_object_set_new(js, "sent", json_integer((json_int_t)sent));
	json_object_set_new(js, "send_errors", json_integer((json_int_t)send_err));
	json_object_set_new(js, "late_ticks", json_integer((json_int_t)late_sends));
	json_object_set_new(js, "received", json_integer((json_int_t)rx));
	json_object_set_new(js, "streams", json_integer(streams));
	/* loss_pct is over the streams that delivered something; these delivered nothing */
	json_object_set_new(js, "streams_missing", json_integer(o.n - streams));
	json_object_set_new(js, "loss_pct", json_real(loss_pct));
	json_object_set_new(js, "late_pct", json_real(late_pct));
	json_object_set_new(js, "jitter_ms_mean", json_real(streams ? jit_sum / streams : 0));
	json_object_set_new(js, "jitter_ms_max", json_real(jit_max));
	json_object_set_new(js, "latency_ms_median", json_real(lat_med));
	json_object_set_new(js, "latency_ms_p99", json_real(lat_p99));
	json_object_set_new(js, "latency_ms_max", json_real(lat_max));
	json_object_set_new(js, "latency_samples", json_integer(n_lat));
	json_object_set_new(js, "cpu_pct", json_real(cpu));
	if (h1.ok) {
		/* the bridge's own tick counters over the measured window */
		json_object_set_new(js, "bridge_ticks", json_integer(h1.ticks - h0.ticks));
		json_object_set_new(js, "bridge_late_ticks", json_integer(h1.late - h0.late));
		json_object_set_new(js, "bridge_skipped_ticks",
				    json_integer(h1.skipped - h0.skipped));
		json_object_set_new(js, "bridge_max_late_us", json_integer(h1.max_late_us));
	}
	json_object_set_new(js, "listeners", jl);
	json_object_set_new(js, "check_ok", json_boolean(wrong == 0 && streams == o.n));
	if (o.json) {
		char *s = json_dumps(js, JSON_INDENT(2));
		puts(s);
		free(s);
	} else {
		printf("%s %s: %d participants, %d talkers, %d s\n",
		       o.selftest ? "selftest" : o.janus ? "janus" : "api",
		       lg_codec_name(o.codec), o.n, o.talkers, o.seconds);
		printf("sent %llu (errors %llu, late ticks %llu), received %llu on %d/%d streams\n",
		       (unsigned long long)sent, (unsigned long long)send_err,
		       (unsigned long long)late_sends, (unsigned long long)rx, streams, o.n);
		printf("loss %.2f%%, late %.2f%% (> %d ms), jitter mean %.2f ms max %.2f ms\n",
		       loss_pct, late_pct, o.late_ms, streams ? jit_sum / streams : 0, jit_max);
		printf("latency median %.1f ms p99 %.1f ms max %.1f ms (%d onsets), bridge CPU "
		       "%.1f%%\n", lat_med, lat_p99, lat_max, n_lat, cpu);
		if (h1.ok)
			printf("bridge ticks %lld, late %lld, skipped %lld (max late %lld us)\n",
			       h1.ticks - h0.ticks, h1.late - h0.late, h1.skipped - h0.skipped,
			       h1.max_late_us);
	}
	json_decref(js);
	rc = 0;
	if (o.check && (wrong || checked == 0 || streams < o.n)) {
		fprintf(stderr, "check failed: %d of %d sampled listeners wrong, %d/%d streams\n",
			wrong, checked, streams, o.n);
		rc = 1;
	}
out:
	if (api && parts)
		teardown_api(&o, parts);
	lg_janus_close(janus);
	lg_fake_bridge_stop(bridge);
	for (int i = 0; parts && i < o.n; i++) {
		if (parts[i].fd >= 0)
			close(parts[i].fd);
		lg_codec_close(&parts[i].dec);
	}
	if (ep >= 0)
		close(ep);
	free(parts);
	free(tone);
	free(silence);
	free(onsets);
	return rc;
}
