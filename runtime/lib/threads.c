/*
 * Thread tracking, workers, freeze and fork.
 *
 * Mechanism (see docs/runtime.md): workers are stopped at a safe point (their
 * run function returns from a nuwa_worker_* wait holding no locks) and their
 * threads are joined; other threads are stopped by their registered stop
 * hooks; so the frozen template is single-threaded at every fork. In a child a fresh thread calls the same run function on
 * the preserved state. Nothing depends on C-library internals: no saved
 * stacks or registers, no private symbols.
 */
#include <dirent.h>
#include <malloc.h>
#include <poll.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

enum thread_kind { KIND_UNMARKED, KIND_WORKER, KIND_INTERNAL };

struct thread_rec {
	pthread_t id;
	int has_id;                /* id is valid (set by spawn or the thread) */
	pid_t tid;                 /* 0 until the thread has started */
	void *(*start)(void *);
	void *arg;
	enum thread_kind kind;
	struct thread_rec *next;
};

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
				    * child (guarded by reg_lock) */
	int in_run;                /* run function executing */
	int joined;
	int wanted;                /* demanded while a child's threads were pending */
	atomic_int up;             /* a thread runs it in this process: demand's fast path */
	unsigned generation;
	_Atomic(pthread_cond_t *) wait_cond;
	_Atomic(pthread_mutex_t *) wait_mutex;
	struct nuwa_worker *next;
};

/* A stop/restart contract covering one thread or a start routine. */
struct contract {
	char name[64];
	pthread_t thread;          /* when !start */
	int bound;                 /* THREAD still lives (pthread_t values are reused) */
	void *(*start)(void *);    /* or every thread with this start routine */
	nuwa_thread_stop_fn stop;
	nuwa_thread_restart_fn restart;
	void *arg;
	int stopped;               /* stopped at this freeze: restart in children */
	struct contract *next;
};

typedef int (*pthread_create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

static NUWA_CHILD_RW pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static NUWA_CHILD_RW pthread_cond_t reg_cond = PTHREAD_COND_INITIALIZER;
static NUWA_CHILD_RW struct thread_rec *threads;
static struct nuwa_worker *workers;
static struct contract *contracts;   /* newest first */
static NUWA_CHILD_RW char child_error[512];
static pthread_key_t rec_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static _Atomic(pthread_create_fn) real_create;
static NUWA_CHILD_RW int frozen;
static NUWA_CHILD_RW int is_child;
/* Set between a deferred fork and nuwa_child_start_threads(). */
static NUWA_CHILD_RW int threads_pending;
static long trim_released;

/* Timed waits run on CLOCK_MONOTONIC: setting the clock must not stall a
 * worker. glibc (2.30+) has pthread_cond_clockwait for conds of any clock;
 * elsewhere the cond must have been made with a monotonic condattr (the
 * registry's own is, see lib_init). */
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 30))
#define HAVE_CLOCKWAIT 1
#endif

static void deadline_in(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static int mono_timedwait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *ts)
{
#ifdef HAVE_CLOCKWAIT
	return pthread_cond_clockwait(c, m, CLOCK_MONOTONIC, ts);
#else
	return pthread_cond_timedwait(c, m, ts);
#endif
}

static void prune_records(void);

static void atfork_prepare(void)
{
	pthread_mutex_lock(&reg_lock);
	nuwa_fds_lock();
	nuwa_hooks_lock();
}

static void atfork_parent(void)
{
	nuwa_hooks_unlock();
	nuwa_fds_unlock();
	pthread_mutex_unlock(&reg_lock);
}

static void atfork_child(void)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	/* Only the forking thread exists in the child: the locks are re-made
	 * rather than unlocked by a thread that may not own them. */
	nuwa_hooks_atfork_child();
	nuwa_fds_atfork_child();
	memcpy(&reg_lock, &m, sizeof m);
	prune_records();
}

__attribute__((constructor)) static void lib_init(void)
{
	pthread_condattr_t ca;
	if (pthread_condattr_init(&ca) == 0) {
		if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0)
			pthread_cond_init(&reg_cond, &ca);
		pthread_condattr_destroy(&ca);
	}
	if (pthread_atfork(atfork_prepare, atfork_parent, atfork_child) != 0) {
		nuwa_log("pthread_atfork failed: fork() would not be safe");
		abort();
	}
}

void nuwa_log(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	dprintf(2, "libnuwa[%d]: %s\n", (int)getpid(), buf);
}

void nuwa_append(char *buf, size_t cap, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;
	if (used + 1 >= cap)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, cap - used, fmt, ap);
	va_end(ap);
}

int64_t nuwa_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static pid_t my_tid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static void rec_exit(void *p)
{
	struct thread_rec *rec = p, **pp;
	struct contract *c;
	pthread_mutex_lock(&reg_lock);
	/* A contract made for this pthread_t must not cover a later thread
	 * that gets the same value; its restart hook still runs if stopped. */
	for (c = contracts; c; c = c->next)
		if (!c->start && c->bound && rec->has_id && pthread_equal(c->thread, rec->id))
			c->bound = 0;
	for (pp = &threads; *pp; pp = &(*pp)->next) {
		if (*pp == rec) {
			*pp = rec->next;
			break;
		}
	}
	pthread_cond_broadcast(&reg_cond);
	pthread_mutex_unlock(&reg_lock);
	free(rec);
}

static void make_key(void)
{
	if (pthread_key_create(&rec_key, rec_exit) != 0)
		abort(); /* cannot track threads at all: refuse to run */
}

static pthread_create_fn get_real_create(void)
{
	pthread_create_fn fn = atomic_load(&real_create);
	if (!fn) {
		fn = (pthread_create_fn)dlsym(RTLD_NEXT, "pthread_create");
		if (!fn) {
			nuwa_log("cannot find the C library's pthread_create: %s", dlerror());
			abort();
		}
		atomic_store(&real_create, fn);
	}
	return fn;
}

static void *trampoline(void *p)
{
	struct thread_rec *rec = p;
	pthread_mutex_lock(&reg_lock);
	rec->id = pthread_self();
	rec->has_id = 1;
	rec->tid = my_tid();
	pthread_cond_broadcast(&reg_cond);
	pthread_mutex_unlock(&reg_lock);
	/* Without it the registry would keep a dead thread's record. */
	if (pthread_setspecific(rec_key, rec) != 0)
		nuwa_log("thread %d: exit not tracked", (int)rec->tid);
	return rec->start(rec->arg);
}

static int spawn(pthread_t *out, const pthread_attr_t *attr, void *(*start)(void *),
		 void *arg, enum thread_kind kind)
{
	pthread_create_fn create = get_real_create();
	struct thread_rec *rec, **pp;
	int rc;

	pthread_once(&key_once, make_key);
	rec = calloc(1, sizeof *rec);
	if (!rec)
		return EAGAIN;
	rec->start = start;
	rec->arg = arg;
	rec->kind = kind;
	pthread_mutex_lock(&reg_lock);
	rec->next = threads;
	threads = rec;
	pthread_mutex_unlock(&reg_lock);
	rc = create(out, attr, trampoline, rec);
	if (rc == 0) {
		pthread_mutex_lock(&reg_lock);
		/* The thread may have ended already and freed REC. */
		for (pp = &threads; *pp && *pp != rec; pp = &(*pp)->next)
			;
		if (*pp) {
			rec->id = *out;
			rec->has_id = 1;
		}
		pthread_mutex_unlock(&reg_lock);
	} else {
		pthread_mutex_lock(&reg_lock);
		for (pp = &threads; *pp; pp = &(*pp)->next) {
			if (*pp == rec) {
				*pp = rec->next;
				break;
			}
		}
		pthread_mutex_unlock(&reg_lock);
		free(rec);
	}
	return rc;
}

/* Interposes the C library's pthread_create: every thread is registered,
 * unmarked until someone marks it. */
int pthread_create(pthread_t *thread, const pthread_attr_t *attr,
		   void *(*start)(void *), void *arg)
{
	return spawn(thread, attr, start, arg, KIND_UNMARKED);
}

/* ---------------------------------------------------------------- */
/* Workers.                                                           */

static void *worker_main(void *p)
{
	struct nuwa_worker *w = p;
	int reason;

	if (prctl(PR_SET_NAME, w->name, 0, 0, 0) < 0)
		nuwa_log("worker %s: PR_SET_NAME: %s", w->name, strerror(errno));
	w->run(w, w->state);
	reason = atomic_load(&w->stop);
	pthread_mutex_lock(&reg_lock);
	w->in_run = 0;
	atomic_store(&w->up, 0);
	if (reason == STOP_NONE)
		w->alive = 0; /* finished on its own: not recreated */
	pthread_cond_broadcast(&reg_cond);
	pthread_mutex_unlock(&reg_lock);
	return NULL;
}

/* Join W's thread, whose run function has returned, with reg_lock released
 * meanwhile (held on entry and on return). */
static void join_ended(struct nuwa_worker *w)
{
	pthread_t t = w->thread;
	w->joined = 1;
	pthread_mutex_unlock(&reg_lock);
	pthread_join(t, NULL);
	pthread_mutex_lock(&reg_lock);
}

/* Caller holds reg_lock (released while a previous thread of W is joined
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
	pthread_mutex_unlock(&reg_lock);
	rc = spawn(&w->thread, NULL, worker_main, w, KIND_WORKER);
	pthread_mutex_lock(&reg_lock);
	if (rc != 0) {
		w->in_run = 0;
		w->alive = 0;
		w->joined = 1;
		w->generation--;
		atomic_store(&w->up, 0);
	}
	return rc;
}

/* Caller holds reg_lock: W's thread is gone (joined) and no thread waits
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
	pthread_mutex_lock(&reg_lock);
	if (frozen) {
		pthread_mutex_unlock(&reg_lock);
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
	pthread_mutex_unlock(&reg_lock);
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
	pthread_mutex_lock(&reg_lock);
	if (w->in_run) {
		pthread_mutex_unlock(&reg_lock);
		return 0;
	}
	if (threads_pending) {
		/* A child not yet confined: nuwa_child_start_threads() starts
		 * it, so that it is born confined like the others. */
		w->wanted = 1;
		pthread_mutex_unlock(&reg_lock);
		return 0;
	}
	if (frozen) {
		pthread_mutex_unlock(&reg_lock);
		errno = EBUSY; /* the frozen template starts no thread */
		return -1;
	}
	rc = worker_start(w);
	pthread_mutex_unlock(&reg_lock);
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
	pthread_mutex_lock(&reg_lock);
	while (w->in_run) {
		pthread_mutex_unlock(&reg_lock);
		worker_kick(w);
		pthread_mutex_lock(&reg_lock);
		if (w->in_run) {
			struct timespec ts;
			deadline_in(&ts, 5);
			mono_timedwait(&reg_cond, &reg_lock, &ts);
		}
	}
	for (pp = &workers; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	}
	pthread_mutex_unlock(&reg_lock);
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
		deadline_in(&ts, timeout_ms);
		rc = mono_timedwait(cond, mutex, &ts);
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

static int remaining(int64_t deadline)
{
	int64_t left;
	if (deadline < 0)
		return -1;
	left = deadline - nuwa_now_ms();
	return left < 0 ? 0 : (int)(left > INT32_MAX ? INT32_MAX : left);
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
		int rc = nuwa_worker_poll(w, &p, 1, remaining(deadline));
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
	while ((left = remaining(deadline)) > 0) {
		if (nuwa_worker_poll(w, NULL, 0, left) < 0 && errno == ECANCELED)
			return -1;
	}
	return nuwa_worker_should_stop(w) ? cancelled() : 0;
}

/* ---------------------------------------------------------------- */
/* The stop/restart contract for other threads.                       */

static int add_contract(pthread_t thread, void *(*start)(void *), const char *name,
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
	c->thread = thread;
	c->bound = !start;
	c->start = start;
	c->stop = stop;
	c->restart = restart;
	c->arg = arg;
	pthread_mutex_lock(&reg_lock);
	c->next = contracts;
	contracts = c;
	pthread_mutex_unlock(&reg_lock);
	return 0;
}

int nuwa_thread_register(pthread_t thread, const char *name, nuwa_thread_stop_fn stop,
			 nuwa_thread_restart_fn restart, void *arg)
{
	struct thread_rec *r;
	int found = 0;
	pthread_mutex_lock(&reg_lock);
	for (r = threads; r && !found; r = r->next)
		found = r->has_id && pthread_equal(r->id, thread) && r->kind == KIND_UNMARKED;
	pthread_mutex_unlock(&reg_lock);
	if (!found) {
		errno = ESRCH;
		return -1;
	}
	return add_contract(thread, NULL, name, stop, restart, arg);
}

int nuwa_thread_register_start(void *(*start)(void *), const char *name,
			       nuwa_thread_stop_fn stop, nuwa_thread_restart_fn restart,
			       void *arg)
{
	if (!start) {
		errno = EINVAL;
		return -1;
	}
	return add_contract(pthread_self(), start, name, stop, restart, arg);
}

const char *nuwa_child_error(void)
{
	return child_error[0] ? child_error : NULL;
}

/* Caller holds reg_lock. The contract covering REC, or NULL. */
static struct contract *covering(const struct thread_rec *rec)
{
	struct contract *c;
	for (c = contracts; c; c = c->next) {
		if (c->start ? c->start == rec->start
			     : c->bound && rec->has_id && pthread_equal(c->thread, rec->id))
			return c;
	}
	return NULL;
}

static void thread_comm(pid_t tid, char *out, size_t cap)
{
	char path[64];
	FILE *f;
	snprintf(path, sizeof path, "/proc/self/task/%d/comm", (int)tid);
	snprintf(out, cap, "?");
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(out, (int)cap, f))
		out[strcspn(out, "\n")] = 0;
	fclose(f);
}

static void start_symbol(void *(*start)(void *), char *out, size_t cap)
{
	Dl_info info;
	void *addr;
	memcpy(&addr, &start, sizeof addr); /* function to object pointer */
	if (dladdr(addr, &info) && info.dli_sname)
		snprintf(out, cap, "%s in %s", info.dli_sname, info.dli_fname ? info.dli_fname : "?");
	else if (dladdr(addr, &info) && info.dli_fname)
		snprintf(out, cap, "%p in %s", addr, info.dli_fname);
	else
		snprintf(out, cap, "%p", addr);
}

/* ---------------------------------------------------------------- */
/* Freeze.                                                            */

/* Caller holds reg_lock. Counts threads that prevent the freeze and, when
 * ERR is given, describes them. */
static int stragglers(char *err, size_t cap)
{
	struct thread_rec *r;
	struct nuwa_worker *w;
	int n = 0;
	DIR *d;
	struct dirent *de;

	for (w = workers; w; w = w->next) {
		if (w->in_run) {
			n++;
			if (err)
				nuwa_append(err, cap, "; worker '%s' did not reach a safe point", w->name);
		}
	}
	for (r = threads; r; r = r->next) {
		struct contract *c;
		if (r->kind != KIND_UNMARKED)
			continue;
		if (!r->tid) {
			n++; /* still starting */
			continue;
		}
		n++;
		if (err) {
			char comm[32], sym[512];
			thread_comm(r->tid, comm, sizeof comm);
			start_symbol(r->start, sym, sizeof sym);
			c = covering(r);
			if (c)
				nuwa_append(err, cap, "; thread '%s' (tid %d, start %s) still runs after the stop hook of '%s' returned",
				       comm, (int)r->tid, sym, c->name);
			else
				nuwa_append(err, cap, "; thread '%s' (tid %d, start %s) is neither a worker nor registered with stop/restart hooks (nuwa_thread_register)",
				       comm, (int)r->tid, sym);
		}
	}
	/* Threads made behind our back: the C library's own helpers (a
	 * SIGEV_THREAD timer's, aio's) or a raw clone. */
	d = opendir("/proc/self/task");
	if (d) {
		while ((de = readdir(d))) {
			pid_t tid = (pid_t)atoi(de->d_name);
			int known = 0;
			if (tid <= 0 || tid == getpid())
				continue;
			for (r = threads; r && !known; r = r->next)
				known = r->tid == tid;
			if (known)
				continue;
			n++;
			if (err) {
				char comm[32];
				thread_comm(tid, comm, sizeof comm);
				nuwa_append(err, cap, "; thread '%s' (tid %d) was not created through pthread_create: "
				       "the C library made it (a SIGEV_THREAD timer, aio) or a raw clone did; "
				       "use timerfd or SIGEV_THREAD_ID instead of SIGEV_THREAD, or stop it before the freeze "
				       "(docs/runtime.md)", comm, (int)tid);
			}
		}
		closedir(d);
	}
	return n;
}

static int frozen_worker_threads_gone(void)
{
	struct thread_rec *r;
	for (r = threads; r; r = r->next)
		if (r->kind == KIND_WORKER)
			return 0;
	return 1;
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

/* Caller holds reg_lock (released while the hook runs). 0, or -1 with ERR. */
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
	pthread_mutex_unlock(&reg_lock);
	rc = get_real_create()(&t, NULL, stop_helper, sc);
	if (rc != 0) {
		pthread_mutex_lock(&reg_lock);
		nuwa_real_close(pfd[0]);
		nuwa_real_close(pfd[1]);
		free(sc);
		snprintf(err, errlen, "stop hook '%s': cannot start it: %s", c->name, strerror(rc));
		return -1;
	}
	p.fd = pfd[0];
	p.events = POLLIN;
	do {
		int left = remaining(deadline);
		rc = poll(&p, 1, left);
	} while (rc < 0 && errno == EINTR);
	if (rc <= 0) {
		/* The helper is left blocked in the hook; the freeze has failed
		 * and the template exits. */
		pthread_detach(t);
		pthread_mutex_lock(&reg_lock);
		snprintf(err, errlen, "stop hook of '%s' did not return within the freeze timeout", c->name);
		return -1;
	}
	pthread_join(t, NULL);
	nuwa_real_close(pfd[0]);
	nuwa_real_close(pfd[1]);
	rc = sc->rc;
	free(sc);
	pthread_mutex_lock(&reg_lock);
	if (rc != 0) {
		snprintf(err, errlen, "stop hook of '%s' failed", c->name);
		return -1;
	}
	return 0;
}

/* Caller holds reg_lock. Contracts covering a live thread get their stop
 * hook, newest registration first. */
static int stop_contracts(int64_t deadline, char *err, size_t errlen)
{
	struct contract *c;
	struct thread_rec *r;
	for (c = contracts; c; c = c->next) {
		int live = 0;
		for (r = threads; r && !live; r = r->next)
			live = r->kind == KIND_UNMARKED && covering(r) == c; /* started or starting */
		if (!live)
			continue;
		if (run_stop(c, deadline, err, errlen) < 0)
			return -1;
		c->stopped = 1;
	}
	return 0;
}

/* Run the restart hooks of stopped contracts, oldest first. Caller holds no
 * lock. Returns 0 or -1 with the first failure in ERR. */
static int restart_contracts(char *err, size_t errlen)
{
	struct contract *c, *list[64];
	int n = 0, i, rc = 0;
	pthread_mutex_lock(&reg_lock);
	for (c = contracts; c && n < 64; c = c->next)
		if (c->stopped)
			list[n++] = c;
	pthread_mutex_unlock(&reg_lock);
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

/* Caller holds reg_lock. Put back what a failed freeze had stopped. */
static void unfreeze(void)
{
	struct nuwa_worker *w;
	struct contract *c;
	char why[512];
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
	pthread_mutex_unlock(&reg_lock);
	if (restart_contracts(why, sizeof why) < 0)
		nuwa_log("after a failed freeze: %s", why);
	pthread_mutex_lock(&reg_lock);
	for (c = contracts; c; c = c->next)
		c->stopped = 0;
}

int nuwa_freeze(int timeout_ms, char *err, size_t errlen)
{
	struct nuwa_worker *w;
	int64_t deadline;
	char dummy[1];

	if (!err || errlen == 0) {
		err = dummy;
		errlen = sizeof dummy;
	}
	err[0] = 0;
	if (getpid() != my_tid()) {
		snprintf(err, errlen, "nuwa_freeze must be called from the main thread");
		errno = EPERM;
		return -1;
	}
	if (timeout_ms <= 0)
		timeout_ms = NUWA_FREEZE_TIMEOUT_MS;
	pthread_mutex_lock(&reg_lock);
	if (frozen) {
		pthread_mutex_unlock(&reg_lock);
		snprintf(err, errlen, "already frozen");
		errno = EALREADY;
		return -1;
	}
	pthread_mutex_unlock(&reg_lock);

	nuwa_hooks_run(NUWA_HOOK_BEFORE_FREEZE);
	deadline = nuwa_now_ms() + timeout_ms;
	pthread_mutex_lock(&reg_lock);
	{
		char why[1024] = "";
		if (stop_contracts(deadline, why, sizeof why) < 0) {
			snprintf(err, errlen, "freeze failed: %s", why);
			unfreeze();
			pthread_mutex_unlock(&reg_lock);
			errno = ETIMEDOUT;
			return -1;
		}
	}
	for (w = workers; w; w = w->next)
		if (w->in_run)
			atomic_store(&w->stop, STOP_FREEZE);
	for (;;) {
		struct timespec ts;
		if (stragglers(NULL, 0) == 0)
			break;
		if (nuwa_now_ms() >= deadline) {
			char why[3072] = "";
			stragglers(why, sizeof why);
			snprintf(err, errlen, "freeze failed after %d ms%s", timeout_ms, why);
			unfreeze();
			pthread_mutex_unlock(&reg_lock);
			errno = ETIMEDOUT;
			return -1;
		}
		pthread_mutex_unlock(&reg_lock);
		for (w = workers; w; w = w->next)
			if (atomic_load(&w->stop) == STOP_FREEZE)
				worker_kick(w);
		pthread_mutex_lock(&reg_lock);
		deadline_in(&ts, 2);
		mono_timedwait(&reg_cond, &reg_lock, &ts);
	}
	/* Every worker has returned: join the threads so nothing runs beside
	 * us. */
	for (w = workers; w; w = w->next) {
		if (!w->joined)
			join_ended(w);
	}
	while (!frozen_worker_threads_gone())
		pthread_cond_wait(&reg_cond, &reg_lock);
	/* No worker thread is left: their wake eventfds go (each process
	 * makes its own when a worker starts), so the inventory below has
	 * five fewer fds and no child inherits the template's. */
	for (w = workers; w; w = w->next)
		worker_drop_wake(w);
	{
		/* Single-threaded now: every fd must be accounted for. */
		char why[3072] = "";
		if (nuwa_fds_freeze_check(why, sizeof why) > 0) {
			snprintf(err, errlen, "freeze failed: fd inventory%s", why);
			unfreeze();
			pthread_mutex_unlock(&reg_lock);
			errno = EBADF;
			return -1;
		}
	}
	/* Give freed heap back before the children share it (Android saw
	 * 40-128 KiB of private dirty memory per process saved this way). */
	trim_released = nuwa_trim_heap();
	frozen = 1;
	pthread_mutex_unlock(&reg_lock);
	return 0;
}

long nuwa_trim_heap(void)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
	struct mallinfo2 before, after;
	/* The measurement switch of docs/benchmarks.md (trim versus none). */
	if (getenv("NUWA_NO_MALLOC_TRIM"))
		return 0;
	before = mallinfo2();
	malloc_trim(0);
	after = mallinfo2();
	/* Free bytes kept by the allocator before and after: what went back. */
	return before.fordblks > after.fordblks ? (long)(before.fordblks - after.fordblks) : 0;
#else
	return 0; /* no malloc_trim in this C library */
#endif
}

long nuwa_freeze_trimmed_bytes(void)
{
	return trim_released;
}

int nuwa_is_frozen(void)
{
	int f;
	pthread_mutex_lock(&reg_lock);
	f = frozen;
	pthread_mutex_unlock(&reg_lock);
	return f;
}

int nuwa_is_child(void)
{
	return is_child;
}

/* ---------------------------------------------------------------- */
/* Fork.                                                              */

/* In a fork child (atfork): only the forking thread survived; forget the
 * records of the others. */
static void prune_records(void)
{
	struct thread_rec **pp = &threads, *r;
	pthread_t self = pthread_self();
	while ((r = *pp)) {
		if (r->tid && pthread_equal(r->id, self)) {
			r->tid = my_tid();
			pp = &r->next;
		} else {
			*pp = r->next;
			free(r);
		}
	}
}

/* The child's app-independent rebuild (a spare does it before the
 * request): fds, epoll sets, seeds, BEFORE_THREADS hooks. The workers'
 * wake eventfds were closed at the freeze; each gets a fresh one when its
 * thread starts. No thread is started: until
 * nuwa_child_start_threads() the child is single-threaded, so it can be
 * confined with plain system calls and every thread it starts is born
 * confined (no signal round, docs/runtime.md "Fork"). */
static void child_rebuild(void)
{
	struct nuwa_worker *w;

	is_child = 1;
	child_error[0] = 0;
	nuwa_phase_reset(); /* the template's own marks, if any */
	nuwa_phase_mark("child_running");
	nuwa_fds_child_rebuild();
	nuwa_phase_mark("fds_rebuilt");
	nuwa_seed_child();
	nuwa_phase_mark("reseeded");
	pthread_mutex_lock(&reg_lock);
	for (w = workers; w; w = w->next) {
		w->wanted = 0;
		atomic_store(&w->up, 0); /* the template's threads are not here */
		/* On demand: a child starts it at its first nuwa_worker_demand(). */
		if (w->flags & NUWA_WORKER_ON_DEMAND)
			w->alive = 0;
	}
	threads_pending = 1;
	pthread_mutex_unlock(&reg_lock);
	/* After threads_pending: a hook's nuwa_worker_demand() is kept for
	 * nuwa_child_start_threads(). */
	nuwa_hooks_run(NUWA_HOOK_CHILD_BEFORE_THREADS);
}

int nuwa_child_threads_pending(void)
{
	int p;
	pthread_mutex_lock(&reg_lock);
	p = threads_pending;
	pthread_mutex_unlock(&reg_lock);
	return p;
}

int nuwa_child_start_threads(void)
{
	struct nuwa_worker *w;

	pthread_mutex_lock(&reg_lock);
	if (!threads_pending) {
		pthread_mutex_unlock(&reg_lock);
		return child_error[0] ? -1 : 0;
	}
	threads_pending = 0;
	frozen = 0;
	for (w = workers; w; w = w->next) {
		if (!w->alive && !w->wanted)
			continue; /* finished on its own, or on demand and not demanded */
		if (worker_start(w) != 0) {
			nuwa_log("worker %s: cannot recreate thread", w->name);
			abort();
		}
	}
	pthread_mutex_unlock(&reg_lock);
	if (restart_contracts(child_error, sizeof child_error) < 0)
		nuwa_log("%s", child_error);
	nuwa_hooks_run(NUWA_HOOK_CHILD_AFTER_THREADS);
	nuwa_phase_mark("threads_recreated");
	return child_error[0] ? -1 : 0;
}

pid_t nuwa_fork_defer_threads(void)
{
	pid_t pid;

	pthread_mutex_lock(&reg_lock);
	if (!frozen || threads_pending) {
		pthread_mutex_unlock(&reg_lock);
		errno = EINVAL;
		return -1;
	}
	pthread_mutex_unlock(&reg_lock);
	/* libnuwa's locks are taken across fork() by the atfork handlers. */
	pid = fork();
	if (pid == 0) {
		child_rebuild();
		return 0;
	}
	if (pid > 0)
		nuwa_hooks_run(NUWA_HOOK_PARENT_AFTER_FORK);
	return pid;
}

pid_t nuwa_fork(void)
{
	pid_t pid = nuwa_fork_defer_threads();
	if (pid == 0)
		nuwa_child_start_threads(); /* a failure is kept for nuwa_child_error() */
	return pid;
}
