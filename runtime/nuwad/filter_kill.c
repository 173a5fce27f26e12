/* A process killed by SECCOMP_RET_KILL_PROCESS runs no signal handler (the
 * kernel ends it at once; SIGSYS is only its exit status), so nuwad reads
 * the audit record the kernel writes for every such kill (seccomp's
 * actions_logged has kill_process by default; without auditd the record
 * goes to the kernel log, /dev/kmsg): "audit: type=1326 ... pid=PID ...
 * syscall=NR ...". The record is written by the kernel's audit thread, so
 * it may come after the exit status: reports wait for it briefly. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "filter_kill.h"
#include "nuwad.h"

#define WAIT_US 2000000
#define SEEN_MAX 32
#define PENDING_MAX 16

static const struct {
	long nr;
	const char *name;
} names[] = {
#include "syscall_names.h"
#ifdef __ARM_NR_cacheflush
	{ __ARM_NR_cacheflush, "ARM_cacheflush" },
#endif
#ifdef __ARM_NR_set_tls
	{ __ARM_NR_set_tls, "ARM_set_tls" },
#endif
};

static int kmsg = -1;
static char kmsg_error[64];
static struct { pid_t pid; long nr; } seen[SEEN_MAX];
static unsigned nseen;
static struct { pid_t pid; char name[NUWA_NAME_MAX]; int64_t deadline; } pending[PENDING_MAX];

const char *syscall_name(long nr)
{
	size_t i;
	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (names[i].nr == nr)
			return names[i].name;
	return NULL;
}

void filter_kill_init(void)
{
	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg < 0) {
		snprintf(kmsg_error, sizeof kmsg_error, "/dev/kmsg: %s", strerror(errno));
		return;
	}
	if (lseek(kmsg, 0, SEEK_END) < 0) {
		snprintf(kmsg_error, sizeof kmsg_error, "/dev/kmsg: %s", strerror(errno));
		close(kmsg);
		kmsg = -1;
	}
}

/* The value of " KEY=" in REC as a number, or -1. */
static long field(const char *rec, const char *key)
{
	char pat[32];
	const char *p;
	snprintf(pat, sizeof pat, " %s=", key);
	p = strstr(rec, pat);
	return p ? strtol(p + strlen(pat), NULL, 10) : -1;
}

/* Read the records written since the last call; remember seccomp kills. */
static void scan(void)
{
	char rec[2048];
	int budget = 4096;
	while (kmsg >= 0 && budget-- > 0) {
		ssize_t n = read(kmsg, rec, sizeof rec - 1);
		if (n < 0 && errno == EPIPE)
			continue; /* records overwritten meanwhile: go on */
		if (n <= 0)
			break;
		rec[n] = 0;
		if (strstr(rec, "type=1326") && field(rec, "pid") > 0) {
			seen[nseen % SEEN_MAX].pid = (pid_t)field(rec, "pid");
			seen[nseen % SEEN_MAX].nr = field(rec, "syscall");
			nseen++;
		}
	}
}

static int lookup(pid_t pid, char *out, size_t cap)
{
	unsigned i;
	for (i = 0; i < SEEN_MAX && i < nseen; i++)
		if (seen[i].pid == pid) {
			const char *n = syscall_name(seen[i].nr);
			snprintf(out, cap, "system call %s (%ld)", n ? n : "?", seen[i].nr);
			return 1;
		}
	return 0;
}

int filter_kill_reaped(const char *name, pid_t pid, char *out, size_t cap)
{
	int i;
	scan();
	if (lookup(pid, out, cap))
		return 1;
	for (i = 0; i < PENDING_MAX; i++)
		if (!pending[i].pid)
			break;
	if (kmsg < 0 || i == PENDING_MAX) {
		snprintf(out, cap, "system call unknown (%s)",
			 kmsg < 0 ? kmsg_error : "too many kills at once");
		return 1;
	}
	pending[i].pid = pid;
	snprintf(pending[i].name, sizeof pending[i].name, "%s", name);
	pending[i].deadline = nuwad_now_us() + WAIT_US;
	snprintf(out, cap, "the system call follows in a later line");
	return 0;
}

void filter_kill_timers(int64_t now, int64_t *next)
{
	char call[128];
	int i, any = 0;
	for (i = 0; i < PENDING_MAX; i++)
		any |= pending[i].pid != 0;
	if (!any)
		return;
	scan();
	for (i = 0; i < PENDING_MAX; i++) {
		if (!pending[i].pid)
			continue;
		if (lookup(pending[i].pid, call, sizeof call)) {
			nuwad_log("app %s (pid %d): the seccomp filter killed it for %s", pending[i].name,
				  (int)pending[i].pid, call);
		} else if (now >= pending[i].deadline) {
			nuwad_log("app %s (pid %d): the seccomp filter killed it; system call unknown "
				  "(no audit record in the kernel log within 2 s)", pending[i].name,
				  (int)pending[i].pid);
		} else {
			/* Poll the log every 20 ms until then. */
			if (now + 20000 < *next)
				*next = now + 20000;
			continue;
		}
		pending[i].pid = 0;
	}
}
