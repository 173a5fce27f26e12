/* The app sandbox: limits, ids, no_new_privs, Landlock, seccomp
 * (nuwa_sandbox.h). Raw syscalls for Landlock and seccomp so no libseccomp
 * or newer C library is needed; kernel UAPI headers give the constants. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "landlock_abi.h"
#include "nuwa_sandbox.h"

#if defined(__x86_64__)
#define SB_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SB_AUDIT_ARCH AUDIT_ARCH_AARCH64
#elif defined(__arm__)
#define SB_AUDIT_ARCH AUDIT_ARCH_ARM
#elif defined(__i386__)
#define SB_AUDIT_ARCH AUDIT_ARCH_I386
#else
#error "nuwa sandbox: unknown architecture for the seccomp filter"
#endif

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SB_ARG_LO(n) ((uint32_t)offsetof(struct seccomp_data, args[n]))
#else
#define SB_ARG_LO(n) ((uint32_t)offsetof(struct seccomp_data, args[n]) + 4)
#endif

#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#endif
#ifndef __NR_landlock_add_rule
#define __NR_landlock_add_rule 445
#endif
#ifndef __NR_landlock_restrict_self
#define __NR_landlock_restrict_self 446
#endif

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static void note(struct nuwa_sandbox_state *st, const char *app, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void note(struct nuwa_sandbox_state *st, const char *app, const char *fmt, ...)
{
	char line[256];
	size_t used = strlen(st->note);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	nuwa_log("sandbox %s: %s", app, line);
	snprintf(st->note + used, sizeof st->note - used, "%s%s", used ? "; " : "", line);
}

/* What a spare did of the sandbox before its request
 * (nuwa_sandbox_spare_prepare): valid in that process only. */
#define SB_SPARE_PATHS 32
static NUWA_CHILD_RW struct {
	pid_t pid;                     /* the spare's; 0: nothing prepared */
	void *progs;                   /* scratch: the two programs for its pid */
	size_t progs_len;
	int ruleset;                   /* with /proc/PID and PATHS, or -1 */
	int task_fd;                   /* its /proc/self/task, or -1 */
	int abi;
	const char *paths[SB_SPARE_PATHS];
	int npaths;
} spare = { 0, NULL, 0, -1, -1, 0, { NULL }, 0 };

static int spare_ready(void)
{
	return spare.pid != 0 && spare.pid == getpid();
}

/* ---- limits --------------------------------------------------------- */

static int set_limit(int res, rlim_t v)
{
	struct rlimit r = { .rlim_cur = v, .rlim_max = v };
	return setrlimit(res, &r);
}

/* ---- Landlock ------------------------------------------------------- */

int nuwa_landlock_abi(void)
{
	long v = syscall(__NR_landlock_create_ruleset, NULL, 0, NUWA_LL_CREATE_RULESET_VERSION);
	return v < 0 ? 0 : (int)v;
}

/* Every file-system right the kernel's ABI knows: all are handled, so
 * anything not granted by a rule is denied. */
static uint64_t fs_rights_for_abi(int abi)
{
	uint64_t r = NUWA_LL_FS_EXECUTE | NUWA_LL_FS_WRITE_FILE | NUWA_LL_FS_READ_FILE |
		     NUWA_LL_FS_READ_DIR | NUWA_LL_FS_REMOVE_DIR | NUWA_LL_FS_REMOVE_FILE |
		     NUWA_LL_FS_MAKE_CHAR | NUWA_LL_FS_MAKE_DIR | NUWA_LL_FS_MAKE_REG |
		     NUWA_LL_FS_MAKE_SOCK | NUWA_LL_FS_MAKE_FIFO | NUWA_LL_FS_MAKE_BLOCK |
		     NUWA_LL_FS_MAKE_SYM;
	if (abi >= 2)
		r |= NUWA_LL_FS_REFER;
	if (abi >= 3)
		r |= NUWA_LL_FS_TRUNCATE;
	if (abi >= 5)
		r |= NUWA_LL_FS_IOCTL_DEV;
	return r;
}

/* Allow TCP RIGHT (bind or connect) on each of the N PORTS. */
static int add_port_rules(int ruleset, uint64_t right, const unsigned short *ports, int n,
			  char *err, size_t errlen)
{
	int i;
	for (i = 0; i < n; i++) {
		struct nuwa_ll_net_port_attr np = { .allowed_access = right, .port = ports[i] };
		if (syscall(__NR_landlock_add_rule, ruleset, NUWA_LL_RULE_NET_PORT, &np, 0) < 0)
			return fail(err, errlen, "landlock: rule for port %u: %s", ports[i],
				    strerror(errno));
	}
	return 0;
}

/* Allow reading beneath PATH. A missing path is not an error (configs list
 * optional trees such as a CA directory); anything else is. */
static int add_read_rule(int ruleset, const char *path, const char *app,
			 struct nuwa_sandbox_state *st, char *err, size_t errlen)
{
	struct nuwa_ll_path_beneath_attr pb;
	struct stat sb;
	int fd = open(path, O_PATH | O_CLOEXEC);

	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR) {
			note(st, app, "readable path %s is absent, skipped", path);
			return 0;
		}
		return fail(err, errlen, "landlock: %s: %s", path, strerror(errno));
	}
	if (fstat(fd, &sb) < 0) {
		int e = errno;
		close(fd);
		return fail(err, errlen, "landlock: stat %s: %s", path, strerror(e));
	}
	memset(&pb, 0, sizeof pb);
	pb.parent_fd = fd;
	/* Directory rights on a non-directory are EINVAL. */
	pb.allowed_access = NUWA_LL_FS_READ_FILE | (S_ISDIR(sb.st_mode) ? NUWA_LL_FS_READ_DIR : 0);
	if (syscall(__NR_landlock_add_rule, ruleset, NUWA_LL_RULE_PATH_BENEATH, &pb, 0) < 0) {
		int e = errno;
		close(fd);
		return fail(err, errlen, "landlock: rule for %s: %s", path, strerror(e));
	}
	close(fd);
	return 0;
}

/* Credentials, no_new_privs and Landlock domains are per thread in the
 * kernel, and frameworks run worker threads (which may run app jobs). So
 * every thread confines itself in one round: libnuwa signals each thread
 * listed in /proc/self/task and its handler makes the raw system calls
 * (the C library's own setuid broadcast would cost a round per call); passes
 * repeat until no thread is left unconfined (threads made meanwhile by a
 * confined thread inherit everything). seccomp's TSYNC then covers all. */
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
static uint64_t bounding_set(void)
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

/* Async-signal-safe: raw system calls only. 0 or an errno. */
static int confine_self(void)
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
	rc = confine_self();
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

static int64_t mono_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* 1 when /proc/self/task lists the calling thread only, 0 when it lists
 * others, -1 when it cannot be read. Raw getdents64 into a stack buffer:
 * opendir's heap buffer would grow a spare's freshly trimmed heap. */
static int alone(void)
{
	char buf[1024];
	pid_t self = (pid_t)syscall(SYS_gettid);
	int fd = -1, others = 0;
	long n = 0;
	/* A spare opened it before the request (the lookup of a new pid's
	 * /proc directory is most of the cost); read again from the start, it
	 * lists the threads there are now. */
	if (spare_ready() && spare.task_fd >= 0) {
		fd = spare.task_fd;
		spare.task_fd = -1;
		if (lseek(fd, 0, SEEK_SET) != 0) {
			close(fd);
			fd = -1;
		}
	}
	if (fd < 0)
		fd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while (!others && (n = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
		long off = 0;
		while (off < n) {
			/* struct linux_dirent64: u64 ino, s64 off, u16 reclen, u8 type, name */
			unsigned short reclen;
			const char *name = buf + off + 19;
			pid_t tid;
			memcpy(&reclen, buf + off + 16, sizeof reclen);
			tid = (pid_t)atoi(name);
			if (tid > 0 && tid != self)
				others = 1;
			off += reclen;
		}
	}
	close(fd);
	if (n < 0 && !others)
		return -1;
	return !others;
}

/* Returns how many threads were signalled (0: the caller was alone, no
 * round), or -1 with ERR. */
static int confine_other_threads(char *err, size_t errlen)
{
	static pid_t signalled[SB_MAX_THREADS];
	struct sigaction sa, old;
	pid_t self = (pid_t)syscall(SYS_gettid), pid = getpid();
	int sig = SIGRTMAX - 1, rc = 0, nsig = 0, pass, k;
	int64_t deadline = mono_ms() + 2000;
	char name[64];

	/* A template child is alone here (nuwa_fork_defer_threads): no round.
	 * No thread can appear meanwhile: only this one could make it. */
	if (alone() == 1)
		return 0;
	sb_ndone = 0;
	sb_failed = 0;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = confine_handler;
	sa.sa_flags = SA_RESTART;
	sigfillset(&sa.sa_mask);
	if (sigaction(sig, &sa, &old) < 0)
		return fail(err, errlen, "confine: sigaction: %s", strerror(errno));
	for (pass = 0; !rc; pass++) {
		DIR *d = opendir("/proc/self/task");
		struct dirent *de;
		int fresh = 0;
		if (!d) {
			rc = fail(err, errlen, "confine: /proc/self/task: %s", strerror(errno));
			break;
		}
		while (!rc && (de = readdir(d))) {
			pid_t tid = (pid_t)atoi(de->d_name);
			int seen = 0;
			if (tid <= 0 || tid == self)
				continue;
			for (k = 0; k < nsig; k++)
				seen |= signalled[k] == tid;
			if (seen)
				continue; /* signalled once only: each call stacks a layer */
			if (nsig == SB_MAX_THREADS) {
				rc = fail(err, errlen, "confine: more than %d threads", SB_MAX_THREADS);
			} else if (syscall(SYS_tgkill, pid, tid, sig) == 0) {
				/* A thread that blocks the signal (a new thread does,
				 * briefly, while the C library starts it) gets it when
				 * it unblocks; one that never does is named below. */
				signalled[nsig++] = tid;
				fresh++;
			} else if (errno != ESRCH) {
				rc = fail(err, errlen, "confine: signal thread %d: %s", (int)tid,
					  strerror(errno));
			}
		}
		closedir(d);
		if (rc || !fresh)
			break;
		/* Wait until every signalled thread has answered. Yield first:
		 * on one CPU the handlers run as soon as we let them, and a
		 * timed sleep would cost a scheduler tick. Threads that exit
		 * meanwhile never answer: the deadline check names them only
		 * if they are still there. */
		for (k = 0; __atomic_load_n(&sb_ndone, __ATOMIC_SEQ_CST) < nsig; k++) {
			struct timespec ts = { 0, 200000 };
			if (mono_ms() > deadline) {
				int i;
				for (i = 0; i < nsig; i++) {
					char path[64];
					snprintf(path, sizeof path, "/proc/self/task/%d", (int)signalled[i]);
					if (!thread_done(signalled[i]) && access(path, F_OK) == 0) {
						int blocks = thread_blocks(signalled[i], sig, name, sizeof name);
						rc = fail(err, errlen, "confine: thread %d (%s) %s, so it "
							  "cannot be confined", (int)signalled[i], name,
							  blocks ? "keeps signal SIGRTMAX-1 blocked"
								 : "did not answer within 2 s");
						break;
					}
				}
				break;
			}
			if (k < 2000)
				sched_yield();
			else
				nanosleep(&ts, NULL);
		}
	}
	if (!rc && sb_failed)
		rc = fail(err, errlen, "confine: a thread could not confine itself: %s",
			  strerror(sb_failed));
	if (sigaction(sig, &old, NULL) < 0 && !rc)
		rc = fail(err, errlen, "confine: sigaction restore: %s", strerror(errno));
	return rc < 0 ? rc : nsig;
}

/* The handled rights of ABI in ATTR, and in ST what they cover; returns
 * the size to pass to landlock_create_ruleset. */
static size_t ruleset_attr(int abi, struct nuwa_ll_ruleset_attr *attr, struct nuwa_sandbox_state *st)
{
	size_t size = sizeof attr->handled_access_fs;
	memset(attr, 0, sizeof *attr);
	attr->handled_access_fs = fs_rights_for_abi(abi);
	if (abi >= 4) {
		/* TCP: no bind, no connect but to the ports the config grants. */
		attr->handled_access_net = NUWA_LL_NET_BIND_TCP | NUWA_LL_NET_CONNECT_TCP;
		size = offsetof(struct nuwa_ll_ruleset_attr, scoped);
		st->landlock_net = 1;
	}
	if (abi >= 6) {
		/* No signals to, no abstract UNIX sockets of, processes outside
		 * the app's own domain (seccomp also confines signals). */
		attr->scoped = NUWA_LL_SCOPE_SIGNAL | NUWA_LL_SCOPE_ABSTRACT_UNIX_SOCKET;
		size = sizeof *attr;
		st->landlock_scoped = 1;
	}
	return size;
}

static int spare_has_path(const char *path)
{
	int i;
	if (!spare_ready() || spare.ruleset < 0)
		return 0;
	for (i = 0; i < spare.npaths; i++)
		if (!strcmp(spare.paths[i], path))
			return 1;
	return 0;
}

/* Build the ruleset while the process still has its original ids (the
 * readable paths may sit below directories the app's uid cannot search).
 * Returns the ruleset fd, -2 when Landlock is unavailable and allowed to be,
 * or -1 with ERR. */
static int prepare_landlock(const struct nuwa_sandbox_conf *c, struct nuwa_sandbox_state *st,
			    int *abi_out, char *err, size_t errlen)
{
	struct nuwa_ll_ruleset_attr attr;
	char self_dir[64];
	int abi = spare_ready() && spare.ruleset >= 0 ? spare.abi : nuwa_landlock_abi(), rs, i;

	if (abi <= 0) {
		const char *why = errno == EOPNOTSUPP ? "disabled at boot (add landlock to lsm=)"
							: "not in this kernel";
		if (c->landlock == NUWA_LANDLOCK_REQUIRED)
			return fail(err, errlen, "landlock required but %s", why);
		note(st, c->app, "landlock %s: file access is limited by uid/gid and seccomp only", why);
		return -2;
	}
	if (abi < 4 && (c->nnet_connect || c->nnet_bind))
		note(st, c->app, "landlock ABI %d has no network rules: TCP is not restricted", abi);
	if (spare_ready() && spare.ruleset >= 0) {
		/* The spare made it, with its own /proc/PID and the framework's
		 * paths; it is this process's now. */
		rs = spare.ruleset;
		spare.ruleset = -1;
		ruleset_attr(abi, &attr, st);
	} else {
		size_t size = ruleset_attr(abi, &attr, st);
		rs = (int)syscall(__NR_landlock_create_ruleset, &attr, size, 0);
		if (rs < 0)
			return fail(err, errlen, "landlock_create_ruleset: %s", strerror(errno));
		/* /proc/self resolves to this process's own directory now: the
		 * app reads its own smaps for snapshots, nothing of others'. */
		snprintf(self_dir, sizeof self_dir, "/proc/%d", (int)getpid());
		if (add_read_rule(rs, self_dir, c->app, st, err, errlen) < 0)
			goto bad;
	}
	if (c->app_library && add_read_rule(rs, c->app_library, c->app, st, err, errlen) < 0)
		goto bad;
	for (i = 0; i < c->nread_paths; i++)
		if (!spare_has_path(c->read_paths[i]) &&
		    add_read_rule(rs, c->read_paths[i], c->app, st, err, errlen) < 0)
			goto bad;
	if (abi >= 4 &&
	    (add_port_rules(rs, NUWA_LL_NET_CONNECT_TCP, c->net_connect, c->nnet_connect, err, errlen) < 0 ||
	     add_port_rules(rs, NUWA_LL_NET_BIND_TCP, c->net_bind, c->nnet_bind, err, errlen) < 0))
		goto bad;
	*abi_out = abi;
	return rs;
bad:
	close(rs);
	return -1;
}

/* ---- seccomp -------------------------------------------------------- */

/* What the filter does with each system call it knows (docs/security.md
 * "The system-call allowlist"); every other call kills the process. The
 * list is by name so that it holds on every architecture the runtime is
 * built for: a call the architecture lacks is left out by its #ifdef. */
enum sb_action {
	A_ALLOW,
	A_EPERM,         /* a library may probe it; the answer is "not permitted" */
	A_ENOSYS,        /* the caller falls back to another call */
	A_SIGNAL_SELF,   /* args[0] must be this process */
	A_SELF_OR_0,     /* args[0] must be 0 or this process */
	A_PRIO,          /* setpriority(PRIO_PROCESS, 0 or self, ...) */
	A_FCNTL,         /* no F_SETOWN/F_SETOWN_EX/F_SETSIG */
	A_IOCTL,         /* none of the ioctls that signal or inject input */
	A_CLONE,         /* no namespace flags */
	A_PERSONALITY,   /* query only */
	A_SOCKET         /* UNIX always; TCP only where the config grants ports */
};

struct sb_rule {
	long nr;
	unsigned char action;
};

static const struct sb_rule sb_rules[] = {
	/* files and descriptors */
#ifdef __NR_read
	{ __NR_read, A_ALLOW },
#endif
#ifdef __NR_write
	{ __NR_write, A_ALLOW },
#endif
#ifdef __NR_readv
	{ __NR_readv, A_ALLOW },
#endif
#ifdef __NR_writev
	{ __NR_writev, A_ALLOW },
#endif
#ifdef __NR_pread64
	{ __NR_pread64, A_ALLOW },
#endif
#ifdef __NR_pwrite64
	{ __NR_pwrite64, A_ALLOW },
#endif
#ifdef __NR_preadv
	{ __NR_preadv, A_ALLOW },
#endif
#ifdef __NR_pwritev
	{ __NR_pwritev, A_ALLOW },
#endif
#ifdef __NR_preadv2
	{ __NR_preadv2, A_ALLOW },
#endif
#ifdef __NR_pwritev2
	{ __NR_pwritev2, A_ALLOW },
#endif
#ifdef __NR_lseek
	{ __NR_lseek, A_ALLOW },
#endif
#ifdef __NR__llseek
	{ __NR__llseek, A_ALLOW },
#endif
#ifdef __NR_close
	{ __NR_close, A_ALLOW },
#endif
#ifdef __NR_close_range
	{ __NR_close_range, A_ALLOW },
#endif
#ifdef __NR_dup
	{ __NR_dup, A_ALLOW },
#endif
#ifdef __NR_dup2
	{ __NR_dup2, A_ALLOW },
#endif
#ifdef __NR_dup3
	{ __NR_dup3, A_ALLOW },
#endif
#ifdef __NR_pipe
	{ __NR_pipe, A_ALLOW },
#endif
#ifdef __NR_pipe2
	{ __NR_pipe2, A_ALLOW },
#endif
#ifdef __NR_open
	{ __NR_open, A_ALLOW },
#endif
#ifdef __NR_openat
	{ __NR_openat, A_ALLOW },
#endif
#ifdef __NR_openat2
	{ __NR_openat2, A_ALLOW },
#endif
#ifdef __NR_stat
	{ __NR_stat, A_ALLOW },
#endif
#ifdef __NR_fstat
	{ __NR_fstat, A_ALLOW },
#endif
#ifdef __NR_lstat
	{ __NR_lstat, A_ALLOW },
#endif
#ifdef __NR_newfstatat
	{ __NR_newfstatat, A_ALLOW },
#endif
#ifdef __NR_fstatat64
	{ __NR_fstatat64, A_ALLOW },
#endif
#ifdef __NR_stat64
	{ __NR_stat64, A_ALLOW },
#endif
#ifdef __NR_fstat64
	{ __NR_fstat64, A_ALLOW },
#endif
#ifdef __NR_lstat64
	{ __NR_lstat64, A_ALLOW },
#endif
#ifdef __NR_statx
	{ __NR_statx, A_ALLOW },
#endif
#ifdef __NR_statfs
	{ __NR_statfs, A_ALLOW },
#endif
#ifdef __NR_fstatfs
	{ __NR_fstatfs, A_ALLOW },
#endif
#ifdef __NR_statfs64
	{ __NR_statfs64, A_ALLOW },
#endif
#ifdef __NR_fstatfs64
	{ __NR_fstatfs64, A_ALLOW },
#endif
#ifdef __NR_access
	{ __NR_access, A_ALLOW },
#endif
#ifdef __NR_faccessat
	{ __NR_faccessat, A_ALLOW },
#endif
#ifdef __NR_faccessat2
	{ __NR_faccessat2, A_ALLOW },
#endif
#ifdef __NR_readlink
	{ __NR_readlink, A_ALLOW },
#endif
#ifdef __NR_readlinkat
	{ __NR_readlinkat, A_ALLOW },
#endif
#ifdef __NR_getdents
	{ __NR_getdents, A_ALLOW },
#endif
#ifdef __NR_getdents64
	{ __NR_getdents64, A_ALLOW },
#endif
#ifdef __NR_getcwd
	{ __NR_getcwd, A_ALLOW },
#endif
#ifdef __NR_chdir
	{ __NR_chdir, A_ALLOW },
#endif
#ifdef __NR_fchdir
	{ __NR_fchdir, A_ALLOW },
#endif
#ifdef __NR_mkdir
	{ __NR_mkdir, A_ALLOW },
#endif
#ifdef __NR_mkdirat
	{ __NR_mkdirat, A_ALLOW },
#endif
#ifdef __NR_unlink
	{ __NR_unlink, A_ALLOW },
#endif
#ifdef __NR_unlinkat
	{ __NR_unlinkat, A_ALLOW },
#endif
#ifdef __NR_rmdir
	{ __NR_rmdir, A_ALLOW },
#endif
#ifdef __NR_rename
	{ __NR_rename, A_ALLOW },
#endif
#ifdef __NR_renameat
	{ __NR_renameat, A_ALLOW },
#endif
#ifdef __NR_renameat2
	{ __NR_renameat2, A_ALLOW },
#endif
#ifdef __NR_link
	{ __NR_link, A_ALLOW },
#endif
#ifdef __NR_linkat
	{ __NR_linkat, A_ALLOW },
#endif
#ifdef __NR_symlink
	{ __NR_symlink, A_ALLOW },
#endif
#ifdef __NR_symlinkat
	{ __NR_symlinkat, A_ALLOW },
#endif
#ifdef __NR_truncate
	{ __NR_truncate, A_ALLOW },
#endif
#ifdef __NR_ftruncate
	{ __NR_ftruncate, A_ALLOW },
#endif
#ifdef __NR_truncate64
	{ __NR_truncate64, A_ALLOW },
#endif
#ifdef __NR_ftruncate64
	{ __NR_ftruncate64, A_ALLOW },
#endif
#ifdef __NR_fallocate
	{ __NR_fallocate, A_ALLOW },
#endif
#ifdef __NR_fsync
	{ __NR_fsync, A_ALLOW },
#endif
#ifdef __NR_fdatasync
	{ __NR_fdatasync, A_ALLOW },
#endif
#ifdef __NR_sync_file_range
	{ __NR_sync_file_range, A_ALLOW },
#endif
#ifdef __NR_sync_file_range2
	{ __NR_sync_file_range2, A_ALLOW },
#endif
#ifdef __NR_arm_sync_file_range
	{ __NR_arm_sync_file_range, A_ALLOW },
#endif
#ifdef __NR_flock
	{ __NR_flock, A_ALLOW },
#endif
#ifdef __NR_fadvise64
	{ __NR_fadvise64, A_ALLOW },
#endif
#ifdef __NR_fadvise64_64
	{ __NR_fadvise64_64, A_ALLOW },
#endif
#ifdef __NR_arm_fadvise64_64
	{ __NR_arm_fadvise64_64, A_ALLOW },
#endif
#ifdef __NR_readahead
	{ __NR_readahead, A_ALLOW },
#endif
#ifdef __NR_sendfile
	{ __NR_sendfile, A_ALLOW },
#endif
#ifdef __NR_sendfile64
	{ __NR_sendfile64, A_ALLOW },
#endif
#ifdef __NR_copy_file_range
	{ __NR_copy_file_range, A_ALLOW },
#endif
#ifdef __NR_splice
	{ __NR_splice, A_ALLOW },
#endif
#ifdef __NR_tee
	{ __NR_tee, A_ALLOW },
#endif
#ifdef __NR_umask
	{ __NR_umask, A_ALLOW },
#endif
#ifdef __NR_memfd_create
	{ __NR_memfd_create, A_ALLOW },
#endif
	/* memory */
#ifdef __NR_mmap
	{ __NR_mmap, A_ALLOW },
#endif
#ifdef __NR_mmap2
	{ __NR_mmap2, A_ALLOW },
#endif
#ifdef __NR_munmap
	{ __NR_munmap, A_ALLOW },
#endif
#ifdef __NR_mremap
	{ __NR_mremap, A_ALLOW },
#endif
#ifdef __NR_mprotect
	{ __NR_mprotect, A_ALLOW },
#endif
#ifdef __NR_madvise
	{ __NR_madvise, A_ALLOW },
#endif
#ifdef __NR_brk
	{ __NR_brk, A_ALLOW },
#endif
#ifdef __NR_msync
	{ __NR_msync, A_ALLOW },
#endif
#ifdef __NR_mincore
	{ __NR_mincore, A_ALLOW },
#endif
#ifdef __NR_mlock
	{ __NR_mlock, A_ALLOW },
#endif
#ifdef __NR_munlock
	{ __NR_munlock, A_ALLOW },
#endif
#ifdef __NR_membarrier
	{ __NR_membarrier, A_ALLOW },
#endif
#ifdef __NR_mseal
	{ __NR_mseal, A_ALLOW },
#endif
	/* processes and threads (clone is checked below) */
#ifdef __NR_fork
	{ __NR_fork, A_ALLOW },
#endif
#ifdef __NR_vfork
	{ __NR_vfork, A_ALLOW },
#endif
#ifdef __NR_exit
	{ __NR_exit, A_ALLOW },
#endif
#ifdef __NR_exit_group
	{ __NR_exit_group, A_ALLOW },
#endif
#ifdef __NR_wait4
	{ __NR_wait4, A_ALLOW },
#endif
#ifdef __NR_waitid
	{ __NR_waitid, A_ALLOW },
#endif
#ifdef __NR_set_tid_address
	{ __NR_set_tid_address, A_ALLOW },
#endif
#ifdef __NR_set_robust_list
	{ __NR_set_robust_list, A_ALLOW },
#endif
#ifdef __NR_get_robust_list
	{ __NR_get_robust_list, A_ALLOW },
#endif
#ifdef __NR_futex
	{ __NR_futex, A_ALLOW },
#endif
#ifdef __NR_futex_time64
	{ __NR_futex_time64, A_ALLOW },
#endif
#ifdef __NR_futex_waitv
	{ __NR_futex_waitv, A_ALLOW },
#endif
#ifdef __NR_futex_wake
	{ __NR_futex_wake, A_ALLOW },
#endif
#ifdef __NR_futex_wait
	{ __NR_futex_wait, A_ALLOW },
#endif
#ifdef __NR_futex_requeue
	{ __NR_futex_requeue, A_ALLOW },
#endif
#ifdef __NR_rseq
	{ __NR_rseq, A_ALLOW },
#endif
#ifdef __NR_gettid
	{ __NR_gettid, A_ALLOW },
#endif
#ifdef __NR_getpid
	{ __NR_getpid, A_ALLOW },
#endif
#ifdef __NR_getppid
	{ __NR_getppid, A_ALLOW },
#endif
#ifdef __NR_getpgrp
	{ __NR_getpgrp, A_ALLOW },
#endif
#ifdef __NR_getpgid
	{ __NR_getpgid, A_ALLOW },
#endif
#ifdef __NR_getsid
	{ __NR_getsid, A_ALLOW },
#endif
#ifdef __NR_getuid
	{ __NR_getuid, A_ALLOW },
#endif
#ifdef __NR_geteuid
	{ __NR_geteuid, A_ALLOW },
#endif
#ifdef __NR_getgid
	{ __NR_getgid, A_ALLOW },
#endif
#ifdef __NR_getegid
	{ __NR_getegid, A_ALLOW },
#endif
#ifdef __NR_getuid32
	{ __NR_getuid32, A_ALLOW },
#endif
#ifdef __NR_geteuid32
	{ __NR_geteuid32, A_ALLOW },
#endif
#ifdef __NR_getgid32
	{ __NR_getgid32, A_ALLOW },
#endif
#ifdef __NR_getegid32
	{ __NR_getegid32, A_ALLOW },
#endif
#ifdef __NR_getresuid
	{ __NR_getresuid, A_ALLOW },
#endif
#ifdef __NR_getresgid
	{ __NR_getresgid, A_ALLOW },
#endif
#ifdef __NR_getresuid32
	{ __NR_getresuid32, A_ALLOW },
#endif
#ifdef __NR_getresgid32
	{ __NR_getresgid32, A_ALLOW },
#endif
#ifdef __NR_getgroups
	{ __NR_getgroups, A_ALLOW },
#endif
#ifdef __NR_getgroups32
	{ __NR_getgroups32, A_ALLOW },
#endif
#ifdef __NR_restart_syscall
	{ __NR_restart_syscall, A_ALLOW },
#endif
	/* signals (sending is checked below) */
#ifdef __NR_rt_sigaction
	{ __NR_rt_sigaction, A_ALLOW },
#endif
#ifdef __NR_rt_sigprocmask
	{ __NR_rt_sigprocmask, A_ALLOW },
#endif
#ifdef __NR_rt_sigreturn
	{ __NR_rt_sigreturn, A_ALLOW },
#endif
#ifdef __NR_sigreturn
	{ __NR_sigreturn, A_ALLOW },
#endif
#ifdef __NR_rt_sigsuspend
	{ __NR_rt_sigsuspend, A_ALLOW },
#endif
#ifdef __NR_rt_sigpending
	{ __NR_rt_sigpending, A_ALLOW },
#endif
#ifdef __NR_rt_sigtimedwait
	{ __NR_rt_sigtimedwait, A_ALLOW },
#endif
#ifdef __NR_rt_sigtimedwait_time64
	{ __NR_rt_sigtimedwait_time64, A_ALLOW },
#endif
#ifdef __NR_sigaltstack
	{ __NR_sigaltstack, A_ALLOW },
#endif
#ifdef __NR_signalfd
	{ __NR_signalfd, A_ALLOW },
#endif
#ifdef __NR_signalfd4
	{ __NR_signalfd4, A_ALLOW },
#endif
#ifdef __NR_pause
	{ __NR_pause, A_ALLOW },
#endif
#ifdef __NR_sigaction
	{ __NR_sigaction, A_ALLOW },
#endif
#ifdef __NR_sigprocmask
	{ __NR_sigprocmask, A_ALLOW },
#endif
#ifdef __NR_sigsuspend
	{ __NR_sigsuspend, A_ALLOW },
#endif
#ifdef __NR_sigpending
	{ __NR_sigpending, A_ALLOW },
#endif
	/* time */
#ifdef __NR_clock_gettime
	{ __NR_clock_gettime, A_ALLOW },
#endif
#ifdef __NR_clock_gettime64
	{ __NR_clock_gettime64, A_ALLOW },
#endif
#ifdef __NR_clock_getres
	{ __NR_clock_getres, A_ALLOW },
#endif
#ifdef __NR_clock_getres_time64
	{ __NR_clock_getres_time64, A_ALLOW },
#endif
#ifdef __NR_clock_nanosleep
	{ __NR_clock_nanosleep, A_ALLOW },
#endif
#ifdef __NR_clock_nanosleep_time64
	{ __NR_clock_nanosleep_time64, A_ALLOW },
#endif
#ifdef __NR_nanosleep
	{ __NR_nanosleep, A_ALLOW },
#endif
#ifdef __NR_gettimeofday
	{ __NR_gettimeofday, A_ALLOW },
#endif
#ifdef __NR_time
	{ __NR_time, A_ALLOW },
#endif
#ifdef __NR_times
	{ __NR_times, A_ALLOW },
#endif
#ifdef __NR_timer_create
	{ __NR_timer_create, A_ALLOW },
#endif
#ifdef __NR_timer_settime
	{ __NR_timer_settime, A_ALLOW },
#endif
#ifdef __NR_timer_settime64
	{ __NR_timer_settime64, A_ALLOW },
#endif
#ifdef __NR_timer_gettime
	{ __NR_timer_gettime, A_ALLOW },
#endif
#ifdef __NR_timer_gettime64
	{ __NR_timer_gettime64, A_ALLOW },
#endif
#ifdef __NR_timer_delete
	{ __NR_timer_delete, A_ALLOW },
#endif
#ifdef __NR_timer_getoverrun
	{ __NR_timer_getoverrun, A_ALLOW },
#endif
#ifdef __NR_timerfd_create
	{ __NR_timerfd_create, A_ALLOW },
#endif
#ifdef __NR_timerfd_settime
	{ __NR_timerfd_settime, A_ALLOW },
#endif
#ifdef __NR_timerfd_settime64
	{ __NR_timerfd_settime64, A_ALLOW },
#endif
#ifdef __NR_timerfd_gettime
	{ __NR_timerfd_gettime, A_ALLOW },
#endif
#ifdef __NR_timerfd_gettime64
	{ __NR_timerfd_gettime64, A_ALLOW },
#endif
#ifdef __NR_alarm
	{ __NR_alarm, A_ALLOW },
#endif
#ifdef __NR_setitimer
	{ __NR_setitimer, A_ALLOW },
#endif
#ifdef __NR_getitimer
	{ __NR_getitimer, A_ALLOW },
#endif
	/* waiting for events */
#ifdef __NR_poll
	{ __NR_poll, A_ALLOW },
#endif
#ifdef __NR_ppoll
	{ __NR_ppoll, A_ALLOW },
#endif
#ifdef __NR_ppoll_time64
	{ __NR_ppoll_time64, A_ALLOW },
#endif
#ifdef __NR_select
	{ __NR_select, A_ALLOW },
#endif
#ifdef __NR__newselect
	{ __NR__newselect, A_ALLOW },
#endif
#ifdef __NR_pselect6
	{ __NR_pselect6, A_ALLOW },
#endif
#ifdef __NR_pselect6_time64
	{ __NR_pselect6_time64, A_ALLOW },
#endif
#ifdef __NR_epoll_create
	{ __NR_epoll_create, A_ALLOW },
#endif
#ifdef __NR_epoll_create1
	{ __NR_epoll_create1, A_ALLOW },
#endif
#ifdef __NR_epoll_ctl
	{ __NR_epoll_ctl, A_ALLOW },
#endif
#ifdef __NR_epoll_wait
	{ __NR_epoll_wait, A_ALLOW },
#endif
#ifdef __NR_epoll_pwait
	{ __NR_epoll_pwait, A_ALLOW },
#endif
#ifdef __NR_epoll_pwait2
	{ __NR_epoll_pwait2, A_ALLOW },
#endif
#ifdef __NR_eventfd
	{ __NR_eventfd, A_ALLOW },
#endif
#ifdef __NR_eventfd2
	{ __NR_eventfd2, A_ALLOW },
#endif
	/* sockets (Landlock ABI >= 4 restricts TCP bind/connect) */
#ifdef __NR_socket
	{ __NR_socket, A_SOCKET },
#endif
#ifdef __NR_socketpair
	{ __NR_socketpair, A_ALLOW },
#endif
#ifdef __NR_connect
	{ __NR_connect, A_ALLOW },
#endif
#ifdef __NR_bind
	{ __NR_bind, A_ALLOW },
#endif
#ifdef __NR_listen
	{ __NR_listen, A_ALLOW },
#endif
#ifdef __NR_accept
	{ __NR_accept, A_ALLOW },
#endif
#ifdef __NR_accept4
	{ __NR_accept4, A_ALLOW },
#endif
#ifdef __NR_sendto
	{ __NR_sendto, A_ALLOW },
#endif
#ifdef __NR_recvfrom
	{ __NR_recvfrom, A_ALLOW },
#endif
#ifdef __NR_sendmsg
	{ __NR_sendmsg, A_ALLOW },
#endif
#ifdef __NR_recvmsg
	{ __NR_recvmsg, A_ALLOW },
#endif
#ifdef __NR_sendmmsg
	{ __NR_sendmmsg, A_ALLOW },
#endif
#ifdef __NR_recvmmsg
	{ __NR_recvmmsg, A_ALLOW },
#endif
#ifdef __NR_recvmmsg_time64
	{ __NR_recvmmsg_time64, A_ALLOW },
#endif
#ifdef __NR_shutdown
	{ __NR_shutdown, A_ALLOW },
#endif
#ifdef __NR_getsockname
	{ __NR_getsockname, A_ALLOW },
#endif
#ifdef __NR_getpeername
	{ __NR_getpeername, A_ALLOW },
#endif
#ifdef __NR_getsockopt
	{ __NR_getsockopt, A_ALLOW },
#endif
#ifdef __NR_setsockopt
	{ __NR_setsockopt, A_ALLOW },
#endif
#ifdef __NR_send
	{ __NR_send, A_ALLOW },
#endif
#ifdef __NR_recv
	{ __NR_recv, A_ALLOW },
#endif
	/* information, limits and scheduling of itself */
#ifdef __NR_uname
	{ __NR_uname, A_ALLOW },
#endif
#ifdef __NR_sysinfo
	{ __NR_sysinfo, A_ALLOW },
#endif
#ifdef __NR_getrlimit
	{ __NR_getrlimit, A_ALLOW },
#endif
#ifdef __NR_ugetrlimit
	{ __NR_ugetrlimit, A_ALLOW },
#endif
#ifdef __NR_setrlimit
	{ __NR_setrlimit, A_ALLOW },
#endif
#ifdef __NR_getrusage
	{ __NR_getrusage, A_ALLOW },
#endif
#ifdef __NR_sched_getaffinity
	{ __NR_sched_getaffinity, A_ALLOW },
#endif
#ifdef __NR_sched_yield
	{ __NR_sched_yield, A_ALLOW },
#endif
#ifdef __NR_sched_getparam
	{ __NR_sched_getparam, A_ALLOW },
#endif
#ifdef __NR_sched_getscheduler
	{ __NR_sched_getscheduler, A_ALLOW },
#endif
#ifdef __NR_sched_get_priority_max
	{ __NR_sched_get_priority_max, A_ALLOW },
#endif
#ifdef __NR_sched_get_priority_min
	{ __NR_sched_get_priority_min, A_ALLOW },
#endif
#ifdef __NR_sched_getattr
	{ __NR_sched_getattr, A_ALLOW },
#endif
#ifdef __NR_sched_rr_get_interval
	{ __NR_sched_rr_get_interval, A_ALLOW },
#endif
#ifdef __NR_sched_rr_get_interval_time64
	{ __NR_sched_rr_get_interval_time64, A_ALLOW },
#endif
#ifdef __NR_getpriority
	{ __NR_getpriority, A_ALLOW },
#endif
#ifdef __NR_getrandom
	{ __NR_getrandom, A_ALLOW },
#endif
#ifdef __NR_prctl
	{ __NR_prctl, A_ALLOW },
#endif
#ifdef __NR_capget
	{ __NR_capget, A_ALLOW },
#endif
#ifdef __NR_getcpu
	{ __NR_getcpu, A_ALLOW },
#endif
#ifdef __NR_arch_prctl
	{ __NR_arch_prctl, A_ALLOW },
#endif
#ifdef __NR_set_thread_area
	{ __NR_set_thread_area, A_ALLOW },
#endif
#ifdef __NR_get_thread_area
	{ __NR_get_thread_area, A_ALLOW },
#endif
#ifdef __NR_map_shadow_stack
	{ __NR_map_shadow_stack, A_ALLOW },
#endif
#ifdef __NR_seccomp
	{ __NR_seccomp, A_ALLOW },
#endif
#ifdef __NR_landlock_create_ruleset
	{ __NR_landlock_create_ruleset, A_ALLOW },
#endif
#ifdef __NR_landlock_add_rule
	{ __NR_landlock_add_rule, A_ALLOW },
#endif
#ifdef __NR_landlock_restrict_self
	{ __NR_landlock_restrict_self, A_ALLOW },
#endif
	/* on the caller only (pid 0 or its own) */
#ifdef __NR_prlimit64
	{ __NR_prlimit64, A_SELF_OR_0 },
#endif
#ifdef __NR_sched_setaffinity
	{ __NR_sched_setaffinity, A_SELF_OR_0 },
#endif
#ifdef __NR_sched_setattr
	{ __NR_sched_setattr, A_SELF_OR_0 },
#endif
#ifdef __NR_sched_setparam
	{ __NR_sched_setparam, A_SELF_OR_0 },
#endif
#ifdef __NR_sched_setscheduler
	{ __NR_sched_setscheduler, A_SELF_OR_0 },
#endif
	/* setpriority(PRIO_PROCESS, 0 or itself, ...) only */
#ifdef __NR_setpriority
	{ __NR_setpriority, A_PRIO },
#endif
	/* signals to itself only */
#ifdef __NR_kill
	{ __NR_kill, A_SIGNAL_SELF },
#endif
#ifdef __NR_tgkill
	{ __NR_tgkill, A_SIGNAL_SELF },
#endif
#ifdef __NR_rt_sigqueueinfo
	{ __NR_rt_sigqueueinfo, A_SIGNAL_SELF },
#endif
#ifdef __NR_rt_tgsigqueueinfo
	{ __NR_rt_tgsigqueueinfo, A_SIGNAL_SELF },
#endif
	/* without F_SETOWN, F_SETOWN_EX, F_SETSIG */
#ifdef __NR_fcntl
	{ __NR_fcntl, A_FCNTL },
#endif
#ifdef __NR_fcntl64
	{ __NR_fcntl64, A_FCNTL },
#endif
	/* without FIOSETOWN, SIOCSPGRP, TIOCSTI, TIOCSETD, TIOCSPGRP, TIOCLINUX */
#ifdef __NR_ioctl
	{ __NR_ioctl, A_IOCTL },
#endif
	/* without namespace flags */
#ifdef __NR_clone
	{ __NR_clone, A_CLONE },
#endif
	/* query only (the sanitizer asks) */
#ifdef __NR_personality
	{ __NR_personality, A_PERSONALITY },
#endif
	/* its flags are in memory: the C library falls back to clone */
#ifdef __NR_clone3
	{ __NR_clone3, A_ENOSYS },
#endif
	/* another process's memory, tracing, signals by other means */
#ifdef __NR_ptrace
	{ __NR_ptrace, A_EPERM },
#endif
#ifdef __NR_process_vm_readv
	{ __NR_process_vm_readv, A_EPERM },
#endif
#ifdef __NR_process_vm_writev
	{ __NR_process_vm_writev, A_EPERM },
#endif
#ifdef __NR_process_madvise
	{ __NR_process_madvise, A_EPERM },
#endif
#ifdef __NR_kcmp
	{ __NR_kcmp, A_EPERM },
#endif
#ifdef __NR_pidfd_open
	{ __NR_pidfd_open, A_EPERM },
#endif
#ifdef __NR_pidfd_send_signal
	{ __NR_pidfd_send_signal, A_EPERM },
#endif
#ifdef __NR_pidfd_getfd
	{ __NR_pidfd_getfd, A_EPERM },
#endif
#ifdef __NR_tkill
	{ __NR_tkill, A_EPERM },
#endif
	/* the system: mounts, namespaces, modules, kexec, BPF, perf, io_uring (bypasses seccomp), keys, clocks */
#ifdef __NR_kexec_load
	{ __NR_kexec_load, A_EPERM },
#endif
#ifdef __NR_kexec_file_load
	{ __NR_kexec_file_load, A_EPERM },
#endif
#ifdef __NR_mount
	{ __NR_mount, A_EPERM },
#endif
#ifdef __NR_umount2
	{ __NR_umount2, A_EPERM },
#endif
#ifdef __NR_umount
	{ __NR_umount, A_EPERM },
#endif
#ifdef __NR_pivot_root
	{ __NR_pivot_root, A_EPERM },
#endif
#ifdef __NR_chroot
	{ __NR_chroot, A_EPERM },
#endif
#ifdef __NR_fsopen
	{ __NR_fsopen, A_EPERM },
#endif
#ifdef __NR_fsmount
	{ __NR_fsmount, A_EPERM },
#endif
#ifdef __NR_fsconfig
	{ __NR_fsconfig, A_EPERM },
#endif
#ifdef __NR_move_mount
	{ __NR_move_mount, A_EPERM },
#endif
#ifdef __NR_open_tree
	{ __NR_open_tree, A_EPERM },
#endif
#ifdef __NR_mount_setattr
	{ __NR_mount_setattr, A_EPERM },
#endif
#ifdef __NR_bpf
	{ __NR_bpf, A_EPERM },
#endif
#ifdef __NR_perf_event_open
	{ __NR_perf_event_open, A_EPERM },
#endif
#ifdef __NR_userfaultfd
	{ __NR_userfaultfd, A_EPERM },
#endif
#ifdef __NR_init_module
	{ __NR_init_module, A_EPERM },
#endif
#ifdef __NR_finit_module
	{ __NR_finit_module, A_EPERM },
#endif
#ifdef __NR_delete_module
	{ __NR_delete_module, A_EPERM },
#endif
#ifdef __NR_reboot
	{ __NR_reboot, A_EPERM },
#endif
#ifdef __NR_swapon
	{ __NR_swapon, A_EPERM },
#endif
#ifdef __NR_swapoff
	{ __NR_swapoff, A_EPERM },
#endif
#ifdef __NR_acct
	{ __NR_acct, A_EPERM },
#endif
#ifdef __NR_settimeofday
	{ __NR_settimeofday, A_EPERM },
#endif
#ifdef __NR_clock_settime
	{ __NR_clock_settime, A_EPERM },
#endif
#ifdef __NR_clock_settime64
	{ __NR_clock_settime64, A_EPERM },
#endif
#ifdef __NR_clock_adjtime
	{ __NR_clock_adjtime, A_EPERM },
#endif
#ifdef __NR_clock_adjtime64
	{ __NR_clock_adjtime64, A_EPERM },
#endif
#ifdef __NR_adjtimex
	{ __NR_adjtimex, A_EPERM },
#endif
#ifdef __NR_sethostname
	{ __NR_sethostname, A_EPERM },
#endif
#ifdef __NR_setdomainname
	{ __NR_setdomainname, A_EPERM },
#endif
#ifdef __NR_syslog
	{ __NR_syslog, A_EPERM },
#endif
#ifdef __NR_quotactl
	{ __NR_quotactl, A_EPERM },
#endif
#ifdef __NR_quotactl_fd
	{ __NR_quotactl_fd, A_EPERM },
#endif
#ifdef __NR_keyctl
	{ __NR_keyctl, A_EPERM },
#endif
#ifdef __NR_add_key
	{ __NR_add_key, A_EPERM },
#endif
#ifdef __NR_request_key
	{ __NR_request_key, A_EPERM },
#endif
#ifdef __NR_unshare
	{ __NR_unshare, A_EPERM },
#endif
#ifdef __NR_setns
	{ __NR_setns, A_EPERM },
#endif
#ifdef __NR_open_by_handle_at
	{ __NR_open_by_handle_at, A_EPERM },
#endif
#ifdef __NR_name_to_handle_at
	{ __NR_name_to_handle_at, A_EPERM },
#endif
#ifdef __NR_lookup_dcookie
	{ __NR_lookup_dcookie, A_EPERM },
#endif
#ifdef __NR_fanotify_init
	{ __NR_fanotify_init, A_EPERM },
#endif
#ifdef __NR_vhangup
	{ __NR_vhangup, A_EPERM },
#endif
#ifdef __NR_iopl
	{ __NR_iopl, A_EPERM },
#endif
#ifdef __NR_ioperm
	{ __NR_ioperm, A_EPERM },
#endif
#ifdef __NR_io_uring_setup
	{ __NR_io_uring_setup, A_EPERM },
#endif
#ifdef __NR_io_uring_enter
	{ __NR_io_uring_enter, A_EPERM },
#endif
#ifdef __NR_io_uring_register
	{ __NR_io_uring_register, A_EPERM },
#endif
	/* identity, metadata and exec (Landlock does not cover metadata) */
#ifdef __NR_setuid
	{ __NR_setuid, A_EPERM },
#endif
#ifdef __NR_setgid
	{ __NR_setgid, A_EPERM },
#endif
#ifdef __NR_setreuid
	{ __NR_setreuid, A_EPERM },
#endif
#ifdef __NR_setregid
	{ __NR_setregid, A_EPERM },
#endif
#ifdef __NR_setresuid
	{ __NR_setresuid, A_EPERM },
#endif
#ifdef __NR_setresgid
	{ __NR_setresgid, A_EPERM },
#endif
#ifdef __NR_setfsuid
	{ __NR_setfsuid, A_EPERM },
#endif
#ifdef __NR_setfsgid
	{ __NR_setfsgid, A_EPERM },
#endif
#ifdef __NR_setuid32
	{ __NR_setuid32, A_EPERM },
#endif
#ifdef __NR_setgid32
	{ __NR_setgid32, A_EPERM },
#endif
#ifdef __NR_setreuid32
	{ __NR_setreuid32, A_EPERM },
#endif
#ifdef __NR_setregid32
	{ __NR_setregid32, A_EPERM },
#endif
#ifdef __NR_setresuid32
	{ __NR_setresuid32, A_EPERM },
#endif
#ifdef __NR_setresgid32
	{ __NR_setresgid32, A_EPERM },
#endif
#ifdef __NR_setfsuid32
	{ __NR_setfsuid32, A_EPERM },
#endif
#ifdef __NR_setfsgid32
	{ __NR_setfsgid32, A_EPERM },
#endif
#ifdef __NR_setgroups
	{ __NR_setgroups, A_EPERM },
#endif
#ifdef __NR_setgroups32
	{ __NR_setgroups32, A_EPERM },
#endif
#ifdef __NR_capset
	{ __NR_capset, A_EPERM },
#endif
#ifdef __NR_setsid
	{ __NR_setsid, A_EPERM },
#endif
#ifdef __NR_setpgid
	{ __NR_setpgid, A_EPERM },
#endif
#ifdef __NR_chmod
	{ __NR_chmod, A_EPERM },
#endif
#ifdef __NR_fchmod
	{ __NR_fchmod, A_EPERM },
#endif
#ifdef __NR_fchmodat
	{ __NR_fchmodat, A_EPERM },
#endif
#ifdef __NR_fchmodat2
	{ __NR_fchmodat2, A_EPERM },
#endif
#ifdef __NR_chown
	{ __NR_chown, A_EPERM },
#endif
#ifdef __NR_fchown
	{ __NR_fchown, A_EPERM },
#endif
#ifdef __NR_lchown
	{ __NR_lchown, A_EPERM },
#endif
#ifdef __NR_fchownat
	{ __NR_fchownat, A_EPERM },
#endif
#ifdef __NR_chown32
	{ __NR_chown32, A_EPERM },
#endif
#ifdef __NR_fchown32
	{ __NR_fchown32, A_EPERM },
#endif
#ifdef __NR_lchown32
	{ __NR_lchown32, A_EPERM },
#endif
#ifdef __NR_utime
	{ __NR_utime, A_EPERM },
#endif
#ifdef __NR_utimes
	{ __NR_utimes, A_EPERM },
#endif
#ifdef __NR_futimesat
	{ __NR_futimesat, A_EPERM },
#endif
#ifdef __NR_utimensat
	{ __NR_utimensat, A_EPERM },
#endif
#ifdef __NR_utimensat_time64
	{ __NR_utimensat_time64, A_EPERM },
#endif
#ifdef __NR_mknod
	{ __NR_mknod, A_EPERM },
#endif
#ifdef __NR_mknodat
	{ __NR_mknodat, A_EPERM },
#endif
#ifdef __NR_getxattr
	{ __NR_getxattr, A_EPERM },
#endif
#ifdef __NR_lgetxattr
	{ __NR_lgetxattr, A_EPERM },
#endif
#ifdef __NR_fgetxattr
	{ __NR_fgetxattr, A_EPERM },
#endif
#ifdef __NR_listxattr
	{ __NR_listxattr, A_EPERM },
#endif
#ifdef __NR_llistxattr
	{ __NR_llistxattr, A_EPERM },
#endif
#ifdef __NR_flistxattr
	{ __NR_flistxattr, A_EPERM },
#endif
#ifdef __NR_setxattr
	{ __NR_setxattr, A_EPERM },
#endif
#ifdef __NR_lsetxattr
	{ __NR_lsetxattr, A_EPERM },
#endif
#ifdef __NR_fsetxattr
	{ __NR_fsetxattr, A_EPERM },
#endif
#ifdef __NR_removexattr
	{ __NR_removexattr, A_EPERM },
#endif
#ifdef __NR_lremovexattr
	{ __NR_lremovexattr, A_EPERM },
#endif
#ifdef __NR_fremovexattr
	{ __NR_fremovexattr, A_EPERM },
#endif
#ifdef __NR_execve
	{ __NR_execve, A_EPERM },
#endif
#ifdef __NR_execveat
	{ __NR_execveat, A_EPERM },
#endif
	/* ARM's private calls: the C library and code generators flush caches, set TLS */
#ifdef __ARM_NR_cacheflush
	{ __ARM_NR_cacheflush, A_ALLOW },
#endif
#ifdef __ARM_NR_set_tls
	{ __ARM_NR_set_tls, A_ALLOW },
#endif
#ifdef __ARM_NR_get_tls
	{ __ARM_NR_get_tls, A_ALLOW },
#endif
};

#define SB_MAX_INSNS 1024
#define SB_NRULES (sizeof sb_rules / sizeof sb_rules[0])
#define SB_MAX_SELF 16
struct bpf_prog_buf {
	struct sock_filter f[SB_MAX_INSNS];
	unsigned n;
	unsigned self_at[SB_MAX_SELF]; /* instructions comparing with our pid */
	unsigned nself;
};

static void mark_self(struct bpf_prog_buf *p, unsigned at)
{
	if (p->nself < SB_MAX_SELF)
		p->self_at[p->nself] = at;
	p->nself++;
}

static void emit(struct bpf_prog_buf *p, uint16_t code, uint8_t jt, uint8_t jf, uint32_t k)
{
	if (p->n < SB_MAX_INSNS)
		p->f[p->n] = (struct sock_filter)BPF_JUMP(code, k, jt, jf);
	p->n++;
}

#define RET_ERRNO(e) (SECCOMP_RET_ERRNO | ((e) & SECCOMP_RET_DATA))
#define RET(p, v) emit(p, BPF_RET | BPF_K, 0, 0, v)
#define LOAD_ARG(p, n) emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, SB_ARG_LO(n))
#define NAMESPACE_FLAGS (CLONE_NEWNS | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | \
			 CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP)
#ifndef F_SETOWN_EX
#define F_SETOWN_EX 15
#endif
#ifndef F_SETSIG
#define F_SETSIG 10
#endif
#ifndef FIOSETOWN
#define FIOSETOWN 0x8901
#endif
#ifndef SIOCSPGRP
#define SIOCSPGRP 0x8902
#endif
#ifndef TIOCSTI
#define TIOCSTI 0x5412
#endif
#ifndef TIOCSETD
#define TIOCSETD 0x5423
#endif
#ifndef TIOCSPGRP
#define TIOCSPGRP 0x5410
#endif
#ifndef TIOCLINUX
#define TIOCLINUX 0x541C
#endif

/* "RET allow if the accumulator is one of V[0..N), else RET OTHER". */
static void allow_if_in(struct bpf_prog_buf *p, const uint32_t *v, int n, uint32_t other)
{
	int i;
	for (i = 0; i < n; i++)
		emit(p, BPF_JMP | BPF_JEQ | BPF_K, (uint8_t)(n - i), 0, v[i]);
	RET(p, other);
	RET(p, SECCOMP_RET_ALLOW);
}

/* "RET OTHER if the accumulator is one of V[0..N), else RET allow". */
static void deny_if_in(struct bpf_prog_buf *p, const uint32_t *v, int n, uint32_t other)
{
	int i;
	for (i = 0; i < n; i++)
		emit(p, BPF_JMP | BPF_JEQ | BPF_K, (uint8_t)(n - i), 0, v[i]);
	RET(p, SECCOMP_RET_ALLOW);
	RET(p, other);
}

/* What the argument checks depend on: the app's own pid, and whether its
 * config grants TCP ports (Landlock then checks which). */
struct sb_filter_ctx {
	uint32_t self;
	int tcp;
};

/* socket(): AF_UNIX always; with TCP granted, AF_INET/AF_INET6 stream
 * sockets of protocol 0 or TCP. Everything else (UDP, raw, packet, netlink,
 * SCTP…) gets EACCES, since Landlock has rules for TCP only; with net =
 * none no IP socket exists, on any Landlock ABI. */
static void emit_socket_check(struct bpf_prog_buf *p, int tcp)
{
	LOAD_ARG(p, 0);
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, AF_UNIX);
	RET(p, SECCOMP_RET_ALLOW);
	if (!tcp) {
		RET(p, RET_ERRNO(EACCES));
		return;
	}
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, AF_INET);
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 7, AF_INET6);
	LOAD_ARG(p, 1);
	emit(p, BPF_ALU | BPF_AND | BPF_K, 0, 0, 0xf); /* the type without SOCK_NONBLOCK/CLOEXEC */
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 4, SOCK_STREAM);
	LOAD_ARG(p, 2);
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 0);
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, IPPROTO_TCP);
	RET(p, SECCOMP_RET_ALLOW);
	RET(p, RET_ERRNO(EACCES));
}

/* The action's instructions; every path ends in a RET. */
static void emit_action(struct bpf_prog_buf *p, unsigned action, const struct sb_filter_ctx *cx)
{
	static const uint32_t fcntl_cmds[] = { F_SETOWN, F_SETOWN_EX, F_SETSIG };
	static const uint32_t ioctl_cmds[] = { FIOSETOWN, SIOCSPGRP, TIOCSTI, TIOCSETD,
					       TIOCSPGRP, TIOCLINUX };
	uint32_t self = cx->self, self_or_0[2] = { 0, cx->self };

	switch (action) {
	case A_ALLOW:
		RET(p, SECCOMP_RET_ALLOW);
		break;
	case A_EPERM:
		RET(p, RET_ERRNO(EPERM));
		break;
	case A_ENOSYS:
		RET(p, RET_ERRNO(ENOSYS));
		break;
	case A_SIGNAL_SELF:
		/* kill(0, ...) and kill(-1, ...) would reach nuwad's group. */
		LOAD_ARG(p, 0);
		mark_self(p, p->n);
		allow_if_in(p, &self, 1, RET_ERRNO(EPERM));
		break;
	case A_SELF_OR_0:
		LOAD_ARG(p, 0);
		mark_self(p, p->n + 1);
		allow_if_in(p, self_or_0, 2, RET_ERRNO(EPERM));
		break;
	case A_PRIO:
		LOAD_ARG(p, 0);
		emit(p, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, PRIO_PROCESS);
		RET(p, RET_ERRNO(EPERM));
		LOAD_ARG(p, 1);
		mark_self(p, p->n + 1);
		allow_if_in(p, self_or_0, 2, RET_ERRNO(EPERM));
		break;
	case A_FCNTL:
		/* F_SETOWN + F_SETSIG + O_ASYNC has the kernel signal anyone. */
		LOAD_ARG(p, 1);
		deny_if_in(p, fcntl_cmds, 3, RET_ERRNO(EPERM));
		break;
	case A_IOCTL:
		LOAD_ARG(p, 1);
		deny_if_in(p, ioctl_cmds, 6, RET_ERRNO(EPERM));
		break;
	case A_CLONE:
		/* flags are args[0] on every architecture built for. */
		LOAD_ARG(p, 0);
		emit(p, BPF_JMP | BPF_JSET | BPF_K, 0, 1, NAMESPACE_FLAGS);
		RET(p, RET_ERRNO(EPERM));
		RET(p, SECCOMP_RET_ALLOW);
		break;
	case A_PERSONALITY:
		LOAD_ARG(p, 0);
		allow_if_in(p, (const uint32_t[]){ 0xffffffffu }, 1, RET_ERRNO(EPERM));
		break;
	case A_SOCKET:
		emit_socket_check(p, cx->tcp);
		break;
	}
}

static int rule_cmp(const void *a, const void *b)
{
	const struct sb_rule *x = a, *y = b;
	return x->nr < y->nr ? -1 : x->nr > y->nr;
}

/* The filter tests ranges of system-call numbers, not each number: the
 * sorted rules become runs of consecutive numbers with one action (the
 * numbers between runs, and those past the last, are killed), and a binary
 * search over the runs' first numbers reaches a call's run in ~log2(runs)
 * comparisons. A run whose action checks arguments jumps to that action's
 * code, emitted once after the search; the other runs return at once. */
#define A_KILL 0xff /* a run of numbers not on the list */
#define SB_MAX_RUNS (2 * SB_NRULES + 2)
struct sb_run {
	uint32_t lo; /* the run is [lo, next run's lo), the last to 0xffffffff */
	unsigned char action;
};

/* Jumps from the search's leaves to an argument action's code, patched
 * once that code is emitted. */
struct sb_fixups {
	unsigned at[SB_MAX_RUNS];
	unsigned char action[SB_MAX_RUNS];
	unsigned n;
};

static int ret_only(unsigned action)
{
	return action == A_ALLOW || action == A_EPERM || action == A_ENOSYS || action == A_KILL;
}

/* Instructions emit_search() emits for runs R[0..N). */
static unsigned search_len(int n)
{
	unsigned left;
	if (n == 1)
		return 1;
	left = search_len(n / 2);
	return 1 + (left > 255 ? 1 : 0) + left + search_len(n - n / 2);
}

static void emit_search(struct bpf_prog_buf *p, const struct sb_run *r, int n,
			const struct sb_filter_ctx *cx, struct sb_fixups *fx)
{
	int mid = n / 2;
	unsigned left;

	if (n == 1) {
		if (ret_only(r->action)) {
			if (r->action == A_KILL)
				RET(p, SECCOMP_RET_KILL_PROCESS);
			else
				emit_action(p, r->action, cx);
		} else {
			fx->at[fx->n] = p->n;
			fx->action[fx->n++] = r->action;
			emit(p, BPF_JMP | BPF_JA, 0, 0, 0);
		}
		return;
	}
	/* nr >= r[mid].lo: the right half, else fall into the left one; a
	 * left half too long for the 8-bit offset is jumped over with JA. */
	left = search_len(mid);
	if (left <= 255) {
		emit(p, BPF_JMP | BPF_JGE | BPF_K, (uint8_t)left, 0, r[mid].lo);
	} else {
		emit(p, BPF_JMP | BPF_JGE | BPF_K, 0, 1, r[mid].lo);
		emit(p, BPF_JMP | BPF_JA, 0, 0, left);
	}
	emit_search(p, r, mid, cx, fx);
	emit_search(p, r + mid, n - mid, cx, fx);
}

/* The sorted, deduplicated rules as runs; 0, or -1 with ERR when one
 * number has two actions (two names for it on this architecture). */
static int make_runs(struct sb_run *runs, int *nruns, char *err, size_t errlen)
{
	struct sb_rule sorted[SB_NRULES];
	size_t i;
	int n = 0;
	uint32_t next = 0; /* the first number after the last run so far */

	memcpy(sorted, sb_rules, sizeof sorted);
	qsort(sorted, SB_NRULES, sizeof sorted[0], rule_cmp);
	for (i = 0; i < SB_NRULES; i++) {
		uint32_t nr = (uint32_t)sorted[i].nr;
		if (i && sorted[i - 1].nr == sorted[i].nr) {
			if (sorted[i - 1].action != sorted[i].action)
				return fail(err, errlen, "seccomp: system call %ld has two actions",
					    sorted[i].nr);
			continue;
		}
		if (nr != next && (!n || runs[n - 1].action != A_KILL)) {
			runs[n].lo = next;
			runs[n++].action = A_KILL;
		}
		if (!n || runs[n - 1].action != sorted[i].action) {
			runs[n].lo = nr;
			runs[n++].action = sorted[i].action;
		}
		next = nr + 1;
	}
	if (next != 0 && (!n || runs[n - 1].action != A_KILL)) {
		runs[n].lo = next;
		runs[n++].action = A_KILL;
	}
	*nruns = n;
	return 0;
}

/* Build the whole program for CX (pid, TCP or not) into P. 0, or -1 with ERR. */
static int build_seccomp(struct bpf_prog_buf *p, const struct sb_filter_ctx *cx, char *err,
			 size_t errlen)
{
	struct sb_run runs[SB_MAX_RUNS];
	struct sb_fixups fx;
	unsigned i, j;
	int nruns = 0;

	p->n = 0;
	p->nself = 0;
	fx.n = 0;
	if (make_runs(runs, &nruns, err, errlen) < 0)
		return -1;
	emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)offsetof(struct seccomp_data, arch));
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, SB_AUDIT_ARCH);
	RET(p, SECCOMP_RET_KILL_PROCESS);
	emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)offsetof(struct seccomp_data, nr));
#if defined(__x86_64__)
	/* x32 numbers would dodge the rules (the runs kill them too; this
	 * says so where it is decided). */
	emit(p, BPF_JMP | BPF_JGE | BPF_K, 0, 1, 0x40000000u);
	RET(p, SECCOMP_RET_KILL_PROCESS);
#endif
	emit_search(p, runs, nruns, cx, &fx);
	/* Each argument action's code once, every leaf that needs it jumping
	 * there (JA: a 32-bit offset). */
	for (i = 0; i < fx.n; i++) {
		unsigned start = p->n;
		int seen = 0;
		for (j = 0; j < i; j++)
			seen |= fx.action[j] == fx.action[i];
		if (seen)
			continue;
		emit_action(p, fx.action[i], cx);
		for (j = i; j < fx.n; j++)
			if (fx.action[j] == fx.action[i] && fx.at[j] < SB_MAX_INSNS)
				p->f[fx.at[j]].k = start - fx.at[j] - 1;
	}
	if (p->n > SB_MAX_INSNS)
		return fail(err, errlen, "seccomp: filter too long (%u)", p->n);
	if (p->nself > SB_MAX_SELF)
		return fail(err, errlen, "seccomp: %u pid checks (at most %d)", p->nself, SB_MAX_SELF);
	return 0;
}

/* The programs nuwa_sandbox_prepare() built in the template, for its own
 * pid, without and with TCP: children copy one and put their pid in (the
 * template's copies are never written after). */
static struct bpf_prog_buf prepared[2];
static int prepared_ok;
static uint64_t prepared_bounding;
static int prepared_bounding_ok;

int nuwa_sandbox_prepare(void)
{
	char why[128];
	int tcp;
	for (tcp = 0; tcp < 2; tcp++) {
		struct sb_filter_ctx cx = { (uint32_t)getpid(), tcp };
		if (build_seccomp(&prepared[tcp], &cx, why, sizeof why) < 0) {
			errno = E2BIG;
			return -1;
		}
	}
	prepared_ok = 1;
	prepared_bounding = bounding_set();
	prepared_bounding_ok = 1;
	return 0;
}

/* DST = SRC (a program built for another pid) with SELF in its pid checks. */
static void copy_for_pid(struct bpf_prog_buf *dst, const struct bpf_prog_buf *src, uint32_t self)
{
	unsigned i;
	memcpy(dst->f, src->f, src->n * sizeof src->f[0]);
	dst->n = src->n;
	dst->nself = src->nself;
	memcpy(dst->self_at, src->self_at, sizeof dst->self_at);
	for (i = 0; i < dst->nself; i++)
		dst->f[dst->self_at[i]].k = self;
}

/* Drop what a spare prepared and was not used (its ruleset, its programs). */
static void spare_release(void)
{
	if (spare.ruleset >= 0)
		close(spare.ruleset);
	if (spare.task_fd >= 0)
		close(spare.task_fd);
	spare.task_fd = -1;
	if (spare.progs && munmap(spare.progs, spare.progs_len) < 0)
		nuwa_log("sandbox: spare scratch: %s", strerror(errno));
	spare.ruleset = -1;
	spare.progs = NULL;
	spare.pid = 0;
}

void nuwa_sandbox_spare_drop(void)
{
	if (spare_ready())
		spare_release();
}

int nuwa_sandbox_spare_prepare(const char *const *read_paths, int nread_paths)
{
	struct nuwa_sandbox_state st;
	struct nuwa_ll_ruleset_attr attr;
	struct bpf_prog_buf *p;
	char self_dir[64], why[160];
	int i, abi, rs, e = 0, le = 0;

	spare_release();
	memset(&st, 0, sizeof st);
	/* Both programs (without and with TCP) with this pid in, in scratch
	 * memory the app's apply installs from and unmaps. */
	if (prepared_ok) {
		spare.progs_len = 2 * sizeof *p;
		p = mmap(NULL, spare.progs_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
		if (p == MAP_FAILED) {
			e = errno;
		} else {
			copy_for_pid(&p[0], &prepared[0], (uint32_t)getpid());
			copy_for_pid(&p[1], &prepared[1], (uint32_t)getpid());
			spare.progs = p;
		}
	}
	/* For the lone-thread check: opened now, read at the apply. */
	spare.task_fd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (spare.task_fd < 0)
		e = errno;
	/* The ruleset with what every app of the framework gets: its own
	 * /proc/PID and READ_PATHS (those present: an absent one is left to
	 * the app's apply, which notes it). */
	abi = nuwa_landlock_abi();
	if (abi > 0) {
		size_t size = ruleset_attr(abi, &attr, &st);
		rs = (int)syscall(__NR_landlock_create_ruleset, &attr, size, 0);
		if (rs < 0) {
			le = errno;
		} else {
			spare.ruleset = rs;
			spare.abi = abi;
			snprintf(self_dir, sizeof self_dir, "/proc/%d", (int)getpid());
			if (add_read_rule(rs, self_dir, "spare", &st, why, sizeof why) < 0)
				le = EINVAL;
			spare.npaths = 0;
			for (i = 0; !le && i < nread_paths && spare.npaths < SB_SPARE_PATHS; i++) {
				if (access(read_paths[i], F_OK) < 0)
					continue;
				if (add_read_rule(rs, read_paths[i], "spare", &st, why, sizeof why) < 0)
					le = EINVAL;
				else
					spare.paths[spare.npaths++] = read_paths[i];
			}
			if (le) {
				/* The app's apply makes it all, and says why. */
				close(rs);
				spare.ruleset = -1;
			}
		}
	}
	spare.pid = getpid();
	if (e || le) {
		e = e ? e : le;
		errno = e;
		return -1;
	}
	return 0;
}

static int apply_seccomp(int tcp, char *err, size_t errlen)
{
	struct sb_filter_ctx cx = { (uint32_t)getpid(), tcp };
	struct bpf_prog_buf *p;
	struct sock_fprog prog;
	int rc = 0;

	if (spare_ready() && spare.progs) {
		/* The spare copied it for this pid before the request. */
		p = (struct bpf_prog_buf *)spare.progs + (tcp ? 1 : 0);
		prog.len = (unsigned short)p->n;
		prog.filter = p->f;
		if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog) != 0)
			rc = fail(err, errlen, "seccomp: %s",
				  errno ? strerror(errno) : "thread sync failed");
		spare_release();
		return rc;
	}
	/* Scratch memory of its own, unmapped once the kernel has its copy:
	 * the program leaves no written page behind in the app. */
	p = mmap(NULL, sizeof *p, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return fail(err, errlen, "seccomp: scratch: %s", strerror(errno));
	if (prepared_ok)
		copy_for_pid(p, &prepared[tcp ? 1 : 0], cx.self);
	else if (build_seccomp(p, &cx, err, errlen) < 0) {
		rc = -1;
	}
	if (rc == 0) {
		prog.len = (unsigned short)p->n;
		prog.filter = p->f;
		/* TSYNC: every thread of the process gets the filter (and, with
		 * it, no_new_privs). */
		if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog) != 0)
			rc = fail(err, errlen, "seccomp: %s",
				  errno ? strerror(errno) : "thread sync failed");
	}
	munmap(p, sizeof *p);
	return rc;
}

/* ---- the whole sandbox ---------------------------------------------- */

int nuwa_sandbox_apply(const struct nuwa_sandbox_conf *c, struct nuwa_sandbox_state *out,
		       char *err, size_t errlen)
{
	struct nuwa_sandbox_state st;
	const char *app = c->app ? c->app : "app";
	int rs = -2, abi = 0, rc = -1, e;

	memset(&st, 0, sizeof st);
	if (c->nofile && set_limit(RLIMIT_NOFILE, (rlim_t)c->nofile) < 0)
		return fail(err, errlen, "RLIMIT_NOFILE %lu: %s", c->nofile, strerror(errno));
	if (c->fsize) {
		if (set_limit(RLIMIT_FSIZE, (rlim_t)c->fsize) < 0)
			return fail(err, errlen, "RLIMIT_FSIZE %llu: %s", c->fsize, strerror(errno));
		if (signal(SIGXFSZ, SIG_IGN) == SIG_ERR)
			return fail(err, errlen, "SIGXFSZ: %s", strerror(errno));
	}
	rs = prepare_landlock(c, &st, &abi, err, errlen);
	if (rs == -1)
		return -1;
	nuwa_phase_mark("sandbox_landlock_ruleset");
	sb_set_ids = 0;
	sb_uid = c->uid;
	sb_gid = c->gid >= 0 ? c->gid : c->uid; /* never root's group by default */
	sb_ruleset = rs >= 0 ? rs : -1;
	if (c->ngroups < 0 || c->ngroups > NUWA_SANDBOX_MAX_GROUPS) {
		fail(err, errlen, "more than %d supplementary groups", NUWA_SANDBOX_MAX_GROUPS);
		goto out;
	}
	sb_ngroups = c->ngroups;
	for (e = 0; e < c->ngroups; e++)
		sb_groups[e] = (SB_GID_T)c->groups[e];
	if (geteuid() != 0) {
		/* Not permitted (native run as a user): log it and keep the ids;
		 * Landlock and seccomp below still separate the app. */
		note(&st, app, "not root: uid/gid %ld/%ld not applied", c->uid, (long)sb_gid);
	} else if (c->uid <= 0) {
		fail(err, errlen, "no uid for the app: refusing to run it as root "
		     "(set uid, or [daemon] app_uids)");
		goto out;
	} else {
		sb_set_ids = 1;
		/* Inherited unchanged from the template, which read it. */
		sb_bounding = prepared_bounding_ok ? prepared_bounding : bounding_set();
	}
	/* Every other thread first, then this one. A template child calls us
	 * before it starts its threads (nuwa_fork_defer_threads): alone, it
	 * needs no round (marked sandbox_alone instead). */
	e = confine_other_threads(err, errlen);
	if (e < 0)
		goto out;
	st.threads_signalled = e;
	nuwa_phase_mark(e > 0 ? "sandbox_other_threads" : "sandbox_alone");
	if ((e = confine_self()) != 0) {
		fail(err, errlen, "confine: %s", strerror(e));
		goto out;
	}
	nuwa_phase_mark("sandbox_ids_landlock");
	st.uid_set = sb_set_ids;
	st.no_new_privs = 1;
	st.landlock_abi = rs >= 0 ? abi : 0;
	/* Last: every thread has no_new_privs, so TSYNC may filter them all. */
	if (apply_seccomp(c->nnet_connect > 0 || c->nnet_bind > 0, err, errlen) < 0)
		goto out;
	nuwa_phase_mark("sandbox_seccomp");
	st.seccomp = 1;
	if (out)
		*out = st;
	rc = 0;
out:
	if (rs >= 0)
		close(rs);
	if (spare_ready())
		spare_release(); /* what the failed apply did not use */
	return rc;
}

int nuwa_sandbox_describe(const struct nuwa_sandbox_state *st, char *buf, size_t len)
{
	return snprintf(buf, len, "uid=%d gid=%d ids_set=%d nnp=%d landlock=%d net=%d scoped=%d "
			"seccomp=%d signalled=%d%s%s", (int)getuid(), (int)getgid(), st->uid_set,
			st->no_new_privs, st->landlock_abi, st->landlock_net, st->landlock_scoped,
			st->seccomp, st->threads_signalled,
			st->note[0] ? " note=" : "", st->note);
}
