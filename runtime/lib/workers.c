/*
 * Workers (nuwa_worker_*): threads whose run function blocks only in
 * libnuwa's waits, so that the freeze can stop each at a safe point (the
 * wait returns ECANCELED, the run function returns holding no locks) and
 * a child can start a fresh thread on the same state. Also what the
 * freeze and the fork do to them (thread_internal.h): ask them to stop,
 * join them, start them again in the child, on-demand ones at their
 * first nuwa_worker_demand().
 */
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "thread_internal.h"

enum stop_reason { STOP_NONE = 0, STOP_FREEZE = 1, STOP_FOREVER = 2 };

struct nuwa_worker {
	char name[16];
	nuwa_worker_fn run;
	void *state;
	pthread_t thread;
	unsigned flags;            /* NUWA_WORKER_* */
	int wake_fd;               /* eventfd, signalled to stop the worker; -1
				    * while no thread runs (made per process at
				    * start, closed at freeze) */
	atomic_int stop;           /* enum stop_reason */
	int alive;                 /* thread exists, or is to be recreated in a
				    * child (guarded by nuwa_reg_lock) */
	int in_run;                /* run function executing */
	int joined;
	int wanted;                /* demanded while a child's threads were pending */
	atomic_int up;             /* a thread runs it in this process: demand's fast path */
	unsigned generation;
	_Atomic(pthread_cond_t *) wait_cond;
	_Atomic(pthread_mutex_t *) wait_mutex;
	struct nuwa_worker *next;
};

static struct nuwa_worker *workers;  /* guarded by nuwa_reg_lock */

static void *worker_main(void *p)
{
	struct nuwa_worker *w = p;
	int reason;

	if (prctl(PR_SET_NAME, w->name, 0, 0, 0) < 0)
		nuwa_log("worker %s: PR_SET_NAME: %s", w->name, strerror(errno));
	w->run(w, w->state);
	reason = atomic_load(&w->stop);
	pthread_mutex_lock(&nuwa_reg_lock);
	w->in_run = 0;
	atomic_store(&w->up, 0);
	if (reason == STOP_NONE)
		w->alive = 0; /* finished on its own: not recreated */
	pthread_cond_broadcast(&nuwa_reg_cond);
	pthread_mutex_unlock(&nuwa_reg_lock);
	return NULL;
}

/* Join W's thread, whose run function has returned, with nuwa_reg_lock released
 * meanwhile (held on entry and on return). */
static void join_ended(struct nuwa_worker *w)
{
	pthread_t t = w->thread;
	w->joined = 1;
	pthread_mutex_unlock(&nuwa_reg_lock);
	pthread_join(t, NULL);
	pthread_mutex_lock(&nuwa_reg_lock);
}

/* Caller holds nuwa_reg_lock (released while a previous thread of W is joined
 * and while the new one is created). 0 or an errno value. */
static int worker_start(struct nuwa_worker *w)
{
	int rc;
	if (!w->joined) {
		/* Its run function returned on its own: the thread is ending. */
		join_ended(w);
		if (w->in_run)
			return 0; /* someone else started it meanwhile */
	}
	/* The wake eventfd is made per process when a thread starts (and
	 * closed at freeze), so no child shares the template's. */
	if (w->wake_fd < 0) {
		w->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (w->wake_fd < 0)
			return errno;
	}
	atomic_store(&w->stop, STOP_NONE);
	w->in_run = 1;
	w->alive = 1;
	w->joined = 0;
	w->wanted = 0;
	w->generation++;
	atomic_store(&w->up, 1);
	pthread_mutex_unlock(&nuwa_reg_lock);
	rc = nuwa_spawn(&w->thread, NULL, worker_main, w, KIND_WORKER);
	pthread_mutex_lock(&nuwa_reg_lock);
	if (rc != 0) {
		w->in_run = 0;
		w->alive = 0;
		w->joined = 1;
		w->generation--;
		atomic_store(&w->up, 0);
	}
	return rc;
}

/* Caller holds nuwa_reg_lock: W's thread is gone (joined) and no thread waits
 * on its eventfd. */
static void worker_drop_wake(struct nuwa_worker *w)
{
	if (w->wake_fd >= 0) {
		nuwa_real_close(w->wake_fd);
		w->wake_fd = -1;
	}
}

nuwa_worker *nuwa_worker_create_flags(const char *name, nuwa_worker_fn run, void *state,
				      unsigned flags)
{
	struct nuwa_worker *w;
	int rc = 0;

	if (!name || !run || (flags & ~(unsigned)NUWA_WORKER_ON_DEMAND)) {
		errno = EINVAL;
		return NULL;
	}
	w = calloc(1, sizeof *w);
	if (!w)
		return NULL;
	snprintf(w->name, sizeof w->name, "%s", name);
	w->run = run;
	w->state = state;
	w->flags = flags;
	w->wake_fd = -1;
	w->joined = 1; /* no thread yet */
	pthread_mutex_lock(&nuwa_reg_lock);
	if (nuwa_frozen) {
		pthread_mutex_unlock(&nuwa_reg_lock);
		free(w);
		errno = EBUSY; /* the template is frozen: no new threads */
		return NULL;
	}
	if (!(flags & NUWA_WORKER_ON_DEMAND))
		rc = worker_start(w);
	if (rc == 0) {
		w->next = workers;
		workers = w;
	}
	pthread_mutex_unlock(&nuwa_reg_lock);
	if (rc != 0) {
		if (w->wake_fd >= 0)
			nuwa_real_close(w->wake_fd);
		free(w);
		errno = rc;
		return NULL;
	}
	return w;
}

nuwa_worker *nuwa_worker_create(const char *name, nuwa_worker_fn run, void *state)
{
	return nuwa_worker_create_flags(name, run, state, 0);
}

int nuwa_worker_demand(nuwa_worker *w)
{
	int rc;

	if (!w) {
		errno = EINVAL;
		return -1;
	}
	if (atomic_load(&w->up))
		return 0; /* the common case: already running, no lock */
	pthread_mutex_lock(&nuwa_reg_lock);
	if (w->in_run) {
		pthread_mutex_unlock(&nuwa_reg_lock);
		return 0;
	}
	if (nuwa_threads_pending) {
		/* A child not yet confined: nuwa_child_start_threads() starts
		 * it, so that it is born confined like the others. */
		w->wanted = 1;
		pthread_mutex_unlock(&nuwa_reg_lock);
		return 0;
	}
	if (nuwa_frozen) {
		pthread_mutex_unlock(&nuwa_reg_lock);
		errno = EBUSY; /* the frozen template starts no thread */
		return -1;
	}
	rc = worker_start(w);
	pthread_mutex_unlock(&nuwa_reg_lock);
	if (rc != 0) {
		errno = rc;
		return -1;
	}
	return 1;
}

static void worker_kick(struct nuwa_worker *w)
{
	uint64_t one = 1;
	pthread_cond_t *c;
	pthread_mutex_t *m;

	if (w->wake_fd >= 0 && write(w->wake_fd, &one, sizeof one) < 0 && errno != EAGAIN)
		nuwa_log("worker %s: wake: %s", w->name, strerror(errno));
	m = atomic_load(&w->wait_mutex);
	c = atomic_load(&w->wait_cond);
	if (m && c) {
		pthread_mutex_lock(m);
		pthread_cond_broadcast(c);
		pthread_mutex_unlock(m);
	}
}

static void worker_clear_wake(struct nuwa_worker *w)
{
	uint64_t v;
	while (read(w->wake_fd, &v, sizeof v) > 0)
		;
}

int nuwa_worker_stop(nuwa_worker *w)
{
	int rc;
	struct nuwa_worker **pp;

	if (!w) {
		errno = EINVAL;
		return -1;
	}
	if (pthread_equal(w->thread, pthread_self())) {
		errno = EDEADLK;
		return -1;
	}
	atomic_store(&w->stop, STOP_FOREVER);
	pthread_mutex_lock(&nuwa_reg_lock);
	while (w->in_run) {
		pthread_mutex_unlock(&nuwa_reg_lock);
		worker_kick(w);
		pthread_mutex_lock(&nuwa_reg_lock);
		if (w->in_run) {
			struct timespec ts;
			nuwa_deadline_in(&ts, 5);
			nuwa_cond_timedwait_mono(&nuwa_reg_cond, &nuwa_reg_lock, &ts);
		}
	}
	for (pp = &workers; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	}
	pthread_mutex_unlock(&nuwa_reg_lock);
	rc = w->joined ? 0 : pthread_join(w->thread, NULL);
	if (w->wake_fd >= 0)
		nuwa_real_close(w->wake_fd);
	free(w);
	if (rc != 0) {
		errno = rc;
		return -1;
	}
	return 0;
}

int nuwa_worker_should_stop(const nuwa_worker *w)
{
	return atomic_load(&((nuwa_worker *)w)->stop) != STOP_NONE;
}

const char *nuwa_worker_name(const nuwa_worker *w)
{
	return w->name;
}

void *nuwa_worker_state(const nuwa_worker *w)
{
	return w->state;
}

unsigned nuwa_worker_generation(const nuwa_worker *w)
{
	return w->generation;
}

static int cancelled(void)
{
	errno = ECANCELED;
	return -1;
}

int nuwa_worker_cond_wait(nuwa_worker *w, pthread_cond_t *cond,
			  pthread_mutex_t *mutex, int timeout_ms)
{
	int rc;

	/* Publish what we wait on before checking the flag: a stopper that
	 * sets the flag after our check sees the pointers and broadcasts
	 * under MUTEX, which it can take only once we are waiting. */
	atomic_store(&w->wait_mutex, mutex);
	atomic_store(&w->wait_cond, cond);
	if (nuwa_worker_should_stop(w)) {
		rc = -2;
	} else if (timeout_ms < 0) {
		rc = pthread_cond_wait(cond, mutex);
	} else {
		struct timespec ts;
		nuwa_deadline_in(&ts, timeout_ms);
		rc = nuwa_cond_timedwait_mono(cond, mutex, &ts);
	}
	atomic_store(&w->wait_cond, NULL);
	atomic_store(&w->wait_mutex, NULL);
	if (rc == -2 || nuwa_worker_should_stop(w))
		return cancelled();
	if (rc == ETIMEDOUT) {
		errno = ETIMEDOUT;
		return -1;
	}
	return 0;
}

int nuwa_worker_poll(nuwa_worker *w, struct pollfd *fds, nfds_t nfds, int timeout_ms)
{
	struct pollfd small[8], *all = small;
	int rc;
	nfds_t i;

	if (nuwa_worker_should_stop(w))
		return cancelled();
	if (nfds + 1 > sizeof small / sizeof small[0]) {
		all = calloc(nfds + 1, sizeof *all);
		if (!all)
			return -1;
	}
	for (i = 0; i < nfds; i++)
		all[i] = fds[i];
	all[nfds].fd = w->wake_fd;
	all[nfds].events = POLLIN;
	all[nfds].revents = 0;
	rc = poll(all, nfds + 1, timeout_ms);
	if (rc >= 0) {
		for (i = 0; i < nfds; i++)
			fds[i].revents = all[i].revents;
		if (all[nfds].revents)
			rc--;
	}
	if (all != small)
		free(all);
	if (nuwa_worker_should_stop(w))
		return cancelled();
	return rc;
}

int nuwa_worker_epoll_wait(nuwa_worker *w, int epfd, struct epoll_event *events,
			   int maxevents, int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : nuwa_now_ms() + timeout_ms;
	for (;;) {
		struct pollfd p = { .fd = epfd, .events = POLLIN };
		int rc = nuwa_worker_poll(w, &p, 1, nuwa_ms_left(deadline));
		if (rc < 0)
			return rc;
		if (rc > 0) {
			rc = epoll_wait(epfd, events, maxevents, 0);
			if (rc != 0)
				return rc;
		}
		if (deadline >= 0 && nuwa_now_ms() >= deadline)
			return 0;
	}
}

ssize_t nuwa_worker_read(nuwa_worker *w, int fd, void *buf, size_t len, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int rc = nuwa_worker_poll(w, &p, 1, timeout_ms);
	if (rc < 0)
		return -1;
	if (rc == 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	return read(fd, buf, len);
}

int nuwa_worker_sleep(nuwa_worker *w, int ms)
{
	int64_t deadline = nuwa_now_ms() + (ms < 0 ? 0 : ms);
	int left;
	while ((left = nuwa_ms_left(deadline)) > 0) {
		if (nuwa_worker_poll(w, NULL, 0, left) < 0 && errno == ECANCELED)
			return -1;
	}
	return nuwa_worker_should_stop(w) ? cancelled() : 0;
}


/* ---------------------------------------------------------------- */
/* What the freeze and the fork do to workers (thread_internal.h).    */

void nuwa_workers_ask_freeze(void)
{
	struct nuwa_worker *w;
	for (w = workers; w; w = w->next)
		if (w->in_run)
			atomic_store(&w->stop, STOP_FREEZE);
}

void nuwa_workers_kick_freezing(void)
{
	struct nuwa_worker *w;
	for (w = workers; w; w = w->next)
		if (atomic_load(&w->stop) == STOP_FREEZE)
			worker_kick(w);
}

int nuwa_workers_running(char *err, size_t cap)
{
	struct nuwa_worker *w;
	int n = 0;
	for (w = workers; w; w = w->next) {
		if (w->in_run) {
			n++;
			if (err)
				nuwa_append(err, cap, "; worker '%s' did not reach a safe point", w->name);
		}
	}
	return n;
}

void nuwa_workers_join_all(void)
{
	struct nuwa_worker *w;
	for (w = workers; w; w = w->next) {
		if (!w->joined)
			join_ended(w);
	}
}

void nuwa_workers_drop_wakes(void)
{
	struct nuwa_worker *w;
	for (w = workers; w; w = w->next)
		worker_drop_wake(w);
}

void nuwa_workers_unfreeze(void)
{
	struct nuwa_worker *w;
	for (w = workers; w; w = w->next) {
		if (!w->alive || w->in_run)
			continue;
		if (w->wake_fd >= 0)
			worker_clear_wake(w);
		/* worker_start joins the stopped thread first. */
		if (worker_start(w) == 0)
			w->generation--; /* same process, same generation */
	}
	for (w = workers; w; w = w->next)
		if (w->in_run)
			atomic_store(&w->stop, STOP_NONE);
}

void nuwa_workers_child_reset(void)
{
	struct nuwa_worker *w;
	for (w = workers; w; w = w->next) {
		w->wanted = 0;
		atomic_store(&w->up, 0); /* the template's threads are not here */
		/* On demand: a child starts it at its first nuwa_worker_demand(). */
		if (w->flags & NUWA_WORKER_ON_DEMAND)
			w->alive = 0;
	}
}

void nuwa_workers_child_start(void)
{
	struct nuwa_worker *w;
	for (w = workers; w; w = w->next) {
		if (!w->alive && !w->wanted)
			continue; /* finished on its own, or on demand and not demanded */
		if (worker_start(w) != 0) {
			nuwa_log("worker %s: cannot recreate thread", w->name);
			abort();
		}
	}
}
