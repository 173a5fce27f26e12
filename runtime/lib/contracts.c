/*
 * Stop/restart contracts: how threads that are not libnuwa workers (a
 * library's own, registered with nuwa_thread_register or, by start
 * routine, nuwa_thread_register_start) are stopped before the freeze and
 * started again in each child (and in the template after a failed
 * freeze). A stop hook runs on a helper thread under the freeze's
 * deadline, so one that never returns is named instead of hanging the
 * template.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "thread_internal.h"

/* A stop/restart contract covering one thread or a start routine. */
struct contract {
	char name[64];
	uint64_t serial;           /* the thread's record (when !start) */
	void *(*start)(void *);    /* or every thread with this start routine */
	nuwa_thread_stop_fn stop;
	nuwa_thread_restart_fn restart;
	void *arg;
	int stopped;               /* stopped at this freeze: restart in children */
	struct contract *next;
};

static struct contract *contracts;   /* newest first; guarded by nuwa_reg_lock */

static int add_contract(uint64_t serial, void *(*start)(void *), const char *name,
			nuwa_thread_stop_fn stop, nuwa_thread_restart_fn restart, void *arg)
{
	struct contract *c;
	if (!stop || !restart || !name) {
		errno = EINVAL;
		return -1;
	}
	c = calloc(1, sizeof *c);
	if (!c)
		return -1;
	snprintf(c->name, sizeof c->name, "%s", name);
	c->serial = serial;
	c->start = start;
	c->stop = stop;
	c->restart = restart;
	c->arg = arg;
	pthread_mutex_lock(&nuwa_reg_lock);
	c->next = contracts;
	contracts = c;
	pthread_mutex_unlock(&nuwa_reg_lock);
	return 0;
}

int nuwa_thread_register(pthread_t thread, const char *name, nuwa_thread_stop_fn stop,
			 nuwa_thread_restart_fn restart, void *arg)
{
	struct thread_rec *r;
	uint64_t serial = 0;
	pthread_mutex_lock(&nuwa_reg_lock);
	for (r = nuwa_threads; r && !serial; r = r->next)
		if (r->has_id && pthread_equal(r->id, thread) && r->kind == KIND_UNMARKED)
			serial = r->serial;
	pthread_mutex_unlock(&nuwa_reg_lock);
	if (!serial) {
		errno = ESRCH;
		return -1;
	}
	return add_contract(serial, NULL, name, stop, restart, arg);
}

int nuwa_thread_register_start(void *(*start)(void *), const char *name,
			       nuwa_thread_stop_fn stop, nuwa_thread_restart_fn restart,
			       void *arg)
{
	if (!start) {
		errno = EINVAL;
		return -1;
	}
	return add_contract(0, start, name, stop, restart, arg);
}

/* Caller holds nuwa_reg_lock. */
static struct contract *covering(const struct thread_rec *rec)
{
	struct contract *c;
	for (c = contracts; c; c = c->next) {
		if (c->start ? c->start == rec->start : c->serial == rec->serial)
			return c;
	}
	return NULL;
}

const char *nuwa_contract_covering(const struct thread_rec *rec)
{
	struct contract *c = covering(rec);
	return c ? c->name : NULL;
}

/* A stop hook runs on a helper thread so that one that never returns is
 * named by the watchdog instead of hanging the template. */
struct stop_call {
	struct contract *c;
	int rc;
	int done_fd;
};

static void *stop_helper(void *p)
{
	struct stop_call *sc = p;
	char one = 1;
	sc->rc = sc->c->stop(sc->c->arg);
	if (write(sc->done_fd, &one, 1) < 0)
		nuwa_log("stop hook '%s': %s", sc->c->name, strerror(errno));
	return NULL;
}

/* Caller holds nuwa_reg_lock (released while the hook runs). 0, or -1 with
 * ERR. */
static int run_stop(struct contract *c, int64_t deadline, char *err, size_t errlen)
{
	struct stop_call *sc = calloc(1, sizeof *sc);
	int pfd[2], rc;
	pthread_t t;
	struct pollfd p;

	if (!sc || pipe2(pfd, O_CLOEXEC) < 0) {
		free(sc);
		snprintf(err, errlen, "stop hook '%s': %s", c->name, strerror(errno));
		return -1;
	}
	sc->c = c;
	sc->done_fd = pfd[1];
	pthread_mutex_unlock(&nuwa_reg_lock);
	rc = nuwa_real_pthread_create()(&t, NULL, stop_helper, sc);
	if (rc != 0) {
		pthread_mutex_lock(&nuwa_reg_lock);
		nuwa_real_close(pfd[0]);
		nuwa_real_close(pfd[1]);
		free(sc);
		snprintf(err, errlen, "stop hook '%s': cannot start it: %s", c->name, strerror(rc));
		return -1;
	}
	p.fd = pfd[0];
	p.events = POLLIN;
	do {
		int left = nuwa_ms_left(deadline);
		rc = poll(&p, 1, left);
	} while (rc < 0 && errno == EINTR);
	if (rc <= 0) {
		/* The helper is left blocked in the hook; the freeze has failed
		 * and the template exits. */
		pthread_detach(t);
		pthread_mutex_lock(&nuwa_reg_lock);
		snprintf(err, errlen, "stop hook of '%s' did not return within the freeze timeout", c->name);
		return -1;
	}
	pthread_join(t, NULL);
	nuwa_real_close(pfd[0]);
	nuwa_real_close(pfd[1]);
	rc = sc->rc;
	free(sc);
	pthread_mutex_lock(&nuwa_reg_lock);
	if (rc != 0) {
		snprintf(err, errlen, "stop hook of '%s' failed", c->name);
		return -1;
	}
	return 0;
}

int nuwa_contracts_stop(int64_t deadline, char *err, size_t errlen)
{
	struct contract *c;
	struct thread_rec *r;
	for (c = contracts; c; c = c->next) {
		int live = 0;
		for (r = nuwa_threads; r && !live; r = r->next)
			live = r->kind == KIND_UNMARKED && covering(r) == c; /* started or starting */
		if (!live)
			continue;
		if (run_stop(c, deadline, err, errlen) < 0)
			return -1;
		c->stopped = 1;
	}
	return 0;
}

int nuwa_contracts_restart(char *err, size_t errlen)
{
	struct contract *c, *list[64];
	int n = 0, i, rc = 0;
	pthread_mutex_lock(&nuwa_reg_lock);
	for (c = contracts; c && n < 64; c = c->next)
		if (c->stopped)
			list[n++] = c;
	pthread_mutex_unlock(&nuwa_reg_lock);
	for (i = n - 1; i >= 0; i--) {
		char why[400] = "";
		if (list[i]->restart(list[i]->arg, why, sizeof why) != 0 && rc == 0) {
			snprintf(err, errlen, "restart hook of '%s' failed: %s", list[i]->name,
				 why[0] ? why : "no reason given");
			rc = -1;
		}
	}
	return rc;
}

void nuwa_contracts_forget_stopped(void)
{
	struct contract *c;
	for (c = contracts; c; c = c->next)
		c->stopped = 0;
}
