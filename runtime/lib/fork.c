/*
 * The fork (nuwa_fork, nuwa_fork_defer_threads) and the child's rebuild:
 * fds, epoll sets and seeds renewed and the BEFORE_THREADS hooks run while
 * the child is single-threaded (so it can be confined with plain system
 * calls), then its threads started — workers, contracts' restart hooks —
 * when the host calls nuwa_child_start_threads() (docs/runtime.md "Fork").
 */
#include <errno.h>
#include <unistd.h>

#include "thread_internal.h"

static NUWA_CHILD_RW int is_child;
static NUWA_CHILD_RW char child_error[512];

int nuwa_is_child(void)
{
	return is_child;
}

const char *nuwa_child_error(void)
{
	return child_error[0] ? child_error : NULL;
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
	is_child = 1;
	child_error[0] = 0;
	nuwa_phase_reset(); /* the template's own marks, if any */
	nuwa_phase_mark("child_running");
	nuwa_fds_child_rebuild();
	nuwa_phase_mark("fds_rebuilt");
	nuwa_seed_child();
	nuwa_phase_mark("reseeded");
	pthread_mutex_lock(&nuwa_reg_lock);
	nuwa_workers_child_reset();
	nuwa_threads_pending = 1;
	pthread_mutex_unlock(&nuwa_reg_lock);
	/* After nuwa_threads_pending: a hook's nuwa_worker_demand() is kept for
	 * nuwa_child_start_threads(). */
	nuwa_hooks_run(NUWA_HOOK_CHILD_BEFORE_THREADS);
}

int nuwa_child_threads_pending(void)
{
	int p;
	pthread_mutex_lock(&nuwa_reg_lock);
	p = nuwa_threads_pending;
	pthread_mutex_unlock(&nuwa_reg_lock);
	return p;
}

int nuwa_child_start_threads(void)
{
	pthread_mutex_lock(&nuwa_reg_lock);
	if (!nuwa_threads_pending) {
		pthread_mutex_unlock(&nuwa_reg_lock);
		return child_error[0] ? -1 : 0;
	}
	nuwa_threads_pending = 0;
	nuwa_frozen = 0;
	nuwa_workers_child_start();
	pthread_mutex_unlock(&nuwa_reg_lock);
	if (nuwa_contracts_restart(child_error, sizeof child_error) < 0)
		nuwa_log("%s", child_error);
	nuwa_hooks_run(NUWA_HOOK_CHILD_AFTER_THREADS);
	nuwa_phase_mark("threads_recreated");
	return child_error[0] ? -1 : 0;
}

pid_t nuwa_fork_defer_threads(void)
{
	pid_t pid;

	pthread_mutex_lock(&nuwa_reg_lock);
	if (!nuwa_frozen || nuwa_threads_pending) {
		pthread_mutex_unlock(&nuwa_reg_lock);
		errno = EINVAL;
		return -1;
	}
	pthread_mutex_unlock(&nuwa_reg_lock);
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
