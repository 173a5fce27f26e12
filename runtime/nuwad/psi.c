/* PSI triggers for the low-memory killer (psi.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nuwad.h"
#include "psi.h"

/* The file the triggers are on (for "stats"), "" while there are none. */
static char psi_path[1100];

/* Where the triggers go: the apps' cgroup's memory.pressure (the stalls of
 * the apps, which trimming and killing apps relieves; nuwads of tests and
 * benchmarks beside the device's see only their own apps), the system-wide
 * file where there is no apps' cgroup. Tests point NUWAD_PSI_FILE elsewhere
 * (a missing file). */
static void psi_files(struct nuwad *d, const char *files[2])
{
	const char *f = getenv("NUWAD_PSI_FILE");
	files[0] = files[1] = NULL;
	if (f && *f) {
		files[0] = f;
		return;
	}
	static char apps[1100];
	if (d->cgroup_dir[0] && snprintf(apps, sizeof apps, "%s/memory.pressure", d->cgroup_dir) < (int)sizeof apps)
		files[0] = apps;
	files[files[0] ? 1 : 0] = "/proc/pressure/memory";
}

/* One trigger: "some|full STALL_US WINDOW_US" written to its own fd. */
static int open_trigger(const char *file, const char *kind, int stall_ms, int window_ms)
{
	char spec[64];
	int n = snprintf(spec, sizeof spec, "%s %ld %ld", kind, (long)stall_ms * 1000, (long)window_ms * 1000);
	int fd = open(file, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -1;
	/* The kernel takes the trigger with the terminating NUL. */
	if (write(fd, spec, (size_t)n + 1) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* Both configured triggers on FILE into d->psi.fd; 0, or -1 (none open). */
static int open_triggers(struct nuwad *d, const char *file)
{
	struct { const char *kind; int ms; } t[2] = { { "some", d->conf.psi_some_ms },
						      { "full", d->conf.psi_full_ms } };
	for (int i = 0; i < 2; i++) {
		if (t[i].ms <= 0)
			continue;
		d->psi.fd[i] = open_trigger(file, t[i].kind, t[i].ms, d->conf.psi_window_ms);
		if (d->psi.fd[i] < 0) {
			int saved = errno;
			if (d->psi.fd[0] >= 0)
				close(d->psi.fd[0]);
			d->psi.fd[0] = d->psi.fd[1] = -1;
			errno = saved;
			return -1;
		}
	}
	return 0;
}

void psi_init(struct nuwad *d)
{
	const char *files[2];
	d->psi.fd[0] = d->psi.fd[1] = -1;
	psi_path[0] = 0;
	if (d->conf.lmk_threshold_kb <= 0 || !d->conf.psi)
		return;
	if (d->conf.psi_some_ms <= 0 && d->conf.psi_full_ms <= 0)
		return;
	psi_files(d, files);
	for (int i = 0; i < 2 && files[i]; i++) {
		if (open_triggers(d, files[i]) == 0) {
			snprintf(psi_path, sizeof psi_path, "%s", files[i]);
			nuwad_log("lmk: PSI triggers on %s: some %d ms, full %d ms in %d ms", files[i],
				  d->conf.psi_some_ms, d->conf.psi_full_ms, d->conf.psi_window_ms);
			return;
		}
		if (i == 0 && files[1])
			nuwad_log("lmk: no PSI trigger on %s (%s): trying %s", files[i], strerror(errno), files[1]);
		else
			nuwad_log("lmk: no PSI trigger on %s (%s): MemAvailable polling every %d ms only", files[i],
				  strerror(errno), d->conf.tick_ms);
	}
}

void psi_ready(struct nuwad *d, int fd, short revents)
{
	int i = fd == d->psi.fd[0] ? 0 : fd == d->psi.fd[1] ? 1 : -1;
	if (i < 0)
		return;
	if (revents & (POLLERR | POLLNVAL)) {
		/* The file went away (a removed cgroup): back to MemAvailable. */
		nuwad_log("lmk: PSI trigger %s failed: MemAvailable polling only", i ? "full" : "some");
		close(fd);
		d->psi.fd[i] = -1;
		return;
	}
	if (!(revents & POLLPRI))
		return;
	d->psi.events++;
	d->psi.pending = 1;
	d->psi.last = i ? "full" : "some";
	lmk_tick(d);
}

void psi_out(struct nuwad *d, struct out *o)
{
	if (d->psi.fd[0] < 0 && d->psi.fd[1] < 0) {
		out_null(o, "psi");
		return;
	}
	out_obj_begin(o, "psi");
	out_str(o, "file", psi_path);
	out_int(o, "some_ms", d->psi.fd[0] >= 0 ? d->conf.psi_some_ms : 0);
	out_int(o, "full_ms", d->psi.fd[1] >= 0 ? d->conf.psi_full_ms : 0);
	out_int(o, "window_ms", d->conf.psi_window_ms);
	out_int(o, "events", d->psi.events);
	out_obj_end(o);
}
