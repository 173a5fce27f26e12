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

static const char *psi_file(void)
{
	/* Tests point NUWAD_PSI_FILE elsewhere (a missing file, a cgroup's
	 * memory.pressure); the device uses the system-wide file. */
	const char *f = getenv("NUWAD_PSI_FILE");
	return f && *f ? f : "/proc/pressure/memory";
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

void psi_init(struct nuwad *d)
{
	const char *file = psi_file();
	d->psi_fd[0] = d->psi_fd[1] = -1;
	if (d->conf.lmk_threshold_kb <= 0 || !d->conf.psi)
		return;
	struct { const char *kind; int ms; } t[2] = { { "some", d->conf.psi_some_ms },
						      { "full", d->conf.psi_full_ms } };
	for (int i = 0; i < 2; i++) {
		if (t[i].ms <= 0)
			continue;
		d->psi_fd[i] = open_trigger(file, t[i].kind, t[i].ms, d->conf.psi_window_ms);
		if (d->psi_fd[i] < 0) {
			nuwad_log("lmk: no PSI trigger on %s (%s): MemAvailable polling every %d ms only", file,
				  strerror(errno), d->conf.tick_ms);
			if (d->psi_fd[0] >= 0)
				close(d->psi_fd[0]);
			d->psi_fd[0] = d->psi_fd[1] = -1;
			return;
		}
	}
	if (d->psi_fd[0] >= 0 || d->psi_fd[1] >= 0)
		nuwad_log("lmk: PSI triggers on %s: some %d ms, full %d ms in %d ms", file, d->conf.psi_some_ms,
			  d->conf.psi_full_ms, d->conf.psi_window_ms);
}

void psi_ready(struct nuwad *d, int fd, short revents)
{
	int i = fd == d->psi_fd[0] ? 0 : fd == d->psi_fd[1] ? 1 : -1;
	if (i < 0)
		return;
	if (revents & (POLLERR | POLLNVAL)) {
		/* The file went away (a removed cgroup): back to MemAvailable. */
		nuwad_log("lmk: PSI trigger %s failed: MemAvailable polling only", i ? "full" : "some");
		close(fd);
		d->psi_fd[i] = -1;
		return;
	}
	if (!(revents & POLLPRI))
		return;
	d->psi_events++;
	d->psi_pending = 1;
	d->psi_last = i ? "full" : "some";
	nuwad_lmk_tick(d);
}

void psi_out(struct nuwad *d, struct out *o)
{
	if (d->psi_fd[0] < 0 && d->psi_fd[1] < 0) {
		out_null(o, "psi");
		return;
	}
	out_obj_begin(o, "psi");
	out_str(o, "file", psi_file());
	out_int(o, "some_ms", d->psi_fd[0] >= 0 ? d->conf.psi_some_ms : 0);
	out_int(o, "full_ms", d->psi_fd[1] >= 0 ? d->conf.psi_full_ms : 0);
	out_int(o, "window_ms", d->conf.psi_window_ms);
	out_int(o, "events", d->psi_events);
	out_obj_end(o);
}
