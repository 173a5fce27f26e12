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
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
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

/* ---- limits --------------------------------------------------------- */

static int set_limit(int res, rlim_t v)
{
	struct rlimit r = { .rlim_cur = v, .rlim_max = v };
	return setrlimit(res, &r);
}

/* ---- Landlock ------------------------------------------------------- */

int nuwa_landlock_abi(void)
{
	long v = syscall(__NR_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	return v < 0 ? 0 : (int)v;
}

static uint64_t fs_rights_for_abi(int abi)
{
	uint64_t r = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
		     LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR |
		     LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
		     LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |
		     LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |
		     LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
		     LANDLOCK_ACCESS_FS_MAKE_SYM;
	if (abi >= 2)
		r |= LANDLOCK_ACCESS_FS_REFER;
#ifdef LANDLOCK_ACCESS_FS_TRUNCATE
	if (abi >= 3)
		r |= LANDLOCK_ACCESS_FS_TRUNCATE;
#endif
#ifdef LANDLOCK_ACCESS_FS_IOCTL_DEV
	if (abi >= 5)
		r |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
#endif
	return r;
}

/* Allow reading beneath PATH. A missing path is not an error (configs list
 * optional trees such as a CA directory); anything else is. */
static int add_read_rule(int ruleset, const char *path, const char *app,
			 struct nuwa_sandbox_state *st, char *err, size_t errlen)
{
	struct landlock_path_beneath_attr pb;
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
	pb.allowed_access = LANDLOCK_ACCESS_FS_READ_FILE |
			    (S_ISDIR(sb.st_mode) ? LANDLOCK_ACCESS_FS_READ_DIR : 0);
	if (syscall(__NR_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) < 0) {
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
static volatile int sb_ruleset = -1;
static volatile int sb_set_ids;
static volatile long sb_uid = -1, sb_gid = -1;
static SB_GID_T sb_groups[NUWA_SANDBOX_MAX_GROUPS];
static volatile int sb_ngroups;
static volatile pid_t sb_done[SB_MAX_THREADS];
static volatile int sb_ndone;
static volatile int sb_failed;

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
			if (syscall(SYS_prctl, PR_CAPBSET_DROP, (long)cap, 0L, 0L, 0L) < 0) {
				if (errno == EINVAL)
					break; /* past the kernel's last capability */
				return errno;
			}
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

static int confine_other_threads(char *err, size_t errlen)
{
	static pid_t signalled[SB_MAX_THREADS];
	struct sigaction sa, old;
	pid_t self = (pid_t)syscall(SYS_gettid), pid = getpid();
	int sig = SIGRTMAX - 1, rc = 0, nsig = 0, pass, k;
	int64_t deadline = mono_ms() + 2000;
	char name[64];

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
	return rc;
}

/* Build the ruleset while the process still has its original ids (the
 * readable paths may sit below directories the app's uid cannot search).
 * Returns the ruleset fd, -2 when Landlock is unavailable and allowed to be,
 * or -1 with ERR. */
static int prepare_landlock(const struct nuwa_sandbox_conf *c, struct nuwa_sandbox_state *st,
			    int *abi_out, char *err, size_t errlen)
{
	struct landlock_ruleset_attr attr;
	char self_dir[64];
	int abi = nuwa_landlock_abi(), rs, i;

	if (abi <= 0) {
		const char *why = errno == EOPNOTSUPP ? "disabled at boot (add landlock to lsm=)"
							: "not in this kernel";
		if (c->landlock == NUWA_LANDLOCK_REQUIRED)
			return fail(err, errlen, "landlock required but %s", why);
		note(st, c->app, "landlock %s: file access is limited by uid/gid and seccomp only", why);
		return -2;
	}
	memset(&attr, 0, sizeof attr);
	attr.handled_access_fs = fs_rights_for_abi(abi);
	rs = (int)syscall(__NR_landlock_create_ruleset, &attr, sizeof attr, 0);
	if (rs < 0)
		return fail(err, errlen, "landlock_create_ruleset: %s", strerror(errno));
	/* /proc/self resolves to this process's own directory now: the app
	 * reads its own smaps for snapshots, nothing of other processes. */
	snprintf(self_dir, sizeof self_dir, "/proc/%d", (int)getpid());
	if (add_read_rule(rs, self_dir, c->app, st, err, errlen) < 0)
		goto bad;
	if (c->app_library && add_read_rule(rs, c->app_library, c->app, st, err, errlen) < 0)
		goto bad;
	for (i = 0; i < c->nread_paths; i++)
		if (add_read_rule(rs, c->read_paths[i], c->app, st, err, errlen) < 0)
			goto bad;
	*abi_out = abi;
	return rs;
bad:
	close(rs);
	return -1;
}

/* ---- seccomp -------------------------------------------------------- */

/* Syscalls no app needs; each answers EPERM. */
static const int denied_syscalls[] = {
#ifdef __NR_ptrace
	__NR_ptrace,
#endif
#ifdef __NR_process_vm_readv
	__NR_process_vm_readv,
#endif
#ifdef __NR_process_vm_writev
	__NR_process_vm_writev,
#endif
#ifdef __NR_process_madvise
	__NR_process_madvise,
#endif
#ifdef __NR_kexec_load
	__NR_kexec_load,
#endif
#ifdef __NR_kexec_file_load
	__NR_kexec_file_load,
#endif
#ifdef __NR_mount
	__NR_mount,
#endif
#ifdef __NR_umount2
	__NR_umount2,
#endif
#ifdef __NR_umount
	__NR_umount,
#endif
#ifdef __NR_pivot_root
	__NR_pivot_root,
#endif
#ifdef __NR_chroot
	__NR_chroot,
#endif
#ifdef __NR_fsopen
	__NR_fsopen, __NR_fsmount, __NR_fsconfig, __NR_move_mount, __NR_open_tree,
#endif
#ifdef __NR_mount_setattr
	__NR_mount_setattr,
#endif
#ifdef __NR_bpf
	__NR_bpf,
#endif
#ifdef __NR_perf_event_open
	__NR_perf_event_open,
#endif
#ifdef __NR_userfaultfd
	__NR_userfaultfd,
#endif
#ifdef __NR_init_module
	__NR_init_module,
#endif
#ifdef __NR_finit_module
	__NR_finit_module,
#endif
#ifdef __NR_delete_module
	__NR_delete_module,
#endif
#ifdef __NR_reboot
	__NR_reboot,
#endif
#ifdef __NR_swapon
	__NR_swapon, __NR_swapoff,
#endif
#ifdef __NR_acct
	__NR_acct,
#endif
#ifdef __NR_settimeofday
	__NR_settimeofday,
#endif
#ifdef __NR_clock_settime
	__NR_clock_settime,
#endif
#ifdef __NR_clock_adjtime
	__NR_clock_adjtime,
#endif
#ifdef __NR_adjtimex
	__NR_adjtimex,
#endif
#ifdef __NR_sethostname
	__NR_sethostname,
#endif
#ifdef __NR_setdomainname
	__NR_setdomainname,
#endif
#ifdef __NR_syslog
	__NR_syslog,
#endif
#ifdef __NR_quotactl
	__NR_quotactl,
#endif
#ifdef __NR_keyctl
	__NR_keyctl, __NR_add_key, __NR_request_key,
#endif
#ifdef __NR_unshare
	__NR_unshare,
#endif
#ifdef __NR_setns
	__NR_setns,
#endif
#ifdef __NR_open_by_handle_at
	__NR_open_by_handle_at,
#endif
#ifdef __NR_name_to_handle_at
	__NR_name_to_handle_at,
#endif
#ifdef __NR_kcmp
	__NR_kcmp,
#endif
#ifdef __NR_lookup_dcookie
	__NR_lookup_dcookie,
#endif
#ifdef __NR_fanotify_init
	__NR_fanotify_init,
#endif
#ifdef __NR_vhangup
	__NR_vhangup,
#endif
#ifdef __NR_iopl
	__NR_iopl,
#endif
#ifdef __NR_ioperm
	__NR_ioperm,
#endif
#ifdef __NR_io_uring_setup
	/* io_uring operations bypass seccomp. */
	__NR_io_uring_setup, __NR_io_uring_enter, __NR_io_uring_register,
#endif
#ifdef __NR_pidfd_send_signal
	__NR_pidfd_send_signal,
#endif
#ifdef __NR_pidfd_getfd
	__NR_pidfd_getfd,
#endif
#ifdef __NR_tkill
	__NR_tkill,
#endif
};

#define SB_MAX_INSNS 256
struct bpf_prog_buf {
	struct sock_filter f[SB_MAX_INSNS];
	unsigned n;
};

static void emit(struct bpf_prog_buf *p, uint16_t code, uint8_t jt, uint8_t jf, uint32_t k)
{
	if (p->n < SB_MAX_INSNS)
		p->f[p->n] = (struct sock_filter)BPF_JUMP(code, k, jt, jf);
	p->n++;
}

#define RET_ERRNO(e) (SECCOMP_RET_ERRNO | ((e) & SECCOMP_RET_DATA))
#define NAMESPACE_FLAGS (CLONE_NEWNS | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | \
			 CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP)

/* "if nr == NR and (uint32)args[ARG] != SELF: EPERM". Signals may only go
 * to this process; kill(0, ...) and kill(-1, ...) would reach nuwad's group. */
static void emit_self_only(struct bpf_prog_buf *p, int nr, int arg, uint32_t self)
{
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 4, (uint32_t)nr);
	emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, SB_ARG_LO(arg));
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, self);
	emit(p, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW);
	emit(p, BPF_RET | BPF_K, 0, 0, RET_ERRNO(EPERM));
}

static int apply_seccomp(char *err, size_t errlen)
{
	struct bpf_prog_buf p = { .n = 0 };
	struct sock_fprog prog;
	uint32_t self = (uint32_t)getpid();
	size_t i;

	emit(&p, BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)offsetof(struct seccomp_data, arch));
	emit(&p, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, SB_AUDIT_ARCH);
	emit(&p, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_KILL_PROCESS);
	emit(&p, BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)offsetof(struct seccomp_data, nr));
#if defined(__x86_64__)
	/* x32 syscall numbers would dodge the checks below. */
	emit(&p, BPF_JMP | BPF_JGE | BPF_K, 0, 1, 0x40000000u);
	emit(&p, BPF_RET | BPF_K, 0, 0, RET_ERRNO(EPERM));
#endif
	for (i = 0; i < sizeof denied_syscalls / sizeof denied_syscalls[0]; i++) {
		emit(&p, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, (uint32_t)denied_syscalls[i]);
		emit(&p, BPF_RET | BPF_K, 0, 0, RET_ERRNO(EPERM));
	}
#ifdef __NR_clone3
	/* clone3 hides its flags in memory; the C library falls back to clone. */
	emit(&p, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, __NR_clone3);
	emit(&p, BPF_RET | BPF_K, 0, 0, RET_ERRNO(ENOSYS));
#endif
	/* clone with namespace flags (flags are args[0] on every arch here). */
	emit(&p, BPF_JMP | BPF_JEQ | BPF_K, 0, 3, __NR_clone);
	emit(&p, BPF_LD | BPF_W | BPF_ABS, 0, 0, SB_ARG_LO(0));
	emit(&p, BPF_JMP | BPF_JSET | BPF_K, 0, 1, NAMESPACE_FLAGS);
	emit(&p, BPF_RET | BPF_K, 0, 0, RET_ERRNO(EPERM));
	/* The accumulator may now hold args[0]; reload nr before each check. */
	emit(&p, BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)offsetof(struct seccomp_data, nr));
	emit_self_only(&p, __NR_kill, 0, self);
	emit(&p, BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)offsetof(struct seccomp_data, nr));
	emit_self_only(&p, __NR_tgkill, 0, self);
	emit(&p, BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)offsetof(struct seccomp_data, nr));
	emit_self_only(&p, __NR_rt_sigqueueinfo, 0, self);
	emit(&p, BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)offsetof(struct seccomp_data, nr));
	emit_self_only(&p, __NR_rt_tgsigqueueinfo, 0, self);
	emit(&p, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW);
	if (p.n > SB_MAX_INSNS)
		return fail(err, errlen, "seccomp: filter too long (%u)", p.n);
	prog.len = (unsigned short)p.n;
	prog.filter = p.f;
	/* TSYNC: every thread of the process gets the filter (and, with it,
	 * no_new_privs). */
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog) != 0)
		return fail(err, errlen, "seccomp: %s", errno ? strerror(errno) : "thread sync failed");
	return 0;
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
	}
	/* Every other thread first, then this one. */
	if (confine_other_threads(err, errlen) < 0)
		goto out;
	if ((e = confine_self()) != 0) {
		fail(err, errlen, "confine: %s", strerror(e));
		goto out;
	}
	st.uid_set = sb_set_ids;
	st.no_new_privs = 1;
	st.landlock_abi = rs >= 0 ? abi : 0;
	/* Last: every thread has no_new_privs, so TSYNC may filter them all. */
	if (apply_seccomp(err, errlen) < 0)
		goto out;
	st.seccomp = 1;
	if (out)
		*out = st;
	rc = 0;
out:
	if (rs >= 0)
		close(rs);
	return rc;
}

int nuwa_sandbox_describe(const struct nuwa_sandbox_state *st, char *buf, size_t len)
{
	return snprintf(buf, len, "uid=%d gid=%d ids_set=%d nnp=%d landlock=%d seccomp=%d%s%s",
			(int)getuid(), (int)getgid(), st->uid_set, st->no_new_privs,
			st->landlock_abi, st->seccomp, st->note[0] ? " note=" : "", st->note);
}
