/* record.c: recordings on the core thread: [recording] config, start and stop (record.h),
 * the manifest's facts (who joined, left and talked when, from roster events), the spoken
 * notice, retention, and the files' state for the admin API. The files themselves are the
 * recorder thread's (sink.c), fed by the room's worker (media/media_rec.c). */
#define TT_LOG_DOMAIN "record"
#include "record/record.h"

#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <tutti/errno.h>
#include <tutti/log.h>
#include <tutti/wav.h>

#include "media/media.h"
#include "meeting/meeting.h"
#include "participant/participant.h"
#include "record/recorder.h"
#include "record/sink.h"
#include "room/room.h"

struct tt_recording {
	struct tt_room *room;
	char *id;
	char *base;
	char *dir;
	int64_t since;             /* g_get_real_time */
	int64_t since_mono;
	bool tracks;
	struct tt_rec_sink *sink;
	json_t *parts;             /* participant id -> {name, network, joined[], left[], talk[]} */
};

struct tt_recorder {
	int16_t *notice;           /* the spoken notice, mono 16-bit */
	size_t notice_n;
	unsigned notice_rate;
	GPtrArray *finishing;      /* sinks whose thread is to be joined */
	uint64_t bytes_done;       /* in the files of recordings joined (GET /metrics) */
	guint retention_timer;
};

/* ---- the notice ---- */

static void notice_load(struct tt_recorder *r, const char *dir)
{
	if (!dir || !*dir)
		dir = TT_RECORD_PROMPTS_DIR;
	char *path = g_strdup_printf("%s/recording.wav", dir);
	struct tt_wav w;
	if (tt_wav_load(&w, path) == 0) {
		r->notice = w.pcm;
		r->notice_n = w.n;
		r->notice_rate = w.rate;
	} else {
		tt_warn("prompt %s: missing or not mono 16-bit PCM WAV; recordings start without "
			"the spoken notice", path);
	}
	g_free(path);
}

/* ---- retention ---- */

static void sweep(struct tt_core *core)
{
	const char *dir = tt_conf_str(core->conf, "recording", "dir");
	long long days = tt_conf_int(core->conf, "recording", "retention_days");
	if (!days || !dir || !tt_conf_bool(core->conf, "recording", "enabled"))
		return;
	GDir *d = g_dir_open(dir, 0, NULL);
	if (!d)
		return;
	int64_t before = g_get_real_time() / G_USEC_PER_SEC - days * 86400;
	unsigned gone = 0;
	const char *name;
	while ((name = g_dir_read_name(d))) {
		if (!g_str_has_suffix(name, ".opus") && !g_str_has_suffix(name, ".json"))
			continue;
		char *path = g_build_filename(dir, name, NULL);
		GStatBuf st;
		if (g_stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_mtime < before &&
		    g_unlink(path) == 0)
			gone++;
		g_free(path);
	}
	g_dir_close(d);
	if (gone)
		tt_info("retention: %u recording file(s) older than %lld days removed from %s",
			gone, days, dir);
}

static gboolean on_retention(gpointer core)
{
	sweep(core);
	return G_SOURCE_CONTINUE;
}

static void reap(struct tt_recorder *r, bool all)
{
	for (guint i = 0; i < r->finishing->len;) {
		struct tt_rec_sink *s = g_ptr_array_index(r->finishing, i);
		if (!all && !tt__rec_sink_done(s)) {
			i++;
			continue;
		}
		tt__rec_sink_join(s);
		r->bytes_done += tt__rec_sink_bytes(s);
		tt__rec_sink_unref(s);
		g_ptr_array_remove_index_fast(r->finishing, i);
	}
}

void tt__record_init(struct tt_core *core)
{
	struct tt_recorder *r = g_new0(struct tt_recorder, 1);
	r->finishing = g_ptr_array_new();
	core->recorder = r;
	/* [recording] enabled and retention_days are reloadable: the notice is loaded and the
	 * daily sweep runs whatever they are now */
	notice_load(r, tt_conf_str(core->conf, "recording", "prompts_dir"));
	sweep(core);
	r->retention_timer = g_timeout_add_seconds(86400, on_retention, core);
}

uint64_t tt__record_bytes(struct tt_core *core, unsigned *running)
{
	struct tt_recorder *r = core->recorder;
	uint64_t n = r ? r->bytes_done : 0;
	for (guint i = 0; r && i < r->finishing->len; i++)
		n += tt__rec_sink_bytes(g_ptr_array_index(r->finishing, i));
	*running = 0;
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, core->rooms);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		const struct tt_room *room = v;
		if (room->rec) {
			n += tt__rec_sink_bytes(room->rec->sink);
			(*running)++;
		}
	}
	return n;
}

void tt__record_fini(struct tt_core *core)
{
	struct tt_recorder *r = core->recorder;
	if (!r)
		return;
	reap(r, true);
	g_ptr_array_free(r->finishing, TRUE);
	if (r->retention_timer)
		g_source_remove(r->retention_timer);
	g_free(r->notice);
	g_free(r);
	core->recorder = NULL;
}

/* ---- the manifest ---- */

static int64_t rel_ms(const struct tt_recording *rec)
{
	return (g_get_monotonic_time() - rec->since_mono) / 1000;
}

static json_t *part_of(struct tt_recording *rec, const struct tt_roster_entry *e)
{
	json_t *o = json_object_get(rec->parts, e->id);
	if (!o) {
		o = json_pack("{s:s, s:s, s:s, s:[], s:[], s:[]}", "name", e->name ? e->name : "",
			      "network", e->network ? e->network : "", "gateway",
			      e->gateway ? e->gateway : "", "joined_ms", "left_ms", "talk_ms");
		json_object_set_new(rec->parts, e->id, o);
	}
	return o;
}

static void talk(struct tt_recording *rec, json_t *o, bool on)
{
	json_t *spans = json_object_get(o, "talk_ms");
	size_t n = json_array_size(spans);
	json_t *last = n ? json_array_get(spans, n - 1) : NULL;
	bool open = last && json_array_size(last) == 1;
	if (on && !open)
		json_array_append_new(spans, json_pack("[I]", (json_int_t)rel_ms(rec)));
	else if (!on && open)
		json_array_append_new(last, json_integer((json_int_t)rel_ms(rec)));
}

static void shift_list(json_t *a, int64_t ms)
{
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v) {
		if (json_is_array(v)) {
			shift_list(v, ms);
			continue;
		}
		json_int_t t = json_integer_value(v) - ms;
		json_integer_set(v, t > 0 ? t : 0);
	}
}

static void shift_times(json_t *o, int64_t ms)
{
	shift_list(json_object_get(o, "joined_ms"), ms);
	shift_list(json_object_get(o, "left_ms"), ms);
	shift_list(json_object_get(o, "talk_ms"), ms);
}

void tt__record_note(struct tt_room *room, const struct tt_roster_event *ev)
{
	struct tt_recording *rec = room->rec;
	if (!rec || !ev->who.id)
		return;
	json_t *o = part_of(rec, &ev->who);
	switch (ev->type) {
	case TT_ROSTER_JOINED:
		json_array_append_new(json_object_get(o, "joined_ms"),
				      json_integer((json_int_t)rel_ms(rec)));
		break;
	case TT_ROSTER_LEFT:
		talk(rec, o, false);
		json_array_append_new(json_object_get(o, "left_ms"),
				      json_integer((json_int_t)rel_ms(rec)));
		break;
	case TT_ROSTER_STATE:
		if (ev->changed & TT_PS_TALKING)
			talk(rec, o, ev->who.state & TT_PS_TALKING);
		if (ev->changed & TT_PS_NO_RECORD)
			json_object_set_new(o, "declined", json_boolean(ev->who.state &
									 TT_PS_NO_RECORD));
		break;
	default:
		break;
	}
}

/* ---- start, stop ---- */

static void on_sink_failed(void *arg, struct tt_rec_sink *s, const char *why)
{
	struct tt_core *core = arg;
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, core->rooms);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		struct tt_room *room = v;
		if (room->rec && room->rec->sink == s) {
			tt__meeting_recording_stopped(core, room->name, why);
			return;
		}
	}
}

/* {room}, {id} and {date} in the template; anything but [A-Za-z0-9._-] becomes '_' so a
 * room name cannot leave the directory. */
static char *file_base(const char *tpl, const char *room, const char *id, const char *date)
{
	GString *s = g_string_new(NULL);
	for (const char *p = tpl; *p;) {
		if (g_str_has_prefix(p, "{room}")) {
			g_string_append(s, room);
			p += 6;
		} else if (g_str_has_prefix(p, "{id}")) {
			g_string_append(s, id);
			p += 4;
		} else if (g_str_has_prefix(p, "{date}")) {
			g_string_append(s, date);
			p += 6;
		} else {
			g_string_append_c(s, *p++);
		}
	}
	for (char *c = s->str; *c; c++)
		if (!g_ascii_isalnum(*c) && *c != '.' && *c != '-' && *c != '_')
			*c = '_';
	if (s->str[0] == '.' || !s->len)
		g_string_prepend_c(s, '_');
	return g_string_free(s, FALSE);
}

static void free_rec(struct tt_recording *rec)
{
	tt__rec_sink_unref(rec->sink);
	json_decref(rec->parts);
	g_free(rec->id);
	g_free(rec->base);
	g_free(rec->dir);
	g_free(rec);
}

int tt__record_start(struct tt_room *room, const struct tt_record_opts *opts)
{
	struct tt_core *core = room->core;
	struct tt_recorder *r = core->recorder;
	if (!r || !tt_conf_bool(core->conf, "recording", "enabled"))
		return -ENOTSUP;
	if (room->rec)
		return -EALREADY;
	reap(r, false);
	const char *dir = tt_conf_str(core->conf, "recording", "dir");
	if (g_mkdir_with_parents(dir, 0750)) {
		int err = -errno;
		tt_warn("recording %s: cannot make %s: %s", room->name, dir, tt_strerror(err));
		return err;
	}
	GDateTime *now = g_date_time_new_now_utc();
	char *date = g_date_time_format(now, "%Y%m%d-%H%M%S");
	g_date_time_unref(now);
	struct tt_recording *rec = g_new0(struct tt_recording, 1);
	rec->room = room;
	rec->id = g_strdup_printf("%s-%04x", date, g_random_int_range(0, 0x10000));
	rec->base = file_base(tt_conf_str(core->conf, "recording", "name"), room->name, rec->id,
			      date);
	g_free(date);
	rec->dir = g_strdup(dir);
	rec->since = g_get_real_time();
	rec->since_mono = g_get_monotonic_time();
	rec->tracks = (opts && opts->tracks) || tt_conf_bool(core->conf, "recording", "tracks");
	rec->parts = json_object();
	struct tt_rec_sink_cfg sc = {
		.dir = dir, .base = rec->base, .title = room->name,
		.queue = (unsigned)tt_conf_int(core->conf, "recording", "queue"),
		.tracks = rec->tracks, .core_mq = core->mq, .on_failed = on_sink_failed,
	};
	int rc = tt__rec_sink_new(&rec->sink, &sc);
	if (rc) {
		tt_warn("recording %s: %s/%s.opus: %s", room->name, dir, rec->base, tt_strerror(rc));
		free_rec(rec);
		return rc;
	}
	room->rec = rec;
	for (guint i = 0; i < room->parts->len; i++) {
		struct tt_participant *p = g_ptr_array_index(room->parts, i);
		struct tt_roster_entry e;
		tt__participant_entry(p, &e);
		json_t *o = part_of(rec, &e);
		json_array_append_new(json_object_get(o, "joined_ms"), json_integer(0));
		if (e.state & TT_PS_TALKING)
			talk(rec, o, true);
	}
	tt__room_media_record(room->media, rec->sink, rec->tracks, r->notice, r->notice_n,
			      r->notice_rate, room->rate);
	tt_info_kv(TT_KV("event", "recording_started", "room", room->name, "recording", rec->id),
		   "recording %s started in room %s: %s/%s.opus%s", rec->id, room->name, dir,
		   rec->base, rec->tracks ? " and a track per participant" : "");
	return 0;
}

int tt__record_stop(struct tt_room *room, const char *why)
{
	struct tt_recording *rec = room->rec;
	if (!rec)
		return -EALREADY;
	room->rec = NULL;
	/* talk spans still open end now */
	const char *k;
	json_t *o;
	json_object_foreach(rec->parts, k, o)
		talk(rec, o, false);
	/* The files start at the worker's first recorded tick, a little after the core
	 * started the recording: the manifest's times count from the files' start. */
	int64_t first = tt__rec_sink_first_us(rec->sink);
	int64_t shift = first > rec->since_mono ? (first - rec->since_mono) / 1000 : 0;
	json_object_foreach(rec->parts, k, o)
		shift_times(o, shift);
	GDateTime *t0 = g_date_time_new_from_unix_utc(rec->since / G_USEC_PER_SEC);
	char *started = g_date_time_format_iso8601(t0);
	g_date_time_unref(t0);
	json_t *m = json_pack("{s:s, s:s, s:s, s:I, s:s, s:b, s:O}", "id", rec->id, "room",
			      room->name, "started", started, "started_us", (json_int_t)rec->since,
			      "stopped", why ? why : "stopped", "tracks", rec->tracks,
			      "participants", rec->parts);
	g_free(started);
	json_object_set_new(m, "stopped_ms", json_integer((json_int_t)(rel_ms(rec) - shift)));
	tt__rec_sink_finish(rec->sink, m);
	tt__room_media_record(room->media, NULL, false, NULL, 0, 0, 0);
	g_ptr_array_add(room->core->recorder->finishing, tt__rec_sink_ref(rec->sink));
	tt_info_kv(TT_KV("event", "recording_stopped", "room", room->name, "recording", rec->id,
			 "reason", why),
		   "recording %s in room %s stopped: %s", rec->id, room->name, why ? why : "");
	free_rec(rec);
	return 0;
}

const char *tt__record_id(const struct tt_recording *rec)
{
	return rec ? rec->id : NULL;
}

int64_t tt__record_since(const struct tt_recording *rec)
{
	return rec ? rec->since : 0;
}

json_t *tt__record_json(const struct tt_recording *rec)
{
	if (!rec)
		return json_object();
	GDateTime *t0 = g_date_time_new_from_unix_utc(rec->since / G_USEC_PER_SEC);
	char *started = g_date_time_format_iso8601(t0);
	g_date_time_unref(t0);
	json_t *files = tt__rec_sink_files_json(rec->sink);
	size_t i;
	json_t *f;
	json_array_foreach(files, i, f)
		json_object_set_new(f, "kind", json_string(json_is_null(json_object_get(
			f, "participant")) ? "mix" : "track"));
	/* the manifest is written when the recording ends: its path is known now */
	char *man = g_strdup_printf("%s/%s.json", rec->dir, rec->base);
	GStatBuf st;
	json_array_append_new(files, json_pack("{s:s, s:s, s:n, s:I}", "path", man, "kind",
					       "manifest", "participant", "bytes",
					       (json_int_t)(g_stat(man, &st) ? 0 : st.st_size)));
	g_free(man);
	json_t *j = json_pack("{s:s, s:s, s:I, s:b, s:o}", "id", rec->id, "started", started,
			      "started_us", (json_int_t)rec->since, "tracks", rec->tracks, "files",
			      files);
	g_free(started);
	return j;
}
