/* The app table: launching (spare, template fork, exec), ready, reaping,
 * killing, messages to apps, and the spares (one per framework's template:
 * every app has its framework's template, a->t). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "app_table.h"
#include "apps.h"
#include "door.h"
#include "events.h"
#include "filter_kill.h"
#include "groups.h"
#include "launch_exec.h"
#include "nuwa.h"
#include "nuwa_app.h"
#include "nuwad.h"
#include "phases.h"
#include "reply.h"
#include "requests.h"
#include "util.h"

static int set_args(struct app *a, int nargs, char **args)
{
	int i;
	a->args_len = 0;
	for (i = 0; i < nargs; i++) {
		size_t l = strlen(args[i]) + 1;
		if (a->args_len + l > sizeof a->args)
			return -1;
		memcpy(a->args + a->args_len, args[i], l);
		a->args_len += (uint32_t)l;
	}
	return 0;
}

/* Answer the launch waiter with an error and forget the waiter. */
static void launch_failed(struct nuwad *d, struct app *a, const char *why)
{
	if (a->waiter) {
		reply_err(d, a->waiter, "launch %s failed: %s", a->name, why);
		a->waiter = 0;
	}
}

static void schedule_refill(struct nuwad *d, struct tmpl *t, int delay_ms)
{
	int64_t at = nuwad_now_us() + (int64_t)delay_ms * 1000;
	if (!tmpl_spare_enabled(d, t))
		return;
	if (!t->refill_at_us || at > t->refill_at_us)
		t->refill_at_us = at;
}

/* After a launch: every template's refill, since refill() skipped those
 * that came due while it was in progress. */
static void schedule_refills(struct nuwad *d, int delay_ms)
{
	for (int i = 0; i < d->ntmpls; i++)
		if (d->tmpls[i].state == T_READY && !apps_spare(d, &d->tmpls[i]))
			schedule_refill(d, &d->tmpls[i], delay_ms);
}

/* T's spare, forked when T is ready and has none. */
static void refill(struct nuwad *d, struct tmpl *t)
{
	struct app *a;
	/* Whatever happens now, the next refill is scheduled by an event
	 * (template ready, an app ready, reaped or failed). */
	t->refill_at_us = 0;
	if (!tmpl_spare_enabled(d, t) || apps_spare(d, t) || t->state != T_READY)
		return;
	/* Refilling waits while a launch (of any framework) is in progress so
	 * it does not compete with it; the ready handler reschedules. */
	for (a = d->apps; a; a = a->next)
		if (a->state == APP_FORKING || a->state == APP_STARTING || a->state == APP_WAIT_TEMPLATE)
			return;
	a = app_new(d, t, "");
	if (!a)
		return;
	a->state = APP_SPARE_FORKING;
	if (tmpl_fork(d, t, a) < 0) {
		nuwad_log("spare of template %s: fork request: %s", t->fw->name, strerror(errno));
		app_free(d, a);
		schedule_refill(d, t, 1000);
	}
}

static void reply_launched(struct nuwad *d, struct app *a)
{
	struct out o;
	if (!a->waiter)
		return;
	out_init(&o, a->waiter_text);
	out_obj_begin(&o, NULL);
	out_str(&o, "app", a->name);
	out_int(&o, "pid", a->pid);
	out_str(&o, "mode", a->exec_mode ? "exec" : "template");
	out_num(&o, "launch_ms", a->launch_ms);
	phases_out(a, &o, a->t_ready_us);
	out_bool(&o, "spare", a->via_spare);
	out_str(&o, "fallback", a->fallback[0] ? a->fallback : NULL);
	/* Through the spare the launch never waits for a fork (the spare's
	 * refill fork came earlier): it reports the specialise latency. */
	if (!a->exec_mode && a->via_spare) {
		if (a->specialise_ms >= 0)
			out_num(&o, "specialise_ms", a->specialise_ms);
		else
			out_null(&o, "specialise_ms");
	} else if (!a->exec_mode) {
		if (a->fork_ms >= 0)
			out_num(&o, "fork_ms", a->fork_ms);
		else
			out_null(&o, "fork_ms");
		out_num(&o, "fork_rtt_ms", a->fork_rtt_ms);
	}
	out_obj_end(&o);
	reply_out(d, a->waiter, &o);
	out_free(&o);
	a->waiter = 0;
}

static void start_exec(struct nuwad *d, struct app *a)
{
	int sv[2], n = 0;
	uint32_t off;
	/* exec host, its options, "--", the launch's extra args, NULL */
	char *argv[10 + 1 + NUWA_LAUNCH_ARGS_MAX / 2 + 1];

	argv[n++] = d->conf.exec_host;
	argv[n++] = "--config";
	argv[n++] = d->conf.path;
	argv[n++] = "--framework";
	argv[n++] = (char *)a->t->fw->name;
	argv[n++] = "--app";
	argv[n++] = a->name;
	argv[n++] = "--channel-fd";
	argv[n++] = "3";
	argv[n++] = "--";
	for (off = 0; off < a->args_len; off += (uint32_t)strlen(a->args + off) + 1)
		argv[n++] = a->args + off;
	argv[n] = NULL;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		launch_failed(d, a, strerror(errno));
		app_free(d, a);
		return;
	}
	/* Our end only: the two ends are separate open files. */
	if (nuwa_set_nonblock(sv[0], 1) < 0) {
		launch_failed(d, a, strerror(errno));
		close(sv[0]);
		close(sv[1]);
		app_free(d, a);
		return;
	}
	{
		int out = door_output_pipe(a);
		if (out < 0)
			nuwad_log("app %s: output pipe: %s (its output is dropped)", a->name,
				  strerror(errno));
		/* Before: the spawn returns once the child has exec'd. */
		phases_mark(a, "spawn", nuwad_now_us());
		a->pid = spawn_with_channel(argv, sv[1], out >= 0 ? out : -2);
		if (out >= 0)
			close(out);
	}
	close(sv[1]);
	if (a->pid < 0) {
		char why[512];
		snprintf(why, sizeof why, "cannot start %s: %s", d->conf.exec_host, strerror(errno));
		close(sv[0]);
		a->pid = 0;
		launch_failed(d, a, why);
		app_free(d, a);
		return;
	}
	a->chan = sv[0];
	a->pidfd = pidfd_for(a->pid);
	a->state = APP_STARTING;
	a->deadline_us = nuwad_now_us() + (int64_t)d->conf.ready_timeout_ms * 1000;
}

/* [daemon] fallback = exec: why a template launch cannot be served by T
 * right now, or NULL (ready, or fallback = wait). A start = first-use
 * template's first start is waited for: starting it is what the launch
 * asked for. */
static const char *fallback_reason(struct nuwad *d, struct tmpl *t, char *buf, size_t cap)
{
	const char *what;
	if (d->conf.fallback != NUWA_FALLBACK_EXEC || !d->conf.template || t->state == T_READY)
		return NULL;
	if (t->fw->start == NUWA_START_FIRST_USE && !t->ever_ready && !t->last_error[0])
		return NULL;
	if (t->ever_ready)
		what = "template restarting";
	else if (t->state == T_STARTING)
		what = "template starting";
	else
		what = "template down";
	if (t->last_error[0])
		snprintf(buf, cap, "%s: %.200s", what, t->last_error);
	else
		snprintf(buf, cap, "%s", what);
	return buf;
}

/* Serve A (a template launch) in exec mode at once, saying why. */
static void fall_back(struct nuwad *d, struct app *a, const char *why)
{
	app_close_chan(a);
	a->exec_mode = 1;
	a->pid = 0;
	a->fork_id = 0;
	snprintf(a->fallback, sizeof a->fallback, "%s", why);
	d->fallback_launches++;
	a->t->fallback_launches++;
	nuwad_log("launch %s: exec fallback (%s)", a->name, why);
	start_exec(d, a);
}

static void start_fork(struct nuwad *d, struct app *a)
{
	if (tmpl_fork(d, a->t, a) < 0) {
		char why[256];
		snprintf(why, sizeof why, "fork request: %s", strerror(errno));
		if (d->conf.fallback == NUWA_FALLBACK_EXEC) {
			fall_back(d, a, why);
			return;
		}
		launch_failed(d, a, why);
		app_free(d, a);
		return;
	}
	a->state = APP_FORKING;
}

void apps_launch(struct nuwad *d, uint64_t cid, int text, int64_t t_request, const char *name,
		 int mode, int no_spare, int nargs, char **args)
{
	char spec[NUWA_NAME_MAX + NUWA_LAUNCH_ARGS_MAX];
	uint32_t spec_len;
	const struct nuwa_app_conf *ac = nuwa_conf_app(&d->conf, name);
	struct app *a, *spare;
	struct tmpl *t;

	if (!ac) {
		reply_err(d, cid, "unknown app '%s' (see 'nuwactl apps')", name);
		return;
	}
	t = tmpl_of_app(d, ac);
	if (mode < 0)
		mode = !d->conf.template ? 1 : ac->mode == NUWA_MODE_EXEC;
	if (!mode && !d->conf.template) {
		reply_err(d, cid, "template launches are off in this nuwad "
				  "([daemon] template = off in %s): launch %s --mode exec",
				  d->conf.path, name);
		return;
	}
	if (ac->sandbox && ac->uid < 0 && geteuid() == 0) {
		reply_err(d, cid, "app %s has no uid (%s) and [daemon] app_uids is not set: "
				  "refusing to run it as root", name, ac->where);
		return;
	}
	{
		/* Check the arguments fit before touching the spare. */
		struct app probe;
		snprintf(probe.name, sizeof probe.name, "%s", name);
		if (set_args(&probe, nargs, args) < 0) {
			reply_err(d, cid, "launch arguments longer than %d bytes",
					  NUWA_LAUNCH_ARGS_MAX);
			return;
		}
		spec_len = app_spec(&probe, spec, sizeof spec);
	}
	spare = apps_spare(d, t);
	if (!mode && !no_spare && spare && spare->state == APP_SPARE && spare->chan >= 0) {
		/* Specialise the spare: it is already forked and has its threads.
		 * Marked before the send: the spare may run before it returns. */
		int64_t t_send = nuwad_now_us();
		if (nuwa_msg_send(spare->chan, NUWA_APP_MSG_SPECIALISE, 0, spec, spec_len, -1) == 0) {
			a = spare;
			snprintf(a->name, sizeof a->name, "%s", name);
			set_args(a, nargs, args);
			a->seq = ++d->next_seq;
			a->via_spare = 1;
			a->fork_ms = a->fork_rtt_ms = a->specialise_ms = -1;
			a->state = APP_STARTING;
			a->t_request_us = t_request;
			phases_clear(a);
			a->phases.taken = 0;
			phases_mark(a, "specialise_sent", t_send);
			a->waiter = cid;
			a->waiter_text = text;
			a->deadline_us = nuwad_now_us() + (int64_t)d->conf.ready_timeout_ms * 1000;
			return;
		}
		nuwad_log("spare %d: %s; dropping it", (int)spare->pid, strerror(errno));
		pidfd_signal(spare->pidfd, spare->pid, SIGKILL);
		spare->state = APP_STOPPING;
		app_close_chan(spare);
	}
	/* A start = first-use template's first launch starts it (a template
	 * that failed that start is tried again by the next launch). */
	if (!mode && t->state == T_IDLE)
		tmpl_start(d, t);
	/* A template still starting up (e.g. at boot) is waited for; one that
	 * has only ever failed is reported at once. */
	if (!mode && t->state != T_READY && !t->ever_ready && t->last_error[0] &&
	    d->conf.fallback != NUWA_FALLBACK_EXEC && !(t->fw->start == NUWA_START_FIRST_USE && t->state == T_STARTING)) {
		reply_err(d, cid, "template not ready (framework %s): %s", t->fw->name,
				  t->last_error);
		return;
	}
	a = app_new(d, t, name);
	if (!a) {
		reply_err(d, cid, "out of memory");
		return;
	}
	a->exec_mode = mode;
	a->t_request_us = t_request;
	phases_clear(a);
	a->waiter = cid;
	a->waiter_text = text;
	set_args(a, nargs, args);
	if (!mode) {
		char buf[256];
		const char *why = fallback_reason(d, t, buf, sizeof buf);
		if (why) {
			fall_back(d, a, why);
			return;
		}
	}
	if (mode) {
		start_exec(d, a);
	} else if (t->state == T_READY) {
		start_fork(d, a);
	} else {
		/* The template is restarting: wait for it (bounded). */
		a->state = APP_WAIT_TEMPLATE;
		a->deadline_us = nuwad_now_us() + (int64_t)d->conf.ready_timeout_ms * 1000;
	}
}

static void apps_template_ready(struct nuwad *d, struct tmpl *t)
{
	struct app *a, *next;
	for (a = d->apps; a; a = next) {
		next = a->next;
		if (a->t == t && a->state == APP_WAIT_TEMPLATE)
			start_fork(d, a);
	}
	schedule_refill(d, t, 0);
}

static void apps_template_failed(struct nuwad *d, struct tmpl *t)
{
	struct app *a, *next;
	char why[1200];
	snprintf(why, sizeof why, "template failed (framework %s): %.1000s", t->fw->name,
		 t->last_error[0] ? t->last_error : "it exited before ready");
	for (a = d->apps; a; a = next) {
		next = a->next;
		if (a->t != t || a->state != APP_WAIT_TEMPLATE)
			continue;
		if (d->conf.fallback == NUWA_FALLBACK_EXEC) {
			fall_back(d, a, why);
		} else {
			launch_failed(d, a, why);
			app_free(d, a);
		}
	}
}

static void apps_template_lost(struct nuwad *d, struct tmpl *t)
{
	struct app *a, *next;
	/* Fork requests in flight will never be answered. */
	for (a = d->apps; a; a = next) {
		next = a->next;
		if (a->t != t)
			continue;
		if (a->state == APP_FORKING && d->conf.fallback == NUWA_FALLBACK_EXEC) {
			fall_back(d, a, "the template died during the fork");
		} else if (a->state == APP_FORKING) {
			launch_failed(d, a, "the template died");
			app_free(d, a);
		} else if (a->state == APP_SPARE_FORKING) {
			app_free(d, a);
		}
	}
}

static void apps_forked(struct nuwad *d, struct tmpl *t, uint32_t id, pid_t pid, double fork_ms,
		 const char *error)
{
	struct app *a;
	for (a = d->apps; a; a = a->next)
		if ((a->state == APP_FORKING || a->state == APP_SPARE_FORKING) && a->fork_id == id &&
		    a->t == t)
			break;
	if (!a) {
		nuwad_log("fork answer %u for nobody (pid %d)", id, (int)pid);
		return;
	}
	if (error || pid <= 0) {
		if (a->state == APP_SPARE_FORKING) {
			nuwad_log("spare of template %s: %s", t->fw->name, error ? error : "bad pid");
			app_free(d, a);
			schedule_refill(d, t, 1000);
			return;
		}
		if (d->conf.fallback == NUWA_FALLBACK_EXEC) {
			char why[300];
			snprintf(why, sizeof why, "fork failed: %s", error ? error : "bad pid");
			fall_back(d, a, why);
			return;
		}
		launch_failed(d, a, error ? error : "template sent a bad pid");
		app_free(d, a);
		return;
	}
	a->pid = pid;
	a->pidfd = pidfd_for(pid);
	a->fork_rtt_ms = (double)(nuwad_now_us() - a->t_fork_us) / 1000.0;
	a->fork_ms = fork_ms;
	phases_mark(a, "forked", nuwad_now_us());
	if (a->state == APP_SPARE_FORKING) {
		a->state = APP_SPARE;
		a->deadline_us = 0;
	} else {
		a->state = APP_STARTING;
		a->deadline_us = nuwad_now_us() + (int64_t)d->conf.ready_timeout_ms * 1000;
	}
}

/* ---- what the app sends about its launch (rows of app_msgs.h) ---- */

/* The child's phase marks: once, before ready (app code cannot add to
 * them later). */
int apps_on_phases(struct nuwad *d, struct app *a, const struct nuwa_msg_hdr *h,
		   const char *payload)
{
	int64_t received;
	(void)d;
	(void)h;
	if (a->phases.taken)
		return -1;
	a->phases.taken = 1;
	phases_take(a, payload, nuwad_now_us());
	/* Through the spare: request -> the spare read it. */
	received = phases_find(a, "specialise_received");
	if (a->via_spare && received >= a->t_request_us)
		a->specialise_ms = (double)(received - a->t_request_us) / 1000.0;
	return 0;
}

int apps_on_ready(struct nuwad *d, struct app *a, const struct nuwa_msg_hdr *h,
		  const char *payload)
{
	(void)h;
	(void)payload;
	a->t_ready_us = nuwad_now_us();
	a->launch_ms = (double)(a->t_ready_us - a->t_request_us) / 1000.0;
	a->state = APP_RUNNING;
	a->deadline_us = 0;
	/* A new app starts in the background, last used now; a specialised
	 * spare drops the template's values here. */
	a->imp.last_used_us = nuwad_now_us();
	a->trim.freed_kb = -1;
	events_ready(d, a);
	reply_launched(d, a);
	groups_record(d);
	if (!a->exec_mode)
		a->t->launches++;
	schedule_refills(d, d->conf.spare_delay_ms);
	return 0;
}

/* ERROR with id 0 before ready: the app failed to start (its reason, one
 * cleaned line); with an id, the answer to a request. */
int apps_on_error(struct nuwad *d, struct app *a, const struct nuwa_msg_hdr *h,
		  const char *payload)
{
	if (h->id != 0 || a->state != APP_STARTING)
		return requests_answer(d, a, h, payload);
	nuwad_log("app %s (pid %d) failed to start: %s", a->name, (int)a->pid, payload);
	launch_failed(d, a, payload);
	groups_kill(d, a);
	a->state = APP_STOPPING;
	a->deadline_us = 0;
	return 0;
}

static void on_channel_closed(struct nuwad *d, struct app *a)
{
	if (a->state == APP_STARTING)
		launch_failed(d, a, "app closed its channel before ready");
	if (a->state == APP_SPARE)
		a->state = APP_STOPPING;
}

const struct app_observer apps_observer = {
	.name = "launch",
	.channel_closed = on_channel_closed,
};

void apps_reaped(struct nuwad *d, pid_t pid, int status)
{
	struct app *a;
	char why[256];
	for (a = d->apps; a; a = a->next)
		if (a->pid == pid)
			break;
	if (!a)
		return;
	/* Its last words (e.g. why it failed to start) may still be queued. */
	if (a->chan >= 0 && a->state != APP_FORKING && a->state != APP_SPARE_FORKING)
		door_read_channel(d, a);
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS) {
		/* The seccomp filter's kill (or a SIGSYS it sent itself). */
		char call[160];
		filter_kill_reaped(a->name, pid, call, sizeof call);
		snprintf(why, sizeof why, "killed by the seccomp filter (SIGSYS): %s", call);
	} else if (WIFSIGNALED(status))
		snprintf(why, sizeof why, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(why, sizeof why, "exited with status %d", WEXITSTATUS(status));
	if (!app_is_spare(a))
		nuwad_log("app %s (pid %d) %s", a->name, (int)pid, why);
	events_died(d, a, status);
	if (a->state == APP_STARTING || a->state == APP_FORKING)
		launch_failed(d, a, why);
	/* Also after a launch that used the spare and failed before ready
	 * (nothing else would refill it); refill() skips when one exists. */
	if (app_is_spare(a) || (a->state == APP_STOPPING && !a->name[0]) || !apps_spare(d, a->t))
		schedule_refill(d, a->t, d->conf.spare_delay_ms);
	if (a->state == APP_STARTING || a->state == APP_FORKING)
		schedule_refills(d, d->conf.spare_delay_ms); /* a launch ended */
	if (a->kill) {
		struct killop *k = a->kill;
		if (--k->remaining == 0) {
			struct out o;
			int i;
			out_init(&o, k->text);
			out_obj_begin(&o, NULL);
			out_arr_begin(&o, "killed");
			for (i = 0; i < k->n; i++)
				out_int(&o, NULL, k->pids[i]);
			out_arr_end(&o);
			out_obj_end(&o);
			reply_out(d, k->client, &o);
			out_free(&o);
			free(k);
		}
	}
	/* A spare has its own groups too (spare-PID, made while it waited). */
	groups_app_gone(d, a);
	app_free(d, a);
	groups_record(d);
}

int nuwad_kill_app(struct nuwad *d, struct app *a, int sig, const char *reason)
{
	if (app_is_spare(a) || a->pid <= 0)
		return -1;
	nuwad_log("killing app %s (pid %d) with signal %d: %s", a->name, (int)a->pid, sig, reason);
	/* SIGKILL ends its whole group at once; a SIGTERM goes to the main
	 * process, and the rest of the group ends when it does. */
	if (sig == SIGKILL)
		groups_kill(d, a);
	else if (pidfd_signal(a->pidfd, a->pid, sig) < 0)
		return -1;
	if (a->state == APP_STARTING)
		launch_failed(d, a, reason);
	a->state = APP_STOPPING;
	a->deadline_us = nuwad_now_us() + (int64_t)d->conf.kill_timeout_ms * 1000;
	return 0;
}

void apps_kill(struct nuwad *d, uint64_t cid, int text, const char *target)
{
	struct killop *k = calloc(1, sizeof *k);
	struct app *a;
	if (!k) {
		reply_err(d, cid, "out of memory");
		return;
	}
	k->client = cid;
	k->text = text;
	for (a = d->apps; a; a = a->next) {
		if (!app_matches(a, target) || a->kill || k->n == (int)(sizeof k->pids / sizeof k->pids[0]))
			continue;
		if (a->state != APP_STOPPING && nuwad_kill_app(d, a, SIGTERM, "nuwactl kill") < 0)
			continue;
		if (a->state == APP_STOPPING && !a->deadline_us)
			a->deadline_us = nuwad_now_us() + (int64_t)d->conf.kill_timeout_ms * 1000;
		a->kill = k;
		k->pids[k->n++] = a->pid;
		k->remaining++;
	}
	if (k->n == 0) {
		free(k);
		reply_err(d, cid, "no running app '%s'", target);
	}
}

void apps_timers(struct nuwad *d, int64_t now, int64_t *next)
{
	struct app *a, *nx;
	for (a = d->apps; a; a = nx) {
		nx = a->next;
		if (!a->deadline_us || a->state == APP_FORKING || a->state == APP_SPARE_FORKING)
			continue; /* fork deadlines belong to the template supervisor */
		if (now < a->deadline_us) {
			if (a->deadline_us < *next)
				*next = a->deadline_us;
			continue;
		}
		a->deadline_us = 0;
		if (a->state == APP_WAIT_TEMPLATE) {
			launch_failed(d, a, "template not ready in time");
			app_free(d, a);
		} else if (a->state == APP_STARTING) {
			char why[96];
			snprintf(why, sizeof why, "no ready message within %d ms", d->conf.ready_timeout_ms);
			launch_failed(d, a, why);
			groups_kill(d, a);
			a->state = APP_STOPPING;
		} else if (a->state == APP_STOPPING) {
			groups_kill(d, a);
		}
	}
	for (int i = 0; i < d->ntmpls; i++) {
		struct tmpl *t = &d->tmpls[i];
		if (!t->refill_at_us)
			continue;
		if (now >= t->refill_at_us)
			refill(d, t);
		else if (t->refill_at_us < *next)
			*next = t->refill_at_us;
	}
}

int apps_reap_children(struct nuwad *d)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct tmpl *t = tmpl_by_pid(d, pid);
		if (t)
			tmpl_reaped(d, t, status);
		else
			apps_reaped(d, pid, status);
	}
	return pid < 0 && errno == ECHILD ? -1 : 0;
}

void apps_shutdown(struct nuwad *d)
{
	struct app *a;
	int64_t until = nuwad_now_us() + 2000000;
	for (a = d->apps; a; a = a->next)
		if (a->pid > 0)
			pidfd_signal(a->pidfd, a->pid, app_is_spare(a) ? SIGKILL : SIGTERM);
	while (d->apps && nuwad_now_us() < until) {
		if (apps_reap_children(d) < 0)
			break; /* the rest are the templates'; they die next */
		usleep(5000);
	}
	while (d->apps) {
		if (d->apps->pid > 0)
			groups_kill(d, d->apps);
		if (!app_is_spare(d->apps) && d->apps->name[0])
			groups_app_gone(d, d->apps);
		app_free(d, d->apps);
	}
	groups_record(d);
}

const struct tmpl_listener apps_tmpl_listener = {
	.ready = apps_template_ready,
	.lost = apps_template_lost,
	.failed = apps_template_failed,
	.forked = apps_forked,
	.reaped = apps_reaped,
};
