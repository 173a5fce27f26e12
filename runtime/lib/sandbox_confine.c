/* The sandbox's identity and confinement steps. Credentials, no_new_privs
 * and Landlock domains are per thread in the kernel, and frameworks run
 * worker threads (which may run app jobs). So every thread confines itself
 * in one round: libnuwa signals each thread listed in /proc/self/task and
 * its handler makes the raw system calls (the C library's own setuid
 * broadcast would cost a round per call); passes repeat until no thread is
 * left unconfined (threads made meanwhile by a confined thread inherit
 * everything). The calling thread confines itself last; seccomp's TSYNC
 * then covers all. The handler's inputs are this file's statics, since a
 * signal handler takes no arguments. */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "sandbox_steps.h"

#ifdef __NR_setresuid32
#define SB_NR_SETRESUID __NR_setresuid32
#define SB_NR_SETRESGID __NR_setresgid32
#define SB_NR_SETGROUPS __NR_setgroups32
#else
#define SB_NR_SETRESUID __NR_setresuid
#define SB_NR_SETRESGID __NR_setresgid
#define SB_NR_SETGROUPS __NR_setgroups
#endif
#ifdef __NR_getgroups32
#define SB_GID_T uint32_t
#else
#define SB_GID_T gid_t
#endif
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif
/* Every securebit that keeps root special or capabilities alive, locked. */
#define SB_SECUREBITS (SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP_LOCKED | \
		       SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE | \
		       SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED)
#define SB_MAX_THREADS 256
static NUWA_CHILD_RW volatile int sb_ruleset = -1;
static NUWA_CHILD_RW volatile int sb_set_ids;
static NUWA_CHILD_RW volatile long sb_uid = -1, sb_gid = -1;
static NUWA_CHILD_RW SB_GID_T sb_groups[NUWA_SANDBOX_MAX_GROUPS];
static NUWA_CHILD_RW uint64_t sb_bounding;  /* capabilities still in the bounding set */
static NUWA_CHILD_RW volatile int sb_ngroups;
static volatile pid_t sb_done[SB_MAX_THREADS];
static volatile int sb_ndone;
static volatile int sb_failed;

int nuwa_sandbox_drop_bounding(void)
{
	int cap;
	if (geteuid() != 0)
		return 0;
	for (cap = 0; cap < 64; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
			if (errno == EINVAL)
				return 0; /* past the kernel's last capability */
			return -1;
		}
	return 0;
}

/* The bounding set every thread has (it is inherited and nothing here
 * changes it but the sandbox): CapBnd of the calling thread, one read
 * instead of a drop call per capability per thread. All bits if unknown. */
uint64_t nuwa_sb_bounding_set(void)
{
	char buf[4096], *p;
	ssize_t n;
	int fd = open("/proc/thread-self/status", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ~0ULL;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return ~0ULL;
	buf[n] = 0;
	p = strstr(buf, "CapBnd:");
	return p ? strtoull(p + 7, NULL, 16) : ~0ULL;
}

int nuwa_sb_identity(struct nuwa_sb_apply *a)
{
	const struct nuwa_sandbox_conf *c = a->c;
	struct nuwa_sb_identity *id = &a->id;

	memset(id, 0, sizeof *id);
	id->uid = c->uid;
	id->gid = c->gid >= 0 ? c->gid : c->uid; /* never root's group by default */
	id->ruleset = a->ruleset >= 0 ? a->ruleset : -1;
	if (c->ngroups < 0 || c->ngroups > NUWA_SANDBOX_MAX_GROUPS)
		return nuwa_sb_fail(a->err, a->errlen, "more than %d supplementary groups",
				    NUWA_SANDBOX_MAX_GROUPS);
	id->groups = c->groups;
	id->ngroups = c->ngroups;
	if (geteuid() != 0) {
		/* Not permitted (native run as a user): log it and keep the ids;
		 * Landlock and seccomp still separate the app. */
		nuwa_sb_note(&a->st, a->app, "not root: uid/gid %ld/%ld not applied", c->uid, id->gid);
		return 0;
	}
	if (c->uid <= 0)
		return nuwa_sb_fail(a->err, a->errlen, "no uid for the app: refusing to run it as "
				    "root (set uid, or [daemon] app_uids)");
	id->set_ids = 1;
	/* Inherited unchanged from the template, which read it. */
	id->bounding = a->prepared->bounding_known ? a->prepared->bounding : nuwa_sb_bounding_set();
	return 0;
}

/* Async-signal-safe: raw system calls only. 0 or an errno. */
static int confine_thread(void)
{
	if (sb_set_ids) {
		struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
		struct __user_cap_data_struct none[2];
		int cap;
		/* While still root (CAP_SETPCAP): lock the securebits, so that
		 * uid 0 regains nothing through exec or setuid, and empty the
		 * bounding and ambient sets. */
		if (syscall(SYS_prctl, PR_SET_SECUREBITS, (long)SB_SECUREBITS, 0L, 0L, 0L) < 0)
			return errno;
		for (cap = 0; cap < 64; cap++)
			if ((sb_bounding >> cap) & 1 &&
			    syscall(SYS_prctl, PR_CAPBSET_DROP, (long)cap, 0L, 0L, 0L) < 0 &&
			    errno != EINVAL)
				return errno;
		if (syscall(SYS_prctl, PR_CAP_AMBIENT, (long)PR_CAP_AMBIENT_CLEAR_ALL, 0L, 0L, 0L) < 0 &&
		    errno != EINVAL)
			return errno;
		if (syscall(SB_NR_SETGROUPS, (long)sb_ngroups, sb_groups) < 0)
			return errno;
		if (sb_gid >= 0 && syscall(SB_NR_SETRESGID, sb_gid, sb_gid, sb_gid) < 0)
			return errno;
		if (sb_uid >= 0 && syscall(SB_NR_SETRESUID, sb_uid, sb_uid, sb_uid) < 0)
			return errno;
		/* The uid change cleared the permitted and effective sets; this
		 * clears the inheritable one too. */
		memset(none, 0, sizeof none);
		if (syscall(SYS_capset, &hdr, none) < 0)
			return errno;
	}
	if (syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) < 0)
		return errno;
	if (sb_ruleset >= 0 && syscall(__NR_landlock_restrict_self, sb_ruleset, 0) < 0)
		return errno;
	return 0;
}

static void confine_handler(int sig)
{
	int i, e = errno, rc;
	(void)sig;
	rc = confine_thread();
	if (rc)
		__atomic_store_n(&sb_failed, rc, __ATOMIC_SEQ_CST);
	i = __atomic_fetch_add(&sb_ndone, 1, __ATOMIC_SEQ_CST);
	if (i < SB_MAX_THREADS)
		sb_done[i] = (pid_t)syscall(SYS_gettid);
	errno = e;
}

static int thread_done(pid_t tid)
{
	int i, n = __atomic_load_n(&sb_ndone, __ATOMIC_SEQ_CST);
	for (i = 0; i < n && i < SB_MAX_THREADS; i++)
		if (sb_done[i] == tid)
			return 1;
	return 0;
}

/* Nonzero when thread TID blocks SIG (SigBlk in its status). */
static int thread_blocks(pid_t tid, int sig, char *name, size_t namelen)
{
	char path[64], buf[2048], *p;
	unsigned long long mask = 0;
	ssize_t n;
	int fd;

	snprintf(name, namelen, "?");
	snprintf(path, sizeof path, "/proc/self/task/%d/status", (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	if (!strncmp(buf, "Name:", 5)) {
		p = buf + 5 + strspn(buf + 5, " \t");
		snprintf(name, namelen, "%.*s", (int)strcspn(p, "\n"), p);
	}
	p = strstr(buf, "SigBlk:");
	if (p)
		mask = strtoull(p + 7, NULL, 16);
	return sig <= 64 && (mask >> (sig - 1)) & 1;
}

int nuwa_sb_task_dir_open(void)
{
	return open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* The one walk of /proc/self/task: EACH(tid, ARG) for every thread listed
 * but the caller, until it returns nonzero. FD is a /proc/self/task opened
 * earlier (read again from the start: it lists the threads there are now;
 * the lookup of a new pid's /proc directory is most of the cost), taken
 * and closed, or -1: opened now. Raw getdents64 into a stack buffer:
 * opendir's heap buffer would grow a spare's freshly trimmed heap. 0,
 * EACH's nonzero value, or -1 with errno. */
static int each_other_thread(int fd, int (*each)(pid_t tid, void *arg), void *arg)
{
	char buf[1024];
	pid_t self = (pid_t)syscall(SYS_gettid);
	long n = 0;
	int stop = 0, e;

	if (fd >= 0 && lseek(fd, 0, SEEK_SET) != 0) {
		close(fd);
		fd = -1;
	}
	if (fd < 0)
		fd = nuwa_sb_task_dir_open();
	if (fd < 0)
		return -1;
	while (!stop && (n = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
		long off = 0;
		while (!stop && off < n) {
			/* struct linux_dirent64: u64 ino, s64 off, u16 reclen, u8 type, name */
			unsigned short reclen;
			pid_t tid = (pid_t)atoi(buf + off + 19);
			memcpy(&reclen, buf + off + 16, sizeof reclen);
			if (tid > 0 && tid != self)
				stop = each(tid, arg);
			off += reclen;
		}
	}
	e = errno;
	close(fd);
	if (n < 0 && !stop) {
		errno = e;
		return -1;
	}
	return stop;
}

static int found(pid_t tid, void *arg)
{
	(void)tid;
	(void)arg;
	return 1;
}

/* One pass of the round: every thread not yet signalled gets SIG. */
struct round {
	pid_t signalled[SB_MAX_THREADS];
	int nsig, fresh, sig, rc;
	pid_t pid;
	char *err;
	size_t errlen;
};

static int signal_thread(pid_t tid, void *arg)
{
	struct round *r = arg;
	int k;
	for (k = 0; k < r->nsig; k++)
		if (r->signalled[k] == tid)
			return 0; /* signalled once only: each call stacks a layer */
	if (r->nsig == SB_MAX_THREADS) {
		r->rc = nuwa_sb_fail(r->err, r->errlen, "confine: more than %d threads", SB_MAX_THREADS);
	} else if (syscall(SYS_tgkill, r->pid, tid, r->sig) == 0) {
		/* A thread that blocks the signal (a new thread does, briefly,
		 * while the C library starts it) gets it when it unblocks; one
		 * that never does is named below. */
		r->signalled[r->nsig++] = tid;
		r->fresh++;
	} else if (errno != ESRCH) {
		r->rc = nuwa_sb_fail(r->err, r->errlen, "confine: signal thread %d: %s", (int)tid,
				     strerror(errno));
	}
	return r->rc;
}

/* Wait until every signalled thread has answered. Yield first: on one CPU
 * the handlers run as soon as we let them, and a timed sleep would cost a
 * scheduler tick. Threads that exit meanwhile never answer: the deadline
 * check names them only if they are still there. */
static void wait_answers(struct round *r, int64_t deadline)
{
	char name[64];
	int k, i;

	for (k = 0; __atomic_load_n(&sb_ndone, __ATOMIC_SEQ_CST) < r->nsig; k++) {
		struct timespec ts = { 0, 200000 };
		if (nuwa_now_ms() > deadline) {
			for (i = 0; i < r->nsig; i++) {
				char path[64];
				snprintf(path, sizeof path, "/proc/self/task/%d", (int)r->signalled[i]);
				if (!thread_done(r->signalled[i]) && access(path, F_OK) == 0) {
					int blocks = thread_blocks(r->signalled[i], r->sig, name, sizeof name);
					r->rc = nuwa_sb_fail(r->err, r->errlen, "confine: thread %d (%s) %s, "
							     "so it cannot be confined",
							     (int)r->signalled[i], name,
							     blocks ? "keeps signal SIGRTMAX-1 blocked"
								    : "did not answer within 2 s");
					break;
				}
			}
			return;
		}
		if (k < 2000)
			sched_yield();
		else
			nanosleep(&ts, NULL);
	}
}

int nuwa_sb_confine_others(struct nuwa_sb_apply *a)
{
	static struct round r;
	const struct nuwa_sb_identity *id = &a->id;
	struct sigaction sa, old;
	int64_t deadline = nuwa_now_ms() + 2000;
	int task_fd = a->prepared->task_fd, i;

	a->prepared->task_fd = -1;
	sb_set_ids = id->set_ids;
	sb_uid = id->uid;
	sb_gid = id->gid;
	sb_ruleset = id->ruleset;
	sb_ngroups = id->ngroups;
	for (i = 0; i < id->ngroups; i++)
		sb_groups[i] = (SB_GID_T)id->groups[i];
	sb_bounding = id->bounding;
	a->mark = "sandbox_alone";
	/* A template child is alone here (nuwa_fork_defer_threads): no round.
	 * No thread can appear meanwhile: only this one could make it. */
	if (each_other_thread(task_fd, found, NULL) == 0)
		return 0;
	memset(&r, 0, sizeof r);
	r.sig = SIGRTMAX - 1;
	r.pid = getpid();
	r.err = a->err;
	r.errlen = a->errlen;
	sb_ndone = 0;
	sb_failed = 0;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = confine_handler;
	sa.sa_flags = SA_RESTART;
	sigfillset(&sa.sa_mask);
	if (sigaction(r.sig, &sa, &old) < 0)
		return nuwa_sb_fail(a->err, a->errlen, "confine: sigaction: %s", strerror(errno));
	while (!r.rc) {
		r.fresh = 0;
		if (each_other_thread(-1, signal_thread, &r) < 0 && !r.rc)
			r.rc = nuwa_sb_fail(a->err, a->errlen, "confine: /proc/self/task: %s",
					    strerror(errno));
		if (r.rc || !r.fresh)
			break;
		wait_answers(&r, deadline);
	}
	if (!r.rc && sb_failed)
		r.rc = nuwa_sb_fail(a->err, a->errlen, "confine: a thread could not confine itself: %s",
				    strerror(sb_failed));
	if (sigaction(r.sig, &old, NULL) < 0 && !r.rc)
		r.rc = nuwa_sb_fail(a->err, a->errlen, "confine: sigaction restore: %s",
				    strerror(errno));
	if (r.rc < 0)
		return -1;
	a->st.threads_signalled = r.nsig;
	a->mark = r.nsig > 0 ? "sandbox_other_threads" : "sandbox_alone";
	return 0;
}

int nuwa_sb_confine_self(struct nuwa_sb_apply *a)
{
	int e = confine_thread();
	if (e)
		return nuwa_sb_fail(a->err, a->errlen, "confine: %s", strerror(e));
	a->st.uid_set = sb_set_ids;
	a->st.no_new_privs = 1;
	a->st.landlock_abi = a->ruleset >= 0 ? a->abi : 0;
	return 0;
}
