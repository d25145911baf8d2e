/* log.c: per-domain log levels and line-at-a-time writes to stderr. */
#define _GNU_SOURCE
#define TT_LOG_DOMAIN "log"
#include <tutti/log.h>
#include <tutti/errno.h>

#include <glib.h>
#include <stdio.h>
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

void tt_log_writev(const char *domain, enum tt_log_level level, const char *fmt, va_list ap)
{
	if (!tt_log_enabled(domain, level))
		return;
	char buf[2048];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	int n = snprintf(buf, sizeof buf, "%02d:%02d:%02d.%03ld %-5s %s: ", tm.tm_hour, tm.tm_min,
			 tm.tm_sec, ts.tv_nsec / 1000000, tt_log_level_name(level), domain);
	if (n < 0)
		return;
	int m = vsnprintf(buf + n, sizeof buf - (size_t)n - 1, fmt, ap);
	size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
	if (len > sizeof buf - 2)
		len = sizeof buf - 2;
	buf[len++] = '\n';
	/* one write(2) per line: lines from threads never interleave */
	ssize_t w = write(STDERR_FILENO, buf, len);
	(void)w;
}

void tt_log_write(const char *domain, enum tt_log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	tt_log_writev(domain, level, fmt, ap);
	va_end(ap);
}
