/*
 * app-echo: the runtime's test app. Requests:
 *   echo TEXT     -> TEXT
 *   whoami        -> "name mode pid"
 *   args          -> argv, space-separated
 *   exit N        -> quits with status N
 * Args: --fail (entry fails), --ready-after=MS (ready from a timer).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nuwa_app.h"

static int on_request(struct nuwa_app *app, const char *req, size_t len, char *reply,
		      size_t cap, void *arg)
{
	(void)arg;
	if (!strncmp(req, "echo ", 5))
		return snprintf(reply, cap, "%.*s", (int)(len - 5), req + 5);
	if (!strcmp(req, "args")) {
		size_t n = 0;
		int i;
		for (i = 0; i < app->argc && n < cap; i++)
			n += (size_t)snprintf(reply + n, cap - n, "%s%s", i ? " " : "", app->argv[i]);
		return (int)(n < cap ? n : cap - 1);
	}
	if (!strcmp(req, "whoami"))
		return snprintf(reply, cap, "%s %s %d", app->name,
				app->mode == NUWA_MODE_TEMPLATE ? "template" : "exec", (int)getpid());
	if (!strncmp(req, "exit ", 5)) {
		app->svc->quit(app, atoi(req + 5));
		return snprintf(reply, cap, "bye");
	}
	return -1;
}

static void ready_timer(struct nuwa_app *app, int id, void *arg)
{
	(void)id;
	(void)arg;
	app->svc->ready(app);
}

int nuwa_app_main(struct nuwa_app *app)
{
	int i;
	app->svc->on_request(app, on_request, NULL);
	for (i = 1; i < app->argc; i++) {
		if (!strcmp(app->argv[i], "--fail"))
			return 3;
		if (!strncmp(app->argv[i], "--ready-after=", 14)) {
			app->svc->add_timer(app, (unsigned)atoi(app->argv[i] + 14), 0, ready_timer, NULL);
			return 0;
		}
	}
	return app->svc->ready(app);
}
