/*
 * nuwad's low-memory killer (the lmk_tick hook, see nuwad.h).
 *
 * Every [daemon] tick_ms, and after every trim answer: when MemAvailable is
 * below [daemon] lmk_threshold_kb, memory is short. Then, one step at a time
 * with memory checked again after each (docs/runtime.md "Memory pressure"):
 *  1. trim: ask the background apps, least recently used first, to give
 *     memory back (NUWA_APP_MSG_TRIM "background"), then the foreground app
 *     ("running-low"); each once per shortage, each answer (or
 *     trim_timeout_ms without one) before the next. The template and the
 *     spare are never asked: their pages are shared.
 *  2. kill: SIGKILL one app, chosen by importance (background before
 *     foreground), then least recent use, then size (USS); log it with the
 *     reason, the figures and what it frees, count it in stats.lmk_kills.
 *     The template, the spare and nuwad are never candidates. The next
 *     victim is chosen only once the previous one has been reaped (or
 *     LMK_GRACE_MS passed), so one shortage does not take several apps
 *     while the first one's memory is being freed.
 * When memory stayed fine for LMK_CALM_MS the shortage is over: every app
 * may be asked to trim again in the next one. A PSI event allows one step;
 * with MemAvailable above the threshold, an event within one PSI window of
 * the last step is dropped: the stall it measured came before that step.
 *
 * The kernel's OOM killer is steered the same way: nuwad and the template
 * (and so the spare, its fork, until it is specialised) get a low
 * oom_score_adj here; apps get theirs from importance.c.
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
#include "nuwa.h"
#include "nuwa_app.h"
#include "app_table.h"
#include "apps.h"
#include "nuwad.h"
#include "procmem.h"

static pid_t victim;          /* last kill, until reaped or grace over */
static int64_t victim_at_us;
static int adjusted_self;
static int read_error_logged;
static int64_t calm_since_us; /* memory fine since then, 0 while short */
static int64_t step_at_us;    /* last trim or kill, 0 before the first */

/* Write VAL to the file at PATH: 0, or -1 with errno set. */
static int write_value(const char *path, const char *val)
{
	size_t len = strlen(val);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t w = write(fd, val, len);
	int saved = errno;
	close(fd);
	if (w != (ssize_t)len) {
		errno = w < 0 ? saved : EIO;
		return -1;
	}
	return 0;
}

int lmk_set_oom_score_adj(pid_t pid, int adj)
{
	char path[64], val[16];
	if (pid > 0)
		snprintf(path, sizeof path, "/proc/%d/oom_score_adj", (int)pid);
	else
		snprintf(path, sizeof path, "/proc/self/oom_score_adj");
	snprintf(val, sizeof val, "%d\n", adj);
	return write_value(path, val);
}

void lmk_budget_init(struct nuwad *d)
{
	int kb = d->conf.apps_memory_high_kb;
	char path[1200], val[32];
	if (kb <= 0)
		return;
	if (!d->cgroup_dir[0]) {
		nuwad_log("lmk: apps_memory_high_kb = %d needs the apps' cgroup: no memory budget", kb);
		return;
	}
	/* memory.high of the apps' cgroup exists once its parent hands it the
	 * memory controller (which may be on already, or not ours to turn on:
	 * then the write below fails and says so). */
	snprintf(path, sizeof path, "%s", d->cgroup_dir);
	char *slash = strrchr(path, '/');
	if (slash) {
		snprintf(slash, sizeof path - (size_t)(slash - path), "/cgroup.subtree_control");
		write_value(path, "+memory");
	}
	snprintf(path, sizeof path, "%s/memory.high", d->cgroup_dir);
	snprintf(val, sizeof val, "%lld\n", (long long)kb * 1024);
	if (write_value(path, val) < 0) {
		nuwad_log("lmk: cannot set the apps' memory budget (%s: %s): no memory budget", path, strerror(errno));
		return;
	}
	nuwad_log("lmk: apps' memory budget %d kB (memory.high of %s)", kb, d->cgroup_dir);
}

static int is_candidate(const struct app *a)
{
	/* Only running apps: not the spare, not one being forked or started,
	 * not one already being stopped. */
	return a->pid > 0 && a->state == APP_RUNNING && a->name[0];
}

static long app_uss_kb(const struct app *a)
{
	struct procmem m;
	return procmem_read(a->pid, &m) == 0 ? m.uss_kb : -1;
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
	for (int i = 0; i < d->ntmpls; i++) {
		struct tmpl *t = &d->tmpls[i];
		if (t->pid <= 0 || t->pid == t->oom_adjusted)
			continue;
		t->oom_adjusted = t->pid;
		if (lmk_set_oom_score_adj(t->pid, LMK_OOM_ADJ_TEMPLATE) < 0 && errno != ENOENT && errno != ESRCH)
			nuwad_log("lmk: cannot set template %s's oom_score_adj: %s", t->fw->name,
				  strerror(errno));
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

/* A before B as a victim: background first, then least recently used,
 * then larger. */
static int kill_before(const struct app *a, long a_kb, const struct app *b, long b_kb)
{
	if (a->imp.foreground != b->imp.foreground)
		return !a->imp.foreground;
	if (a->imp.last_used_us != b->imp.last_used_us)
		return a->imp.last_used_us < b->imp.last_used_us;
	return a_kb > b_kb;
}

struct app *lmk_pick(struct nuwad *d)
{
	struct app *best = NULL;
	long best_kb = -1;
	for (struct app *a = nuwad_app_oldest(d); a; a = nuwad_app_newer(d, a)) {
		if (!is_candidate(a))
			continue;
		long kb = app_uss_kb(a);
		if (!best || kill_before(a, kb, best, best_kb)) {
			best = a;
			best_kb = kb;
		}
	}
	return best;
}

/* The next app to ask to trim (see above), or NULL when every app was asked. */
static struct app *trim_next(struct nuwad *d)
{
	struct app *best = NULL;
	for (struct app *a = d->apps; a; a = a->next)
		if (is_candidate(a) && a->chan >= 0 && a->trim.state == 0 &&
		    (!best || kill_before(a, 0, best, 0)))
			best = a;
	return best;
}

static int trim_outstanding(struct nuwad *d, int64_t now)
{
	int waiting = 0;
	for (struct app *a = d->apps; a; a = a->next) {
		if (a->trim.state != 1)
			continue;
		if (a->pid > 0 && a->state == APP_RUNNING &&
		    now - a->trim.sent_us < (int64_t)d->conf.trim_timeout_ms * 1000) {
			waiting = 1;
			continue;
		}
		/* Late or gone: a candidate like any other now. */
		a->trim.state = 2;
		if (a->pid > 0 && a->state == APP_RUNNING)
			nuwad_log("lmk: %s (pid %d) did not answer the trim within %d ms", a->name, (int)a->pid,
				  d->conf.trim_timeout_ms);
	}
	return waiting;
}

static void trim_send(struct nuwad *d, struct app *a, long avail, int psi)
{
	const char *level = a->imp.foreground ? "running-low" : "background";
	a->trim.state = 1;
	a->trim.sent_us = nuwad_now_us();
	if (nuwa_msg_send(a->chan, NUWA_APP_MSG_TRIM, ++d->next_id, level, (uint32_t)strlen(level), -1) < 0) {
		nuwad_log("lmk: cannot ask %s (pid %d) to trim: %s", a->name, (int)a->pid, strerror(errno));
		a->trim.state = 2;
		return;
	}
	d->lmk.trims++;
	nuwad_log("lmk: asked %s (pid %d, %s) to trim (%s): MemAvailable %ld kB, threshold %d kB%s", a->name,
		  (int)a->pid, a->imp.foreground ? "foreground" : "background", level, avail,
		  d->conf.lmk_threshold_kb, psi ? ", PSI trigger fired" : "");
}

int lmk_on_trimmed(struct nuwad *d, struct app *a, const char *answer)
{
	long kb = -1;
	const char *p = strstr(answer, "freed_kb=");
	if (p) {
		char *end;
		kb = strtol(p + 9, &end, 10);
		if (end == p + 9 || kb < 0)
			kb = -1;
	}
	if (a->trim.state != 1 || kb < 0)
		return -1; /* not asked, or not an answer: the door counts it */
	a->trim.state = 2;
	a->trim.freed_kb = kb;
	d->lmk.trims_answered++;
	d->lmk.trimmed_kb += kb;
	nuwad_log("lmk: %s (pid %d) trimmed: freed %ld kB in %.1f ms", a->name, (int)a->pid, kb,
		  (double)(nuwad_now_us() - a->trim.sent_us) / 1000.0);
	/* Is memory still short? The next step now, not at the next tick. */
	lmk_tick(d);
	return 0;
}

void lmk_tick(struct nuwad *d)
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
	int64_t now = nuwad_now_us();
	/* A PSI event allows one step (a trim or a kill), not a shortage for
	 * its whole window: after a kill the stall it measured is still in it. */
	int psi = d->psi.pending;
	if (psi && avail >= d->conf.lmk_threshold_kb && step_at_us &&
	    now - step_at_us < (int64_t)d->conf.psi_window_ms * 1000) {
		d->psi.pending = 0;
		psi = 0;
	}
	if (avail >= d->conf.lmk_threshold_kb && !psi) {
		/* The shortage is over once memory stayed fine for LMK_CALM_MS:
		 * then the next one may trim every app again (not when it merely
		 * flickers above the threshold). */
		if (!calm_since_us)
			calm_since_us = now;
		if (now - calm_since_us >= (int64_t)LMK_CALM_MS * 1000)
			for (struct app *a = d->apps; a; a = a->next)
				if (a->trim.state == 2)
					a->trim.state = 0;
		return;
	}
	calm_since_us = 0;
	if (d->conf.lmk_trim) {
		if (trim_outstanding(d, now))
			return;
		struct app *t = trim_next(d);
		if (t) {
			trim_send(d, t, avail, psi);
			d->psi.pending = 0;
			step_at_us = now;
			return;
		}
	}
	if (victim > 0 && still_listed(d, victim) && now - victim_at_us < (int64_t)LMK_GRACE_MS * 1000)
		return;
	struct app *a = lmk_pick(d);
	if (!a)
		return;
	char reason[160];
	if (avail < d->conf.lmk_threshold_kb)
		snprintf(reason, sizeof reason, "low memory: MemAvailable %ld kB < %d kB%s", avail,
			 d->conf.lmk_threshold_kb, psi ? ", PSI trigger fired" : "");
	else
		snprintf(reason, sizeof reason, "memory pressure: PSI %s trigger fired (event %u), MemAvailable %ld kB",
			 d->psi.last ? d->psi.last : "?", d->psi.events, avail);
	pid_t pid = a->pid;
	char name[NUWA_NAME_MAX];
	snprintf(name, sizeof name, "%s", a->name);
	int fg = a->imp.foreground;
	long idle_ms = fg ? 0 : (long)((now - a->imp.last_used_us) / 1000);
	long uss = app_uss_kb(a);
	if (nuwad_kill_app(d, a, SIGKILL, reason) < 0) {
		nuwad_log("lmk: cannot kill %s (pid %d): %s", name, (int)pid, strerror(errno));
		return;
	}
	victim = pid;
	victim_at_us = now;
	step_at_us = now;
	d->psi.pending = 0;
	d->lmk.kills++;
	if (fg)
		d->lmk.foreground_kills++;
	nuwad_log("lmk: killed %s (pid %d), %s, idle %ld ms, freeing %ld kB (USS); %s; %u trims answered, "
		  "%ld kB trimmed so far",
		  name, (int)pid, fg ? "foreground" : "background", idle_ms, uss, reason, d->lmk.trims_answered,
		  d->lmk.trimmed_kb);
}

void lmk_out(struct nuwad *d, struct out *o)
{
	out_int(o, "lmk_kills", d->lmk.kills);
	out_int(o, "lmk_foreground_kills", d->lmk.foreground_kills);
	out_int(o, "lmk_trims", d->lmk.trims);
	out_int(o, "lmk_trims_answered", d->lmk.trims_answered);
	out_int(o, "lmk_trimmed_kb", d->lmk.trimmed_kb);
}

void lmk_app_out(const struct app *a, struct out *o)
{
	if (a->trim.freed_kb >= 0 && a->state == APP_RUNNING)
		out_int(o, "trim_freed_kb", a->trim.freed_kb);
	else
		out_null(o, "trim_freed_kb");
}
