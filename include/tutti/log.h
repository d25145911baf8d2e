/* log.h: per-subsystem log levels, to stderr, one line per event in one of three formats
 * (tt_log_set_format): the readable text of old, logfmt (key=value), or JSON. When stderr is
 * the systemd journal (JOURNAL_STREAM names it), each line starts with its sd-daemon(3)
 * level prefix (<3> error .. <7> debug), so journalctl -p works.
 *
 * Each .c file defines TT_LOG_DOMAIN ("sip", "mixer", ...) before including this header.
 * Threading: tt_log_write() is safe from any thread (one write(2) per line) but it does I/O,
 * so it is never called from a media tick: hot paths count events into stats instead. */
#ifndef TUTTI_LOG_H
#define TUTTI_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

enum tt_log_level {
	TT_LOG_ERROR = 0,
	TT_LOG_WARN = 1,
	TT_LOG_INFO = 2,
	TT_LOG_DEBUG = 3,
};

enum tt_log_format {
	TT_LOG_FORMAT_TEXT = 0,   /* "19:27:58.123 info  sip: message" (the default) */
	TT_LOG_FORMAT_LOGFMT,     /* ts=2026-12-07T19:27:58.123Z level=info domain=sip msg="..." */
	TT_LOG_FORMAT_JSON,       /* {"ts":"...","level":"info","domain":"sip","msg":"..."} */
};

#ifndef TT_LOG_DOMAIN
#define TT_LOG_DOMAIN "tutti"
#endif

void tt_log_write(const char *domain, enum tt_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void tt_log_writev(const char *domain, enum tt_log_level level, const char *fmt, va_list ap);
bool tt_log_enabled(const char *domain, enum tt_log_level level);

/* Parse "info" or "sip=debug,mixer=warn[,default]" and apply it atomically. On error
 * nothing changes and *errp (if given) gets a new string the caller g_free()s. Any thread. */
int tt_log_set_levels(const char *spec, char **errp);
const char *tt_log_level_name(enum tt_log_level level);
/* "text", "logfmt" or "json": 0, or -EINVAL and nothing changes. Call before threads log. */
int tt_log_set_format(const char *name);
/* Whether lines get the journal's <N> prefix; tt_log_set_format decides it from
 * JOURNAL_STREAM and stderr, this overrides it (tests). */
void tt_log_set_journal(bool on);
/* Formats one line as tt_log_writev would write it (without writing): n (>= 64) bytes at
 * most, the newline included, no NUL; returns the length. A long message is cut, and the
 * line stays one valid line of its format. Any thread. */
size_t tt_log_format_line(char *buf, size_t n, const char *domain, enum tt_log_level level,
			  const char *msg);

/* Events an operator searches for (a join, a link going down, a recording) also carry their
 * subjects as fields of their own: kv is "key", "value", ..., NULL, keys [a-z0-9_]+ (others
 * become '_'; never ts, level, domain or msg), a NULL value is skipped. logfmt and JSON write them between domain and msg
 * (room=ops participant=sip-3 msg="..."); the text format stays the readable sentence. The
 * message still says everything, so a reader of either format misses nothing. */
void tt_log_fields(const char *domain, enum tt_log_level level, const char *const *kv,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
size_t tt_log_format_fields(char *buf, size_t n, const char *domain, enum tt_log_level level,
			    const char *const *kv, const char *msg);
#define TT_KV(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define tt_info_kv(kv, ...) tt_log_fields(TT_LOG_DOMAIN, TT_LOG_INFO, kv, __VA_ARGS__)
#define tt_warn_kv(kv, ...) tt_log_fields(TT_LOG_DOMAIN, TT_LOG_WARN, kv, __VA_ARGS__)
#define tt_error_kv(kv, ...) tt_log_fields(TT_LOG_DOMAIN, TT_LOG_ERROR, kv, __VA_ARGS__)

#define tt_error(...) tt_log_write(TT_LOG_DOMAIN, TT_LOG_ERROR, __VA_ARGS__)
#define tt_warn(...)  tt_log_write(TT_LOG_DOMAIN, TT_LOG_WARN, __VA_ARGS__)
#define tt_info(...)  tt_log_write(TT_LOG_DOMAIN, TT_LOG_INFO, __VA_ARGS__)
#define tt_debug(...) do { if (tt_log_enabled(TT_LOG_DOMAIN, TT_LOG_DEBUG)) \
	tt_log_write(TT_LOG_DOMAIN, TT_LOG_DEBUG, __VA_ARGS__); } while (0)

#endif
