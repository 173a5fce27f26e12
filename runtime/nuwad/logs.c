/* App output, kept per app name (logs.h): what the door let through. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "door.h"
#include "events.h"
#include "logs.h"
#include "nuwad.h"
#include "util.h"

#define LOG_LINE_MAX DOOR_LINE_MAX
#define KEEP_LINES 200         /* per app name, for nuwactl logs */
#define MAX_NAMES 64

struct line {
	pid_t pid;
	double time;           /* wall clock, seconds */
	char text[LOG_LINE_MAX + 4];
};

struct ring {
	char name[NUWA_NAME_MAX];
	struct line *lines;    /* KEEP_LINES of them */
	unsigned next, count;
};

static struct ring rings[MAX_NAMES];

static struct ring *ring_for(const char *name, int create)
{
	int i, free_slot = -1;
	for (i = 0; i < MAX_NAMES; i++) {
		if (rings[i].lines && !strcmp(rings[i].name, name))
			return &rings[i];
		if (!rings[i].lines && free_slot < 0)
			free_slot = i;
	}
	if (!create || free_slot < 0)
		return NULL;
	rings[free_slot].lines = calloc(KEEP_LINES, sizeof(struct line));
	if (!rings[free_slot].lines)
		return NULL;
	snprintf(rings[free_slot].name, sizeof rings[free_slot].name, "%s", name);
	return &rings[free_slot];
}

static double wall_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* A line of A's output, through the door (cut and cleaned): to nuwad's
 * log and A's ring. */
static void on_output(struct nuwad *d, struct app *a, const char *text)
{
	const char *name = a->name[0] ? a->name : "spare";
	struct ring *r;
	struct line *l;
	(void)d;
	nuwad_log("app %s[%d]: %s", name, (int)a->pid, text);
	r = ring_for(name, 1);
	if (!r)
		return;
	l = &r->lines[r->next];
	r->next = (r->next + 1) % KEEP_LINES;
	if (r->count < KEEP_LINES)
		r->count++;
	l->pid = a->pid;
	l->time = wall_now();
	snprintf(l->text, sizeof l->text, "%s", text);
}

const struct app_observer logs_observer = {
	.name = "logs",
	.output = on_output,
};

void logs_show(struct nuwad *d, struct out *o, const char *app, int lines)
{
	struct ring *r = ring_for(app, 0);
	unsigned i, n = r ? r->count : 0, first;
	(void)d;
	if (lines >= 0 && (unsigned)lines < n)
		n = (unsigned)lines;
	out_obj_begin(o, NULL);
	out_str(o, "app", app);
	out_arr_begin(o, "lines");
	first = r ? (r->next + KEEP_LINES - n) % KEEP_LINES : 0;
	for (i = 0; i < n; i++) {
		const struct line *l = &r->lines[(first + i) % KEEP_LINES];
		char full[LOG_LINE_MAX + 128];
		snprintf(full, sizeof full, "%.3f %s[%d]: %s", l->time, app, (int)l->pid, l->text);
		if (o->text) {
			out_str(o, NULL, full);
			continue;
		}
		out_obj_begin(o, NULL);
		out_int(o, "pid", l->pid);
		out_num(o, "time", l->time);
		out_str(o, "text", l->text);
		out_str(o, "line", full);
		out_obj_end(o);
	}
	out_arr_end(o);
	out_obj_end(o);
}
