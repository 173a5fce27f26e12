/* The framework's threads and the main event loop.
 *
 * - a worker pool and an I/O thread take jobs from queues;
 * - a timer thread wakes the main loop for periodic work;
 * - the main thread runs libnuwa's app loop (nuwa_loop_run, fw_app.c):
 *   job completions and timer expiries come to it on two wake-up pipes
 *   it watches, beside the IPC channel and any fds the app watches.
 * Threads only touch queues; app callbacks always run on the main thread.
 *
 * All threads are libnuwa workers (the template is single-threaded at every
 * fork: no other thread may exist at the freeze): they block only in nuwa_worker_* waits
 * and return from their run function when frozen. Their state (queues,
 * timers) is plain memory, so in a child of the template the recreated
 * threads find the same queued jobs and armed timers.
 *
 * Each starts on first use (NUWA_WORKER_ON_DEMAND): the timer thread at
 * the first timer, the I/O thread at the first I/O job, a pool thread when
 * a job is queued and no started pool thread waits for one (up to the
 * pool's size). An app that never uses one never has its thread: the
 * trivial app runs on the main thread alone (docs/runtime.md "Fork").
 * fw_threads_resume() (run_app) starts those with work left from before
 * the fork. The wake-up pipes are
 * per-child pairs and the loop's epoll set (made here, at init) is rebuilt
 * by libnuwa, so children never share a wake-up with the template or with
 * each other. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "fw_internal.h"

#define QUEUE_LEN 256
#define MAX_TIMERS 32

struct job {
	nuwa_fw_job_fn work, done;
	void *arg;
};

#define POOL_MAX 8

struct queue {
	pthread_mutex_t lock;
	pthread_cond_t nonempty;
	struct job ring[2 * QUEUE_LEN];
	unsigned head, count;
	unsigned waiting;          /* started workers waiting for a job */
	nuwa_worker *w[POOL_MAX];  /* its workers, started on demand */
	int n;
};

struct timer {
	int id; /* 0: free slot */
	unsigned interval_ms;
	int repeat;
	struct timespec next;
	fw_timer_fn cb;
	nuwa_fw_tick_fn tick; /* public nuwa_fw_every() timers */
	void *arg;
	int due; /* set by the timer thread */
};

#define QUEUE_INIT {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, {{0, 0, 0}}, 0, 0, 0, {0}, 0}
static struct queue pool_q = QUEUE_INIT, io_q = QUEUE_INIT, done_q = QUEUE_INIT;
static unsigned outstanding; /* submitted, completion not yet run; main thread */
static pthread_mutex_t timer_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t timer_changed = PTHREAD_COND_INITIALIZER;
static struct timer timers[MAX_TIMERS];
static nuwa_worker *timer_worker;
static int next_timer_id = 1;
static int done_pipe[2] = {-1, -1}, timer_pipe[2] = {-1, -1};
static uint64_t jobs_done, ticks_run;
static int ticks_parked; /* main thread only: fw_park_ticks() */

void fw_park_ticks(int parked) { ticks_parked = parked; }
int fw_ticks_parked(void) { return ticks_parked; }

uint64_t nuwa_fw_jobs_done(void) { return jobs_done; }
uint64_t nuwa_fw_ticks(void) { return ticks_run; }

/* Start one more of Q's workers when queued jobs outnumber the started
 * ones that wait (the first job starts the first). 0 or -1. */
static int queue_demand(struct queue *q)
{
	pthread_mutex_lock(&q->lock);
	int want = q->count > q->waiting;
	pthread_mutex_unlock(&q->lock);
	for (int i = 0; want && i < q->n; i++) {
		int rc = nuwa_worker_demand(q->w[i]);
		if (rc < 0) {
			FW_LOG("cannot start framework thread: %s\n", strerror(errno));
			return -1;
		}
		if (rc == 1)
			break; /* started one */
	}
	return 0;
}

static void queue_push(struct queue *q, struct job j)
{
	pthread_mutex_lock(&q->lock);
	q->ring[(q->head + q->count++) % (2 * QUEUE_LEN)] = j;
	pthread_cond_signal(&q->nonempty);
	pthread_mutex_unlock(&q->lock);
}

/* Caller holds q->lock and q->count > 0. */
static struct job queue_take(struct queue *q)
{
	struct job j = q->ring[q->head];
	q->head = (q->head + 1) % (2 * QUEUE_LEN);
	q->count--;
	return j;
}

static void kick(int fd)
{
	char one = 1;
	/* EAGAIN: the pipe is full, so the loop will wake anyway. */
	if (write(fd, &one, 1) < 0 && errno != EAGAIN)
		FW_LOG("wake-up pipe: %s\n", strerror(errno));
}

static int drain(int fd)
{
	char buf[64];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n > 0)
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN) {
			FW_LOG("wake-up pipe: %s\n", strerror(errno));
			return -1;
		}
		return 0;
	}
}

static void worker_run(nuwa_worker *w, void *state)
{
	struct queue *q = state;
	for (;;) {
		pthread_mutex_lock(&q->lock);
		while (q->count == 0) {
			q->waiting++;
			int rc = nuwa_worker_cond_wait(w, &q->nonempty, &q->lock, -1);
			q->waiting--;
			if (rc < 0 && errno == ECANCELED) {
				pthread_mutex_unlock(&q->lock);
				return; /* frozen: queued jobs stay queued */
			}
		}
		struct job j = queue_take(q);
		pthread_mutex_unlock(&q->lock);
		if (j.work)
			j.work(j.arg);
		/* done_q holds 2 * QUEUE_LEN >= every outstanding job: no overflow. */
		queue_push(&done_q, j);
		kick(done_pipe[1]);
	}
}

static void ts_add_ms(struct timespec *t, unsigned ms)
{
	t->tv_sec += ms / 1000;
	t->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t->tv_nsec >= 1000000000L) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000L;
	}
}

static long ts_diff_ms(const struct timespec *a, const struct timespec *b)
{
	return (long)(a->tv_sec - b->tv_sec) * 1000L + (a->tv_nsec - b->tv_nsec) / 1000000L;
}

static void timer_run(nuwa_worker *w, void *state)
{
	(void)state;
	pthread_mutex_lock(&timer_lock);
	for (;;) {
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		int fired = 0;
		long wait_ms = -1;
		for (int i = 0; i < MAX_TIMERS; i++) {
			struct timer *t = &timers[i];
			if (!t->id || t->due)
				continue;
			if (ts_diff_ms(&now, &t->next) >= 0) {
				t->due = 1;
				fired = 1;
				/* Skip missed periods instead of bursting after a stall
				 * (or after the template sat frozen for a while). */
				while (ts_diff_ms(&now, &t->next) >= 0)
					ts_add_ms(&t->next, t->interval_ms);
				continue;
			}
			long d = ts_diff_ms(&t->next, &now) + 1;
			if (wait_ms < 0 || d < wait_ms)
				wait_ms = d;
		}
		if (fired)
			kick(timer_pipe[1]);
		if (nuwa_worker_cond_wait(w, &timer_changed, &timer_lock, (int)wait_ms) < 0 && errno == ECANCELED) {
			pthread_mutex_unlock(&timer_lock);
			return;
		}
	}
}

int fw_timer_add(unsigned ms, int repeat, fw_timer_fn cb, void *arg)
{
	if (ms == 0 || !cb)
		return -1;
	int id = -1;
	pthread_mutex_lock(&timer_lock);
	for (int i = 0; i < MAX_TIMERS; i++) {
		struct timer *t = &timers[i];
		if (t->id)
			continue;
		*t = (struct timer){.id = next_timer_id++, .interval_ms = ms, .repeat = repeat, .cb = cb, .arg = arg};
		clock_gettime(CLOCK_MONOTONIC, &t->next);
		ts_add_ms(&t->next, ms);
		id = t->id;
		pthread_cond_signal(&timer_changed);
		break;
	}
	pthread_mutex_unlock(&timer_lock);
	if (id > 0 && nuwa_worker_demand(timer_worker) < 0) {
		FW_LOG("cannot start the timer thread: %s\n", strerror(errno));
		fw_timer_cancel(id);
		return -1;
	}
	return id;
}

int fw_timer_cancel(int id)
{
	int rc = -1;
	pthread_mutex_lock(&timer_lock);
	for (int i = 0; i < MAX_TIMERS; i++)
		if (id > 0 && timers[i].id == id) {
			timers[i].id = 0;
			rc = 0;
		}
	pthread_mutex_unlock(&timer_lock);
	return rc;
}

static void call_tick(int id, void *arg)
{
	(void)id;
	struct timer *t = arg;
	t->tick(t->arg);
}

int nuwa_fw_every(unsigned interval_ms, nuwa_fw_tick_fn fn, void *arg)
{
	if (!fn)
		return -1;
	int id = fw_timer_add(interval_ms, 1, call_tick, NULL);
	if (id < 0)
		return -1;
	pthread_mutex_lock(&timer_lock);
	for (int i = 0; i < MAX_TIMERS; i++)
		if (timers[i].id == id) {
			timers[i].tick = fn;
			timers[i].arg = arg;
		}
	pthread_mutex_unlock(&timer_lock);
	return 0;
}

static int submit(struct queue *q, nuwa_fw_job_fn work, nuwa_fw_job_fn done, void *arg)
{
	if (outstanding >= QUEUE_LEN)
		return -1;
	outstanding++;
	queue_push(q, (struct job){work, done, arg});
	/* Queued: if no thread can start, a later submit or resume retries. */
	return queue_demand(q) < 0 ? -1 : 0;
}

/* Plain atomic reads, no lock: taking the queues' and timers' locks would
 * write (copy) their pages in every app that never uses them. A job or
 * timer added meanwhile demands its thread itself. */
int fw_threads_resume(void)
{
	int armed = 0;
	for (int i = 0; i < MAX_TIMERS; i++)
		armed |= __atomic_load_n(&timers[i].id, __ATOMIC_ACQUIRE) != 0;
	if (armed && nuwa_worker_demand(timer_worker) < 0) {
		FW_LOG("cannot start the timer thread: %s\n", strerror(errno));
		return -1;
	}
	/* Jobs queued before the fork: as many threads as they need. */
	struct queue *qs[] = {&pool_q, &io_q};
	for (unsigned k = 0; k < sizeof qs / sizeof qs[0]; k++) {
		unsigned queued = __atomic_load_n(&qs[k]->count, __ATOMIC_ACQUIRE);
		for (int i = 0; i < qs[k]->n && (unsigned)i < queued; i++) {
			if (nuwa_worker_demand(qs[k]->w[i]) < 0) {
				FW_LOG("cannot start framework thread: %s\n", strerror(errno));
				return -1;
			}
		}
	}
	return 0;
}

int nuwa_fw_submit(nuwa_fw_job_fn work, nuwa_fw_job_fn done, void *arg)
{
	return submit(&pool_q, work, done, arg);
}

int nuwa_fw_submit_io(nuwa_fw_job_fn work, nuwa_fw_job_fn done, void *arg)
{
	return submit(&io_q, work, done, arg);
}

static void run_completions(void)
{
	for (;;) {
		pthread_mutex_lock(&done_q.lock);
		if (done_q.count == 0) {
			pthread_mutex_unlock(&done_q.lock);
			return;
		}
		struct job j = queue_take(&done_q);
		pthread_mutex_unlock(&done_q.lock);
		outstanding--;
		jobs_done++;
		if (j.done)
			j.done(j.arg);
	}
}

static void run_timers(void)
{
	for (int i = 0; i < MAX_TIMERS; i++) {
		pthread_mutex_lock(&timer_lock);
		struct timer t = timers[i];
		int due = t.id && t.due;
		if (due) {
			timers[i].due = 0;
			if (!t.repeat)
				timers[i].id = 0;
			pthread_cond_signal(&timer_changed);
		}
		pthread_mutex_unlock(&timer_lock);
		if (!due)
			continue;
		if (t.tick) {
			if (ticks_parked)
				continue;
			ticks_run++;
			t.tick(t.arg);
		} else {
			ticks_run++;
			t.cb(t.id, t.arg);
		}
	}
}

/* A wake-up pipe is readable: completions or due timers to run on the
 * loop's thread. A broken pipe ends the app (status 1). */
static void completions_ready(struct nuwa_app *app, int fd, uint32_t revents, void *arg)
{
	(void)app;
	(void)revents;
	(void)arg;
	if (drain(fd) < 0)
		nuwa_loop_quit(1);
	else
		run_completions();
}

static void timers_ready(struct nuwa_app *app, int fd, uint32_t revents, void *arg)
{
	(void)app;
	(void)revents;
	(void)arg;
	if (drain(fd) < 0)
		nuwa_loop_quit(1);
	else
		run_timers();
}

int fw_threads_init(int n_workers)
{
	pthread_condattr_t ca;
	/* The timer thread's deadline runs on CLOCK_MONOTONIC: setting the clock
	 * back must not stall it. libnuwa waits with pthread_cond_clockwait on
	 * glibc; on other C libraries the cond itself must be monotonic. No
	 * thread waits on it yet. */
	if (pthread_condattr_init(&ca) != 0 || pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&timer_changed, &ca) != 0) {
		FW_LOG("timer cond: cannot make it monotonic\n");
		return -1;
	}
	pthread_condattr_destroy(&ca);
	/* Per-child pipes: each child gets its own wake-ups (an eventfd would
	 * be one kernel object shared by the template and all its children). */
	if (nuwa_pipe2(done_pipe, O_CLOEXEC | O_NONBLOCK) < 0 || nuwa_pipe2(timer_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		FW_LOG("wake-up pipes: %s\n", strerror(errno));
		return -1;
	}
	if (nuwa_loop_init() < 0 || nuwa_loop_watch(done_pipe[0], EPOLLIN, completions_ready, NULL) < 0 ||
	    nuwa_loop_watch(timer_pipe[0], EPOLLIN, timers_ready, NULL) < 0) {
		FW_LOG("the app loop's wake-ups: %s\n", strerror(errno));
		return -1;
	}
	if (n_workers < 1 || n_workers > POOL_MAX) {
		FW_LOG("pool of %d threads: want 1..%d\n", n_workers, POOL_MAX);
		return -1;
	}
	timer_worker = nuwa_worker_create_flags("fw-timer", timer_run, NULL, NUWA_WORKER_ON_DEMAND);
	io_q.w[0] = nuwa_worker_create_flags("fw-io", worker_run, &io_q, NUWA_WORKER_ON_DEMAND);
	io_q.n = 1;
	if (!timer_worker || !io_q.w[0])
		goto worker_fail;
	for (int i = 0; i < n_workers; i++) {
		char name[24]; /* the kernel cuts thread names to 15 bytes */
		snprintf(name, sizeof name, "fw-pool%u", (unsigned)i % 100u);
		pool_q.w[i] = nuwa_worker_create_flags(name, worker_run, &pool_q, NUWA_WORKER_ON_DEMAND);
		if (!pool_q.w[i])
			goto worker_fail;
		pool_q.n = i + 1;
	}
	return 0;
worker_fail:
	FW_LOG("cannot start framework thread: %s\n", strerror(errno));
	return -1;
}
