/* process.c: process_* metrics from /proc/self, named and computed as the Prometheus Go
 * and Python clients do, so that standard dashboards work unchanged. */
#include "metrics.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "expo.h"

static double boot_time_s(void)
{
	FILE *f = fopen("/proc/stat", "r");
	char line[256];
	double bt = 0;
	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, "btime ", 6)) {
			bt = g_ascii_strtod(line + 6, NULL);
			break;
		}
	if (f)
		fclose(f);
	return bt;
}

static unsigned open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned n = 0;
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	if (d)
		closedir(d);
	return n ? n - 1 : 0;   /* not the one opendir itself holds */
}

void tt__metrics_process(GString *out)
{
	char buf[1024];
	FILE *f = fopen("/proc/self/stat", "r");
	size_t len = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
	if (f)
		fclose(f);
	buf[len] = '\0';
	/* after the command name, which may hold spaces and parentheses: field 3 on */
	const char *p = strrchr(buf, ')');
	unsigned long long utime = 0, stime = 0, start = 0, vsize = 0;
	long long rss = 0;
	if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d "
			"%*d %*d %*d %*d %llu %llu %lld", &utime, &stime, &start, &vsize,
			&rss) == 5) {
		double tck = (double)sysconf(_SC_CLK_TCK);
		long page = sysconf(_SC_PAGESIZE);
		tt__expo_family(out, "process_cpu_seconds_total", TT_EXPO_COUNTER,
				"Total user and system CPU time spent in seconds.");
		tt__expo_sample(out, "process_cpu_seconds_total", NULL,
				(double)(utime + stime) / tck);
		tt__expo_family(out, "process_start_time_seconds", TT_EXPO_GAUGE,
				"Start time of the process since unix epoch in seconds.");
		tt__expo_sample(out, "process_start_time_seconds", NULL,
				boot_time_s() + (double)start / tck);
		tt__expo_family(out, "process_virtual_memory_bytes", TT_EXPO_GAUGE,
				"Virtual memory size in bytes.");
		tt__expo_sample(out, "process_virtual_memory_bytes", NULL, (double)vsize);
		tt__expo_family(out, "process_resident_memory_bytes", TT_EXPO_GAUGE,
				"Resident memory size in bytes.");
		tt__expo_sample(out, "process_resident_memory_bytes", NULL,
				(double)rss * (double)page);
	}
	tt__expo_family(out, "process_open_fds", TT_EXPO_GAUGE, "Number of open file descriptors.");
	tt__expo_sample(out, "process_open_fds", NULL, open_fds());
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		tt__expo_family(out, "process_max_fds", TT_EXPO_GAUGE,
				"Maximum number of open file descriptors.");
		tt__expo_sample(out, "process_max_fds", NULL, rl.rlim_cur == RLIM_INFINITY ?
				-1 : (double)rl.rlim_cur);
	}
}
