/* sink.c: the recorder thread (sink.h). It owns every file of one recording: the mix and,
 * when asked, a track per participant. Time is counted in ticks from the recording's
 * start: before a tick's packets are written, a file that is behind (nothing was said, a
 * participant joined later, DTX) gets 20 ms silence frames up to that tick, so every file
 * starts at the recording's start and they line up in an editor. Tracks from Opus
 * participants are their packets as received; G.711 and G.722 are decoded and coded to
 * Opus here, on this thread. */
#define TT_LOG_DOMAIN "record"
#include "record/sink.h"

#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <opus.h>
#include <string.h>
#include <tutti/codec.h>
#include <tutti/errno.h>
#include <tutti/log.h>

#include "record/oggopus.h"

#define FRAME48 960u               /* 20 ms at 48 kHz: one tick */
#define REMUX_PRESKIP 312u         /* the usual libopus look-ahead (6.5 ms) of a sender */
#define IDLE_POLL_US (500 * 1000)
#define MAX_CONCEAL 5              /* lost frames concealed in a row; silence after */
#define IDLE_GIVE_UP 6             /* polls after finish() with no end from the worker */

struct file {
	char *path;
	char *participant;         /* NULL for the mix */
	struct tt_oggw *w;         /* NULL once closed */
	uint64_t bytes;            /* once closed */
};

struct track {
	struct file *f;
	enum tt_codec_id codec;
	struct tt_codec_dec *dec;  /* G.711/G.722: decoded ... */
	OpusEncoder *enc;          /* ... and coded again */
	unsigned pcm_rate;
	int16_t pcm[960 * 2 + 1024];
	unsigned fill;
	uint8_t toc;               /* code-0 TOC of the last 20 ms Opus packet, 0: none yet */
	unsigned lost_run;         /* lost frames concealed in a row */
};

struct tt_rec_sink {
	gint refs;
	GAsyncQueue *q;
	gint qlen;
	unsigned qmax;
	gint failed;
	gint finish_asked;
	gint done;
	int64_t first_us;          /* atomic (__atomic builtins) */
	char *dir, *base, *title;
	bool tracks;
	struct tt_mq *core_mq;
	void (*on_failed)(void *core, struct tt_rec_sink *s, const char *why);
	GThread *th;

	GMutex lock;               /* files (the list, and closing) and manifest */
	GPtrArray *files;          /* struct file * */
	json_t *manifest;

	/* recorder thread only */
	struct file *mix;
	GHashTable *track;         /* participant id -> struct track * */
	char *why;                 /* the failure, if any (under lock) */
};

struct fail_msg {
	struct tt_rec_sink *s;
	char *why;
};

static void failed_on_core(void *core, void *arg)
{
	struct fail_msg *m = arg;
	m->s->on_failed(core, m->s, m->why);
	tt__rec_sink_unref(m->s);
	g_free(m->why);
	g_free(m);
}

/* Any thread; once. */
static void fail(struct tt_rec_sink *s, const char *why)
{
	if (!g_atomic_int_compare_and_exchange(&s->failed, 0, 1))
		return;
	g_mutex_lock(&s->lock);
	if (!s->why)
		s->why = g_strdup(why);
	g_mutex_unlock(&s->lock);
	tt_warn_kv(TT_KV("event", "recording_failed", "recording", s->base, "reason", why),
		   "recording %s: %s: the recording stops, the room goes on", s->base, why);
	struct fail_msg *m = g_new0(struct fail_msg, 1);
	m->s = tt__rec_sink_ref(s);
	m->why = g_strdup(why);
	tt_mq_post(s->core_mq, failed_on_core, m);
}

static struct file *file_add(struct tt_rec_sink *s, char *path, const char *participant,
			     struct tt_oggw *w)
{
	struct file *f = g_new0(struct file, 1);
	f->path = path;
	f->participant = g_strdup(participant);
	f->w = w;
	g_mutex_lock(&s->lock);
	g_ptr_array_add(s->files, f);
	g_mutex_unlock(&s->lock);
	return f;
}

static int file_close(struct tt_rec_sink *s, struct file *f)
{
	if (!f || !f->w)
		return 0;
	g_mutex_lock(&s->lock);
	f->bytes = tt_oggw_bytes(f->w);
	struct tt_oggw *w = f->w;
	f->w = NULL;
	g_mutex_unlock(&s->lock);
	int rc = tt_oggw_close(w);
	g_mutex_lock(&s->lock);
	if (rc == 0) {
		GStatBuf st;
		if (g_stat(f->path, &st) == 0)
			f->bytes = (uint64_t)st.st_size;
	}
	g_mutex_unlock(&s->lock);
	return rc;
}

static void write_error(struct tt_rec_sink *s, const char *path, int rc)
{
	char *why = rc == -ENOSPC ? g_strdup_printf("disk full: writing %s", path)
				  : g_strdup_printf("write error: %s: %s", path, tt_strerror(rc));
	fail(s, why);
	g_free(why);
}

/* Silence up to the start of tick `t`: silence frames, except in a remuxed track before
 * its first packet: there "nothing received" (tt_oggw_gap, zeros from a decoder that has
 * decoded nothing), so that the player's decoder starts in the sender's own mode. */
static int catch_up(struct tt_oggw *w, uint64_t t, bool remux)
{
	uint64_t have = tt_oggw_samples(w), want = t * FRAME48;
	if (have + FRAME48 > want)
		return 0;
	return remux ? tt_oggw_gap(w, (want - have) / FRAME48)
		     : tt_oggw_silence(w, (want - have) / FRAME48);
}

static struct track *track_open(struct tt_rec_sink *s, const struct tt_rec_rec *r, int *err)
{
	struct track *tr = g_new0(struct track, 1);
	tr->codec = r->codec < TT_CODEC_COUNT ? (enum tt_codec_id)r->codec : TT_CODEC_OPUS;
	tr->pcm_rate = tt_codec_pcm_rate(tr->codec, 48000);
	unsigned preskip = REMUX_PRESKIP;
	*err = 0;
	if (tr->codec != TT_CODEC_OPUS) {
		struct tt_codec_params p = { .room_rate = 48000, .ptime = 20 };
		int e = 0;
		*err = tt_codec_dec_alloc(&tr->dec, tr->codec, &p);
		tr->enc = *err ? NULL : opus_encoder_create((opus_int32)tr->pcm_rate, 1,
							      OPUS_APPLICATION_VOIP, &e);
		if (!*err && !tr->enc)
			*err = -ENOMEM;
		if (!*err) {
			opus_int32 la = 0;
			opus_encoder_ctl(tr->enc, OPUS_SET_BITRATE(24000));
			opus_encoder_ctl(tr->enc, OPUS_GET_LOOKAHEAD(&la));
			preskip = (unsigned)la * (48000 / tr->pcm_rate);
		}
	}
	char *path = NULL;
	struct tt_oggw *w = NULL;
	if (!*err) {
		path = g_strdup_printf("%s/%s-%s.opus", s->dir, s->base, r->id);
		char *title = g_strdup_printf("%s: %s", s->title, r->id);
		*err = tt_oggw_open(&w, path, tr->pcm_rate, preskip, title);
		g_free(title);
	}
	if (*err) {
		if (!path)
			path = g_strdup_printf("%s/%s-%s.opus", s->dir, s->base, r->id);
		write_error(s, path, *err);
		g_free(path);
		tt_codec_dec_free(tr->dec);
		if (tr->enc)
			opus_encoder_destroy(tr->enc);
		g_free(tr);
		return NULL;
	}
	tr->f = file_add(s, path, r->id, w);
	return tr;
}

static void track_free(struct track *tr)
{
	tt_codec_dec_free(tr->dec);
	if (tr->enc)
		opus_encoder_destroy(tr->enc);
	g_free(tr);
}

/* G.711/G.722 audio (or silence, pcm NULL) into the track's Opus encoder, 20 ms at a time. */
static int track_pcm(struct track *tr, const int16_t *pcm, unsigned n)
{
	unsigned frame = tr->pcm_rate / 50;
	int rc = 0;
	while (n && !rc) {
		unsigned room = (unsigned)G_N_ELEMENTS(tr->pcm) - tr->fill, c = n < room ? n : room;
		if (pcm)
			memcpy(tr->pcm + tr->fill, pcm, c * sizeof(*pcm));
		else
			memset(tr->pcm + tr->fill, 0, c * sizeof(*pcm));
		tr->fill += c;
		n -= c;
		if (pcm)
			pcm += c;
		while (tr->fill >= frame && !rc) {
			uint8_t out[1500];
			opus_int32 len = opus_encode(tr->enc, tr->pcm, (int)frame, out, sizeof out);
			if (len > 0)
				rc = tt_oggw_packet(tr->f->w, out, (size_t)len);
			memmove(tr->pcm, tr->pcm + frame, (tr->fill - frame) * sizeof(*tr->pcm));
			tr->fill -= frame;
		}
	}
	return rc;
}

static int track_write(struct track *tr, const struct tt_rec_rec *r, const uint8_t *data,
		       uint64_t tick)
{
	struct tt_oggw *w = tr->f->w;
	uint64_t frames = r->rtp_rate ? ((uint64_t)r->dur * 48000 / r->rtp_rate + FRAME48 / 2) /
						FRAME48 : 1;
	/* Ahead of the clock (a burst after a stall filled more than the tick): silence is
	 * where the track gets back in step, never audio. */
	if (!r->len && tt_oggw_samples(w) + tr->fill * (48000 / tr->pcm_rate) >=
			       (tick + 1) * FRAME48 + FRAME48)
		return 0;
	if (tr->codec == TT_CODEC_OPUS) {
		if (r->len) {
			int rc = tt_oggw_packet(w, data, r->len);
			if (rc == 0 && opus_packet_get_samples_per_frame(data, 48000) == FRAME48)
				tr->toc = data[0] & 0xfc;   /* code 0: one frame */
			tr->lost_run = 0;
			return rc == -EINVAL ? tt_oggw_silence(w, frames) : rc;
		}
		if (r->kind == TT_REC_LOST && tr->toc && tr->lost_run < MAX_CONCEAL) {
			/* A lost 20 ms frame as Opus says it (a frame of length 0): players
			 * conceal it as the mixer did, so a steady voice does not drop out. */
			int rc = 0;
			for (uint64_t i = 0; i < frames && !rc; i++, tr->lost_run++)
				rc = tt_oggw_packet(w, &tr->toc, 1);
			return rc;
		}
		return tr->toc ? tt_oggw_silence(w, frames) : tt_oggw_gap(w, frames);
	}
	int16_t pcm[2880];
	int n = r->len ? tt_codec_dec_decode(tr->dec, data, r->len, pcm, G_N_ELEMENTS(pcm)) : -1;
	if (n > 0)
		return track_pcm(tr, pcm, (unsigned)n);
	unsigned want = (unsigned)(frames * tr->pcm_rate / 50);
	if (r->kind == TT_REC_LOST && want <= G_N_ELEMENTS(pcm) &&
	    tt_codec_dec_conceal(tr->dec, NULL, 0, pcm, want) == (int)want)
		return track_pcm(tr, pcm, want);   /* SpanDSP's PLC, as the mixer did */
	return track_pcm(tr, NULL, want);
}

static void write_tick(struct tt_rec_sink *s, const struct tt_rec_tick *t)
{
	const uint8_t *p = (const uint8_t *)(t + 1), *end = p + t->len;
	tt_oggw_set_preskip(s->mix->w, t->mix_preskip);
	int rc = catch_up(s->mix->w, t->tick, false);
	if (rc) {
		write_error(s, s->mix->path, rc);
		return;
	}
	/* tracks that got nothing this tick catch up when they next do, or at the end */
	while (p + sizeof(struct tt_rec_rec) <= end) {
		struct tt_rec_rec r;
		memcpy(&r, p, sizeof r);
		const uint8_t *data = p + sizeof r;
		p = data + r.len;
		if (p > end)
			break;
		r.id[TT_REC_ID_MAX - 1] = 0;
		if (r.kind == TT_REC_MIX) {
			rc = tt_oggw_packet(s->mix->w, data, r.len);
			if (rc && rc != -EINVAL) {
				write_error(s, s->mix->path, rc);
				return;
			}
			continue;
		}
		if ((r.kind != TT_REC_TRACK && r.kind != TT_REC_LOST) || !s->tracks)
			continue;
		struct track *tr = g_hash_table_lookup(s->track, r.id);
		if (!tr) {
			int err;
			tr = track_open(s, &r, &err);
			if (!tr)
				return;
			g_hash_table_insert(s->track, g_strdup(r.id), tr);
		}
		rc = catch_up(tr->f->w, t->tick, tr->codec == TT_CODEC_OPUS && !tr->toc);
		if (!rc)
			rc = track_write(tr, &r, data, t->tick);
		if (rc) {
			write_error(s, tr->f->path, rc);
			return;
		}
	}
}

static void write_manifest(struct tt_rec_sink *s, uint64_t ticks, const char *why)
{
	g_mutex_lock(&s->lock);
	json_t *m = s->manifest ? json_incref(s->manifest) : json_object();
	g_mutex_unlock(&s->lock);
	json_object_set_new(m, "files", tt__rec_sink_files_json(s));
	json_object_set_new(m, "duration_ms", json_integer((json_int_t)(ticks * 20)));
	if (why)
		json_object_set_new(m, "failed", json_string(why));
	char *path = g_strdup_printf("%s/%s.json", s->dir, s->base);
	char *tmp = g_strdup_printf("%s.tmp", path);
	if (json_dump_file(m, tmp, JSON_INDENT(2) | JSON_SORT_KEYS) || g_rename(tmp, path)) {
		tt_warn("recording %s: the manifest %s could not be written", s->base, path);
		g_unlink(tmp);
	}
	g_free(tmp);
	g_free(path);
	json_decref(m);
}

static gpointer run(gpointer arg)
{
	struct tt_rec_sink *s = arg;
	uint64_t last = 0;
	unsigned idle = 0;
	for (;;) {
		struct tt_rec_tick *t = g_async_queue_timeout_pop(s->q, IDLE_POLL_US);
		if (!t) {
			if (g_atomic_int_get(&s->finish_asked) && ++idle >= IDLE_GIVE_UP) {
				tt_warn("recording %s: no end from the media worker; finishing", s->base);
				break;
			}
			continue;
		}
		idle = 0;
		g_atomic_int_add(&s->qlen, -1);
		bool the_end = t->kind == TT_REC_END;
		if (!the_end && !g_atomic_int_get(&s->failed)) {
			write_tick(s, t);
			last = t->tick + 1;
		}
		g_free(t);
		if (the_end)
			break;
	}
	/* every file ends at the same tick */
	char *why = NULL;
	if (!g_atomic_int_get(&s->failed)) {
		GHashTableIter it;
		gpointer k, v;
		int rc = catch_up(s->mix->w, last, false);
		g_hash_table_iter_init(&it, s->track);
		while (!rc && g_hash_table_iter_next(&it, &k, &v)) {
			struct track *tr = v;
			rc = catch_up(tr->f->w, last, tr->codec == TT_CODEC_OPUS && !tr->toc);
		}
		if (rc)
			why = g_strdup_printf("writing the last pages: %s", tt_strerror(rc));
	}
	g_mutex_lock(&s->lock);
	GPtrArray *files = g_ptr_array_ref(s->files);
	g_mutex_unlock(&s->lock);
	for (guint i = 0; i < files->len; i++) {
		struct file *f = g_ptr_array_index(files, i);
		int rc = file_close(s, f);
		if (rc && !why)
			why = g_strdup_printf("closing %s: %s", f->path, tt_strerror(rc));
	}
	g_ptr_array_unref(files);
	g_mutex_lock(&s->lock);
	if (why && !s->why)
		s->why = g_strdup(why);
	g_free(why);
	why = g_strdup(s->why);
	g_mutex_unlock(&s->lock);
	write_manifest(s, last, why);
	tt_info("recording %s finished: %" G_GUINT64_FORMAT " s%s%s", s->base, last / 50,
		why ? ", " : "", why ? why : "");
	g_free(why);
	g_atomic_int_set(&s->done, 1);
	tt__rec_sink_unref(s);
	return NULL;
}

static void file_free(gpointer p)
{
	struct file *f = p;
	if (f->w)
		tt_oggw_close(f->w);
	g_free(f->path);
	g_free(f->participant);
	g_free(f);
}

int tt__rec_sink_new(struct tt_rec_sink **sp, const struct tt_rec_sink_cfg *c)
{
	struct tt_rec_sink *s = g_new0(struct tt_rec_sink, 1);
	s->refs = 1;
	s->q = g_async_queue_new();
	s->qmax = c->queue ? c->queue : 1;
	s->dir = g_strdup(c->dir);
	s->base = g_strdup(c->base);
	s->title = g_strdup(c->title ? c->title : c->base);
	s->tracks = c->tracks;
	s->core_mq = c->core_mq;
	s->on_failed = c->on_failed;
	g_mutex_init(&s->lock);
	s->files = g_ptr_array_new_with_free_func(file_free);
	s->track = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					 (GDestroyNotify)track_free);
	char *path = g_strdup_printf("%s/%s.opus", s->dir, s->base);
	struct tt_oggw *w = NULL;
	int rc = tt_oggw_open(&w, path, 48000, 312, s->title);
	if (rc) {
		g_free(path);
		tt__rec_sink_unref(s);
		return rc;
	}
	s->mix = file_add(s, path, NULL, w);
	tt__rec_sink_ref(s);   /* the thread's */
	s->th = g_thread_new("recorder", run, s);
	*sp = s;
	return 0;
}

struct tt_rec_sink *tt__rec_sink_ref(struct tt_rec_sink *s)
{
	g_atomic_int_inc(&s->refs);
	return s;
}

void tt__rec_sink_unref(struct tt_rec_sink *s)
{
	if (!s || !g_atomic_int_dec_and_test(&s->refs))
		return;
	struct tt_rec_tick *t;
	while ((t = g_async_queue_try_pop(s->q)))
		g_free(t);
	g_async_queue_unref(s->q);
	g_hash_table_destroy(s->track);
	g_ptr_array_free(s->files, TRUE);
	if (s->manifest)
		json_decref(s->manifest);
	g_mutex_clear(&s->lock);
	if (s->th)
		g_thread_unref(s->th);
	g_free(s->dir);
	g_free(s->base);
	g_free(s->title);
	g_free(s->why);
	g_free(s);
}

int tt__rec_sink_push(struct tt_rec_sink *s, struct tt_rec_tick *t)
{
	if (g_atomic_int_get(&s->failed)) {
		g_free(t);
		return -ENOBUFS;
	}
	if ((unsigned)g_atomic_int_get(&s->qlen) >= s->qmax) {
		g_free(t);
		char *why = g_strdup_printf("disk too slow: %u ticks (%u s) wait to be written "
					    "([recording] queue)", s->qmax, s->qmax / 50);
		fail(s, why);
		g_free(why);
		return -ENOBUFS;
	}
	g_atomic_int_inc(&s->qlen);
	g_async_queue_push(s->q, t);
	return 0;
}

void tt__rec_sink_started(struct tt_rec_sink *s, int64_t mono_us)
{
	int64_t zero = 0;
	__atomic_compare_exchange_n(&s->first_us, &zero, mono_us, false, __ATOMIC_RELEASE,
				    __ATOMIC_RELAXED);
}

int64_t tt__rec_sink_first_us(const struct tt_rec_sink *s)
{
	return __atomic_load_n(&s->first_us, __ATOMIC_ACQUIRE);
}

bool tt__rec_sink_failed(const struct tt_rec_sink *s)
{
	return g_atomic_int_get(&s->failed);
}

void tt__rec_sink_end(struct tt_rec_sink *s)
{
	struct tt_rec_tick *t = g_new0(struct tt_rec_tick, 1);
	t->kind = TT_REC_END;
	g_atomic_int_inc(&s->qlen);
	g_async_queue_push(s->q, t);
}

void tt__rec_sink_finish(struct tt_rec_sink *s, json_t *manifest)
{
	g_mutex_lock(&s->lock);
	if (s->manifest)
		json_decref(s->manifest);
	s->manifest = manifest;
	g_mutex_unlock(&s->lock);
	g_atomic_int_set(&s->finish_asked, 1);
}

json_t *tt__rec_sink_files_json(struct tt_rec_sink *s)
{
	json_t *a = json_array();
	g_mutex_lock(&s->lock);
	for (guint i = 0; i < s->files->len; i++) {
		const struct file *f = g_ptr_array_index(s->files, i);
		json_t *o = json_pack("{s:s, s:I}", "path", f->path, "bytes",
				      (json_int_t)(f->w ? tt_oggw_bytes(f->w) : f->bytes));
		json_object_set_new(o, "participant",
				    f->participant ? json_string(f->participant) : json_null());
		json_array_append_new(a, o);
	}
	g_mutex_unlock(&s->lock);
	return a;
}

uint64_t tt__rec_sink_bytes(struct tt_rec_sink *s)
{
	uint64_t n = 0;
	g_mutex_lock(&s->lock);
	for (guint i = 0; i < s->files->len; i++) {
		const struct file *f = g_ptr_array_index(s->files, i);
		n += f->w ? tt_oggw_bytes(f->w) : f->bytes;
	}
	g_mutex_unlock(&s->lock);
	return n;
}

bool tt__rec_sink_done(const struct tt_rec_sink *s)
{
	return g_atomic_int_get(&s->done);
}

void tt__rec_sink_join(struct tt_rec_sink *s)
{
	if (s->th) {
		g_thread_join(s->th);
		s->th = NULL;
	}
}
