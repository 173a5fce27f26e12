/* libnuwa internals shared between its source files. */
#ifndef NUWA_INTERNAL_H
#define NUWA_INTERNAL_H

#include <time.h>

#include "nuwa.h"

#define NUWA_HIDDEN __attribute__((visibility("hidden")))

/* libnuwa's state that every template child writes (locks re-made after
 * the fork, the child's flags, phase marks, seeds, sandbox ids, the crash
 * fd): kept together in one section, so a child copies one page of
 * libnuwa's data instead of one per source file (docs/benchmarks.md
 * "Workers on first use, fewer mappings"). */
#define NUWA_CHILD_RW __attribute__((section("nuwa_child_rw")))

/* log_clock.c: log one line to stderr, prefixed "libnuwa[PID]: ". */
NUWA_HIDDEN void nuwa_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log_clock.c: append printf-style text to the NUL-terminated BUF of CAP bytes;
 * what does not fit is cut. */
NUWA_HIDDEN void nuwa_append(char *buf, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* log_clock.c: monotonic milliseconds. */
NUWA_HIDDEN int64_t nuwa_now_ms(void);
/* log_clock.c: milliseconds from now to DEADLINE (nuwa_now_ms() time), 0 when
 * past; -1 (wait for ever) when DEADLINE is negative. */
NUWA_HIDDEN int nuwa_ms_left(int64_t deadline);
/* log_clock.c: TS = CLOCK_MONOTONIC now + MS. */
NUWA_HIDDEN void nuwa_deadline_in(struct timespec *ts, long ms);
/* log_clock.c: wait on C until the CLOCK_MONOTONIC time TS. */
NUWA_HIDDEN int nuwa_cond_timedwait_mono(pthread_cond_t *c, pthread_mutex_t *m,
					 const struct timespec *ts);

/* fds.c: called in the child, before threads exist. */
NUWA_HIDDEN void nuwa_fds_child_rebuild(void);
/* fds.c: lock held across fork() so no thread is half-way through a change. */
NUWA_HIDDEN void nuwa_fds_lock(void);
NUWA_HIDDEN void nuwa_fds_unlock(void);
/* fds.c: re-make the lock in a fork child (atfork). */
NUWA_HIDDEN void nuwa_fds_atfork_child(void);
/* fds.c: the inventory at freeze (single-threaded): count of fds that are
 * not accounted for, each described in ERR ("; fd N (...) ..."). */
NUWA_HIDDEN int nuwa_fds_freeze_check(char *err, size_t cap);
/* fds.c: close() that bypasses our interposer. */
NUWA_HIDDEN int nuwa_real_close(int fd);

/* seed.c */
NUWA_HIDDEN void nuwa_seed_child(void);

/* hooks.c */
NUWA_HIDDEN void nuwa_hooks_run(enum nuwa_hook_point point);
/* hooks.c: held across fork() like the other registries. */
NUWA_HIDDEN void nuwa_hooks_lock(void);
NUWA_HIDDEN void nuwa_hooks_unlock(void);
NUWA_HIDDEN void nuwa_hooks_atfork_child(void);

#endif
