/* Running an app on libnuwa's app loop (nuwa_loop_run) with this
 * framework's hooks: the services that differ (ready, which logs a failure;
 * timers, which are the timer thread's), its TRIM, the threads to resume
 * before the entry; and the request handler the sample apps share. */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "fw_internal.h"

#define MAX_APP_CBS 32

/* App timer callbacks keyed by timer id; slots are few and static. */
struct tm_cb { int id; nuwa_timer_cb cb; void *arg; };
static struct tm_cb tm_cbs[MAX_APP_CBS];
static struct nuwa_app *current;

static int svc_ready(struct nuwa_app *app)
{
	if (nuwa_loop_services.ready(app) < 0) {
		FW_LOG("%s: cannot send ready: %s\n", app->name, strerror(errno));
		return -1;
	}
	return 0;
}

static void timer_trampoline(int id, void *arg)
{
	struct tm_cb *c = arg;
	nuwa_timer_cb cb = c->cb;
	void *cb_arg = c->arg;
	cb(current, id, cb_arg);
}

static int svc_add_timer(struct nuwa_app *app, unsigned ms, int repeat, nuwa_timer_cb cb, void *arg)
{
	(void)app;
	for (int i = 0; i < MAX_APP_CBS; i++) {
		if (tm_cbs[i].cb)
			continue;
		tm_cbs[i] = (struct tm_cb){0, cb, arg};
		int id = fw_timer_add(ms, repeat, timer_trampoline, &tm_cbs[i]);
		if (id < 0) {
			tm_cbs[i].cb = NULL;
			return -1;
		}
		tm_cbs[i].id = id;
		return id;
	}
	return -1;
}

static int svc_cancel_timer(struct nuwa_app *app, int id)
{
	(void)app;
	for (int i = 0; i < MAX_APP_CBS; i++)
		if (tm_cbs[i].cb && tm_cbs[i].id == id) {
			tm_cbs[i].cb = NULL;
			return fw_timer_cancel(id);
		}
	return -1;
}

/* Heap bytes in use (main arena and mmapped chunks). */
static size_t heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();
	return mi.uordblks + mi.hblkhd;
}

/* A TRIM: the app releases what it holds, the framework its SQLite page
 * cache and the ICU collator and word breaker it opened itself (not the
 * template's, whose pages are shared), then free heap goes back to the kernel. The answer is the larger
 * of what the heap shrank by and what the app reported (sanitizer builds
 * keep their own heap, which mallinfo2 does not see). */
static long fw_trim(struct nuwa_app *app, const char *level, void *arg)
{
	(void)arg;
	size_t before = heap_in_use(), after;
	long app_kb = nuwa_loop_app_trim(app, level);
	fw_db_release();
	int icu = fw_text_release();
	after = heap_in_use();
	malloc_trim(0);
	long heap_kb = before > after ? (long)((before - after) / 1024) : 0;
	/* In the background: no periodic work (which would rebuild what was
	 * just freed) until the app is used again (its next request). */
	if (!strcmp(level, "background"))
		fw_park_ticks(1);
	FW_LOG("%s: trim %s: app freed %ld kB; framework: SQLite cache, %d ICU objects%s; heap in use down %ld kB\n",
	       app->name, level, app_kb, icu, icu ? "" : " (the template's: shared)", heap_kb);
	return app_kb > heap_kb ? app_kb : heap_kb;
}

static int resume_threads(struct nuwa_app *app)
{
	(void)app;
	return fw_threads_resume();
}

int fw_run_app(struct nuwa_app *app, nuwa_app_entry_fn entry)
{
	static struct nuwa_app_services services;
	static const struct nuwa_loop_hooks hooks = {
		.services = &services, .trim = fw_trim, .before_entry = resume_threads,
	};
	services = nuwa_loop_services;
	services.ready = svc_ready;
	services.add_timer = svc_add_timer;
	services.cancel_timer = svc_cancel_timer;
	current = app;
	app->framework_data = (void *)nuwa_fw_profile();
	return nuwa_loop_run(app, entry, &hooks);
}

/* The requests every sample app answers (besides ping, which libnuwa's
 * helper answers): "status", "profile", "words TEXT". */
static int app_request(struct nuwa_app *app, const char *req, size_t len, char *reply, size_t cap, void *arg)
{
	(void)app;
	(void)len;
	const struct nuwa_fw_app *desc = arg;
	int n;
	/* A request: the app is in use again (after a background trim). */
	fw_park_ticks(0);
	if (!strcmp(req, "status")) {
		char s[512] = "";
		if (desc->status)
			desc->status(s, sizeof s);
		n = snprintf(reply, cap, "%s ticks=%llu jobs=%llu %s", desc->name, (unsigned long long)nuwa_fw_ticks(),
			     (unsigned long long)nuwa_fw_jobs_done(), s);
	} else if (!strcmp(req, "profile")) {
		const struct nuwa_fw_profile *p = nuwa_fw_profile();
		n = snprintf(reply, cap,
			     "ca_certs=%d db_tables=%d db_statements=%d theme_styles=%d theme_strings=%d workers=%d "
			     "init_ms=%.1f",
			     p->ca_certs, p->db_tables, p->db_statements, p->theme_styles, p->theme_strings, p->workers,
			     p->init_ms);
	} else if (!strncmp(req, "words ", 6)) {
		n = snprintf(reply, cap, "%d", nuwa_fw_word_count(req + 6));
	} else {
		n = snprintf(reply, cap, "unknown request (want status, profile or words TEXT)");
		return -1;
	}
	return n < 0 ? -1 : (size_t)n >= cap ? (int)cap - 1 : n;
}

static long desc_trim(struct nuwa_app *app, const char *level, void *arg)
{
	(void)app;
	const struct nuwa_fw_app *desc = arg;
	return desc->trim(level);
}

int nuwa_fw_app_main(struct nuwa_app *app, const struct nuwa_fw_app *desc)
{
	if (desc->start && desc->start(app->argc, app->argv) != 0) {
		FW_LOG("%s: start-up failed\n", desc->name);
		return 1;
	}
	app->svc->on_request(app, app_request, (void *)desc);
	if (desc->trim)
		app->svc->on_trim(app, desc_trim, (void *)desc);
	return app->svc->ready(app) == 0 ? 0 : 1;
}
