/*
 * The freeze (nuwa_freeze): brings the template to its quiescent state —
 * every contract's stop hook run, every worker returned to a safe point and
 * joined, no thread left but the caller, every fd accounted for, free heap
 * given back — or fails naming what is in the way (a thread, its start
 * routine, an fd) and puts back what it had stopped.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "thread_internal.h"

static long trim_released;

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

/* Caller holds nuwa_reg_lock. Counts threads that prevent the freeze and,
 * when ERR is given, describes them. */
static int stragglers(char *err, size_t cap)
{
	struct thread_rec *r;
	int n = nuwa_workers_running(err, cap);
	DIR *d;
	struct dirent *de;

	for (r = nuwa_threads; r; r = r->next) {
		const char *c;
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
			c = nuwa_contract_covering(r);
			if (c)
				nuwa_append(err, cap, "; thread '%s' (tid %d, start %s) still runs after the stop hook of '%s' returned",
				       comm, (int)r->tid, sym, c);
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
			for (r = nuwa_threads; r && !known; r = r->next)
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
	for (r = nuwa_threads; r; r = r->next)
		if (r->kind == KIND_WORKER)
			return 0;
	return 1;
}

/* Caller holds nuwa_reg_lock. Put back what a failed freeze had stopped. */
static void unfreeze(void)
{
	char why[512];
	nuwa_workers_unfreeze();
	pthread_mutex_unlock(&nuwa_reg_lock);
	if (nuwa_contracts_restart(why, sizeof why) < 0)
		nuwa_log("after a failed freeze: %s", why);
	pthread_mutex_lock(&nuwa_reg_lock);
	nuwa_contracts_forget_stopped();
}

int nuwa_freeze(int timeout_ms, char *err, size_t errlen)
{
	int64_t deadline;
	char dummy[1];

	if (!err || errlen == 0) {
		err = dummy;
		errlen = sizeof dummy;
	}
	err[0] = 0;
	if (getpid() != nuwa_gettid()) {
		snprintf(err, errlen, "nuwa_freeze must be called from the main thread");
		errno = EPERM;
		return -1;
	}
	if (timeout_ms <= 0)
		timeout_ms = NUWA_FREEZE_TIMEOUT_MS;
	pthread_mutex_lock(&nuwa_reg_lock);
	if (nuwa_frozen) {
		pthread_mutex_unlock(&nuwa_reg_lock);
		snprintf(err, errlen, "already frozen");
		errno = EALREADY;
		return -1;
	}
	pthread_mutex_unlock(&nuwa_reg_lock);

	nuwa_hooks_run(NUWA_HOOK_BEFORE_FREEZE);
	deadline = nuwa_now_ms() + timeout_ms;
	pthread_mutex_lock(&nuwa_reg_lock);
	{
		char why[1024] = "";
		if (nuwa_contracts_stop(deadline, why, sizeof why) < 0) {
			snprintf(err, errlen, "freeze failed: %s", why);
			unfreeze();
			pthread_mutex_unlock(&nuwa_reg_lock);
			errno = ETIMEDOUT;
			return -1;
		}
	}
	nuwa_workers_ask_freeze();
	for (;;) {
		struct timespec ts;
		if (stragglers(NULL, 0) == 0)
			break;
		if (nuwa_now_ms() >= deadline) {
			char why[3072] = "";
			stragglers(why, sizeof why);
			snprintf(err, errlen, "freeze failed after %d ms%s", timeout_ms, why);
			unfreeze();
			pthread_mutex_unlock(&nuwa_reg_lock);
			errno = ETIMEDOUT;
			return -1;
		}
		pthread_mutex_unlock(&nuwa_reg_lock);
		nuwa_workers_kick_freezing();
		pthread_mutex_lock(&nuwa_reg_lock);
		nuwa_deadline_in(&ts, 2);
		nuwa_cond_timedwait_mono(&nuwa_reg_cond, &nuwa_reg_lock, &ts);
	}
	/* Every worker has returned: join the threads so nothing runs beside
	 * us. */
	nuwa_workers_join_all();
	while (!frozen_worker_threads_gone())
		pthread_cond_wait(&nuwa_reg_cond, &nuwa_reg_lock);
	/* No worker thread is left: their wake eventfds go (each process
	 * makes its own when a worker starts), so the inventory below has
	 * five fewer fds and no child inherits the template's. */
	nuwa_workers_drop_wakes();
	{
		/* Single-threaded now: every fd must be accounted for. */
		char why[3072] = "";
		if (nuwa_fds_freeze_check(why, sizeof why) > 0) {
			snprintf(err, errlen, "freeze failed: fd inventory%s", why);
			unfreeze();
			pthread_mutex_unlock(&nuwa_reg_lock);
			errno = EBADF;
			return -1;
		}
	}
	/* Give freed heap back before the children share it (Android saw
	 * 40-128 KiB of private dirty memory per process saved this way). */
	trim_released = nuwa_trim_heap();
	nuwa_frozen = 1;
	pthread_mutex_unlock(&nuwa_reg_lock);
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
	pthread_mutex_lock(&nuwa_reg_lock);
	f = nuwa_frozen;
	pthread_mutex_unlock(&nuwa_reg_lock);
	return f;
}

