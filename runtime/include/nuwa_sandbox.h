/*
 * nuwa_sandbox.h - the sandbox every app gets (libnuwa).
 *
 * The hosts call nuwa_sandbox_apply() in the app's own process after the
 * framework is initialised and before any app code runs (before the app
 * library is even opened), in template and in exec mode alike. In order:
 *
 *  1. RLIMIT_NOFILE and RLIMIT_FSIZE (soft = hard, so the app cannot raise
 *     them); SIGXFSZ is ignored so a write past the size limit fails with
 *     EFBIG instead of killing the app;
 *  2. a Landlock ruleset (raw syscalls) is built while the process still has
 *     its ids: every file-system access right the kernel knows is handled,
 *     and only READ rights are granted, beneath the configured paths plus
 *     /proc/self and the app library: the app can read what it needs and
 *     write, create, remove or execute nothing. A kernel without Landlock is
 *     handled by POLICY (see nuwa_sandbox_conf.landlock);
 *  3. every thread (credentials, capabilities, no_new_privs and Landlock
 *     domains are per thread): the caller's own with plain system calls,
 *     any other in one signal round. A template child is alone here (the
 *     hosts call this between nuwa_fork_defer_threads() and
 *     nuwa_child_start_threads(), so its workers are born confined) and
 *     has no round; an exec-mode app's workers get one. Securebits locked,
 *     the capability bounding and ambient sets emptied, supplementary groups
 *     set, gid then uid set, the remaining capability sets cleared (all of
 *     it skipped with a log line when the process is not root, e.g. native
 *     tests as a user), no_new_privs, the Landlock domain. As root without
 *     a uid the sandbox fails: no app runs as root;
 *  4. a seccomp BPF allowlist (TSYNC: all threads): a system call outside
 *     it kills the process; a few answer EPERM/ENOSYS; fcntl, ioctl,
 *     prlimit64, setpriority, sched_set*, the kill family and clone have
 *     their arguments checked (docs/security.md).
 *
 * Everything is irreversible for the process and inherited by its children.
 */
#ifndef NUWA_SANDBOX_H
#define NUWA_SANDBOX_H

#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

enum nuwa_landlock_policy {
	NUWA_LANDLOCK_BEST_EFFORT = 0, /* no Landlock: log it and go on */
	NUWA_LANDLOCK_REQUIRED = 1     /* no Landlock: fail the sandbox */
};

struct nuwa_sandbox_conf {
	const char *app;               /* name, for log lines */
	long uid;                      /* < 0: keep */
	long gid;                      /* < 0: keep (uid's gid is not guessed) */
	const char *const *read_paths; /* readable trees/files (may be absent) */
	int nread_paths;
	const char *app_library;       /* added to the readable files (NULL: none) */
	unsigned long nofile;          /* RLIMIT_NOFILE; 0: leave */
	unsigned long long fsize;      /* RLIMIT_FSIZE in bytes; 0: leave */
	enum nuwa_landlock_policy landlock;
	const long *groups;            /* supplementary groups after the switch */
	int ngroups;                   /* (at most NUWA_SANDBOX_MAX_GROUPS) */
	/* TCP ports (Landlock ABI >= 4; with none, no TCP bind/connect) */
	const unsigned short *net_connect;
	int nnet_connect;
	const unsigned short *net_bind;
	int nnet_bind;
};

#define NUWA_SANDBOX_MAX_GROUPS 32

/* What was applied; filled by nuwa_sandbox_apply(). */
struct nuwa_sandbox_state {
	int uid_set;                   /* uid/gid changed, capabilities dropped */
	int no_new_privs;
	int landlock_abi;              /* 0: not applied */
	int seccomp;
	int landlock_net;              /* TCP bind/connect restricted */
	int landlock_scoped;           /* signals, abstract UNIX sockets scoped */
	int threads_signalled;         /* other threads confined by a signal round */
	char note[256];                /* why something was skipped, or "" */
};

/* Apply the sandbox to the calling process and all its threads (a thread
 * that keeps the signal SIGRTMAX-1 blocked for 2 s cannot be confined: the
 * call fails and names it). Returns 0, or -1 with the reason in ERR: then
 * the caller must not run the app (the process may be half-confined).
 * ST may be NULL. */
int nuwa_sandbox_apply(const struct nuwa_sandbox_conf *conf, struct nuwa_sandbox_state *st,
		       char *err, size_t errlen);

/* The app-independent part, made once in the template before its freeze:
 * the seccomp program (sorted and laid out as a search tree, with this
 * pid where the filter names the app's own) and the bounding set read.
 * nuwa_sandbox_apply() in a child copies the program into scratch memory,
 * puts its own pid in and unmaps it after installing, so no app writes
 * the template's copy; without it apply builds the program itself. 0, or
 * -1 with errno. */
int nuwa_sandbox_prepare(void);

/* In a spare (a template child waiting, single-threaded, for the app it
 * will become; its pid is the app's): the app-independent part of
 * nuwa_sandbox_apply() done before the request. The seccomp programs
 * (nuwa_sandbox_prepare) are copied for this pid into scratch memory, and
 * the Landlock ruleset is made with this process's /proc/PID and those of
 * READ_PATHS (the framework's sandbox_read) that exist; the rules bind the
 * inodes the paths name now. nuwa_sandbox_apply() in this process then
 * adds only the app's own rules and installs the copied program (and
 * unmaps it). 0, or -1 with errno: what could not be prepared is done by
 * the apply as without a spare. */
int nuwa_sandbox_spare_prepare(const char *const *read_paths, int nread_paths);
/* Drop what nuwa_sandbox_spare_prepare() made, for an app that runs
 * without the sandbox (sandbox = no). */
void nuwa_sandbox_spare_drop(void);

/* Empty the capability bounding set of the calling thread (as root; a
 * no-op otherwise). The hosts call it at start, while single-threaded, so
 * every thread and child inherits the empty set and the sandbox has no
 * bounding set left to drop per thread. 0, or -1 with errno. */
int nuwa_sandbox_drop_bounding(void);

/* Landlock ABI version the running kernel offers; 0 when it has none (or
 * it is disabled at boot), with errno set. */
int nuwa_landlock_abi(void);

/* One line describing ST, e.g. "uid=1001 nnp=1 landlock=2 seccomp=1". */
int nuwa_sandbox_describe(const struct nuwa_sandbox_state *st, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
