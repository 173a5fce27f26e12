/*
 * nuwa-libcheck: exercises libnuwa's API directly (run by
 * tests/runtime/test_libnuwa.py on the host and asan builds). Prints one line
 * per check and exits nonzero on the first failure.
 */
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nuwa.h"

/* libnuwa provides it where the C library has no wrapper (musl). */
int close_range(unsigned int first, unsigned int last, int flags);

#define CHECK(cond, what)                                                          \
	do {                                                                       \
		if (!(cond)) {                                                     \
			printf("FAIL %s (%s:%d, errno %s)\n", what, __FILE__, __LINE__, \
			       strerror(errno));                                   \
			exit(1);                                                   \
		}                                                                  \
		printf("ok %s\n", what);                                           \
		fflush(stdout);                                                    \
	} while (0)

static atomic_int counter;
static char order[64];

static void counting(nuwa_worker *w, void *state)
{
	int *runs = state;
	(*runs)++;
	while (nuwa_worker_sleep(w, 5) == 0)
		atomic_fetch_add(&counter, 1);
}

static void hook(enum nuwa_hook_point p, void *arg)
{
	size_t l = strlen(order);
	snprintf(order + l, sizeof order - l, "%d%s", (int)p, (const char *)arg);
}

/* A "library" thread under the stop/restart contract. */
static atomic_int lib_stop, lib_runs;
static int runs_at_freeze;
static pthread_t lib_thread;

static void *lib_main(void *arg)
{
	(void)arg;
	atomic_fetch_add(&lib_runs, 1);
	while (!atomic_load(&lib_stop))
		usleep(1000);
	return NULL;
}

static int lib_stop_hook(void *arg)
{
	(void)arg;
	atomic_store(&lib_stop, 1);
	return pthread_join(lib_thread, NULL) == 0 ? 0 : -1;
}

static int lib_restart_hook(void *arg, char *err, size_t errlen)
{
	(void)arg;
	atomic_store(&lib_stop, 0);
	if (pthread_create(&lib_thread, NULL, lib_main, NULL) != 0) {
		snprintf(err, errlen, "pthread_create failed");
		return -1;
	}
#ifdef __SANITIZE_ADDRESS__
	nuwa_thread_register(lib_thread, "lib", lib_stop_hook, lib_restart_hook, NULL);
#endif
	return 0;
}

static void *plain_thread(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static int plain_stop_hook(void *arg)
{
	pthread_t *t = arg;
	/* pause() returns for no signal we could send portably: cancel it. */
	pthread_cancel(*t);
	return pthread_join(*t, NULL) == 0 ? 0 : -1;
}

static int plain_restart_hook(void *arg, char *err, size_t errlen)
{
	(void)arg;
	(void)err;
	(void)errlen;
	return 0; /* not wanted in children */
}

static ino_t ino(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 ? st.st_ino : 0;
}

static int task_count(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	int n = 0;
	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* ---- fork safety of the interposed calls --------------------------- */

static atomic_int closing;

/* Closes tracked fds (epoll instances), which take the most work in
 * close(). */
static void *close_loop(void *arg)
{
	(void)arg;
	while (atomic_load(&closing)) {
		int fd = epoll_create1(EPOLL_CLOEXEC);
		if (fd >= 0)
			close(fd);
	}
	return NULL;
}

/* Plain fork() while another thread loops on close(): every child must be
 * able to close() and exit. A child stuck for 5 s is a hang. */
static int fork_vs_close(int rounds)
{
	pthread_t t[2];
	int i, hung = 0;
	atomic_store(&closing, 1);
	for (i = 0; i < 2; i++)
		if (pthread_create(&t[i], NULL, close_loop, NULL) != 0)
			return 2;
	for (i = 0; i < rounds && !hung; i++) {
		pid_t pid = fork();
		int status, waited;
		if (pid == 0) {
			int fd = open("/dev/null", O_RDONLY);
			close(fd);
			_exit(0);
		}
		if (pid < 0) {
			perror("fork");
			return 2;
		}
		for (waited = 0; waited < 5000; waited++) {
			if (waitpid(pid, &status, WNOHANG) == pid)
				break;
			usleep(1000);
		}
		if (waited == 5000) {
			printf("FAIL child %d of %d hung in close()\n", i + 1, rounds);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			hung = 1;
		}
	}
	atomic_store(&closing, 0);
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	if (!hung)
		printf("ok %d forks against close()\n", rounds);
	return hung;
}

static atomic_int handled;

static void close_in_handler(int sig)
{
	int e = errno;
	(void)sig;
	close(-1); /* as a handler closing a descriptor would */
	close(1000000);
	atomic_fetch_add(&handled, 1);
	errno = e;
}

static pthread_t closers[3];

static void *signaller(void *arg)
{
	unsigned i = 0;
	(void)arg;
	while (atomic_load(&closing)) {
		pthread_kill(closers[i++ % 3], SIGUSR1);
		sched_yield();
	}
	return NULL;
}

/* close() from a signal handler that interrupts close() on the same thread.
 * A lock in close() would deadlock; alarm() turns that into a failure. */
static int signal_close(int rounds)
{
	struct sigaction sa;
	struct itimerval it = { { 0, 200 }, { 0, 200 } };
	pthread_t t;
	int i;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = close_in_handler;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	/* The profiling timer interrupts user code wherever it is. */
	sigaction(SIGPROF, &sa, NULL);
	signal(SIGALRM, SIG_DFL);
	alarm(20);
	atomic_store(&closing, 1);
	closers[0] = pthread_self();
	for (int k = 1; k < 3; k++)
		if (pthread_create(&closers[k], NULL, close_loop, NULL) != 0)
			return 2;
	if (pthread_create(&t, NULL, signaller, NULL) != 0)
		return 2;
	setitimer(ITIMER_PROF, &it, NULL);
	for (i = 0; i < rounds || atomic_load(&handled) < 1000; i++) {
		int fd = epoll_create1(EPOLL_CLOEXEC);
		if (fd >= 0)
			close(fd);
	}
	memset(&it, 0, sizeof it);
	setitimer(ITIMER_PROF, &it, NULL);
	atomic_store(&closing, 0);
	pthread_join(t, NULL);
	for (int k = 1; k < 3; k++)
		pthread_join(closers[k], NULL);
	alarm(0);
	printf("ok %d closes, %d handlers closed meanwhile\n", i, atomic_load(&handled));
	return 0;
}

static int target_is(int fd, const char *want)
{
	char link[64], got[256];
	ssize_t n;
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	n = readlink(link, got, sizeof got - 1);
	if (n < 0)
		return 0;
	got[n] = 0;
	return strcmp(got, want) == 0;
}

/* fd identity: a registration whose fd was closed and the number reused,
 * dup2 over a tracked epoll fd, a dup of a tracked epoll, an allowed
 * read-only file (reopened: its offset is the child's own). */
static int fd_identity(void)
{
	int ep, ep_over, ep_dup, ep_ranged, priv_raw, gone[2], reuse[2], devnull, ro, status;
	char err[4096], exe[512], dir[512], *slash;
	struct epoll_event ev = { .events = EPOLLIN };
	ssize_t n;
	pid_t pid;

	ep = epoll_create1(EPOLL_CLOEXEC);
	CHECK(ep >= 0 && nuwa_pipe2(gone, O_CLOEXEC) == 0, "epoll and a pipe");
	ev.data.u64 = 5;
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, gone[0], &ev) == 0, "register the pipe");
	/* Closed without EPOLL_CTL_DEL; the number comes back as another pipe. */
	{
		int num = gone[0];
		CHECK(close(gone[0]) == 0 && close(gone[1]) == 0, "close without EPOLL_CTL_DEL");
		CHECK(nuwa_pipe2(reuse, O_CLOEXEC) == 0, "a new pipe");
		if (reuse[0] != num) {
			CHECK(dup3(reuse[0], num, O_CLOEXEC) == num, "new pipe at the old number");
			close(reuse[0]);
			reuse[0] = num;
			CHECK(nuwa_fd_per_child_pair(reuse[0], reuse[1]) == 0, "mark it");
		}
	}
	/* dup2 over a tracked epoll fd: that number is /dev/null from now on. */
	ep_over = epoll_create1(EPOLL_CLOEXEC);
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	CHECK(ep_over >= 0 && devnull >= 0 && dup2(devnull, ep_over) == ep_over, "dup2 over an epoll fd");
	close(devnull);
	/* close_range over a tracked epoll fd (through libnuwa), and a raw
	 * close_range syscall over a private fd (as fclose() or any raw close
	 * would): both numbers then hold other files, which the child keeps. */
	ep_ranged = epoll_create1(EPOLL_CLOEXEC);
	CHECK(ep_ranged >= 0 && close_range((unsigned)ep_ranged, (unsigned)ep_ranged, 0) == 0,
	      "close_range over an epoll fd");
	CHECK(open("/dev/null", O_RDONLY | O_CLOEXEC) == ep_ranged, "its number reused");
	priv_raw = open("/dev/null", O_RDONLY | O_CLOEXEC);
	CHECK(priv_raw >= 0 && nuwa_fd_private(priv_raw) == 0 &&
	      syscall(SYS_close_range, priv_raw, priv_raw, 0) == 0, "raw close of a private fd");
	CHECK(open("/dev/zero", O_RDONLY | O_CLOEXEC) == priv_raw, "its number reused");
	/* A dup of a tracked epoll: follows it into the child's new instance. */
	ep_dup = fcntl(ep, F_DUPFD_CLOEXEC, 100);
	CHECK(ep_dup >= 100, "F_DUPFD of the epoll fd");
	/* A read-only file under an allowed prefix, at offset 100. */
	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	CHECK(n > 0, "own path");
	exe[n] = 0;
	snprintf(dir, sizeof dir, "%s", exe);
	slash = strrchr(dir, '/');
	slash[1] = 0;
	CHECK(nuwa_fd_readonly_prefix(dir) == 0, "read-only prefix");
	ro = open(exe, O_RDONLY | O_CLOEXEC);
	CHECK(ro >= 0 && lseek(ro, 100, SEEK_SET) == 100, "read-only file at offset 100");

	CHECK(nuwa_freeze(0, err, sizeof err) == 0 || (printf("%s\n", err), 0), "freeze");
	pid = nuwa_fork();
	if (pid == 0) {
		struct epoll_event got;
		char buf[10];
		struct stat a, b, t;
		if (write(reuse[1], "x", 1) != 1)
			_exit(20);
		if (epoll_wait(ep, &got, 1, 100) != 0)
			_exit(21); /* the stale registration came back on the reused number */
		if (!target_is(ep_over, "/dev/null"))
			_exit(22); /* the number dup2'ed over became an epoll again */
		if (fstat(ep, &a) < 0 || fstat(ep_dup, &b) < 0 || a.st_ino != b.st_ino)
			_exit(23); /* the dup does not follow the rebuilt epoll */
		if (lseek(ro, 0, SEEK_CUR) != 100 || read(ro, buf, sizeof buf) != sizeof buf)
			_exit(24);
		if (!target_is(ep_ranged, "/dev/null"))
			_exit(25); /* close_range went unseen: the number became an epoll */
		if (!target_is(priv_raw, "/dev/zero"))
			_exit(26); /* the stale private mark closed an unrelated fd */
		(void)t;
		_exit(0);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid, "fork and wait");
	printf("child status %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child rebuilt its fds by identity");
	{
		struct stat a, b;
		CHECK(fstat(ep, &a) == 0 && fstat(ep_dup, &b) == 0 && a.st_ino == b.st_ino,
		      "template's dup still its own epoll");
	}
	CHECK(lseek(ro, 0, SEEK_CUR) == 100, "read-only file: the child's reads did not move the template's offset");
	printf("all ok\n");
	return 0;
}

/* ---- on-demand workers --------------------------------------------- */

static atomic_int od_served;

/* Serves one "job" per byte written to its pipe; counts runs in STATE. */
static int od_pipe[2];
static void od_run(nuwa_worker *w, void *state)
{
	int *runs = state;
	char c;
	(*runs)++;
	for (;;) {
		ssize_t n = nuwa_worker_read(w, od_pipe[0], &c, 1, -1);
		if (n < 0 && errno == ECANCELED)
			return;
		if (n == 1)
			atomic_fetch_add(&od_served, 1);
	}
}

static int od_wait_served(int want)
{
	for (int i = 0; i < 2000 && atomic_load(&od_served) < want; i++)
		usleep(1000);
	return atomic_load(&od_served) >= want;
}

static void od_demand_hook(enum nuwa_hook_point p, void *arg)
{
	(void)p;
	/* Before the child's threads: kept, started by nuwa_child_start_threads(). */
	if (nuwa_worker_demand(arg) != 0)
		_exit(30);
}

/* A NUWA_WORKER_ON_DEMAND worker has no thread until demanded, in the
 * template and in every child (which keeps its state); a demand while the
 * child's threads are pending is kept for nuwa_child_start_threads(). */
static int on_demand(void)
{
	int runs = 0, later_runs = 0, status;
	char err[1024];
	nuwa_worker *w, *later;
	pid_t pid;

	CHECK(nuwa_worker_create_flags("bad", od_run, &runs, 0x80) == NULL && errno == EINVAL,
	      "unknown worker flags refused");
	CHECK(nuwa_worker_demand(NULL) < 0 && errno == EINVAL, "demand of no worker refused");
	CHECK(nuwa_pipe2(od_pipe, O_CLOEXEC) == 0, "per-child pipe");
	w = nuwa_worker_create_flags("od", od_run, &runs, NUWA_WORKER_ON_DEMAND);
	later = nuwa_worker_create_flags("od-later", od_run, &later_runs, NUWA_WORKER_ON_DEMAND);
	CHECK(w && later, "on-demand workers created");
	CHECK(task_count() == 1 && runs == 0 && nuwa_worker_generation(w) == 0,
	      "no thread before the first demand");
	CHECK(nuwa_worker_demand(w) == 1, "the first demand starts it");
	CHECK(nuwa_worker_demand(w) == 0 && task_count() == 2, "a second demand starts nothing");
	CHECK(write(od_pipe[1], "j", 1) == 1 && od_wait_served(1), "it serves");
	CHECK(nuwa_freeze(0, err, sizeof err) == 0 || (printf("%s\n", err), 0), "freeze");
	CHECK(task_count() == 1 && nuwa_worker_generation(w) == 1, "frozen: single-threaded");
	CHECK(nuwa_worker_demand(later) < 0 && errno == EBUSY, "no demand in the frozen template");

	pid = nuwa_fork();
	if (pid == 0) {
		/* Not recreated by the fork: only at its first demand here. */
		if (task_count() != 1)
			_exit(20);
		if (nuwa_worker_demand(w) != 1 || nuwa_worker_generation(w) != 2)
			_exit(21);
		if (write(od_pipe[1], "j", 1) != 1 || !od_wait_served(2) || runs != 2)
			_exit(22); /* the fresh pipe, served by the new thread */
		if (task_count() != 2 || nuwa_worker_generation(later) != 0)
			_exit(23);
		_exit(0);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid, "child");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		printf("child status %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status));
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child: no thread until demanded, then generation 2");

	CHECK(nuwa_hook_add(NUWA_HOOK_CHILD_BEFORE_THREADS, od_demand_hook, later) == 0, "hook");
	pid = nuwa_fork_defer_threads();
	if (pid == 0) {
		if (task_count() != 1 || nuwa_worker_generation(later) != 0)
			_exit(24);
		if (nuwa_child_start_threads() != 0 || nuwa_worker_generation(later) != 1 ||
		    nuwa_worker_generation(w) != 1)
			_exit(25); /* the demanded one started, the other not */
		for (int i = 0; i < 1000 && later_runs != 1; i++)
			usleep(1000);
		_exit(task_count() == 2 && later_runs == 1 ? 0 : 26);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid, "deferred child");
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "a demand before the child's threads start waits for nuwa_child_start_threads()");
	printf("all ok\n");
	return 0;
}

int main(int argc, char **argv)
{
	int runs = 0, sv[2], priv[2], ep, status;
	char err[2048];
	nuwa_worker *w, *gone;
	pthread_t t2;
	ino_t sv_ino;
	pid_t pid;
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 77 };

	if (argc == 3 && !strcmp(argv[1], "fork-close"))
		return fork_vs_close(atoi(argv[2]));
	if (argc == 3 && !strcmp(argv[1], "signal-close"))
		return signal_close(atoi(argv[2]));
	if (argc == 2 && !strcmp(argv[1], "fd-identity"))
		return fd_identity();
	if (argc == 2 && !strcmp(argv[1], "on-demand"))
		return on_demand();
	if (argc != 1) {
		fprintf(stderr, "usage: nuwa-libcheck [fork-close N | signal-close N | fd-identity | on-demand]\n");
		return 2;
	}

	/* Fork before freeze is refused. */
	CHECK(nuwa_fork() < 0 && errno == EINVAL, "fork before freeze is refused");

	/* A worker that is stopped for good is not recreated. */
	gone = nuwa_worker_create("gone", counting, &runs);
	CHECK(gone != NULL, "worker create");
	CHECK(nuwa_worker_stop(gone) == 0, "worker stop");
	runs = 0;
	w = nuwa_worker_create("counter", counting, &runs);
	CHECK(w && strcmp(nuwa_worker_name(w), "counter") == 0, "worker name");
	CHECK(nuwa_worker_state(w) == &runs, "worker state");
	while (atomic_load(&counter) < 3)
		usleep(1000);

	/* Threads: one registered by start routine (by pthread_t under ASan,
	 * which hides start routines), one by its pthread_t. */
#ifndef __SANITIZE_ADDRESS__
	CHECK(nuwa_thread_register_start(lib_main, "lib", lib_stop_hook, lib_restart_hook, NULL) == 0,
	      "register by start routine");
	CHECK(pthread_create(&lib_thread, NULL, lib_main, NULL) == 0, "thread 1");
#else
	CHECK(pthread_create(&lib_thread, NULL, lib_main, NULL) == 0, "thread 1");
	CHECK(nuwa_thread_register(lib_thread, "lib", lib_stop_hook, lib_restart_hook, NULL) == 0,
	      "register right after pthread_create");
#endif
	CHECK(pthread_create(&t2, NULL, plain_thread, NULL) == 0, "thread 2");
	usleep(20000);
	CHECK(nuwa_freeze(200, err, sizeof err) < 0 && strstr(err, "neither") &&
	      strstr(err, "nuwa-libcheck"), "unregistered thread fails the freeze, named");
	for (int i = 0; i < 500 && atomic_load(&lib_runs) < 2; i++)
		usleep(10000);
	CHECK(atomic_load(&lib_runs) == 2, "a failed freeze restarts registered threads");
	{
		int c0 = atomic_load(&counter);
		usleep(50000);
		CHECK(atomic_load(&counter) > c0 && nuwa_worker_generation(w) == 1,
		      "workers run again after a failed freeze");
	}
	CHECK(nuwa_thread_register(t2, "plain", plain_stop_hook, plain_restart_hook, &t2) == 0,
	      "register by pthread_t");
	CHECK(nuwa_thread_register(pthread_self(), "main", plain_stop_hook, plain_restart_hook, NULL) < 0 &&
	      errno == ESRCH, "the main thread cannot be registered");

	/* fds: a per-child socketpair, a private pipe, an epoll set. */
	CHECK(nuwa_socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
	CHECK(pipe(priv) == 0 && nuwa_fd_private(priv[0]) == 0, "private fd");
	CHECK(nuwa_freeze(0, err, sizeof err) < 0 && strstr(err, "fd inventory") &&
	      strstr(err, "pipe:["), "an unmarked fd (the pipe's other end) fails the freeze, named");
	CHECK(nuwa_fd_private(priv[1]) == 0, "private fd, the other end");
	ep = epoll_create1(EPOLL_CLOEXEC);
	CHECK(ep >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, sv[0], &ev) == 0, "epoll");
	sv_ino = ino(sv[0]);
	CHECK(nuwa_hook_add(NUWA_HOOK_CHILD_BEFORE_THREADS, hook, "b") == 0 &&
	      nuwa_hook_add(NUWA_HOOK_CHILD_AFTER_THREADS, hook, "a") == 0 &&
	      nuwa_hook_add(NUWA_HOOK_BEFORE_FREEZE, hook, "f") == 0, "hooks");
	CHECK(nuwa_hook_add(NUWA_HOOK_COUNT, hook, "x") < 0, "bad hook point refused");

	CHECK(nuwa_freeze(0, err, sizeof err) == 0 || (printf("%s\n", err), 0), "freeze");
	CHECK(nuwa_is_frozen() && strcmp(order, "0f") == 0, "frozen, before-freeze hook ran");
	CHECK(task_count() == 1, "the frozen process is single-threaded");
	CHECK(nuwa_freeze(0, err, sizeof err) < 0 && errno == EALREADY, "second freeze refused");
	CHECK(nuwa_worker_create("late", counting, &runs) == NULL && errno == EBUSY,
	      "no new workers while frozen");

	/* Stable now: every thread but this one is stopped. */
	runs_at_freeze = atomic_load(&lib_runs);
	CHECK(runs_at_freeze == 3, "each failed freeze restarted the registered thread");
	pid = nuwa_fork();
	if (pid == 0) {
		struct epoll_event got;
		int before = atomic_load(&counter);
		/* Child: checks report through the exit status. */
		if (!nuwa_is_child() || nuwa_worker_generation(w) != 2)
			_exit(10);
		if (strcmp(order, "0f2b3a") != 0)
			_exit(11);
		for (int i = 0; i < 500 && atomic_load(&lib_runs) < runs_at_freeze + 1; i++)
			usleep(10000);
		/* Restarted once in this child. */
		if (atomic_load(&lib_runs) != runs_at_freeze + 1 || nuwa_child_error())
			_exit(16);
		if (fcntl(priv[0], F_GETFD) != -1 || errno != EBADF)
			_exit(12);
		if (ino(sv[0]) == sv_ino || ino(sv[0]) == 0)
			_exit(13);
		if (write(sv[1], "x", 1) != 1 || epoll_wait(ep, &got, 1, 2000) != 1 ||
		    got.data.u64 != 77)
			_exit(14);
		/* The recreated worker runs; allow for a loaded machine. */
		for (int i = 0; i < 500 && atomic_load(&counter) <= before; i++)
			usleep(10000);
		if (atomic_load(&counter) <= before)
			_exit(15);
		_exit(0);
	}
	CHECK(pid > 0, "nuwa_fork");
	CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
	printf("child status %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child rebuilt as specified");
	CHECK(ino(sv[0]) == sv_ino, "template keeps its own pair");
	{
		struct epoll_event got;
		CHECK(write(sv[1], "y", 1) == 1 && epoll_wait(ep, &got, 1, 2000) == 1 &&
		      got.data.u64 == 77, "template epoll set unchanged");
	}
	printf("all ok\n");
	return 0;
}
