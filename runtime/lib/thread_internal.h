/* The internals shared by the files of libnuwa's thread handling, one job
 * each: registry.c (every thread's record, the registry lock, the
 * process's frozen/pending state), workers.c (nuwa_worker_*), contracts.c
 * (stop/restart hooks of other threads), freeze.c (nuwa_freeze) and
 * fork.c (nuwa_fork and the child's rebuild). Calls go one way only:
 * freeze.c and fork.c call workers.c and contracts.c, and all four call
 * registry.c; registry.c calls none of them. */
#ifndef NUWA_THREAD_INTERNAL_H
#define NUWA_THREAD_INTERNAL_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include "internal.h"

/* ---- registry.c ---------------------------------------------------- */

enum thread_kind { KIND_UNMARKED, KIND_WORKER, KIND_INTERNAL };

struct thread_rec {
	pthread_t id;
	int has_id;                /* id is valid (set by spawn or the thread) */
	pid_t tid;                 /* 0 until the thread has started */
	void *(*start)(void *);
	void *arg;
	enum thread_kind kind;
	/* Unique per record: a contract made for one thread names it, so it
	 * never covers a later thread that gets the same pthread_t. */
	uint64_t serial;
	struct thread_rec *next;
};

typedef int (*pthread_create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

/* Guards the records, the flags below and the workers' and contracts'
 * lists; held across fork() (atfork). */
NUWA_HIDDEN extern pthread_mutex_t nuwa_reg_lock;
/* Broadcast under nuwa_reg_lock when a thread starts or ends and when a
 * worker's run function returns. Monotonic (nuwa_cond_timedwait_mono). */
NUWA_HIDDEN extern pthread_cond_t nuwa_reg_cond;
/* Every thread made through pthread_create, newest first. */
NUWA_HIDDEN extern struct thread_rec *nuwa_threads;
/* The template is frozen: no new thread (cleared when a child starts its
 * threads). */
NUWA_HIDDEN extern int nuwa_frozen;
/* Set between a deferred fork and nuwa_child_start_threads(). */
NUWA_HIDDEN extern int nuwa_threads_pending;

/* The calling thread's kernel id. */
NUWA_HIDDEN pid_t nuwa_gettid(void);
/* The C library's pthread_create (ours interposes it). */
NUWA_HIDDEN pthread_create_fn nuwa_real_pthread_create(void);
/* Create a thread recorded as KIND. Like pthread_create. */
NUWA_HIDDEN int nuwa_spawn(pthread_t *out, const pthread_attr_t *attr,
			   void *(*start)(void *), void *arg, enum thread_kind kind);

/* ---- workers.c: what the freeze and the fork do to workers ---------- */
/* All with nuwa_reg_lock held unless said otherwise. */

/* Ask every running worker to return from its run function (freeze). */
NUWA_HIDDEN void nuwa_workers_ask_freeze(void);
/* Wake the workers asked to freeze (lock not held). */
NUWA_HIDDEN void nuwa_workers_kick_freezing(void);
/* Workers still in their run function; each described in ERR if given. */
NUWA_HIDDEN int nuwa_workers_running(char *err, size_t cap);
/* Join every ended worker thread (lock released meanwhile). */
NUWA_HIDDEN void nuwa_workers_join_all(void);
/* Close the wake eventfds of the joined workers: each process makes its
 * own when a worker starts. */
NUWA_HIDDEN void nuwa_workers_drop_wakes(void);
/* After a failed freeze: start again the workers it had stopped. */
NUWA_HIDDEN void nuwa_workers_unfreeze(void);
/* In a fork child: forget the template's threads; on-demand workers wait
 * for their first demand. */
NUWA_HIDDEN void nuwa_workers_child_reset(void);
/* In a fork child: start the workers that ran in the template or were
 * demanded meanwhile (aborts if one cannot start). */
NUWA_HIDDEN void nuwa_workers_child_start(void);

/* ---- contracts.c --------------------------------------------------- */

/* The name of the contract covering REC, or NULL (lock held). */
NUWA_HIDDEN const char *nuwa_contract_covering(const struct thread_rec *rec);
/* Run the stop hooks of contracts covering a live thread, newest
 * registration first (lock held, released while each hook runs). 0, or
 * -1 with ERR. */
NUWA_HIDDEN int nuwa_contracts_stop(int64_t deadline, char *err, size_t errlen);
/* Run the restart hooks of stopped contracts, oldest first (lock not
 * held). 0, or -1 with the first failure in ERR. */
NUWA_HIDDEN int nuwa_contracts_restart(char *err, size_t errlen);
/* Forget which contracts the last (failed) freeze stopped (lock held). */
NUWA_HIDDEN void nuwa_contracts_forget_stopped(void);

#endif
