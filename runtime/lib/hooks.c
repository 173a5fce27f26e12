/* Hooks run at fixed points of freeze and fork. */
#include <errno.h>
#include <string.h>

#include "internal.h"

#define MAX_HOOKS 32

struct hook {
	nuwa_hook_fn fn;
	void *arg;
};

static struct hook hooks[NUWA_HOOK_COUNT][MAX_HOOKS];
static int nhooks[NUWA_HOOK_COUNT];
static NUWA_CHILD_RW pthread_mutex_t hook_lock = PTHREAD_MUTEX_INITIALIZER;

int nuwa_hook_add(enum nuwa_hook_point point, nuwa_hook_fn fn, void *arg)
{
	if ((unsigned)point >= NUWA_HOOK_COUNT || !fn) {
		errno = EINVAL;
		return -1;
	}
	pthread_mutex_lock(&hook_lock);
	if (nhooks[point] == MAX_HOOKS) {
		pthread_mutex_unlock(&hook_lock);
		errno = ENOSPC;
		return -1;
	}
	hooks[point][nhooks[point]].fn = fn;
	hooks[point][nhooks[point]].arg = arg;
	nhooks[point]++;
	pthread_mutex_unlock(&hook_lock);
	return 0;
}

void nuwa_hooks_lock(void)
{
	pthread_mutex_lock(&hook_lock);
}

void nuwa_hooks_unlock(void)
{
	pthread_mutex_unlock(&hook_lock);
}

void nuwa_hooks_atfork_child(void)
{
	pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
	memcpy(&hook_lock, &fresh, sizeof fresh);
}

void nuwa_hooks_run(enum nuwa_hook_point point)
{
	int i, n;
	/* Hooks are added during start-up; no lock while calling them so a
	 * hook may add another. */
	pthread_mutex_lock(&hook_lock);
	n = nhooks[point];
	pthread_mutex_unlock(&hook_lock);
	for (i = 0; i < n; i++)
		hooks[point][i].fn(point, hooks[point][i].arg);
}
