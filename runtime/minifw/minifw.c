/*
 * libnuwa-minifw: the minimal app framework used by the runtime's own tests
 * and examples. An epoll loop made at init (so children get a rebuilt one)
 * carries the app channel, fds and timers. Framework args:
 *   waiters      start the five test workers (tests/runtime)
 *   heap=KB      build KB of start-up heap (stands in for warm caches)
 *   template_init_delay_ms=MS  the template's init takes MS longer (exec
 *                mode does not wait: tests hold a template in "starting")
 * Requests starting with "fw:" are answered by the framework itself.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "minifw.h"
#include "nuwa.h"
#include "nuwa_app.h"

#define MAX_WATCH 64
#define MAX_TIMER 32

struct watch {
	int fd;
	nuwa_fd_cb cb;
	void *arg;
};

struct timer {
	int id;
	int64_t due_ms;
	unsigned period_ms;  /* 0: one-shot */
	nuwa_timer_cb cb;
	void *arg;
};

static struct {
	int epfd;
	int quit;
	int status;
	int ready_sent;
	int next_timer;
	struct nuwa_app *app;
	struct watch watches[MAX_WATCH];
	struct timer timers[MAX_TIMER];
	nuwa_request_cb req_cb;
	void *req_arg;
	char *heap;
	size_t heap_len;
} L = { .epfd = -1 };

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int svc_ready(struct nuwa_app *app)
{
	if (L.ready_sent)
		return 0;
	L.ready_sent = 1;
	return nuwa_app_send_ready(app);
}

static int svc_watch(struct nuwa_app *app, int fd, uint32_t events, nuwa_fd_cb cb, void *arg)
{
	struct epoll_event ev = { .events = events };
	int i;
	(void)app;
	for (i = 0; i < MAX_WATCH && L.watches[i].cb; i++)
		;
	if (i == MAX_WATCH || !cb) {
		errno = i == MAX_WATCH ? ENOSPC : EINVAL;
		return -1;
	}
	ev.data.u64 = (uint64_t)i + 1;
	if (epoll_ctl(L.epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -1;
	L.watches[i] = (struct watch){ .fd = fd, .cb = cb, .arg = arg };
	return 0;
}

static int svc_unwatch(struct nuwa_app *app, int fd)
{
	int i;
	(void)app;
	for (i = 0; i < MAX_WATCH; i++) {
		if (L.watches[i].cb && L.watches[i].fd == fd) {
			L.watches[i].cb = NULL;
			return epoll_ctl(L.epfd, EPOLL_CTL_DEL, fd, NULL);
		}
	}
	errno = ENOENT;
	return -1;
}

static int svc_add_timer(struct nuwa_app *app, unsigned ms, int repeat, nuwa_timer_cb cb, void *arg)
{
	int i;
	(void)app;
	for (i = 0; i < MAX_TIMER && L.timers[i].cb; i++)
		;
	if (i == MAX_TIMER || !cb) {
		errno = i == MAX_TIMER ? ENOSPC : EINVAL;
		return -1;
	}
	L.timers[i] = (struct timer){ .id = ++L.next_timer, .due_ms = now_ms() + ms,
				      .period_ms = repeat ? (ms ? ms : 1) : 0, .cb = cb, .arg = arg };
	return L.timers[i].id;
}

static int svc_cancel_timer(struct nuwa_app *app, int id)
{
	int i;
	(void)app;
	for (i = 0; i < MAX_TIMER; i++) {
		if (L.timers[i].cb && L.timers[i].id == id) {
			L.timers[i].cb = NULL;
			return 0;
		}
	}
	errno = ENOENT;
	return -1;
}

static int svc_on_request(struct nuwa_app *app, nuwa_request_cb cb, void *arg)
{
	(void)app;
	L.req_cb = cb;
	L.req_arg = arg;
	return 0;
}

static void svc_quit(struct nuwa_app *app, int status)
{
	(void)app;
	L.quit = 1;
	L.status = status;
}

static int svc_on_trim(struct nuwa_app *app, nuwa_trim_cb cb, void *arg)
{
	(void)app;
	/* minifw holds no caches of its own: the app's handler answers. */
	nuwa_app_set_trim_handler(cb, arg);
	return 0;
}

static const struct nuwa_app_services services = {
	.on_trim = svc_on_trim,
	.ready = svc_ready,
	.watch_fd = svc_watch,
	.unwatch_fd = svc_unwatch,
	.add_timer = svc_add_timer,
	.cancel_timer = svc_cancel_timer,
	.on_request = svc_on_request,
	.quit = svc_quit,
};

static int fw_request(struct nuwa_app *app, const char *req, size_t len, char *reply,
		      size_t cap, void *arg)
{
	(void)arg;
	if (!strcmp(req, "fw:waiters"))
		return waiters_check(reply, cap);
	if (!strncmp(req, "fw:waiters-create ", 18))
		return waiters_create(req + 18, reply, cap);
	if (!strcmp(req, "fw:info"))
		return waiters_info(reply, cap);
	if (!strcmp(req, "fw:epoll-mutate"))
		return waiters_epoll_mutate(reply, cap);
	if (!strcmp(req, "fw:heap"))
		return snprintf(reply, cap, "%zu", L.heap_len);
	if (!L.req_cb)
		return -1;
	return L.req_cb(app, req, len, reply, cap, L.req_arg);
}

static int timeout_ms(void)
{
	int64_t best = -1, now = now_ms();
	int i;
	for (i = 0; i < MAX_TIMER; i++) {
		if (L.timers[i].cb && (best < 0 || L.timers[i].due_ms < best))
			best = L.timers[i].due_ms;
	}
	if (best < 0)
		return -1;
	return best <= now ? 0 : (int)(best - now);
}

static void run_timers(struct nuwa_app *app)
{
	int64_t now = now_ms();
	int i;
	for (i = 0; i < MAX_TIMER; i++) {
		struct timer t = L.timers[i];
		if (!t.cb || t.due_ms > now)
			continue;
		if (t.period_ms)
			L.timers[i].due_ms = now + t.period_ms;
		else
			L.timers[i].cb = NULL;
		t.cb(app, t.id, t.arg);
	}
}

static int run_app(struct nuwa_app *app, nuwa_app_entry_fn entry)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0 };
	int rc;

	L.app = app;
	app->svc = &services;
	if (epoll_ctl(L.epfd, EPOLL_CTL_ADD, app->channel_fd, &ev) < 0) {
		perror("minifw: channel");
		return 1;
	}
	rc = entry(app);
	if (rc != 0) {
		char why[64];
		snprintf(why, sizeof why, "app entry failed with %d", rc);
		nuwa_msg_send(app->channel_fd, NUWA_APP_MSG_ERROR, 0, why, (uint32_t)strlen(why), -1);
		return rc;
	}
	while (!L.quit) {
		struct epoll_event evs[16];
		int n = epoll_wait(L.epfd, evs, 16, timeout_ms()), i;
		if (n < 0 && errno != EINTR) {
			perror("minifw: epoll_wait");
			return 1;
		}
		for (i = 0; i < n && !L.quit; i++) {
			if (evs[i].data.u64 == 0) {
				int h = nuwa_app_handle_msg(app, fw_request, NULL);
				if (h <= 0) {
					L.quit = 1; /* QUIT, end of file, or a dead channel */
					break;
				}
			} else {
				struct watch *w = &L.watches[evs[i].data.u64 - 1];
				if (w->cb)
					w->cb(app, w->fd, evs[i].events, w->arg);
			}
		}
		run_timers(app);
	}
	return L.status;
}

int nuwa_framework_init(const struct nuwa_framework_env *env, struct nuwa_framework *fw)
{
	int i;
	if (env->abi_version != NUWA_APP_ABI_VERSION)
		return -1;
	L.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (L.epfd < 0)
		return -1;
	for (i = 0; i < env->argc; i++) {
		if (!strcmp(env->argv[i], "waiters")) {
			if (waiters_start() < 0)
				return -1;
		} else if (!strncmp(env->argv[i], "template_init_delay_ms=", 23)) {
			long ms = strtol(env->argv[i] + 23, NULL, 10);
			if (env->mode == NUWA_MODE_TEMPLATE && ms > 0)
				usleep((useconds_t)ms * 1000);
		} else if (!strncmp(env->argv[i], "heap=", 5)) {
			size_t kb = strtoul(env->argv[i] + 5, NULL, 10), k;
			L.heap = malloc(kb * 1024);
			if (!L.heap)
				return -1;
			/* Written once at start-up, read-only afterwards: what a
			 * template lets apps share. */
			for (k = 0; k < kb * 1024; k++)
				L.heap[k] = (char)(k * 31 + 7);
			L.heap_len = kb * 1024;
		} else {
			fprintf(stderr, "minifw: unknown framework arg '%s'\n", env->argv[i]);
			return -1;
		}
	}
	fw->abi_version = NUWA_APP_ABI_VERSION;
	fw->name = "minifw";
	fw->run_app = run_app;
	return 0;
}
