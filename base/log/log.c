/* log.c: per-domain log levels and line-at-a-time writes to stderr, as text, logfmt or
 * JSON, with the journal's level prefix when stderr is the journal. */
#define _GNU_SOURCE
#define TT_LOG_DOMAIN "log"
#include <tutti/log.h>
#include <tutti/errno.h>

#include <glib.h>
#include <stdlib.h>
#include <stdio.h>
#include <sys/stat.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The level table is replaced whole (copy-on-write under a mutex) so that a reload never
 * shows a half-applied spec; readers take the mutex only for a lookup. Logging is never on
 * a media tick, so this lock is never on the hot path. */
#define TT_LOG_MAX_DOMAINS 32
struct level_table {
	int def;
	int n;
	char names[TT_LOG_MAX_DOMAINS][24];
	int levels[TT_LOG_MAX_DOMAINS];
};

/* Set once before threads log (main), read by every line: plain ints are enough. */
static int format = TT_LOG_FORMAT_TEXT;
static bool journal;

static GMutex lock;
static struct level_table table = { .def = TT_LOG_INFO };

static const char *const names[] = { "error", "warn", "info", "debug" };

const char *tt_log_level_name(enum tt_log_level level)
{
	return (unsigned)level < G_N_ELEMENTS(names) ? names[level] : "?";
}

static int parse_level(const char *s)
{
	for (unsigned i = 0; i < G_N_ELEMENTS(names); i++)
		if (g_ascii_strcasecmp(s, names[i]) == 0)
			return (int)i;
	if (g_ascii_strcasecmp(s, "warning") == 0)
		return TT_LOG_WARN;
	return -1;
}

int tt_log_set_levels(const char *spec, char **errp)
{
	struct level_table t = { .def = TT_LOG_INFO };
	gchar **parts = g_strsplit(spec ? spec : "", ",", -1);
	int rc = 0;
	for (gchar **p = parts; *p; p++) {
		gchar *item = g_strstrip(*p);
		if (!*item)
			continue;
		gchar *eq = strchr(item, '=');
		if (!eq) {
			int l = parse_level(item);
			if (l < 0) {
				if (errp)
					*errp = g_strdup_printf("unknown log level '%s' (error, warn, info, debug)", item);
				rc = -EINVAL;
				break;
			}
			t.def = l;
			continue;
		}
		*eq = '\0';
		int l = parse_level(eq + 1);
		if (l < 0 || !*item || strlen(item) >= sizeof t.names[0]) {
			if (errp)
				*errp = g_strdup_printf("bad log level item '%s=%s'", item, eq + 1);
			rc = -EINVAL;
			break;
		}
		if (t.n >= TT_LOG_MAX_DOMAINS) {
			if (errp)
				*errp = g_strdup("too many log domains");
			rc = -E2BIG;
			break;
		}
		g_strlcpy(t.names[t.n], item, sizeof t.names[0]);
		t.levels[t.n++] = l;
	}
	g_strfreev(parts);
	if (rc == 0) {
		g_mutex_lock(&lock);
		table = t;
		g_mutex_unlock(&lock);
	}
	return rc;
}

bool tt_log_enabled(const char *domain, enum tt_log_level level)
{
	int l;
	g_mutex_lock(&lock);
	l = table.def;
	for (int i = 0; i < table.n; i++)
		if (strcmp(table.names[i], domain) == 0) {
			l = table.levels[i];
			break;
		}
	g_mutex_unlock(&lock);
	return (int)level <= l;
}

/* systemd sets JOURNAL_STREAM=DEV:INO for a service whose stderr is the journal; stderr
 * may have been redirected since (a shell wrapper), so it must still be that stream. */
static bool stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	struct stat st;
	unsigned long long dev, ino;
	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) != 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

int tt_log_set_format(const char *name)
{
	static const char *const formats[] = { "text", "logfmt", "json" };
	for (unsigned i = 0; i < G_N_ELEMENTS(formats); i++)
		if (name && !strcmp(name, formats[i])) {
			format = (int)i;
			journal = stderr_is_journal();
			return 0;
		}
	return -EINVAL;
}

void tt_log_set_journal(bool on)
{
	journal = on;
}

/* All or nothing, keeping one byte for the closing quote: a cut never splits an escape or
 * a character. */
static bool put_bytes(char *buf, size_t n, size_t *len, const char *p, size_t k)
{
	if (*len + k + 1 >= n)
		return false;
	memcpy(buf + *len, p, k);
	*len += k;
	return true;
}

/* Appends s to buf at *len as a quoted string: JSON escapes for JSON, the same for logfmt
 * (which has no standard beyond "quote and escape \\ and \""). Invalid UTF-8 and control
 * characters become escapes, so a line is always one line and valid; a long s is cut and
 * the quote still closed. n must leave room for the quotes. */
static void put_quoted(char *buf, size_t n, size_t *len, const char *s)
{
	const char *end = s + strlen(s);
	buf[(*len)++] = '"';
	bool fits = true;
	while (s < end && fits) {
		unsigned char c = (unsigned char)*s;
		gunichar u = g_utf8_get_char_validated(s, end - s);
		char esc[8];
		if (c == '"' || c == '\\' || c == '\n') {
			esc[0] = '\\';
			esc[1] = c == '\n' ? 'n' : (char)c;
			fits = put_bytes(buf, n, len, esc, 2);
			s++;
		} else if (c < 0x20 || c == 0x7f || u == (gunichar)-1 || u == (gunichar)-2) {
			int k = snprintf(esc, sizeof esc, "\\u%04x", c < 0x80 ? c : 0xfffdu);
			fits = put_bytes(buf, n, len, esc, (size_t)k);
			s++;
		} else {
			const char *next = g_utf8_next_char(s);
			fits = put_bytes(buf, n, len, s, (size_t)(next - s));
			s = next;
		}
	}
	buf[(*len)++] = '"';
}

/* A field's key, made safe for both formats: [a-z0-9_] (JSON needs no escape then). */
static void put_key(char *buf, size_t n, size_t *len, const char *k)
{
	for (; *k && *len + 8 < n; k++)
		buf[(*len)++] = g_ascii_isalnum(*k) || *k == '_' ? g_ascii_tolower(*k) : '_';
}

/* logfmt leaves a plain value unquoted (room=ops), as logfmt readers expect; anything
 * with a space, quote, '=', control or non-ASCII byte, or an empty one, is quoted. */
static bool logfmt_plain(const char *v)
{
	if (!*v)
		return false;
	for (; *v; v++)
		if ((unsigned char)*v <= ' ' || (unsigned char)*v >= 0x7f || *v == '"' || *v == '=' ||
		    *v == '\\')
			return false;
	return true;
}

static void put_fields(char *buf, size_t n, size_t *len, const char *const *kv)
{
	for (; kv && kv[0]; kv += 2) {
		const char *v = kv[1];
		if (!v)
			continue;
		/* a field never pushes the message out: it goes only while its worst case
		 * (every byte a 6-byte escape) leaves a good part of the line */
		if (*len + strlen(kv[0]) + 6 * strlen(v) + 256 >= n)
			break;
		if (format == TT_LOG_FORMAT_JSON) {
			buf[(*len)++] = '"';
			put_key(buf, n, len, kv[0]);
			put_bytes(buf, n, len, "\":", 2);
			put_quoted(buf, n, len, v);
			buf[(*len)++] = ',';
		} else {
			put_key(buf, n, len, kv[0]);
			buf[(*len)++] = '=';
			if (logfmt_plain(v))
				put_bytes(buf, n, len, v, strlen(v));
			else
				put_quoted(buf, n, len, v);
			buf[(*len)++] = ' ';
		}
	}
}

size_t tt_log_format_line(char *buf, size_t n, const char *domain, enum tt_log_level level,
			  const char *msg)
{
	return tt_log_format_fields(buf, n, domain, level, NULL, msg);
}

size_t tt_log_format_fields(char *buf, size_t n, const char *domain, enum tt_log_level level,
			    const char *const *kv, const char *msg)
{
	/* sd-daemon.h: SD_ERR <3>, SD_WARNING <4>, SD_INFO <6>, SD_DEBUG <7> */
	static const char *const sd[] = { "<3>", "<4>", "<6>", "<7>" };
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	const char *pre = journal && (unsigned)level < G_N_ELEMENTS(sd) ? sd[level] : "";
	const char *lv = tt_log_level_name(level);
	size_t len = 0;
	int k;
	if (n < 64)
		return 0;
	if (format == TT_LOG_FORMAT_TEXT) {
		k = snprintf(buf, n, "%s%02d:%02d:%02d.%03ld %-5s %s: %s", pre, tm.tm_hour,
			     tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, lv, domain, msg);
		len = k < 0 ? 0 : (size_t)k >= n - 1 ? n - 2 : (size_t)k;
		/* the text format stays one line too: a newline in a message would start what
		 * looks like another event */
		for (size_t i = 0; i < len; i++)
			if (buf[i] == '\n' || buf[i] == '\r')
				buf[i] = ' ';
	} else {
		char stamp[96];
		snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec, ts.tv_nsec / 1000000);
		if (format == TT_LOG_FORMAT_JSON)
			k = snprintf(buf, n - 1, "%s{\"ts\":\"%s\",\"level\":\"%s\",\"domain\":",
				     pre, stamp, lv);
		else
			k = snprintf(buf, n - 1, "%sts=%s level=%s domain=", pre, stamp, lv);
		len = k < 0 ? 0 : (size_t)k >= n - 1 ? n - 2 : (size_t)k;
		/* room for the closing quote, "}" and the newline: a long message is cut and
		 * the line stays valid */
		size_t room = n - 3;
		if (len + 16 >= room)
			len = 0;   /* cannot happen with the callers' buffers; stay in bounds */
		if (format == TT_LOG_FORMAT_JSON) {
			put_quoted(buf, room, &len, domain);
			buf[len++] = ',';
			put_fields(buf, room, &len, kv);
			put_bytes(buf, room, &len, "\"msg\":", 6);
		} else {
			for (const char *c = domain; *c && len + 8 < room; c++)
				buf[len++] = (*c == ' ' || *c == '=' || *c == '"') ? '_' : *c;
			buf[len++] = ' ';
			put_fields(buf, room, &len, kv);
			put_bytes(buf, room, &len, "msg=", 4);
		}
		put_quoted(buf, room, &len, msg);
		if (format == TT_LOG_FORMAT_JSON)
			buf[len++] = '}';
	}
	buf[len++] = '\n';
	return len;
}

static void emit(const char *domain, enum tt_log_level level, const char *const *kv,
		 const char *fmt, va_list ap)
{
	if (!tt_log_enabled(domain, level))
		return;
	char msg[2048], buf[4096];
	vsnprintf(msg, sizeof msg, fmt, ap);
	size_t len = tt_log_format_fields(buf, sizeof buf, domain, level, kv, msg);
	/* one write(2) per line: lines from threads never interleave */
	ssize_t w = write(STDERR_FILENO, buf, len);
	(void)w;
}

void tt_log_writev(const char *domain, enum tt_log_level level, const char *fmt, va_list ap)
{
	emit(domain, level, NULL, fmt, ap);
}

void tt_log_fields(const char *domain, enum tt_log_level level, const char *const *kv,
		   const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	emit(domain, level, kv, fmt, ap);
	va_end(ap);
}

void tt_log_write(const char *domain, enum tt_log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	tt_log_writev(domain, level, fmt, ap);
	va_end(ap);
}
