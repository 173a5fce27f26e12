/* The snapshot command (docs/security.md): nuwad makes the file, passes the
 * app a write-only fd with the request, checks the answer, and replies to
 * the client with the snapshot's id and path. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "grants.h"
#include "nuwa_snapshot.h"
#include "events.h"
#include "app_table.h"
#include "apps.h"
#include "nuwad.h"
#include "reply.h"
#include "procmem.h"
#include "snapshots.h"
#include "util.h"

static struct grants G;
static int G_ready;
static char why_not_ready[256] = "snapshots are not set up";
/* Unsolicited grant messages are logged, but not every one of a flood. */
static unsigned unsolicited;

int snapshots_init(struct nuwad *d, char *err, size_t errlen)
{
	struct grant_conf gc;
	char dir[256];
	const struct nuwa_conf *c = &d->conf;

	if (c->snapshot_dir)
		snprintf(dir, sizeof dir, "%s", c->snapshot_dir);
	else if (snprintf(dir, sizeof dir, "%s/snapshots", d->state_dir) >= (int)sizeof dir) {
		snprintf(err, errlen, "snapshot directory path too long");
		return -1;
	}
	memset(&gc, 0, sizeof gc);
	gc.dir = dir;
	gc.max_bytes = (uint64_t)c->snapshot_max_kb * 1024;
	gc.quota_bytes = (uint64_t)c->snapshot_quota_kb * 1024;
	gc.timeout_ms = c->snapshot_timeout_ms;
	gc.tmpfs = c->snapshot_tmpfs;
	if (grants_init(&G, &gc, err, errlen) < 0) {
		snprintf(why_not_ready, sizeof why_not_ready, "%s", err);
		return -1;
	}
	G_ready = 1;
	nuwad_log("snapshots in %s%s: %" PRIu64 " KiB each, %" PRIu64 " KiB in all, %d ms to answer",
		  G.dir, G.mounted ? " (own tmpfs)" : "", gc.max_bytes / 1024, gc.quota_bytes / 1024,
		  gc.timeout_ms);
	return 0;
}

static struct app *find_app(struct nuwad *d, const char *target)
{
	struct app *a;
	char *end;
	long pid = strtol(target, &end, 10);
	int by_pid = *target && !*end;
	for (a = d->apps; a; a = a->next) {
		if (a->state != APP_RUNNING || a->chan < 0 || a->pid <= 0)
			continue;
		if (by_pid ? a->pid == (pid_t)pid : !strcmp(a->name, target))
			return a;
	}
	return NULL;
}

static struct app *app_of_pid(struct nuwad *d, pid_t pid)
{
	struct app *a;
	for (a = d->apps; a; a = a->next)
		if (a->pid == pid)
			return a;
	return NULL;
}

/* A "Vm...:" figure of PID's status in KiB (FIELD with its colon), or -1. */
static long status_kb(pid_t pid, const char *field)
{
	char path[64], buf[4096], *p;
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	if (nuwa_read_file(path, buf, sizeof buf) < 0 || !(p = strstr(buf, field)))
		return -1;
	return strtol(p + strlen(field), NULL, 10);
}

/* Reset PID's peak RSS so that VmHWM afterwards is the snapshot's peak. */
static int reset_peak(pid_t pid)
{
	char path[64];
	int fd, ok;
	snprintf(path, sizeof path, "/proc/%d/clear_refs", (int)pid);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ok = write(fd, "5", 1) == 1;
	close(fd);
	return ok ? 0 : -1;
}

/* A process kept a granted fd: if it is an app, it is hostile; end it. */
static void punish_holder(struct nuwad *d, pid_t holder, const char *app)
{
	struct app *h;
	if (!holder)
		return;
	h = app_of_pid(d, holder);
	nuwad_log("snapshot of %s: process %d kept the granted fd%s", app, (int)holder,
		  h ? "; killing it" : "");
	if (h)
		nuwad_kill_app(d, h, SIGKILL, "kept a granted snapshot fd");
}

static void reply_failed(struct nuwad *d, struct grant *gr, const char *why)
{
	uint64_t cid = gr->cookie;
	char app[GRANT_NAME_MAX];
	uint32_t id = gr->id;
	pid_t pid = gr->pid, holder = 0;

	snprintf(app, sizeof app, "%s", gr->app);
	grants_fail(&G, gr, &holder);
	nuwad_log("snapshot %u of %s (pid %d) failed and was removed: %s", id, app, (int)pid, why);
	reply_err(d, cid, "snapshot of %s (pid %d) failed: %s", app, (int)pid, why);
	punish_holder(d, holder, app);
}

void snapshots_request(struct nuwad *d, uint64_t cid, int text, const char *target)
{
	struct app *a;
	struct grant *gr;
	char err[512], req[48];
	int fd;

	if (!G_ready) {
		reply_err(d, cid, "snapshots unavailable: %s", why_not_ready);
		return;
	}
	a = find_app(d, target);
	if (!a) {
		reply_err(d, cid, "no running app '%s'", target);
		return;
	}
	gr = grants_open(&G, a->name, a->pid, nuwad_now_us(), &fd, err, sizeof err);
	if (!gr) {
		reply_err(d, cid, "snapshot of %s: %s", a->name, err);
		return;
	}
	gr->cookie = cid;
	gr->cookie_text = text;
	/* Best effort, the figures are informational: after the reset the
	 * peak (VmHWM) is the RSS now, and afterwards the snapshot's peak. */
	reset_peak(a->pid);
	gr->rss_before_kb = status_kb(a->pid, "VmRSS:");
	{
		struct procmem m;
		gr->uss_before_kb = procmem_read(a->pid, &m) == 0 ? m.uss_kb : -1;
	}
	snprintf(req, sizeof req, "max=%" PRIu64, G.conf.max_bytes);
	if (nuwa_msg_send(a->chan, NUWA_APP_MSG_SNAPSHOT, gr->id, req, (uint32_t)strlen(req), fd) < 0) {
		snprintf(err, sizeof err, "cannot send the request: %s", strerror(errno));
		close(fd);
		reply_failed(d, gr, err);
		return;
	}
	/* nuwad keeps no fd on the file: the app's is the only one. */
	close(fd);
}

int snapshots_on_app_msg(struct nuwad *d, struct app *a, const struct nuwa_msg_hdr *h,
			 const char *payload)
{
	struct grant *gr = G_ready ? grants_pending_for(&G, a->pid) : NULL;
	char err[512];
	pid_t holder = 0;
	struct out o;
	uint64_t cid;
	long peak, uss_after;

	if (!gr || h->id != gr->id ||
	    (h->type != NUWA_APP_MSG_SNAPSHOT_DONE && h->type != NUWA_APP_MSG_SNAPSHOT_FAILED)) {
		/* Apps cannot ask for fds: anything else here is ignored (an fd
		 * that came with it was closed on receipt). */
		if (unsolicited++ < 20 || unsolicited % 1000 == 0)
			nuwad_log("app %s (pid %d): unsolicited grant message %u (id %u) ignored [%u so far]",
				  a->name, (int)a->pid, h->type, h->id, unsolicited);
		return 0;
	}
	if (h->type == NUWA_APP_MSG_SNAPSHOT_FAILED) {
		snprintf(err, sizeof err, "app reported: %.400s", payload);
		reply_failed(d, gr, err);
		return 0;
	}
	cid = gr->cookie;
	if (grants_finish(&G, gr, payload, h->len, nuwad_now_us(), &holder, err, sizeof err) < 0) {
		nuwad_log("snapshot of %s (pid %d) rejected and removed: %s", a->name, (int)a->pid, err);
		reply_err(d, cid, "snapshot of %s (pid %d) failed: %s", a->name, (int)a->pid, err);
		punish_holder(d, holder, a->name);
		return 0;
	}
	peak = status_kb(a->pid, "VmHWM:");
	{
		struct procmem m;
		uss_after = procmem_read(a->pid, &m) == 0 ? m.uss_kb : -1;
	}
	nuwad_log("snapshot %u of %s (pid %d): %" PRIu64 " bytes in %.1f ms, %s", gr->id, a->name,
		  (int)a->pid, gr->bytes, gr->write_ms, gr->path);
	out_init(&o, gr->cookie_text);
	out_obj_begin(&o, NULL);
	out_int(&o, "id", gr->id);
	out_str(&o, "app", a->name);
	out_int(&o, "pid", a->pid);
	out_str(&o, "mode", a->exec_mode ? "exec" : "template");
	out_str(&o, "path", gr->path);
	out_int(&o, "bytes", (long long)gr->bytes);
	out_num(&o, "write_ms", gr->write_ms);
	if (peak >= 0)
		out_int(&o, "peak_rss_kb", peak);
	else
		out_null(&o, "peak_rss_kb");
	if (gr->rss_before_kb >= 0)
		out_int(&o, "rss_before_kb", gr->rss_before_kb);
	else
		out_null(&o, "rss_before_kb");
	/* USS (private pages) before and after: what the snapshot left behind;
	 * the RSS peak also counts shared code pages it merely mapped. */
	if (gr->uss_before_kb >= 0 && uss_after >= 0) {
		out_int(&o, "uss_before_kb", gr->uss_before_kb);
		out_int(&o, "uss_after_kb", uss_after);
	} else {
		out_null(&o, "uss_before_kb");
		out_null(&o, "uss_after_kb");
	}
	out_obj_end(&o);
	reply_out(d, cid, &o);
	out_free(&o);
	return 0;
}

static void on_gone(struct nuwad *d, struct app *a)
{
	struct grant *gr;
	if (!G_ready || a->pid <= 0 || !(gr = grants_pending_for(&G, a->pid)))
		return;
	reply_failed(d, gr, "the app exited before answering");
}

void snapshots_timers(struct nuwad *d, int64_t now, int64_t *next)
{
	struct grant *gr;
	int64_t t;
	char why[96];
	if (!G_ready)
		return;
	while ((gr = grants_expired(&G, now))) {
		snprintf(why, sizeof why, "no answer within %d ms", G.conf.timeout_ms);
		reply_failed(d, gr, why);
	}
	t = grants_next_deadline(&G);
	if (t && (!*next || t < *next))
		*next = t;
}

const struct app_observer snapshots_observer = {
	.name = "snapshots",
	.gone = on_gone,
};
