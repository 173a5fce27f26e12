/*
 * Five workers, each blocked in a different kind of wait, each with state
 * made before the freeze. The runtime tests ask them to serve a request in
 * template children (recreated threads, preserved state) and in exec mode.
 * They run in the template (and from init in exec mode) and are on-demand
 * workers: a template child starts them at the first request that needs
 * them (waiters_demand), so a launch that never asks has none.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "minifw.h"
#include "nuwa.h"

#define EP_MAGIC 0x5eedf00dULL
enum { W_COND, W_EPOLL, W_POLL, W_READ, W_SLEEP, W_COUNT };
static const char *const kind_names[W_COUNT] = { "cond", "epoll", "poll", "read", "sleep" };

static struct {
	pthread_mutex_t mu;          /* cond worker queue */
	pthread_cond_t cv;
	char queue[8][16];
	int qlen;
	int gate;                    /* closed in the template: items stay queued */
	char processed[256];
	int ep;                      /* epoll worker */
	int ep_pipe[2];
	int extra_fd;
	int poll_pipe[2];
	int read_pipe[2];
	atomic_int sleep_req;
	unsigned ticks;              /* sleep worker, counted before and after */
	pthread_mutex_t rmu;         /* answers */
	pthread_cond_t rcv;
	unsigned served[W_COUNT];
	nuwa_worker *w[W_COUNT];
	int started;
	char create_dir[256];        /* fw:waiters-create (guarded by rmu) */
	int create_errno[W_COUNT];
	pid_t create_tid[W_COUNT];
} S = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER,
	.rmu = PTHREAD_MUTEX_INITIALIZER, .rcv = PTHREAD_COND_INITIALIZER, .extra_fd = -1 };

/* fw:waiters-create DIR: each worker, on its own thread, tries to create
 * a file in DIR while serving (confinement is per thread: the tests check
 * that every worker is as confined as the app). 0 or the errno. */
static void try_create(int k)
{
	char path[sizeof S.create_dir + 64];
	int fd;
	pid_t tid = (pid_t)syscall(SYS_gettid);
	if (!S.create_dir[0])
		return;
	snprintf(path, sizeof path, "%s/worker-%s-%d", S.create_dir, kind_names[k], (int)tid);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	S.create_errno[k] = fd < 0 ? errno : 0;
	S.create_tid[k] = tid;
	if (fd >= 0) {
		close(fd);
		unlink(path);
	}
}

static void served(int k)
{
	pthread_mutex_lock(&S.rmu);
	try_create(k);
	S.served[k]++;
	pthread_cond_broadcast(&S.rcv);
	pthread_mutex_unlock(&S.rmu);
}

static void cond_worker(nuwa_worker *w, void *arg)
{
	(void)arg;
	pthread_mutex_lock(&S.mu);
	for (;;) {
		int i, got = 0;
		while (!(S.gate && S.qlen > 0)) {
			if (nuwa_worker_cond_wait(w, &S.cv, &S.mu, -1) < 0 && errno == ECANCELED) {
				pthread_mutex_unlock(&S.mu);
				return;
			}
		}
		for (i = 0; i < S.qlen; i++) {
			size_t l = strlen(S.processed);
			snprintf(S.processed + l, sizeof S.processed - l, "%s%s", l ? "," : "", S.queue[i]);
			got = 1;
		}
		S.qlen = 0;
		if (got)
			served(W_COND);
	}
}

static void drain(int fd)
{
	char b[64];
	if (read(fd, b, sizeof b) < 0 && errno != EAGAIN)
		perror("waiters: read");
}

static void epoll_worker(nuwa_worker *w, void *arg)
{
	(void)arg;
	for (;;) {
		struct epoll_event ev[4];
		int n = nuwa_worker_epoll_wait(w, S.ep, ev, 4, -1), i;
		if (n < 0) {
			if (errno == ECANCELED)
				return;
			continue;
		}
		for (i = 0; i < n; i++) {
			if (ev[i].data.u64 == EP_MAGIC) {
				drain(S.ep_pipe[0]);
				served(W_EPOLL);
			} else {
				drain((int)(ev[i].data.u64 & 0xffff));
			}
		}
	}
}

static void poll_worker(nuwa_worker *w, void *arg)
{
	(void)arg;
	for (;;) {
		struct pollfd p = { .fd = S.poll_pipe[0], .events = POLLIN };
		int n = nuwa_worker_poll(w, &p, 1, -1);
		if (n < 0 && errno == ECANCELED)
			return;
		if (n > 0 && (p.revents & POLLIN)) {
			drain(S.poll_pipe[0]);
			served(W_POLL);
		}
	}
}

static void read_worker(nuwa_worker *w, void *arg)
{
	char c;
	(void)arg;
	for (;;) {
		ssize_t n = nuwa_worker_read(w, S.read_pipe[0], &c, 1, -1);
		if (n < 0 && errno == ECANCELED)
			return;
		if (n == 1)
			served(W_READ);
	}
}

static void sleep_worker(nuwa_worker *w, void *arg)
{
	(void)arg;
	for (;;) {
		if (nuwa_worker_sleep(w, 10) < 0)
			return;
		pthread_mutex_lock(&S.rmu);
		S.ticks++;
		pthread_mutex_unlock(&S.rmu);
		if (atomic_exchange(&S.sleep_req, 0))
			served(W_SLEEP);
	}
}

/* Start every waiter that does not run yet. 0 or -1. */
static int waiters_demand(void)
{
	for (int k = 0; k < W_COUNT; k++)
		if (nuwa_worker_demand(S.w[k]) < 0)
			return -1;
	return 0;
}

int waiters_start(void)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = EP_MAGIC };
	static const nuwa_worker_fn fns[W_COUNT] = { cond_worker, epoll_worker, poll_worker,
						    read_worker, sleep_worker };
	int k;
	pthread_condattr_t ca;

	/* Timed waits on the monotonic clock: setting the time must not move
	 * them (no thread waits on S.rcv yet). */
	if (pthread_condattr_init(&ca) != 0 || pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&S.rcv, &ca) != 0)
		return -1;
	pthread_condattr_destroy(&ca);

	/* Pre-freeze state: two items queued behind a closed gate, and a tick
	 * count that is never reset. */
	snprintf(S.queue[0], sizeof S.queue[0], "pre1");
	snprintf(S.queue[1], sizeof S.queue[1], "pre2");
	S.qlen = 2;
	S.ticks = 1000;
	if (nuwa_pipe2(S.ep_pipe, O_CLOEXEC | O_NONBLOCK) < 0 ||
	    nuwa_pipe2(S.poll_pipe, O_CLOEXEC | O_NONBLOCK) < 0 ||
	    nuwa_pipe2(S.read_pipe, O_CLOEXEC) < 0)
		return -1;
	S.ep = epoll_create1(EPOLL_CLOEXEC);
	if (S.ep < 0 || epoll_ctl(S.ep, EPOLL_CTL_ADD, S.ep_pipe[0], &ev) < 0)
		return -1;
	for (k = 0; k < W_COUNT; k++) {
		char name[16];
		snprintf(name, sizeof name, "wait-%s", kind_names[k]);
		S.w[k] = nuwa_worker_create_flags(name, fns[k], &S, NUWA_WORKER_ON_DEMAND);
		if (!S.w[k])
			return -1;
	}
	S.started = 1;
	return waiters_demand();
}

static int await(int k, unsigned before)
{
	struct timespec ts;
	int ok;
	clock_gettime(CLOCK_MONOTONIC, &ts); /* S.rcv runs on the monotonic clock */
	ts.tv_sec += 3;
	pthread_mutex_lock(&S.rmu);
	while (S.served[k] == before)
		if (pthread_cond_timedwait(&S.rcv, &S.rmu, &ts) == ETIMEDOUT)
			break;
	ok = S.served[k] != before;
	pthread_mutex_unlock(&S.rmu);
	return ok;
}

static unsigned count(int k)
{
	unsigned v;
	pthread_mutex_lock(&S.rmu);
	v = S.served[k];
	pthread_mutex_unlock(&S.rmu);
	return v;
}

int waiters_check(char *out, size_t cap)
{
	unsigned before;
	int ok[W_COUNT], k;
	char processed[256];
	unsigned ticks;

	if (!S.started)
		return snprintf(out, cap, "error: waiters not started");
	if (waiters_demand() < 0)
		return snprintf(out, cap, "error: cannot start the waiters: %s", strerror(errno));
	before = count(W_COND);
	pthread_mutex_lock(&S.mu);
	if (S.qlen < 8)
		snprintf(S.queue[S.qlen++], sizeof S.queue[0], "req");
	S.gate = 1;
	pthread_cond_broadcast(&S.cv);
	pthread_mutex_unlock(&S.mu);
	ok[W_COND] = await(W_COND, before);

	before = count(W_EPOLL);
	ok[W_EPOLL] = write(S.ep_pipe[1], "e", 1) == 1 && await(W_EPOLL, before);
	before = count(W_POLL);
	ok[W_POLL] = write(S.poll_pipe[1], "p", 1) == 1 && await(W_POLL, before);
	before = count(W_READ);
	ok[W_READ] = write(S.read_pipe[1], "r", 1) == 1 && await(W_READ, before);
	before = count(W_SLEEP);
	atomic_store(&S.sleep_req, 1);
	ok[W_SLEEP] = await(W_SLEEP, before);

	pthread_mutex_lock(&S.mu);
	snprintf(processed, sizeof processed, "%s", S.processed);
	pthread_mutex_unlock(&S.mu);
	pthread_mutex_lock(&S.rmu);
	ticks = S.ticks;
	pthread_mutex_unlock(&S.rmu);
	{
		size_t n = 0;
		for (k = 0; k < W_COUNT; k++)
			n += (size_t)snprintf(out + n, cap - n, "%s=%s ", kind_names[k],
					      ok[k] ? "ok" : "timeout");
		n += (size_t)snprintf(out + n, cap - n, "processed=%s ticks=%u generation=%u",
				      processed, ticks, nuwa_worker_generation(S.w[0]));
		return (int)n;
	}
}

int waiters_info(char *out, size_t cap)
{
	return snprintf(out, cap,
			"pid=%d ep=%d ep_pipe=%d,%d poll_pipe=%d,%d read_pipe=%d,%d "
			"seed=%llx random=%ld child=%d",
			(int)getpid(), S.ep, S.ep_pipe[0], S.ep_pipe[1], S.poll_pipe[0],
			S.poll_pipe[1], S.read_pipe[0], S.read_pipe[1],
			(unsigned long long)nuwa_seed(), random(), nuwa_is_child());
}

int waiters_epoll_mutate(char *out, size_t cap)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int p[2];
	if (!S.started)
		return snprintf(out, cap, "error: waiters not started");
	/* Add a registration and change the magic one's data: a shared epoll
	 * instance would show both in the template and in siblings. */
	if (S.extra_fd < 0) {
		if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
			return -1;
		S.extra_fd = p[0]; /* write end kept open: no hang-up storm */
		ev.data.u64 = (uint64_t)p[0];
		if (epoll_ctl(S.ep, EPOLL_CTL_ADD, p[0], &ev) < 0)
			return -1;
	}
	ev.data.u64 = 0x1234;
	ev.events = EPOLLIN | EPOLLET;
	if (epoll_ctl(S.ep, EPOLL_CTL_MOD, S.ep_pipe[0], &ev) < 0)
		return -1;
	return snprintf(out, cap, "ok extra=%d", S.extra_fd);
}

int waiters_create(const char *dir, char *out, size_t cap)
{
	size_t n;
	int k;
	if (strlen(dir) >= sizeof S.create_dir)
		return snprintf(out, cap, "error: directory name too long");
	pthread_mutex_lock(&S.rmu);
	snprintf(S.create_dir, sizeof S.create_dir, "%s", dir);
	for (k = 0; k < W_COUNT; k++) {
		S.create_errno[k] = -1;
		S.create_tid[k] = 0;
	}
	pthread_mutex_unlock(&S.rmu);
	n = (size_t)waiters_check(out, cap);
	pthread_mutex_lock(&S.rmu);
	S.create_dir[0] = 0;
	for (k = 0; k < W_COUNT && n < cap; k++)
		n += (size_t)snprintf(out + n, cap - n, " create_%s=%d:%d", kind_names[k],
				      (int)S.create_tid[k], S.create_errno[k]);
	pthread_mutex_unlock(&S.rmu);
	return (int)n;
}
