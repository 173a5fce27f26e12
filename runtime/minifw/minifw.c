/*
 * libnuwa-minifw: the minimal app framework used by the runtime's own tests
 * and examples. Its apps run on libnuwa's app loop (nuwa_loop_run), whose
 * epoll set is made at init (so children get a rebuilt one). Framework
 * args:
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
#include <unistd.h>

#include "minifw.h"
#include "nuwa.h"
#include "nuwa_app.h"

static struct {
	char *heap;
	size_t heap_len;
} L;

/* Requests starting with "fw:" are the framework's; the rest the app's. */
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
	return nuwa_loop_app_request(app, req, len, reply, cap);
}

/* minifw holds no caches of its own: a TRIM is the app's alone. */
static const struct nuwa_loop_hooks hooks = { .request = fw_request };

static int run_app(struct nuwa_app *app, nuwa_app_entry_fn entry)
{
	return nuwa_loop_run(app, entry, &hooks);
}

int nuwa_framework_init(const struct nuwa_framework_env *env, struct nuwa_framework *fw)
{
	int i;
	if (env->abi_version != NUWA_APP_ABI_VERSION)
		return -1;
	/* Made here, in the template: its children get a rebuilt one. */
	if (nuwa_loop_init() < 0)
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
