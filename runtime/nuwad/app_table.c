/* The app table: every app and spare nuwad knows, newest first, in launch
 * order by seq. Adding, finding and freeing apps is here; what happens to
 * them is the launch state machine's (apps.c). Freeing an app tells the
 * observers (events.h) first, so each module forgets its own part. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app_table.h"
#include "door.h"
#include "events.h"
#include "groups.h"
#include "nuwad.h"
#include "util.h"

const char *app_state_name(enum app_state s)
{
	switch (s) {
	case APP_WAIT_TEMPLATE: return "waiting-for-template";
	case APP_FORKING: return "forking";
	case APP_STARTING: return "starting";
	case APP_RUNNING: return "running";
	case APP_STOPPING: return "stopping";
	case APP_SPARE_FORKING: return "spare-forking";
	case APP_SPARE: return "spare";
	}
	return "?";
}

int app_is_spare(const struct app *a)
{
	return a->state == APP_SPARE || a->state == APP_SPARE_FORKING;
}

struct app *apps_spare(struct nuwad *d, struct tmpl *t)
{
	struct app *a;
	for (a = d->apps; a; a = a->next)
		if (app_is_spare(a) && a->t == t)
			return a;
	return NULL;
}

struct app *nuwad_app_oldest(struct nuwad *d)
{
	struct app *a, *best = NULL;
	for (a = d->apps; a; a = a->next)
		if (!app_is_spare(a) && a->pid > 0 && (!best || a->seq < best->seq))
			best = a;
	return best;
}

struct app *nuwad_app_newer(struct nuwad *d, struct app *cur)
{
	struct app *a, *best = NULL;
	for (a = d->apps; a; a = a->next)
		if (!app_is_spare(a) && a->pid > 0 && a->seq > cur->seq && (!best || a->seq < best->seq))
			best = a;
	return best;
}

int nuwad_pid_is_app(struct nuwad *d, pid_t pid)
{
	struct app *a;
	pid_t pgid = getpgid(pid);
	for (a = d->apps; a; a = a->next)
		if (a->pid > 0 && (a->pid == pid || a->pid == pgid))
			return 1;
	return groups_pid_in_app(d, pid);
}

uint32_t app_spec(const struct app *a, char *buf, size_t cap)
{
	size_t n = strlen(a->name) + 1;
	if (n + a->args_len > cap)
		return 0;
	memcpy(buf, a->name, n);
	memcpy(buf + n, a->args, a->args_len);
	return (uint32_t)(n + a->args_len);
}

struct app *app_new(struct nuwad *d, struct tmpl *t, const char *name)
{
	struct app *a = calloc(1, sizeof *a);
	if (!a)
		return NULL;
	a->t = t;
	snprintf(a->name, sizeof a->name, "%s", name);
	a->chan = -1;
	a->pidfd = -1;
	a->door.out_fd = -1;
	a->fork_ms = a->fork_rtt_ms = a->specialise_ms = -1;
	a->seq = ++d->next_seq;
	a->next = d->apps;
	d->apps = a;
	return a;
}

void app_close_chan(struct app *a)
{
	if (a->chan >= 0) {
		close(a->chan);
		a->chan = -1;
	}
}

void app_free(struct nuwad *d, struct app *a)
{
	struct app **pp;
	for (pp = &d->apps; *pp; pp = &(*pp)->next) {
		if (*pp == a) {
			*pp = a->next;
			break;
		}
	}
	app_close_chan(a);
	door_close_output(d, a);
	events_gone(d, a);
	if (a->pidfd >= 0)
		close(a->pidfd);
	free(a);
}

int app_matches(const struct app *a, const char *target)
{
	if (app_is_spare(a) || a->pid <= 0)
		return 0;
	if (nuwa_is_decimal(target))
		return a->pid == (pid_t)atol(target);
	return !strcmp(a->name, target);
}
