/*
 * The app loop (nuwa_loop_*, nuwa_app.h): the one event loop every app
 * framework runs its apps on. An epoll set carries the app's IPC channel
 * and the fds the app and the framework watch; timers are kept here on
 * CLOCK_MONOTONIC. Every channel message (ping, request, trim, snapshot,
 * quit) goes through nuwa_app_handle_msg (msg.c), so the contract of
 * nuwa_app.h is written once. A framework keeps only its start-up and its
 * hooks (struct nuwa_loop_hooks): requests it answers itself, its own
 * trim, the services it offers differently, what it starts before the
 * app's entry.
 *
 * The epoll set is made by nuwa_loop_init() at framework init (libnuwa
 * rebuilds it, registrations included, in every template child), or else
 * when the loop first runs. Callbacks run on the loop's thread only.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include "internal.h"
#include "nuwa_app.h"

#define MAX_WATCH 64
#define MAX_TIMER 32
#define CHANNEL_ID 0 /* epoll data of the channel; a watch is its slot + 1 */

struct watch {
	int fd;
	nuwa_fd_cb cb; /* NULL: free slot */
	void *arg;
};

struct timer {
	int id;
	int64_t due_us;
	unsigned period_ms; /* 0: one-shot */
	nuwa_timer_cb cb;   /* NULL: free slot */
	void *arg;
};

/* What every app writes, with libnuwa's other child state (internal.h). */
static NUWA_CHILD_RW struct {
	int epfd;
	int quit, status;
	int ready_sent;
	int next_timer;
	struct nuwa_app *app;
	const struct nuwa_loop_hooks *hooks;
	nuwa_request_cb app_request;
	void *app_request_arg;
	nuwa_trim_cb app_trim;
	void *app_trim_arg;
} L = { .epfd = -1 };
static struct watch watches[MAX_WATCH];
static struct timer timers[MAX_TIMER];

static int64_t now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

int nuwa_loop_init(void)
{
	if (L.epfd >= 0)
		return 0;
	L.epfd = epoll_create1(EPOLL_CLOEXEC);
	return L.epfd < 0 ? -1 : 0;
}

int nuwa_loop_watch(int fd, uint32_t events, nuwa_fd_cb cb, void *arg)
{
	struct epoll_event ev = { .events = events };
	int i;
	if (!cb || fd < 0) {
		errno = EINVAL;
		return -1;
	}
	if (nuwa_loop_init() < 0)
		return -1;
	for (i = 0; i < MAX_WATCH && watches[i].cb; i++)
		;
	if (i == MAX_WATCH) {
		errno = ENOSPC;
		return -1;
	}
	ev.data.u64 = (uint64_t)i + 1;
	if (epoll_ctl(L.epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -1;
	watches[i] = (struct watch){ .fd = fd, .cb = cb, .arg = arg };
	return 0;
}

int nuwa_loop_unwatch(int fd)
{
	for (int i = 0; i < MAX_WATCH; i++) {
		if (!watches[i].cb || watches[i].fd != fd)
			continue;
		watches[i].cb = NULL;
		/* EBADF: closed already, which ended the registration. */
		if (epoll_ctl(L.epfd, EPOLL_CTL_DEL, fd, NULL) < 0 && errno != EBADF)
			return -1;
		return 0;
	}
	errno = ENOENT;
	return -1;
}

int nuwa_loop_add_timer(unsigned ms, int repeat, nuwa_timer_cb cb, void *arg)
{
	int i;
	if (!cb) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < MAX_TIMER && timers[i].cb; i++)
		;
	if (i == MAX_TIMER) {
		errno = ENOSPC;
		return -1;
	}
	timers[i] = (struct timer){ .id = ++L.next_timer, .due_us = now_us() + (int64_t)ms * 1000,
				    .period_ms = repeat ? (ms ? ms : 1) : 0, .cb = cb, .arg = arg };
	return timers[i].id;
}

int nuwa_loop_cancel_timer(int id)
{
	for (int i = 0; i < MAX_TIMER; i++) {
		if (timers[i].cb && timers[i].id == id) {
			timers[i].cb = NULL;
			return 0;
		}
	}
	errno = ENOENT;
	return -1;
}

void nuwa_loop_quit(int status)
{
	L.quit = 1;
	L.status = status;
}

int nuwa_loop_app_request(struct nuwa_app *app, const char *req, size_t len, char *reply, size_t cap)
{
	return L.app_request ? L.app_request(app, req, len, reply, cap, L.app_request_arg) : -1;
}

long nuwa_loop_app_trim(struct nuwa_app *app, const char *level)
{
	return L.app_trim ? L.app_trim(app, level, L.app_trim_arg) : 0;
}

/* ---- the services an app gets by default ---------------------------- */

static int svc_ready(struct nuwa_app *app)
{
	if (L.ready_sent)
		return 0;
	if (nuwa_app_send_ready(app) < 0)
		return -1;
	L.ready_sent = 1;
	return 0;
}

static int svc_watch(struct nuwa_app *app, int fd, uint32_t events, nuwa_fd_cb cb, void *arg)
{
	(void)app;
	return nuwa_loop_watch(fd, events, cb, arg);
}

static int svc_unwatch(struct nuwa_app *app, int fd)
{
	(void)app;
	return nuwa_loop_unwatch(fd);
}

static int svc_add_timer(struct nuwa_app *app, unsigned ms, int repeat, nuwa_timer_cb cb, void *arg)
{
	(void)app;
	return nuwa_loop_add_timer(ms, repeat, cb, arg);
}

static int svc_cancel_timer(struct nuwa_app *app, int id)
{
	(void)app;
	return nuwa_loop_cancel_timer(id);
}

static int svc_on_request(struct nuwa_app *app, nuwa_request_cb cb, void *arg)
{
	(void)app;
	L.app_request = cb;
	L.app_request_arg = arg;
	return 0;
}

static void svc_quit(struct nuwa_app *app, int status)
{
	(void)app;
	nuwa_loop_quit(status);
}

static int svc_on_trim(struct nuwa_app *app, nuwa_trim_cb cb, void *arg)
{
	(void)app;
	L.app_trim = cb;
	L.app_trim_arg = arg;
	return 0;
}

const struct nuwa_app_services nuwa_loop_services = {
	.ready = svc_ready,
	.watch_fd = svc_watch,
	.unwatch_fd = svc_unwatch,
	.add_timer = svc_add_timer,
	.cancel_timer = svc_cancel_timer,
	.on_request = svc_on_request,
	.quit = svc_quit,
	.on_trim = svc_on_trim,
};

/* ---- the loop --------------------------------------------------------- */

/* A TRIM: the framework's own trim when it has one, else the app's. */
static long loop_trim(struct nuwa_app *app, const char *level, void *arg)
{
	const struct nuwa_loop_hooks *h = arg;
	return h->trim ? h->trim(app, level, h->trim_arg) : nuwa_loop_app_trim(app, level);
}

static void channel_readable(struct nuwa_app *app)
{
	const struct nuwa_loop_hooks *h = L.hooks;
	/* The framework's requests first when it answers some itself (it
	 * passes the rest on with nuwa_loop_app_request); else the app's
	 * handler, NULL answering "app has no request handler". */
	int r = h->request ? nuwa_app_handle_msg(app, h->request, h->request_arg)
			   : nuwa_app_handle_msg(app, L.app_request, L.app_request_arg);
	if (r == 0) {
		nuwa_loop_quit(0); /* QUIT or end of file */
	} else if (r < 0 && errno != EAGAIN && errno != EINTR) {
		nuwa_log("%s: IPC channel: %s", app->name, strerror(errno));
		nuwa_loop_quit(1);
	}
}

static int next_timeout_ms(void)
{
	int64_t now = now_us(), best = -1;
	for (int i = 0; i < MAX_TIMER; i++) {
		if (!timers[i].cb)
			continue;
		int64_t left = timers[i].due_us - now;
		if (left < 0)
			left = 0;
		if (best < 0 || left < best)
			best = left;
	}
	return best < 0 ? -1 : (int)((best + 999) / 1000);
}

static void run_timers(struct nuwa_app *app)
{
	int64_t now = now_us();
	for (int i = 0; i < MAX_TIMER && !L.quit; i++) {
		struct timer t = timers[i];
		if (!t.cb || t.due_us > now)
			continue;
		if (t.period_ms)
			timers[i].due_us = now + (int64_t)t.period_ms * 1000;
		else
			timers[i].cb = NULL;
		t.cb(app, t.id, t.arg);
	}
}

static const struct nuwa_loop_hooks no_hooks;

int nuwa_loop_run(struct nuwa_app *app, nuwa_app_entry_fn entry, const struct nuwa_loop_hooks *hooks)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = CHANNEL_ID };
	int rc;

	L.hooks = hooks ? hooks : &no_hooks;
	L.app = app;
	app->svc = L.hooks->services ? L.hooks->services : &nuwa_loop_services;
	nuwa_app_set_trim_handler(loop_trim, (void *)L.hooks);
	if (nuwa_loop_init() < 0 || epoll_ctl(L.epfd, EPOLL_CTL_ADD, app->channel_fd, &ev) < 0) {
		nuwa_log("%s: the app loop: %s", app->name, strerror(errno));
		return 1;
	}
	if (L.hooks->before_entry && L.hooks->before_entry(app) != 0)
		return 1;
	rc = entry(app);
	if (rc != 0) {
		char why[64];
		int n = snprintf(why, sizeof why, "app entry failed with %d", rc);
		if (!L.hooks->entry_reports_failure &&
		    nuwa_msg_send(app->channel_fd, NUWA_APP_MSG_ERROR, 0, why, (uint32_t)n, -1) < 0)
			nuwa_log("%s: cannot report the failure: %s", app->name, strerror(errno));
		return rc;
	}
	while (!L.quit) {
		struct epoll_event evs[16];
		int n = epoll_wait(L.epfd, evs, 16, next_timeout_ms());
		if (n < 0) {
			if (errno == EINTR)
				continue;
			nuwa_log("%s: epoll_wait: %s", app->name, strerror(errno));
			return 1;
		}
		for (int i = 0; i < n && !L.quit; i++) {
			struct watch *w;
			if (evs[i].data.u64 == CHANNEL_ID) {
				channel_readable(app);
				continue;
			}
			if (evs[i].data.u64 > MAX_WATCH)
				continue;
			w = &watches[evs[i].data.u64 - 1];
			if (w->cb)
				w->cb(app, w->fd, evs[i].events, w->arg);
		}
		run_timers(app);
	}
	return L.status;
}
