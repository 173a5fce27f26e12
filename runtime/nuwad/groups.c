/* Apps as groups of processes: cgroup v2 with process groups as fallback,
 * pidfds for single processes (groups.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "groups.h"
#include "nuwad.h"
#include "util.h"

#ifndef __NR_pidfd_open
#define __NR_pidfd_open 434
#endif
#ifndef __NR_pidfd_send_signal
#define __NR_pidfd_send_signal 424
#endif

int pidfd_for(pid_t pid)
{
	return (int)syscall(__NR_pidfd_open, pid, 0);
}

int pidfd_signal(int pidfd, pid_t pid, int sig)
{
	if (pidfd >= 0)
		return (int)syscall(__NR_pidfd_send_signal, pidfd, sig, NULL, 0);
	return kill(pid, sig);
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), rc = 0;
	size_t n = strlen(s);
	if (fd < 0)
		return -1;
	if (write(fd, s, n) != (ssize_t)n)
		rc = -1;
	if (close(fd) < 0)
		rc = -1;
	return rc;
}

/* The cgroup2 mount point from /proc/self/mountinfo (field 5; fs type after
 * " - "), e.g. /sys/fs/cgroup or /sys/fs/cgroup/unified. */
static int cgroup2_mount(char *out, size_t cap)
{
	char line[4096];
	FILE *f = fopen("/proc/self/mountinfo", "re");
	int found = 0;
	if (!f)
		return 0;
	while (!found && fgets(line, sizeof line, f)) {
		char *sep = strstr(line, " - "), mnt[1024];
		if (!sep || strncmp(sep + 3, "cgroup2 ", 8))
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %1023s", mnt) == 1) {
			snprintf(out, cap, "%s", mnt);
			found = 1;
		}
	}
	fclose(f);
	return found;
}

/* nuwad's own cgroup v2 path ("0::/PATH" in /proc/self/cgroup). */
static void own_cgroup(char *out, size_t cap)
{
	char line[1024];
	FILE *f = fopen("/proc/self/cgroup", "re");
	snprintf(out, cap, "/");
	if (!f)
		return;
	while (fgets(line, sizeof line, f))
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = 0;
			snprintf(out, cap, "%s", line + 3);
		}
	fclose(f);
}

/* "nuwa" for the device's state dir, "nuwa-<dir with / as _>" otherwise, so
 * that nuwads of their own (tests, benchmarks) never share app cgroups. */
static void group_name(const char *state_dir, char *out, size_t cap)
{
	size_t i, n;
	if (!strcmp(state_dir, "/run/nuwa")) {
		snprintf(out, cap, "nuwa");
		return;
	}
	n = (size_t)snprintf(out, cap, "nuwa-%s", state_dir);
	for (i = 5; i < n && i < cap; i++)
		if (out[i] == '/' || out[i] == ' ')
			out[i] = '_';
}

/* The cpu controller in the apps' cgroups, for their CPU share
 * (importance.c): on in the parent of DIR (where nuwad may not be allowed
 * to, which is fine when it is on already) and in DIR. Without it apps'
 * shares are nice values (one log line). */
static void enable_cpu_controller(const char *mnt, const char *dir)
{
	char path[1100], parent[1024];
	snprintf(parent, sizeof parent, "%s", dir);
	char *slash = strrchr(parent, '/');
	if (slash && (size_t)(slash - parent) >= strlen(mnt)) {
		*slash = 0;
		snprintf(path, sizeof path, "%s/cgroup.subtree_control", parent);
		write_str(path, "+cpu");
	}
	snprintf(path, sizeof path, "%s/cgroup.subtree_control", dir);
	if (write_str(path, "+cpu") < 0)
		nuwad_log("no cpu controller for the app cgroups (%s): CPU shares are nice values",
			  strerror(errno));
}

/* The apps' parent cgroup relative to the cgroup2 mount, as
 * /proc/PID/cgroup shows it. */
static char cgroup_rel[1024];

/* favordynmods (Linux 6.0+): moving a process into a cgroup no longer
 * waits for an RCU grace period, which was most of a launch (writing
 * cgroup.procs took 8-19 ms, docs/benchmarks.md "Launch phases"); forks
 * and exits pay a little instead. Older kernels refuse the option. */
static int mount_cgroup2(void)
{
	unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
	if (mount("cgroup2", "/sys/fs/cgroup", "cgroup2", flags, "favordynmods") == 0)
		return 0;
	if (errno != EINVAL)
		return -1;
	nuwad_log("cgroup2 without favordynmods (kernel before 6.0): joining a cgroup is slow");
	return mount("cgroup2", "/sys/fs/cgroup", "cgroup2", flags, NULL);
}

void groups_init(struct nuwad *d)
{
	char mnt[1024], own[1024], name[256];
	d->cgroup_dir[0] = 0;
	if (!d->conf.app_cgroups) {
		nuwad_log("app_cgroups = no: every app gets its own process group only");
		unsetenv(NUWA_APP_CGROUP_ENV);
		groups_record(d);
		return;
	}
	if (!cgroup2_mount(mnt, sizeof mnt)) {
		/* The device mounts nothing there itself: nuwad does, as root. */
		if (geteuid() != 0 || mount_cgroup2() < 0 || !cgroup2_mount(mnt, sizeof mnt)) {
			nuwad_log("no cgroup2 (%s): every app gets its own process group only",
				  geteuid() ? "not root" : strerror(errno));
			unsetenv(NUWA_APP_CGROUP_ENV);
			return;
		}
		nuwad_log("mounted cgroup2 on %s", mnt);
	}
	own_cgroup(own, sizeof own);
	group_name(d->state_dir, name, sizeof name);
	if (snprintf(cgroup_rel, sizeof cgroup_rel, "%s/%s", strcmp(own, "/") ? own : "", name) >=
		    (int)sizeof cgroup_rel ||
	    snprintf(d->cgroup_dir, sizeof d->cgroup_dir, "%s%s", mnt, cgroup_rel) >=
		    (int)sizeof d->cgroup_dir) {
		nuwad_log("cgroup path too long: every app gets its own process group only");
		d->cgroup_dir[0] = 0;
		unsetenv(NUWA_APP_CGROUP_ENV);
		return;
	}
	if (mkdir(d->cgroup_dir, 0755) < 0 && errno != EEXIST) {
		nuwad_log("cgroup %s: %s: every app gets its own process group only", d->cgroup_dir,
			  strerror(errno));
		d->cgroup_dir[0] = 0;
		unsetenv(NUWA_APP_CGROUP_ENV);
		return;
	}
	enable_cpu_controller(mnt, d->cgroup_dir);
	setenv(NUWA_APP_CGROUP_ENV, d->cgroup_dir, 1);
	nuwad_log("apps get their own cgroup in %s and their own process group", d->cgroup_dir);
	groups_record(d);
}

/* Pids listed in cgroup.procs of DIR (0 if none or unreadable). */
static int count_procs(const char *dir)
{
	char path[1100], buf[16384], *p;
	int n = 0;
	snprintf(path, sizeof path, "%s/cgroup.procs", dir);
	if (nuwa_read_file(path, buf, sizeof buf) <= 0)
		return 0;
	for (p = buf; *p; p++)
		n += *p == '\n';
	return n;
}

/* SIGKILL every process of cgroup DIR: cgroup.kill (Linux 5.14), else each
 * pid of cgroup.procs (repeated: a fork may race the first pass). Returns
 * how many processes it held. */
static int kill_cgroup(const char *dir)
{
	char path[1100], buf[8192];
	int pass, n = count_procs(dir);
	snprintf(path, sizeof path, "%s/cgroup.kill", dir);
	if (write_str(path, "1") == 0)
		return n;
	snprintf(path, sizeof path, "%s/cgroup.procs", dir);
	for (pass = 0; pass < 5; pass++) {
		char *p, *end;
		int killed = 0;
		if (nuwa_read_file(path, buf, sizeof buf) <= 0)
			break;
		for (p = buf; *p; p = end) {
			long pid = strtol(p, &end, 10);
			if (end == p)
				break;
			if (pid > 0 && kill((pid_t)pid, SIGKILL) == 0)
				killed++;
		}
		if (!killed)
			break;
	}
	return n;
}

void groups_app_cgroup(const struct nuwad *d, const struct app *a, char *out, size_t cap)
{
	int spare = a->via_spare || !a->name[0];
	snprintf(out, cap, "%s/%s-%d", d->cgroup_dir, spare ? "spare" : a->name, (int)a->pid);
}

void groups_kill(struct nuwad *d, struct app *a)
{
	char dir[1024];
	if (a->pid <= 0)
		return;
	pidfd_signal(a->pidfd, a->pid, SIGKILL);
	if (d->cgroup_dir[0]) {
		groups_app_cgroup(d, a, dir, sizeof dir);
		if (access(dir, F_OK) == 0) {
			kill_cgroup(dir);
			return;
		}
	}
	/* Its own process group (it made it before running app code). Once
	 * the main process is reaped its pid stays reserved while the group
	 * has members, so this reaches no one else. */
	if (getpgid(a->pid) == a->pid || a->state == APP_STOPPING)
		kill(-a->pid, SIGKILL);
}

/* cgroups whose processes were still exiting when their app went. */
#define SWEEP_MAX 64
static char *sweep[SWEEP_MAX];

static void remove_cgroup(const char *dir)
{
	int i;
	if (rmdir(dir) == 0 || errno == ENOENT)
		return;
	for (i = 0; i < SWEEP_MAX; i++)
		if (!sweep[i]) {
			sweep[i] = strdup(dir);
			return;
		}
	nuwad_log("cgroup %s: %s (left behind)", dir, strerror(errno));
}

void groups_sweep(struct nuwad *d)
{
	int i;
	(void)d;
	for (i = 0; i < SWEEP_MAX; i++) {
		if (!sweep[i])
			continue;
		kill_cgroup(sweep[i]);
		if (rmdir(sweep[i]) == 0 || errno == ENOENT) {
			free(sweep[i]);
			sweep[i] = NULL;
		}
	}
}

/* nuwad is stopping, its apps are gone: leave the hierarchy as it was
 * found (issue 20 item 12): what is left in the apps' cgroups is killed,
 * then they and the apps' cgroup itself are removed (a few tries while the
 * last processes exit). */
void groups_end(struct nuwad *d)
{
	DIR *dir;
	struct dirent *e;
	int tries;
	if (!d->cgroup_dir[0])
		return;
	for (tries = 0; tries < 100; tries++) {
		int left = 0;
		if ((dir = opendir(d->cgroup_dir))) {
			while ((e = readdir(dir))) {
				char sub[1400];
				struct stat sb;
				if (e->d_name[0] == '.')
					continue;
				snprintf(sub, sizeof sub, "%s/%s", d->cgroup_dir, e->d_name);
				if (lstat(sub, &sb) < 0 || !S_ISDIR(sb.st_mode))
					continue;
				kill_cgroup(sub);
				if (rmdir(sub) < 0 && errno != ENOENT)
					left++;
			}
			closedir(dir);
		}
		if (!left && (rmdir(d->cgroup_dir) == 0 || errno == ENOENT))
			return;
		usleep(10000);
	}
	nuwad_log("cgroup %s: %s (left behind)", d->cgroup_dir, strerror(errno));
}

void groups_app_gone(struct nuwad *d, struct app *a)
{
	char dir[1024];
	if (a->pid <= 0)
		return;
	if (d->cgroup_dir[0]) {
		groups_app_cgroup(d, a, dir, sizeof dir);
		if (access(dir, F_OK) == 0) {
			kill_cgroup(dir);
			remove_cgroup(dir);
			return;
		}
	}
	/* No cgroup: whatever is left in its process group. */
	kill(-a->pid, SIGKILL);
}

void groups_record(struct nuwad *d)
{
	char path[4096], tmp[4200];
	struct app *a;
	FILE *f;
	snprintf(path, sizeof path, "%s/%s", d->state_dir, NUWA_GROUPS_FILE);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f)
		return;
	fprintf(f, "cgroup %s\n", d->cgroup_dir[0] ? d->cgroup_dir : "-");
	for (a = d->apps; a; a = a->next)
		if (a->pid > 0 && a->name[0])
			fprintf(f, "pgid %d\n", (int)a->pid);
	if (fclose(f) != 0 || rename(tmp, path) < 0)
		unlink(tmp);
}

/* PID runs TEMPLATE_HOST or EXEC_HOST. */
static int runs_host(pid_t pid, const char *template_host, const char *exec_host)
{
	char link[64], exe[4096];
	ssize_t n;
	snprintf(link, sizeof link, "/proc/%d/exe", (int)pid);
	n = readlink(link, exe, sizeof exe - 1);
	if (n <= 0)
		return 0;
	exe[n] = 0;
	return (template_host && !strcmp(exe, template_host)) || (exec_host && !strcmp(exe, exec_host));
}

/* SIGKILL the processes of group PGID that run one of the hosts. */
static int kill_host_group(pid_t pgid, const char *template_host, const char *exec_host)
{
	DIR *dd = opendir("/proc");
	struct dirent *de;
	int n = 0;
	if (!dd)
		return 0;
	while ((de = readdir(dd))) {
		pid_t pid = (pid_t)atoi(de->d_name);
		if (pid > 1 && pid != getpid() && getpgid(pid) == pgid &&
		    runs_host(pid, template_host, exec_host) && kill(pid, SIGKILL) == 0)
			n++;
	}
	closedir(dd);
	return n;
}

int groups_end_leftovers(const char *state_dir, const char *template_host, const char *exec_host)
{
	char path[4096], line[1200], th[4096], eh[4096];
	FILE *f;
	int n = 0;
	/* /proc/PID/exe is the resolved path. */
	template_host = template_host && realpath(template_host, th) ? th : template_host;
	exec_host = exec_host && realpath(exec_host, eh) ? eh : exec_host;
	snprintf(path, sizeof path, "%s/%s", state_dir, NUWA_GROUPS_FILE);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof line, f)) {
		char dir[1100];
		int pgid;
		if (sscanf(line, "cgroup %1099s", dir) == 1 && dir[0] == '/') {
			DIR *dd = opendir(dir);
			struct dirent *de;
			if (!dd)
				continue;
			while ((de = readdir(dd))) {
				char sub[1400];
				if (de->d_type != DT_DIR || de->d_name[0] == '.')
					continue;
				snprintf(sub, sizeof sub, "%s/%s", dir, de->d_name);
				n += kill_cgroup(sub);
				if (rmdir(sub) < 0 && errno == EBUSY) {
					/* Exiting still: give it a moment, once. */
					usleep(50000);
					rmdir(sub);
				}
			}
			closedir(dd);
		} else if (sscanf(line, "pgid %d", &pgid) == 1 && pgid > 1) {
			if (pgid != getpgrp())
				n += kill_host_group((pid_t)pgid, template_host, exec_host);
		}
	}
	fclose(f);
	return n;
}

int groups_count(struct nuwad *d, const struct app *a)
{
	char path[1100], buf[16384], *p;
	int n = 0;
	if (a->pid <= 0)
		return -1;
	if (d->cgroup_dir[0]) {
		long len;
		char dir[1024];
		groups_app_cgroup(d, a, dir, sizeof dir);
		snprintf(path, sizeof path, "%s/cgroup.procs", dir);
		len = nuwa_read_file(path, buf, sizeof buf);
		if (len >= 0) {
			for (p = buf; *p; p++)
				n += *p == '\n';
			return n;
		}
	}
	{
		DIR *dd = opendir("/proc");
		struct dirent *de;
		if (!dd)
			return -1;
		while ((de = readdir(dd)))
			if (de->d_name[0] >= '1' && de->d_name[0] <= '9' &&
			    getpgid((pid_t)atoi(de->d_name)) == a->pid)
				n++;
		closedir(dd);
	}
	return n;
}

int groups_pid_in_app(struct nuwad *d, pid_t pid)
{
	char path[64], buf[2048], *line, *save = NULL;
	size_t rl = strlen(cgroup_rel);
	snprintf(path, sizeof path, "/proc/%d/cgroup", (int)pid);
	if (!d->cgroup_dir[0] || !rl || nuwa_read_file(path, buf, sizeof buf) <= 0)
		return 0;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (!strncmp(line, "0::", 3) && !strncmp(line + 3, cgroup_rel, rl) && line[3 + rl] == '/')
			return 1;
	return 0;
}
