/* A third-party-style library for the thread and fd contracts: each init
 * entry ([framework] preload = lib.so:ENTRY) sets up one case. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "nuwa.h"

int threadlib_unregistered_init(void);
int threadlib_hooked_init(void);
int threadlib_stop_hangs_init(void);
int threadlib_restart_fails_init(void);
int threadlib_sigev_thread_init(void);
int threadlib_socket_init(void);
void *threadlib_pool_main(void *arg);

static atomic_int pool_stop;
static pthread_t pool;

void *threadlib_pool_main(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "lib-pool");
	while (!atomic_load(&pool_stop))
		usleep(2000);
	return NULL;
}

static nuwa_thread_stop_fn reg_stop;
static nuwa_thread_restart_fn reg_restart;
static const char *reg_name;

/* Start the pool thread; cover it by its pthread_t when a contract is in
 * use (a registration by start routine would not see it under ASan). */
static int pool_start(void)
{
	atomic_store(&pool_stop, 0);
	if (pthread_create(&pool, NULL, threadlib_pool_main, NULL) != 0)
		return -1;
	if (reg_stop && nuwa_thread_register(pool, reg_name, reg_stop, reg_restart, NULL) < 0)
		return -1;
	return 0;
}

static int pool_stop_hook(void *arg)
{
	(void)arg;
	atomic_store(&pool_stop, 1);
	return pthread_join(pool, NULL) == 0 ? 0 : -1;
}

static int pool_restart_hook(void *arg, char *err, size_t errlen)
{
	(void)arg;
	if (pool_start() < 0) {
		snprintf(err, errlen, "pthread_create: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int hang_forever(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return 0;
}

static int restart_fails(void *arg, char *err, size_t errlen)
{
	(void)arg;
	snprintf(err, errlen, "lib-pool cannot come back in this child");
	return -1;
}

/* A thread nobody registered: the freeze must name it. */
int threadlib_unregistered_init(void)
{
	return pool_start();
}

int threadlib_hooked_init(void)
{
	reg_name = "threadlib pool";
	reg_stop = pool_stop_hook;
	reg_restart = pool_restart_hook;
	return pool_start();
}

int threadlib_stop_hangs_init(void)
{
	reg_name = "threadlib hanging pool";
	reg_stop = hang_forever;
	reg_restart = pool_restart_hook;
	return pool_start();
}

int threadlib_restart_fails_init(void)
{
	reg_name = "threadlib failing pool";
	reg_stop = pool_stop_hook;
	reg_restart = restart_fails;
	return pool_start();
}

static void on_timer(union sigval v)
{
	(void)v;
}

/* A POSIX timer with SIGEV_THREAD: the C library makes the thread. */
int threadlib_sigev_thread_init(void)
{
	struct sigevent sev;
	struct itimerspec its = { { 1, 0 }, { 1, 0 } };
	timer_t t;
	memset(&sev, 0, sizeof sev);
	sev.sigev_notify = SIGEV_THREAD;
	sev.sigev_notify_function = on_timer;
	if (timer_create(CLOCK_MONOTONIC, &sev, &t) < 0 || timer_settime(t, 0, &its, NULL) < 0)
		return -1;
	usleep(20000); /* let the helper thread start */
	return 0;
}

/* A library opening a logging socket during init (connected UDP: no
 * packet is sent). */
int threadlib_socket_init(void)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons(514);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return connect(fd, (struct sockaddr *)&a, sizeof a);
}
