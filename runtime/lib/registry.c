/*
 * The thread registry: every thread the process makes through
 * pthread_create (which libnuwa interposes) gets a record here, marked as a
 * worker, as libnuwa's own, or unmarked until a contract covers it; the
 * freeze reads the records to know that nothing runs beside it. This file
 * also holds the lock that guards the records and the rest of the thread
 * state (workers, contracts, frozen/pending flags) and the atfork handlers
 * that take libnuwa's locks across fork().
 *
 * Mechanism (see docs/runtime.md): workers are stopped at a safe point (their
 * run function returns from a nuwa_worker_* wait holding no locks) and their
 * threads are joined; other threads are stopped by their registered stop
 * hooks; so the frozen template is single-threaded at every fork. In a child a fresh thread calls the same run function on
 * the preserved state. Nothing depends on C-library internals: no saved
 * stacks or registers, no private symbols.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "thread_internal.h"

NUWA_CHILD_RW pthread_mutex_t nuwa_reg_lock = PTHREAD_MUTEX_INITIALIZER;
NUWA_CHILD_RW pthread_cond_t nuwa_reg_cond = PTHREAD_COND_INITIALIZER;
NUWA_CHILD_RW struct thread_rec *nuwa_threads;
NUWA_CHILD_RW int nuwa_frozen;
NUWA_CHILD_RW int nuwa_threads_pending;
static NUWA_CHILD_RW uint64_t next_serial;
static pthread_key_t rec_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static _Atomic(pthread_create_fn) real_create;

pid_t nuwa_gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/* In a fork child (atfork): only the forking thread survived; forget the
 * records of the others. */
static void prune_records(void)
{
	struct thread_rec **pp = &nuwa_threads, *r;
	pthread_t self = pthread_self();
	while ((r = *pp)) {
		if (r->tid && pthread_equal(r->id, self)) {
			r->tid = nuwa_gettid();
			pp = &r->next;
		} else {
			*pp = r->next;
			free(r);
		}
	}
}

static void atfork_prepare(void)
{
	pthread_mutex_lock(&nuwa_reg_lock);
	nuwa_fds_lock();
	nuwa_hooks_lock();
}

static void atfork_parent(void)
{
	nuwa_hooks_unlock();
	nuwa_fds_unlock();
	pthread_mutex_unlock(&nuwa_reg_lock);
}

static void atfork_child(void)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	/* Only the forking thread exists in the child: the locks are re-made
	 * rather than unlocked by a thread that may not own them. */
	nuwa_hooks_atfork_child();
	nuwa_fds_atfork_child();
	memcpy(&nuwa_reg_lock, &m, sizeof m);
	prune_records();
}

__attribute__((constructor)) static void lib_init(void)
{
	pthread_condattr_t ca;
	if (pthread_condattr_init(&ca) == 0) {
		if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0)
			pthread_cond_init(&nuwa_reg_cond, &ca);
		pthread_condattr_destroy(&ca);
	}
	if (pthread_atfork(atfork_prepare, atfork_parent, atfork_child) != 0) {
		nuwa_log("pthread_atfork failed: fork() would not be safe");
		abort();
	}
}

static void rec_exit(void *p)
{
	struct thread_rec *rec = p, **pp;
	pthread_mutex_lock(&nuwa_reg_lock);
	/* A contract made for this thread names its record's serial, so it
	 * does not cover a later thread that gets the same pthread_t. */
	for (pp = &nuwa_threads; *pp; pp = &(*pp)->next) {
		if (*pp == rec) {
			*pp = rec->next;
			break;
		}
	}
	pthread_cond_broadcast(&nuwa_reg_cond);
	pthread_mutex_unlock(&nuwa_reg_lock);
	free(rec);
}

static void make_key(void)
{
	if (pthread_key_create(&rec_key, rec_exit) != 0)
		abort(); /* cannot track threads at all: refuse to run */
}

pthread_create_fn nuwa_real_pthread_create(void)
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
	pthread_mutex_lock(&nuwa_reg_lock);
	rec->id = pthread_self();
	rec->has_id = 1;
	rec->tid = nuwa_gettid();
	pthread_cond_broadcast(&nuwa_reg_cond);
	pthread_mutex_unlock(&nuwa_reg_lock);
	/* Without it the registry would keep a dead thread's record. */
	if (pthread_setspecific(rec_key, rec) != 0)
		nuwa_log("thread %d: exit not tracked", (int)rec->tid);
	return rec->start(rec->arg);
}

int nuwa_spawn(pthread_t *out, const pthread_attr_t *attr, void *(*start)(void *),
	       void *arg, enum thread_kind kind)
{
	pthread_create_fn create = nuwa_real_pthread_create();
	struct thread_rec *rec, **pp;
	int rc;

	pthread_once(&key_once, make_key);
	rec = calloc(1, sizeof *rec);
	if (!rec)
		return EAGAIN;
	rec->start = start;
	rec->arg = arg;
	rec->kind = kind;
	pthread_mutex_lock(&nuwa_reg_lock);
	rec->serial = ++next_serial;
	rec->next = nuwa_threads;
	nuwa_threads = rec;
	pthread_mutex_unlock(&nuwa_reg_lock);
	rc = create(out, attr, trampoline, rec);
	if (rc == 0) {
		pthread_mutex_lock(&nuwa_reg_lock);
		/* The thread may have ended already and freed REC. */
		for (pp = &nuwa_threads; *pp && *pp != rec; pp = &(*pp)->next)
			;
		if (*pp) {
			rec->id = *out;
			rec->has_id = 1;
		}
		pthread_mutex_unlock(&nuwa_reg_lock);
	} else {
		pthread_mutex_lock(&nuwa_reg_lock);
		for (pp = &nuwa_threads; *pp; pp = &(*pp)->next) {
			if (*pp == rec) {
				*pp = rec->next;
				break;
			}
		}
		pthread_mutex_unlock(&nuwa_reg_lock);
		free(rec);
	}
	return rc;
}

/* Interposes the C library's pthread_create: every thread is registered,
 * unmarked until someone marks it. */
int pthread_create(pthread_t *thread, const pthread_attr_t *attr,
		   void *(*start)(void *), void *arg)
{
	return nuwa_spawn(thread, attr, start, arg, KIND_UNMARKED);
}
