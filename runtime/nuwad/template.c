/* Supervising one framework's template, T: start (at boot or at its first
 * launch), ready, fork requests, death, restart. Every function works on
 * the T it is given; nuwad has one per framework (d->tmpls). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nuwa.h"
#include "nuwa_app.h"
#include "nuwad.h"
#include "app_table.h"
#include "door.h"
#include "phases.h"
#include "procmem.h"
#include "proto.h"
#include "launch_exec.h"
#include "util.h"

#define BACKOFF_MAX_MS 10000
#define START_GRACE_MS 60000  /* framework init on a slow board */

void tmpl_init(struct tmpl *t, const struct nuwa_fw_conf *fw)
{
	memset(t, 0, sizeof *t);
	t->fw = fw;
	t->chan = -1;
	t->backoff_ms = 100;
	t->state = T_IDLE;
}

struct tmpl *tmpl_of_app(struct nuwad *d, const struct nuwa_app_conf *ac)
{
	return &d->tmpls[ac->framework];
}

struct tmpl *tmpl_by_pid(struct nuwad *d, pid_t pid)
{
	int i;
	for (i = 0; pid > 0 && i < d->ntmpls; i++)
		if (d->tmpls[i].pid == pid)
			return &d->tmpls[i];
	return NULL;
}

const char *tmpl_state_name(const struct nuwad *d, const struct tmpl *t)
{
	static const char *const names[] = { "idle", "down", "starting", "ready" };
	if (!d->conf.template)
		return "off";
	if (!t->fw->library)
		return "unconfigured";
	return names[t->state];
}

int tmpl_spare_enabled(const struct nuwad *d, const struct tmpl *t)
{
	if (!d->conf.template)
		return 0;
	return t->fw->spare >= 0 ? t->fw->spare : d->conf.spare;
}

/* The template could not be started: try again after the backoff (a
 * first-use template that never ran: at its next launch). */
static void start_failed(struct tmpl *t)
{
	nuwad_log("template %s: %s", t->fw->name, t->last_error);
	if (t->fw->start == NUWA_START_FIRST_USE && !t->ever_ready) {
		t->state = T_IDLE;
		return;
	}
	t->state = T_DOWN;
	t->restart_at_us = nuwad_now_us() + (int64_t)t->backoff_ms * 1000;
}

void tmpl_start(struct nuwad *d, struct tmpl *t)
{
	int sv[2];
	char *argv[] = { d->conf.template_host, "--config", d->conf.path,
			 "--framework", (char *)t->fw->name, "--channel-fd", "3", NULL };

	t->restart_at_us = 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(t->last_error, sizeof t->last_error, "socketpair: %s", strerror(errno));
		start_failed(t);
		return;
	}
	if (nuwa_set_nonblock(sv[0], 1) < 0) { /* our end only */
		snprintf(t->last_error, sizeof t->last_error, "O_NONBLOCK: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		start_failed(t);
		return;
	}
	t->pid = spawn_with_channel(argv, sv[1], -1);
	close(sv[1]);
	if (t->pid < 0) {
		snprintf(t->last_error, sizeof t->last_error, "cannot start %s: %s",
			 d->conf.template_host, strerror(errno));
		close(sv[0]);
		t->pid = 0;
		start_failed(t);
		return;
	}
	t->chan = sv[0];
	t->state = T_STARTING;
	t->started_us = nuwad_now_us();
	nuwad_log("template %s started, pid %d", t->fw->name, (int)t->pid);
}

static void lost_channel(struct nuwad *d, struct tmpl *t)
{
	if (t->chan >= 0) {
		close(t->chan);
		t->chan = -1;
	}
	if (t->state == T_READY)
		t->state = T_STARTING; /* until reaped; no more forks */
	d->tmpl_listener->lost(d, t);
}

void tmpl_on_channel(struct nuwad *d, struct tmpl *t)
{
	int budget = 64;
	while (budget-- > 0 && t->chan >= 0) {
		struct nuwa_msg_hdr h;
		char buf[NUWA_MSG_MAX_PAYLOAD + 1];
		int rc = nuwa_msg_recv(t->chan, &h, buf, NUWA_MSG_MAX_PAYLOAD, NULL);
		if (rc < 0 && errno == EAGAIN)
			return;
		if (rc <= 0) {
			if (rc < 0)
				nuwad_log("template %s channel: %s", t->fw->name, strerror(errno));
			lost_channel(d, t);
			return;
		}
		buf[h.len] = 0;
		switch (h.type) {
		case NUWA_T_READY:
			t->state = T_READY;
			t->ever_ready = 1;
			t->ready_us = nuwad_now_us();
			t->last_error[0] = 0;
			snprintf(t->ready_info, sizeof t->ready_info, "%.250s", buf);
			nuwad_log("template %s %d ready in %.1f ms (%s)", t->fw->name, (int)t->pid,
				  (double)(t->ready_us - t->started_us) / 1000.0, buf);
			d->tmpl_listener->ready(d, t);
			break;
		case NUWA_T_FAILED:
			snprintf(t->last_error, sizeof t->last_error, "%.1000s", buf);
			nuwad_log("template %s failed: %s", t->fw->name, buf);
			break;
		case NUWA_T_FORKED: {
			/* "PID FORK_MS": the template's own timing of fork() */
			int pid = 0;
			double fork_ms = -1;
			if (sscanf(buf, "%d %lf", &pid, &fork_ms) < 1)
				pid = 0;
			d->tmpl_listener->forked(d, t, h.id, (pid_t)pid, fork_ms, NULL);
			break;
		}
		case NUWA_T_FORK_FAILED:
			d->tmpl_listener->forked(d, t, h.id, 0, -1, buf);
			break;
		case NUWA_T_EXIT: {
			int pid = 0, status = 0;
			if (sscanf(buf, "%d %d", &pid, &status) == 2 && pid > 0)
				d->tmpl_listener->reaped(d, (pid_t)pid, status);
			break;
		}
		default:
			nuwad_log("template %s sent unknown message %u", t->fw->name, h.type);
		}
	}
}

void tmpl_reaped(struct nuwad *d, struct tmpl *t, int status)
{
	int64_t now = nuwad_now_us();
	char how[64];

	/* Its last words (a failure reason, children's exits) may still be
	 * queued on the channel: read them before closing it. */
	if (t->chan >= 0)
		tmpl_on_channel(d, t);
	if (WIFSIGNALED(status))
		snprintf(how, sizeof how, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(how, sizeof how, "exited with status %d", WEXITSTATUS(status));
	nuwad_log("template %s %d %s", t->fw->name, (int)t->pid, how);
	if (!t->last_error[0] || t->state == T_READY)
		snprintf(t->last_error, sizeof t->last_error, "template %s", how);
	/* A template that stayed up a while earns a fresh backoff. */
	if (t->state == T_READY && now - t->ready_us > 30 * 1000000LL)
		t->backoff_ms = 100;
	lost_channel(d, t);
	t->state = T_DOWN;
	t->pid = 0;
	if (d->quit)
		return;
	if (!t->ever_ready) {
		/* It never served a launch: the launches waiting for it fail
		 * now, with its error, instead of at their deadline. */
		d->tmpl_listener->failed(d, t);
		if (t->fw->start == NUWA_START_FIRST_USE) {
			/* Its next launch starts it again; nothing retries alone. */
			t->state = T_IDLE;
			return;
		}
	}
	t->restarts++;
	t->restart_at_us = now + (int64_t)t->backoff_ms * 1000;
	nuwad_log("restarting template %s in %d ms", t->fw->name, t->backoff_ms);
	t->backoff_ms = t->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : t->backoff_ms * 2;
}

int tmpl_fork(struct nuwad *d, struct tmpl *t, struct app *a)
{
	char spec[NUWA_NAME_MAX + NUWA_LAUNCH_ARGS_MAX];
	uint32_t len = a->name[0] ? app_spec(a, spec, sizeof spec) : 0; /* "" = spare */
	int sv[2];

	if (t->state != T_READY || t->chan < 0) {
		errno = EAGAIN;
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	if (nuwa_set_nonblock(sv[0], 1) < 0) { /* our end only */
		int e = errno;
		close(sv[0]);
		close(sv[1]);
		errno = e;
		return -1;
	}
	{
		/* The child's first message: its stdout/stderr pipe (without
		 * one it writes to /dev/null, never to nuwad's log). */
		int out = door_output_pipe(a);
		if (out < 0)
			nuwad_log("app %s: output pipe: %s (its output is dropped)",
				  a->name[0] ? a->name : "spare", strerror(errno));
		if (nuwa_msg_send(sv[0], NUWA_APP_MSG_STDIO, 0, NULL, 0, out) < 0) {
			int e = errno;
			if (out >= 0)
				close(out);
			close(sv[0]);
			close(sv[1]);
			errno = e;
			return -1;
		}
		if (out >= 0)
			close(out);
	}
	a->fork_id = ++d->next_id;
	/* The round trip starts before the send: on one CPU the template can
	 * fork and answer before nuwa_msg_send returns. */
	a->t_fork_us = nuwad_now_us();
	if (nuwa_msg_send(t->chan, NUWA_T_FORK, a->fork_id, spec, len, sv[1]) < 0) {
		int e = errno;
		close(sv[0]);
		close(sv[1]);
		errno = e;
		return -1;
	}
	phases_mark(a, "fork_sent", a->t_fork_us); /* the send's start, as above */
	close(sv[1]);
	a->chan = sv[0];
	a->deadline_us = nuwad_now_us() + (int64_t)d->conf.fork_timeout_ms * 1000;
	return 0;
}

void tmpl_timers(struct nuwad *d, struct tmpl *t, int64_t now, int64_t *next)
{
	struct app *a;

	if (t->state == T_DOWN && t->restart_at_us && !d->quit) {
		if (now >= t->restart_at_us)
			tmpl_start(d, t);
		else if (t->restart_at_us < *next)
			*next = t->restart_at_us;
	}
	if (t->state == T_STARTING && t->pid > 0 && t->chan >= 0) {
		int64_t limit = t->started_us +
				((int64_t)d->conf.freeze_timeout_ms + START_GRACE_MS) * 1000;
		if (now >= limit) {
			snprintf(t->last_error, sizeof t->last_error,
				 "template did not become ready within %d ms",
				 d->conf.freeze_timeout_ms + START_GRACE_MS);
			nuwad_log("template %s: %s: killing it", t->fw->name, t->last_error);
			kill(t->pid, SIGKILL);
			lost_channel(d, t);
		} else if (limit < *next) {
			*next = limit;
		}
	}
	/* A fork request unanswered for fork_timeout_ms: the template is
	 * deadlocked. Kill it; the restart path takes over. */
	for (a = d->apps; a; a = a->next) {
		if (a->t != t || (a->state != APP_FORKING && a->state != APP_SPARE_FORKING) ||
		    !a->deadline_us)
			continue;
		if (now >= a->deadline_us && t->pid > 0) {
			snprintf(t->last_error, sizeof t->last_error,
				 "template deadlock: fork request unanswered after %d ms",
				 d->conf.fork_timeout_ms);
			nuwad_log("%s: killing template %s %d", t->last_error, t->fw->name, (int)t->pid);
			kill(t->pid, SIGKILL);
			lost_channel(d, t);
			break;
		} else if (a->deadline_us < *next) {
			*next = a->deadline_us;
		}
	}
}

/* The fields of T (in an open object); template-status's top level holds
 * the default framework's, its "frameworks" array every framework's. */
static void status_fields(struct nuwad *d, struct tmpl *t, struct out *o)
{
	struct app *s = apps_spare(d, t);
	out_str(o, "state", tmpl_state_name(d, t));
	out_bool(o, "template_enabled", d->conf.template);
	if (t->pid > 0)
		out_int(o, "pid", t->pid);
	else
		out_null(o, "pid");
	out_int(o, "restarts", t->restarts);
	out_str(o, "last_error", t->last_error[0] ? t->last_error : NULL);
	if (t->state == T_READY) {
		out_num(o, "ready_ms", (double)(t->ready_us - t->started_us) / 1000.0);
		out_str(o, "info", t->ready_info);
		out_int(o, "fds", procmem_fds(t->pid));
	}
	if (s && s->state == APP_SPARE)
		out_int(o, "spare_pid", s->pid);
	else
		out_null(o, "spare_pid");
	out_bool(o, "spare_enabled", tmpl_spare_enabled(d, t));
}

void tmpl_status(struct nuwad *d, struct out *o)
{
	int i;
	out_obj_begin(o, NULL);
	status_fields(d, tmpl_default(d), o);
	out_arr_begin(o, "frameworks");
	for (i = 0; i < d->ntmpls; i++) {
		struct tmpl *t = &d->tmpls[i];
		if (!t->fw->library)
			continue; /* a default framework the config leaves out */
		out_obj_begin(o, NULL);
		out_str(o, "framework", t->fw->name);
		out_str(o, "library", t->fw->library);
		out_str(o, "start", t->fw->start == NUWA_START_FIRST_USE ? "first-use" : "boot");
		status_fields(d, t, o);
		out_int(o, "launches", t->launches);
		out_int(o, "fallback_launches", t->fallback_launches);
		out_obj_end(o);
	}
	out_arr_end(o);
	out_obj_end(o);
}

void tmpl_stop(struct nuwad *d, struct tmpl *t)
{
	(void)d;
	if (t->pid > 0) {
		int status;
		kill(t->pid, SIGKILL);
		waitpid(t->pid, &status, 0);
		t->pid = 0;
	}
	if (t->chan >= 0) {
		close(t->chan);
		t->chan = -1;
	}
}
