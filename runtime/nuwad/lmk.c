/*
 * nuwad's low-memory killer (the nuwad_lmk_tick hook, see nuwad.h).
 *
 * Every [daemon] tick_ms: when MemAvailable is below [daemon]
 * lmk_threshold_kb, SIGKILL the least recently launched running app, log it
 * and count it in stats.lmk_kills. The template, the spare and nuwad are
 * never candidates. After a kill the next victim is chosen only once the
 * previous one has been reaped (or LMK_GRACE_MS passed), so one shortage
 * does not take several apps while the first one's memory is being freed.
 *
 * The kernel's OOM killer is steered the same way: nuwad and the template
 * (and so the spare, its fork, until it is specialised) get a low
 * oom_score_adj here; apps get theirs from their config section.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h> /* nuwad.h uses struct pollfd */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <stdlib.h>

#include "lmk.h"
#include "nuwad.h"

static pid_t victim;          /* last kill, until reaped or grace over */
static int64_t victim_at_us;
static pid_t adjusted_template; /* template pid whose oom_score_adj is set */
static int adjusted_self;
static int read_error_logged;

int lmk_set_oom_score_adj(pid_t pid, int adj)
{
	char path[64], val[16];
	if (pid > 0)
		snprintf(path, sizeof path, "/proc/%d/oom_score_adj", (int)pid);
	else
		snprintf(path, sizeof path, "/proc/self/oom_score_adj");
	int len = snprintf(val, sizeof val, "%d\n", adj);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t w = write(fd, val, (size_t)len);
	int saved = errno;
	close(fd);
	if (w != len) {
		errno = w < 0 ? saved : EIO;
		return -1;
	}
	return 0;
}

static int is_candidate(const struct app *a)
{
	/* Only running apps: not the spare, not one being forked or started,
	 * not one already being stopped. */
	return a->pid > 0 && a->state == APP_RUNNING;
}

static int still_listed(struct nuwad *d, pid_t pid)
{
	for (struct app *a = d->apps; a; a = a->next)
		if (a->pid == pid)
			return 1;
	return 0;
}

static void adjust_oom_scores(struct nuwad *d)
{
	if (!adjusted_self) {
		adjusted_self = 1;
		if (lmk_set_oom_score_adj(0, LMK_OOM_ADJ_NUWAD) < 0)
			nuwad_log("lmk: cannot set nuwad's oom_score_adj: %s", strerror(errno));
	}
	if (d->t.pid > 0 && d->t.pid != adjusted_template) {
		adjusted_template = d->t.pid;
		if (lmk_set_oom_score_adj(d->t.pid, LMK_OOM_ADJ_TEMPLATE) < 0 && errno != ENOENT && errno != ESRCH)
			nuwad_log("lmk: cannot set the template's oom_score_adj: %s", strerror(errno));
	}
}

long lmk_mem_available_kb(const char *path)
{
	char buf[8192];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n;
	do
		n = read(fd, buf, sizeof buf - 1);
	while (n < 0 && errno == EINTR);
	int saved = errno;
	close(fd);
	if (n < 0) {
		errno = saved;
		return -1;
	}
	buf[n] = 0;
	const char *p = strstr(buf, "MemAvailable:");
	if (!p) {
		errno = ENOENT;
		return -1;
	}
	p += strlen("MemAvailable:");
	char *end;
	long kb = strtol(p, &end, 10);
	if (end == p || kb < 0) {
		errno = EINVAL;
		return -1;
	}
	return kb;
}

struct app *lmk_pick(struct nuwad *d)
{
	for (struct app *a = nuwad_app_oldest(d); a; a = nuwad_app_newer(d, a))
		if (is_candidate(a))
			return a;
	return NULL;
}

void nuwad_lmk_tick(struct nuwad *d)
{
	adjust_oom_scores(d);
	if (d->conf.lmk_threshold_kb <= 0)
		return;
	/* Tests point NUWAD_LMK_MEMINFO at a file of their own to control the
	 * input; everything else in the killer is the real code path. */
	const char *meminfo = getenv("NUWAD_LMK_MEMINFO");
	if (!meminfo || !*meminfo)
		meminfo = "/proc/meminfo";
	long avail = lmk_mem_available_kb(meminfo);
	if (avail < 0) {
		if (!read_error_logged)
			nuwad_log("lmk: cannot read MemAvailable from %s: %s", meminfo, strerror(errno));
		read_error_logged = 1;
		return;
	}
	read_error_logged = 0;
	if (avail >= d->conf.lmk_threshold_kb)
		return;
	int64_t now = nuwad_now_us();
	if (victim > 0 && still_listed(d, victim) && now - victim_at_us < (int64_t)LMK_GRACE_MS * 1000)
		return;
	struct app *a = lmk_pick(d);
	if (!a)
		return;
	char reason[160];
	snprintf(reason, sizeof reason, "low memory: MemAvailable %ld kB < %d kB", avail, d->conf.lmk_threshold_kb);
	pid_t pid = a->pid;
	char name[NUWA_NAME_MAX];
	snprintf(name, sizeof name, "%s", a->name);
	if (nuwad_kill_app(d, a, SIGKILL, reason) < 0) {
		nuwad_log("lmk: cannot kill %s (pid %d): %s", name, (int)pid, strerror(errno));
		return;
	}
	victim = pid;
	victim_at_us = now;
	d->lmk_kills++;
	nuwad_log("lmk: killed %s (pid %d), the least recently launched app; %s", name, (int)pid, reason);
}
