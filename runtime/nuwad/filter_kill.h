/* Naming the system call of an app the seccomp filter killed. */
#ifndef NUWAD_FILTER_KILL_H
#define NUWAD_FILTER_KILL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Start reading the kernel log from its end (nuwad start). */
void filter_kill_init(void);
/* App NAME (PID) died of SIGSYS: log the system call that killed it as soon
 * as the kernel's audit record is seen (at most 2 s later). If it is known
 * already, "system call NAME (NR)" is written to OUT and 1 returned. */
int filter_kill_reaped(const char *name, pid_t pid, char *out, size_t cap);
/* From the main loop: resolve pending reports; *NEXT lowered to the next
 * time this wants to run. */
void filter_kill_timers(int64_t now_us, int64_t *next_us);

/* The name of system call NR of this build's architecture, or NULL. */
const char *syscall_name(long nr);

#endif
