/*
 * nuwa.h - libnuwa, the template-process mechanism.
 *
 * A template process initialises once, freezes, and is then forked for every
 * app. libnuwa makes that safe without touching C-library internals:
 *
 *  - Threads. Every thread of the process is known: pthread_create() is
 *    interposed (libnuwa.so must come before libc in the lookup order, which
 *    linking the host executable with -lnuwa gives), so threads started by
 *    third-party libraries are seen too. The template is single-threaded at
 *    every fork: each thread is either
 *      * a WORKER: created with nuwa_worker_create(); its state lives in
 *        ordinary memory that fork() preserves; at freeze the worker returns
 *        from its run function at a safe point (holding no locks) and in every
 *        child a fresh thread calls the same run function on the same state;
 *      * REGISTERED with a stop/restart pair (nuwa_thread_register*(), for a
 *        library's own threads): STOP runs at freeze and returns once the
 *        thread is joined; RESTART runs in every child and re-creates it;
 *    or UNREGISTERED, which makes nuwa_freeze() fail and name the thread (its
 *    name and the symbol of its start routine). Threads the C library makes
 *    itself (a SIGEV_THREAD timer) cannot be either: they must be gone by
 *    the freeze (use timerfd or SIGEV_THREAD_ID), else the freeze fails and
 *    says so.
 *
 *  - Freeze. nuwa_freeze() is an explicit call (never a timer). It runs the
 *    stop hooks, asks every worker to stop, waits until no other thread is
 *    left, checks every open fd (the fd inventory below), trims the heap
 *    (malloc_trim) and gives up after a watchdog timeout naming the
 *    stragglers (or the stop hook that did not return).
 *
 *  - Fork, in two steps. nuwa_fork_defer_threads() forks the frozen template;
 *    in the child, in this order: libnuwa's own locks are re-made; fds
 *    marked private are closed; fds marked per-child (pipes, socketpairs)
 *    are replaced by fresh ones at the same numbers; every epoll instance
 *    created before the freeze is rebuilt (a new kernel object at the same
 *    fd number, same registrations); the runtime seed and random()/rand()
 *    are reseeded from getrandom(); NUWA_HOOK_CHILD_BEFORE_THREADS hooks
 *    run (each worker gets a fresh wake eventfd when its thread starts:
 *    the template's were closed at the freeze); it returns 0 with the child
 *    still SINGLE-THREADED. The child then does what must hold for every
 *    thread (the hosts apply the app's sandbox: ids, no_new_privs, Landlock,
 *    seccomp are per thread, and a single thread needs no signal round)
 *    and calls nuwa_child_start_threads(): workers are recreated (born with
 *    the child's credentials and confinement; NUWA_WORKER_ON_DEMAND ones
 *    only at their first nuwa_worker_demand()), registered threads' RESTART
 *    hooks run, NUWA_HOOK_CHILD_AFTER_THREADS hooks run (a RESTART failure
 *    is kept for nuwa_child_error()). nuwa_fork() is both steps in one.
 *    libnuwa's own locks are safe across any fork() (pthread_atfork), and
 *    close()/dup2()/dup3()/close_range() take no lock.
 *
 * Worker wait rule: a worker must block only in the nuwa_worker_* wait
 * functions below (or poll its nuwa_worker_should_stop() often). They behave
 * like the system call they wrap, and fail with errno == ECANCELED when the
 * worker is being frozen or stopped: the run function must then release its
 * locks and return. Its state stays as it was; in a child the run function is
 * called again from the top and must resume from that state.
 *
 * Without a freeze (exec mode, the baseline) libnuwa is inert: workers simply
 * run, tracking costs a lock per thread creation and per epoll_ctl().
 */
#ifndef NUWA_H
#define NUWA_H

#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NUWA_API_VERSION 1

/* Default freeze watchdog, milliseconds. */
#define NUWA_FREEZE_TIMEOUT_MS 5000

/* ------------------------------------------------------------------ */
/* Workers: threads that are recreated in every child.                 */

typedef struct nuwa_worker nuwa_worker;

/* Body of a worker. Called in the template (or exec-mode app) and again
 * from the top in every child. Must return when a wait reports ECANCELED. */
typedef void (*nuwa_worker_fn)(nuwa_worker *w, void *state);

/* Start a worker thread named NAME (max 15 chars shown by ps) running
 * RUN(w, STATE). Returns NULL with errno set on failure. */
nuwa_worker *nuwa_worker_create(const char *name, nuwa_worker_fn run, void *state);

/* A worker whose thread starts on first use: created with
 * NUWA_WORKER_ON_DEMAND it has no thread until nuwa_worker_demand(), in
 * every process; a child of the template does not recreate it in
 * nuwa_child_start_threads() (its state is kept) but at its first demand
 * there. An app that never needs it never pays its thread (stack, TLS,
 * clone). A thread started later is created by a thread of the child, so it
 * inherits the child's credentials and confinement like the others. */
#define NUWA_WORKER_ON_DEMAND 1u
/* nuwa_worker_create() with FLAGS (0 or NUWA_WORKER_ON_DEMAND). */
nuwa_worker *nuwa_worker_create_flags(const char *name, nuwa_worker_fn run, void *state,
				      unsigned flags);
/* Make sure W's thread runs: 1 when it was started now, 0 when it already
 * ran (or, in a child before nuwa_child_start_threads(), when it will be
 * started there), -1/errno on failure (EBUSY: the template is frozen).
 * Cheap when it runs already (one atomic load); any thread may call it. A
 * worker whose run function returned on its own is started again. */
int nuwa_worker_demand(nuwa_worker *w);

/* Stop a worker for good (it is not recreated) and join it. 0 or -1/errno. */
int nuwa_worker_stop(nuwa_worker *w);

/* Nonzero once the worker has been asked to return (freeze or stop). */
int nuwa_worker_should_stop(const nuwa_worker *w);

const char *nuwa_worker_name(const nuwa_worker *w);
void *nuwa_worker_state(const nuwa_worker *w);

/* How many times the run function was started in this process lineage:
 * 1 in the template, 2 in a child of the template, ... */
unsigned nuwa_worker_generation(const nuwa_worker *w);

/* Wait primitives for workers. TIMEOUT_MS < 0 waits forever.
 * nuwa_worker_cond_wait: MUTEX must be locked; returns 0 when woken (maybe
 *   spuriously), -1/ETIMEDOUT on timeout, -1/ECANCELED on stop (MUTEX is
 *   still held in every case). COND and MUTEX must outlive the wait.
 * nuwa_worker_poll / nuwa_worker_epoll_wait / nuwa_worker_read: as poll(),
 *   epoll_wait(), read() (read waits for readability first, then reads);
 *   -1/ECANCELED on stop.
 * nuwa_worker_sleep: 0 after MS milliseconds, -1/ECANCELED on stop.
 * Timeouts run on CLOCK_MONOTONIC (setting the clock does not move them); on
 * C libraries without pthread_cond_clockwait (glibc < 2.30, musl) COND must
 * be made with pthread_condattr_setclock(CLOCK_MONOTONIC). */
int nuwa_worker_cond_wait(nuwa_worker *w, pthread_cond_t *cond,
			  pthread_mutex_t *mutex, int timeout_ms);
int nuwa_worker_poll(nuwa_worker *w, struct pollfd *fds, nfds_t nfds, int timeout_ms);
int nuwa_worker_epoll_wait(nuwa_worker *w, int epfd, struct epoll_event *events,
			   int maxevents, int timeout_ms);
ssize_t nuwa_worker_read(nuwa_worker *w, int fd, void *buf, size_t len, int timeout_ms);
int nuwa_worker_sleep(nuwa_worker *w, int ms);

/* ------------------------------------------------------------------ */
/* Other threads: a stop/restart contract.                             */

/* STOP(ARG) is called in the template at freeze, before the workers stop;
 * it must make the thread(s) exit and return only once they are joined (0,
 * or -1 when it could not). RESTART(ARG, ERR, ERRLEN) is called in every
 * child after the workers are back, to re-create them; 0, or -1 with a
 * message in ERR (the launch then fails with it). After a failed freeze the
 * template calls RESTART too. One registration may cover several threads
 * (a pool): its STOP is called once. NAME says what it is in messages. */
typedef int (*nuwa_thread_stop_fn)(void *arg);
typedef int (*nuwa_thread_restart_fn)(void *arg, char *err, size_t errlen);
/* Cover THREAD. 0, or -1/ESRCH (not a live thread made through
 * pthread_create), EINVAL, ENOMEM. */
int nuwa_thread_register(pthread_t thread, const char *name, nuwa_thread_stop_fn stop,
			 nuwa_thread_restart_fn restart, void *arg);
/* Cover every thread (present and future, in this process and children)
 * whose start routine is START. Under a sanitizer whose pthread_create
 * interceptor wraps the start routine (ASan) START is never seen: use
 * nuwa_thread_register() there. */
int nuwa_thread_register_start(void *(*start)(void *), const char *name,
			       nuwa_thread_stop_fn stop, nuwa_thread_restart_fn restart,
			       void *arg);

/* In a child: NULL, or the first RESTART failure's message. */
const char *nuwa_child_error(void);

/* ------------------------------------------------------------------ */
/* Freeze and fork.                                                    */

/* Freeze the process. TIMEOUT_MS <= 0 means NUWA_FREEZE_TIMEOUT_MS.
 * Returns 0 when frozen; -1 with a readable reason in ERR (which names every
 * unmarked or straggling thread) otherwise; on failure the workers that had
 * stopped are restarted. Only the main thread may call it; only once. */
int nuwa_freeze(int timeout_ms, char *err, size_t errlen);
int nuwa_is_frozen(void);

/* malloc_trim(0) (where the C library has it): gives freed heap back to the
 * kernel. nuwa_freeze() calls it last; the template host's spare calls it
 * before it waits. Returns the bytes the allocator stopped holding free.
 * NUWA_NO_MALLOC_TRIM set in the environment turns it off (to measure it). */
long nuwa_trim_heap(void);
/* What the freeze's trim released (bytes). */
long nuwa_freeze_trimmed_bytes(void);

/* fork() the frozen process and rebuild per-child state in the child (see
 * above), threads included. Returns like fork(). -1/EINVAL when not frozen.
 * Same as nuwa_fork_defer_threads() followed, in the child, by
 * nuwa_child_start_threads(). */
pid_t nuwa_fork(void);

/* fork() the frozen process; the child gets every rebuild but its threads:
 * it returns single-threaded, with no worker or registered thread running,
 * until it calls nuwa_child_start_threads(). Do there what every thread
 * must inherit (credentials, no_new_privs, Landlock, seccomp); run no code
 * that needs a worker. -1/EINVAL when not frozen or (in such a child) when
 * its threads are still pending. */
pid_t nuwa_fork_defer_threads(void);

/* In a child of nuwa_fork_defer_threads(): recreate the workers, run the
 * RESTART hooks and the CHILD_AFTER_THREADS hooks. 0, or -1 when a RESTART
 * hook failed (nuwa_child_error() says which). Elsewhere, or a second time,
 * it does nothing and returns 0 (-1 if an earlier RESTART failed), so a
 * host may call it in every mode. */
int nuwa_child_start_threads(void);

/* 1 between nuwa_fork_defer_threads() and nuwa_child_start_threads(). */
int nuwa_child_threads_pending(void);

/* 1 in a process made by nuwa_fork() or nuwa_fork_defer_threads(), 0 otherwise. */
int nuwa_is_child(void);

/* ------------------------------------------------------------------ */
/* File descriptors.                                                   */

/* FD is private to this process: closed in every child. */
int nuwa_fd_private(int fd);
/* FD0/FD1 are the two ends of one pipe or socketpair used for IPC inside
 * the process: every child gets a fresh pair (same type, flags and fd
 * numbers) instead of sharing the template's. */
int nuwa_fd_per_child_pair(int fd0, int fd1);
/* Create and mark in one go. Same arguments as pipe2() / socketpair(). */
int nuwa_pipe2(int fds[2], int flags);
int nuwa_socketpair(int domain, int type, int protocol, int sv[2]);
/* Drop any mark on FD (close() does this too). */
int nuwa_fd_forget(int fd);

/* The fd inventory at freeze: every open fd must be marked above, an epoll
 * instance, a dup of one of those (it follows its source), or allowed:
 *  - fds 0-2 (shared: they are the log);
 *  - by kind: /dev/null, /dev/zero, /dev/full, /dev/urandom, /dev/random
 *    (shared: no per-open state), and regular files open read-only under a
 *    read-only prefix (default /usr/ /lib/ /etc/): reopened in every child
 *    at the template's offset, so apps never move each other's offset;
 *  - by nuwa_fd_allow(): shared as they are.
 * Anything else fails the freeze, naming the fd and its target.
 * ENTRY: an fd number or an absolute path (the fd's readlink target). */
int nuwa_fd_allow(const char *entry);
/* Add a read-only prefix (the first call replaces the defaults). */
int nuwa_fd_readonly_prefix(const char *prefix);

/* epoll: every epoll instance made with epoll_create()/epoll_create1() while
 * libnuwa is loaded is tracked, with its epoll_ctl() registrations, and is
 * rebuilt in each child. Nothing to call: a registration whose fd was
 * closed (or now holds another file) is dropped, EPOLL_CTL_DEL is not
 * needed. */

/* ------------------------------------------------------------------ */
/* Hooks.                                                              */

enum nuwa_hook_point {
	NUWA_HOOK_BEFORE_FREEZE = 0,       /* template, before workers stop */
	NUWA_HOOK_PARENT_AFTER_FORK,       /* template, after each fork */
	NUWA_HOOK_CHILD_BEFORE_THREADS,    /* child: fds, epoll, seeds done (at fork) */
	NUWA_HOOK_CHILD_AFTER_THREADS,     /* child: workers running again
					    * (in nuwa_child_start_threads) */
	NUWA_HOOK_COUNT
};
typedef void (*nuwa_hook_fn)(enum nuwa_hook_point point, void *arg);
/* Hooks run in registration order. 0 or -1/errno. */
int nuwa_hook_add(enum nuwa_hook_point point, nuwa_hook_fn fn, void *arg);

/* ------------------------------------------------------------------ */
/* Launch phases.                                                      */

/* A CLOCK_MONOTONIC timestamp under NAME (a static string, [a-z_]),
 * kept in order in fixed storage (24 at most; later ones are dropped).
 * nuwa_fork_defer_threads() marks the child's own steps (child_running,
 * fds_rebuilt, reseeded), nuwa_child_start_threads() threads_recreated,
 * the sandbox its parts; the host sends them to nuwad before the app entry
 * (NUWA_APP_MSG_PHASES). */
void nuwa_phase_mark(const char *name);
/* Forget the marks so far (a spare, when it is told which app to be). */
void nuwa_phase_reset(void);
/* "NAME MONO_US\n" per mark into BUF; returns the bytes written. */
int nuwa_phase_format(char *buf, size_t cap);

/* ------------------------------------------------------------------ */
/* Seeds.                                                              */

/* Per-process secret seed, remade from getrandom() in every child. */
uint64_t nuwa_seed(void);

/* ------------------------------------------------------------------ */
/* Framed messages (SOCK_SEQPACKET: one datagram = header + payload),  */
/* used on the template channel and on every app channel.              */

struct nuwa_msg_hdr {
	uint16_t type;
	uint16_t flags;
	uint32_t id;     /* request id, echoed in the answer */
	uint32_t len;    /* payload bytes after the header */
};
#define NUWA_MSG_MAX_PAYLOAD 8192

/* Send one message, with an optional fd (PASS_FD < 0: none) as SCM_RIGHTS.
 * Returns 0 or -1/errno. */
int nuwa_msg_send(int sock, uint16_t type, uint32_t id, const void *payload,
		  uint32_t len, int pass_fd);
/* Receive one message. Returns 1 with *HDR filled (payload length in
 * hdr->len), 0 on end of file, -1/errno on error (EBADMSG: malformed or
 * truncated, EMSGSIZE: payload larger than CAP). A passed fd lands in *RECV_FD
 * (close-on-exec) or is closed when RECV_FD is NULL; *RECV_FD is -1 when none
 * came. */
int nuwa_msg_recv(int sock, struct nuwa_msg_hdr *hdr, void *payload, size_t cap,
		  int *recv_fd);

/* ------------------------------------------------------------------ */
/* Crash reports.                                                      */

/* Map the crash handler's alternate stack and load and warm the unwinder
 * (call it in the template, before the freeze). 0 or -1/errno. */
int nuwa_crash_prepare(void);
/* Install the async-signal-safe crash handler (SIGSEGV, SIGBUS, SIGILL,
 * SIGFPE, SIGABRT, SIGTRAP, SIGSYS) on the alternate stack; it sends one
 * NUWA_APP_MSG_CRASH message (signal, code, fault address, pc, frames with
 * symbol names) on FD and lets the signal end the process. 0 or -1/errno. */
int nuwa_crash_arm(int fd);

#ifdef __cplusplus
}
#endif
#endif
