/*
 * nuwa-libcheck: exercises libnuwa's API directly (run by
 * tests/runtime/test_libnuwa.py on the host and asan builds). Prints one line
 * per check and exits nonzero on the first failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nuwa.h"

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

static void *skipped_thread(void *arg)
{
	(void)arg;
	nuwa_thread_skip_self();
	for (;;)
		pause();
	return NULL;
}

static void *plain_thread(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static ino_t ino(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 ? st.st_ino : 0;
}

int main(void)
{
	int runs = 0, sv[2], priv[2], ep, status;
	char err[2048];
	nuwa_worker *w, *gone;
	pthread_t t1, t2;
	ino_t sv_ino;
	pid_t pid;
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 77 };

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

	/* Threads: one skipped by itself, one by its pthread_t. */
	CHECK(pthread_create(&t1, NULL, skipped_thread, NULL) == 0, "thread 1");
	CHECK(pthread_create(&t2, NULL, plain_thread, NULL) == 0, "thread 2");
	usleep(20000);
	CHECK(nuwa_freeze(200, err, sizeof err) < 0 && strstr(err, "neither"),
	      "unmarked thread fails the freeze");
	{
		int c0 = atomic_load(&counter);
		usleep(50000);
		CHECK(atomic_load(&counter) > c0 && nuwa_worker_generation(w) == 1,
		      "workers run again after a failed freeze");
	}
	CHECK(nuwa_thread_skip(t2) == 0, "skip by pthread_t");

	/* fds: a per-child socketpair, a private pipe, an epoll set. */
	CHECK(nuwa_socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
	CHECK(pipe(priv) == 0 && nuwa_fd_private(priv[0]) == 0, "private fd");
	ep = epoll_create1(EPOLL_CLOEXEC);
	CHECK(ep >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, sv[0], &ev) == 0, "epoll");
	sv_ino = ino(sv[0]);
	CHECK(nuwa_hook_add(NUWA_HOOK_CHILD_BEFORE_THREADS, hook, "b") == 0 &&
	      nuwa_hook_add(NUWA_HOOK_CHILD_AFTER_THREADS, hook, "a") == 0 &&
	      nuwa_hook_add(NUWA_HOOK_BEFORE_FREEZE, hook, "f") == 0, "hooks");
	CHECK(nuwa_hook_add(NUWA_HOOK_COUNT, hook, "x") < 0, "bad hook point refused");

	CHECK(nuwa_freeze(0, err, sizeof err) == 0, "freeze");
	CHECK(nuwa_is_frozen() && strcmp(order, "0f") == 0, "frozen, before-freeze hook ran");
	CHECK(nuwa_freeze(0, err, sizeof err) < 0 && errno == EALREADY, "second freeze refused");
	CHECK(nuwa_worker_create("late", counting, &runs) == NULL && errno == EBUSY,
	      "no new workers while frozen");

	pid = nuwa_fork();
	if (pid == 0) {
		struct epoll_event got;
		int before = atomic_load(&counter);
		/* Child: checks report through the exit status. */
		if (!nuwa_is_child() || nuwa_worker_generation(w) != 2)
			_exit(10);
		if (strcmp(order, "0f2b3a") != 0)
			_exit(11);
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
