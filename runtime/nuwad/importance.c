/* Foreground and background apps: their CPU share and oom_score_adj
 * (importance.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h> /* nuwad.h uses struct pollfd */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "groups.h"
#include "events.h"
#include "importance.h"
#include "lmk.h"
#include "nuwad.h"
#include "util.h"

static int cpu_error_logged, oom_error_logged;

static int write_int(const char *path, int v)
{
	char val[16];
	int len = snprintf(val, sizeof val, "%d\n", v), rc = 0;
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (write(fd, val, (size_t)len) != len)
		rc = -1;
	if (close(fd) < 0)
		rc = -1;
	return rc;
}

static int running(const struct app *a)
{
	return a->pid > 0 && a->state == APP_RUNNING && a->name[0];
}

static struct app *find_running(struct nuwad *d, const char *target)
{
	int by_pid = nuwa_is_decimal(target);
	for (struct app *a = d->apps; a; a = a->next)
		if (running(a) && (by_pid ? a->pid == (pid_t)atol(target) : !strcmp(a->name, target)))
			return a;
	return NULL;
}

static int config_oom_adj(struct nuwad *d, const struct app *a)
{
	const struct nuwa_app_conf *ac = nuwa_conf_app(&d->conf, a->name);
	return ac ? ac->oom_score_adj : 800;
}

void importance_apply(struct nuwad *d, struct app *a)
{
	char path[1100];
	int adj = a->imp.foreground ? IMPORTANCE_FG_OOM_ADJ : config_oom_adj(d, a);
	if (!running(a))
		return;
	if (lmk_set_oom_score_adj(a->pid, adj) < 0 && !oom_error_logged++)
		nuwad_log("importance: cannot set oom_score_adj %d of %s (pid %d): %s (logged once)", adj,
			  a->name, (int)a->pid, strerror(errno));
	/* The CPU share: the app's own cgroup where the cpu controller is on,
	 * else the nice value of its process group (every thread of it). */
	a->imp.cpu_control = NULL;
	if (d->cgroup_dir[0]) {
		int w = a->imp.foreground ? IMPORTANCE_FG_CPU_WEIGHT : IMPORTANCE_BG_CPU_WEIGHT;
		char dir[1024];
		groups_app_cgroup(d, a, dir, sizeof dir);
		snprintf(path, sizeof path, "%s/cpu.weight", dir);
		if (write_int(path, w) == 0) {
			a->imp.cpu_control = "cpu.weight";
			a->imp.cpu_value = w;
			return;
		}
	}
	int nice = a->imp.foreground ? IMPORTANCE_FG_NICE : IMPORTANCE_BG_NICE;
	if (setpriority(PRIO_PGRP, (id_t)a->pid, nice) == 0 ||
	    setpriority(PRIO_PROCESS, (id_t)a->pid, nice) == 0) {
		a->imp.cpu_control = "nice";
		a->imp.cpu_value = nice;
	} else if (!cpu_error_logged++) {
		nuwad_log("importance: cannot set the CPU share of %s (pid %d): %s (logged once)", a->name,
			  (int)a->pid, strerror(errno));
	}
}

static void to_background(struct nuwad *d, struct app *a)
{
	a->imp.foreground = 0;
	a->imp.last_used_us = nuwad_now_us();
	importance_apply(d, a);
	nuwad_log("importance: %s (pid %d) is in the background", a->name, (int)a->pid);
}

int importance_foreground(struct nuwad *d, const char *target, char *why, size_t cap)
{
	struct app *a = find_running(d, target);
	if (!a) {
		snprintf(why, cap, "no running app '%.64s'", target);
		return -1;
	}
	for (struct app *b = d->apps; b; b = b->next)
		if (b != a && b->imp.foreground)
			to_background(d, b);
	if (!a->imp.foreground) {
		a->imp.foreground = 1;
		nuwad_log("importance: %s (pid %d) is the foreground app", a->name, (int)a->pid);
	}
	a->imp.last_used_us = nuwad_now_us();
	/* Brought back: it may be trimmed again in the next shortage. */
	a->trim.state = 0;
	importance_apply(d, a);
	return 0;
}

int importance_background(struct nuwad *d, const char *target, char *why, size_t cap)
{
	struct app *a = NULL;
	if (target) {
		a = find_running(d, target);
		if (!a) {
			snprintf(why, cap, "no running app '%.64s'", target);
			return -1;
		}
	} else {
		for (struct app *b = d->apps; b && !a; b = b->next)
			if (running(b) && b->imp.foreground)
				a = b;
		if (!a) {
			snprintf(why, cap, "no foreground app");
			return -1;
		}
	}
	if (a->imp.foreground)
		to_background(d, a);
	return 0;
}

void importance_out(struct nuwad *d, const struct app *a, struct out *o)
{
	char path[64], buf[32];
	(void)d;
	if (!running(a)) {
		out_null(o, "importance");
		return;
	}
	out_str(o, "importance", a->imp.foreground ? "foreground" : "background");
	out_int(o, "idle_ms", a->imp.foreground ? 0 : (nuwad_now_us() - a->imp.last_used_us) / 1000);
	snprintf(path, sizeof path, "/proc/%d/oom_score_adj", (int)a->pid);
	if (nuwa_read_file(path, buf, sizeof buf) > 0)
		out_int(o, "oom_score_adj", atoi(buf));
	else
		out_null(o, "oom_score_adj");
	out_str(o, "cpu_control", a->imp.cpu_control);
	if (a->imp.cpu_control)
		out_int(o, "cpu_value", a->imp.cpu_value);
	else
		out_null(o, "cpu_value");
}

const struct app_observer importance_observer = {
	.name = "importance",
	.ready = importance_apply,
};
