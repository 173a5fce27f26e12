/* nuwad under a supervisor: its own process group, ending what survived a
 * previous nuwad, and the restart count and cause for "stats". */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nuwad.h"
#include "supervision.h"

/* "PID PGID" of the nuwad that owns the state dir. */
static void instance_path(const struct nuwad *d, char *out, size_t cap)
{
	snprintf(out, cap, "%s/nuwad.instance", d->state_dir);
}

static int read_stat(pid_t pid, pid_t *pgid)
{
	char path[64], buf[1024], *p;
	FILE *f;
	int ppid, pg;
	char state;
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (!fgets(buf, sizeof buf, f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %c %d %d", &state, &ppid, &pg) != 3)
		return -1;
	*pgid = pg;
	return 0;
}

/* Nonzero when PID runs one of our host executables (or we may not tell). */
static int runs_ours(const struct nuwad *d, pid_t pid)
{
	char link[64], exe[PATH_MAX], want[PATH_MAX];
	ssize_t n;
	const char *hosts[2] = { d->conf.template_host, d->conf.exec_host };
	int i;
	snprintf(link, sizeof link, "/proc/%d/exe", (int)pid);
	n = readlink(link, exe, sizeof exe - 1);
	if (n < 0)
		return errno == EACCES; /* a sandboxed app of another uid */
	exe[n] = 0;
	for (i = 0; i < 2; i++)
		if (hosts[i] && realpath(hosts[i], want) && !strcmp(want, exe))
			return 1;
	return 0;
}

/* End every process left in the process group of the nuwad that ran on
 * this state dir before us (its template, spare and apps: they inherit the
 * group). Apps that issue 8 moves into groups of their own are listed by it
 * in the same way and are ended by the same call. Returns how many. */
int nuwad_end_survivors(struct nuwad *d)
{
	char path[4096];
	FILE *f;
	int old_pid = 0, old_pgid = 0, n = 0;
	DIR *dir;
	struct dirent *de;

	instance_path(d, path, sizeof path);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (fscanf(f, "%d %d", &old_pid, &old_pgid) != 2)
		old_pgid = 0;
	fclose(f);
	if (old_pgid <= 1 || old_pgid == getpgrp())
		return 0;
	if (old_pid > 0 && old_pid != getpid() && kill(old_pid, 0) == 0) {
		pid_t pg;
		if (read_stat(old_pid, &pg) == 0 && pg == old_pgid) {
			nuwad_log("state dir %s: nuwad %d still runs; leaving its processes alone",
				  d->state_dir, old_pid);
			return 0;
		}
	}
	dir = opendir("/proc");
	if (!dir)
		return 0;
	while ((de = readdir(dir))) {
		pid_t pid = (pid_t)atoi(de->d_name), pg;
		if (pid <= 1 || pid == getpid() || read_stat(pid, &pg) < 0 || pg != old_pgid)
			continue;
		if (!runs_ours(d, pid))
			continue;
		if (kill(pid, SIGKILL) == 0) {
			nuwad_log("ended survivor %d of the previous nuwad %d", (int)pid, old_pid);
			n++;
		}
	}
	closedir(dir);
	return n;
}

static void read_supervisor_state(struct nuwad *d)
{
	char path[4096], line[128];
	FILE *f;
	long sup = 0;
	snprintf(path, sizeof path, "%s/supervisor", d->state_dir);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = 0;
		if (!strncmp(line, "restarts=", 9))
			d->sup.restarts = (unsigned)strtoul(line + 9, NULL, 10);
		else if (!strncmp(line, "last_cause=", 11))
			snprintf(d->sup.restart_cause, sizeof d->sup.restart_cause, "%s", line + 11);
		else if (!strncmp(line, "supervisor_pid=", 15))
			sup = strtol(line + 15, NULL, 10);
	}
	fclose(f);
	/* A file left by a supervisor that is not our parent says nothing
	 * about us. */
	if (sup != (long)getppid()) {
		d->sup.restarts = 0;
		d->sup.restart_cause[0] = 0;
		return;
	}
	d->sup.supervised = 1;
}

void supervision_start(struct nuwad *d)
{
	char path[4096];
	FILE *f;

	/* Our own process group: the template, spare and apps inherit it, so a
	 * successor can find whatever survives us. A session leader cannot
	 * move; it already leads its group. */
	if (getpgrp() != getpid() && setpgid(0, 0) < 0)
		nuwad_log("setpgid: %s (survivors of this nuwad cannot be found)", strerror(errno));
	read_supervisor_state(d);
	if (d->sup.restarts)
		nuwad_log("restart %u (previous nuwad %s)", d->sup.restarts,
			  d->sup.restart_cause[0] ? d->sup.restart_cause : "?");
	d->sup.survivors_ended = nuwad_end_survivors(d);
	instance_path(d, path, sizeof path);
	f = fopen(path, "we");
	if (!f || fprintf(f, "%d %d\n", (int)getpid(), (int)getpgrp()) < 0 || fclose(f) != 0)
		nuwad_log("%s: %s", path, strerror(errno));
}

void supervision_out(struct nuwad *d, struct out *o)
{
	out_bool(o, "supervised", d->sup.supervised);
	out_int(o, "nuwad_restarts", d->sup.restarts);
	out_str(o, "nuwad_last_exit", d->sup.restart_cause[0] ? d->sup.restart_cause : NULL);
	out_int(o, "survivors_ended", d->sup.survivors_ended);
}
