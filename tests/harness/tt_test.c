/* tt_test.c: runner for self-registered tests: fork per test, timeout, one-line verdicts. */
#define _GNU_SOURCE
#include "tt_test.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TT_SKIP_EXIT 77

static struct tt_test *tests;
static struct tt_test **tail = &tests;

void tt__test_register(struct tt_test *t)
{
	*tail = t;
	tail = &t->next;
}

void tt__test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s:%d: assertion failed: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	exit(1);
}

void tt_test_skip(const char *why)
{
	fprintf(stderr, "skipped: %s\n", why);
	exit(TT_SKIP_EXIT);
}

const char *tt_test_shared_dir(void)
{
	const char *d = getenv("TT_SHARED_DIR");
	struct stat st;
#ifdef TT_SHARED_DIR_DEFAULT
	if (!d || !*d)
		d = TT_SHARED_DIR_DEFAULT;
#endif
	if (!d || stat(d, &st) != 0 || !S_ISDIR(st.st_mode))
		return NULL;
	return d;
}

static int run_child(struct tt_test *t, int timeout_s)
{
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		alarm((unsigned)timeout_s);
		t->fn();
		exit(0);
	}
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	fprintf(stderr, "%s: killed by signal %d%s\n", t->name, WTERMSIG(st),
		WTERMSIG(st) == SIGALRM ? " (timeout)" : "");
	return 1;
}

int main(int argc, char **argv)
{
	const char *only = NULL;
	int list = 0, timeout_s = 60;
	int opt;
	while ((opt = getopt(argc, argv, "t:lT:")) != -1) {
		switch (opt) {
		case 't': only = optarg; break;
		case 'l': list = 1; break;
		case 'T': timeout_s = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: %s [-l] [-t TEST] [-T timeout_s]\n", argv[0]);
			return 2;
		}
	}
	if (getenv("TT_TEST_TIMEOUT"))
		timeout_s = atoi(getenv("TT_TEST_TIMEOUT"));
	int passed = 0, failed = 0, skipped = 0, found = 0;
	for (struct tt_test *t = tests; t; t = t->next) {
		if (list) {
			printf("%s\n", t->name);
			continue;
		}
		if (only && strcmp(only, t->name) != 0)
			continue;
		found++;
		if (only) {  /* in-process, so gdb sees it directly */
			t->fn();
			printf("ok %s\n", t->name);
			return 0;
		}
		fflush(stdout);
		struct timespec a, b;
		clock_gettime(CLOCK_MONOTONIC, &a);
		int rc = run_child(t, timeout_s);
		clock_gettime(CLOCK_MONOTONIC, &b);
		double ms = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
		if (rc == 0) {
			passed++;
			printf("ok   %s (%.0f ms)\n", t->name, ms);
		} else if (rc == TT_SKIP_EXIT) {
			skipped++;
			printf("skip %s\n", t->name);
		} else {
			failed++;
			printf("FAIL %s\n", t->name);
		}
	}
	if (list)
		return 0;
	if (only && !found) {
		fprintf(stderr, "no test named %s\n", only);
		return 2;
	}
	printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
	return failed ? 1 : 0;
}
