#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procmem.h"
#include "util.h"

static long field(const char *text, const char *name)
{
	const char *p = text;
	size_t n = strlen(name);
	while ((p = strstr(p, name))) {
		if ((p == text || p[-1] == '\n') && p[n] == ':')
			return strtol(p + n + 1, NULL, 10);
		p += n;
	}
	return -1;
}

int procmem_read(pid_t pid, struct procmem *m)
{
	char path[64], buf[4096];
	long pc, pd;
	m->uss_kb = m->pss_kb = m->rss_kb = -1;
	snprintf(path, sizeof path, "/proc/%d/smaps_rollup", (int)pid);
	if (nuwa_read_file(path, buf, sizeof buf) < 0)
		return -1;
	m->rss_kb = field(buf, "Rss");
	m->pss_kb = field(buf, "Pss");
	pc = field(buf, "Private_Clean");
	pd = field(buf, "Private_Dirty");
	m->uss_kb = (pc < 0 || pd < 0) ? -1 : pc + pd;
	return m->rss_kb < 0 ? -1 : 0;
}

int procmem_fds(pid_t pid)
{
	char path[64];
	DIR *d;
	struct dirent *de;
	int n = 0;
	snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	/* When PID is us, the directory stream's own fd is not ours to count. */
	return pid == getpid() ? n - 1 : n;
}

int procmem_meminfo(long *total_kb, long *avail_kb)
{
	char buf[8192];
	if (nuwa_read_file("/proc/meminfo", buf, sizeof buf) < 0)
		return -1;
	*total_kb = field(buf, "MemTotal");
	*avail_kb = field(buf, "MemAvailable");
	return 0;
}
