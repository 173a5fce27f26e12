/* App output through pipes, limited, kept per app name (logs.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "logs.h"
#include "nuwad.h"
#include "util.h"

#define LOG_LINE_MAX 512       /* longer lines are cut (and marked) */
#define KEEP_LINES 200         /* per app name, for nuwactl logs */
#define RATE_LINES 50          /* per second per app, same burst */
#define RATE_BYTES (16 * 1024) /* per second per app, same burst */
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

int logs_pipe(struct app *a)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	if (nuwa_set_nonblock(p[0], 1) < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		errno = e;
		return -1;
	}
	if (a->log_fd >= 0)
		close(a->log_fd);
	a->log_fd = p[0];
	a->log_len = 0;
	a->log_tokens = RATE_LINES;
	a->log_bytes = RATE_BYTES;
	a->log_refill_us = nuwad_now_us();
	a->log_dropped = 0;
	return p[1];
}

static double wall_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* One complete line of A (LEN bytes at S, no newline). */
static void emit(struct app *a, const char *s, size_t len)
{
	const char *name = a->name[0] ? a->name : "spare";
	struct ring *r;
	struct line *l;
	int64_t now = nuwad_now_us();
	double dt = (double)(now - a->log_refill_us) / 1e6;
	size_t i, n = len > LOG_LINE_MAX ? LOG_LINE_MAX : len;
	char text[LOG_LINE_MAX + 4];

	a->log_refill_us = now;
	a->log_tokens += dt * RATE_LINES;
	if (a->log_tokens > RATE_LINES)
		a->log_tokens = RATE_LINES;
	a->log_bytes += dt * RATE_BYTES;
	if (a->log_bytes > RATE_BYTES)
		a->log_bytes = RATE_BYTES;
	if (a->log_tokens < 1 || a->log_bytes < (double)n) {
		if (a->log_dropped++ == 0)
			nuwad_log("app %s[%d]: output limited (%d lines, %d bytes per second): "
				  "lines dropped", name, (int)a->pid, RATE_LINES, RATE_BYTES);
		return;
	}
	a->log_tokens -= 1;
	a->log_bytes -= (double)n;
	if (a->log_dropped) {
		nuwad_log("app %s[%d]: %u lines of output were dropped", name, (int)a->pid,
			  a->log_dropped);
		a->log_dropped = 0;
	}
	/* No control characters: a line cannot pose as another, nor move a
	 * terminal's cursor. */
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		text[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	if (len > n)
		memcpy(text + n, "...", 3), n += 3;
	text[n] = 0;
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

static void take(struct app *a, int flush)
{
	char *nl, *start = a->log_buf;
	size_t left = a->log_len;
	while ((nl = memchr(start, '\n', left))) {
		emit(a, start, (size_t)(nl - start));
		left -= (size_t)(nl - start) + 1;
		start = nl + 1;
	}
	/* A line longer than the buffer is cut where the buffer ends. */
	if (left && (flush || left == sizeof a->log_buf)) {
		emit(a, start, left);
		left = 0;
	}
	memmove(a->log_buf, start, left);
	a->log_len = left;
}

void logs_read(struct nuwad *d, struct app *a)
{
	int budget = 8;
	(void)d;
	while (a->log_fd >= 0 && budget-- > 0) {
		ssize_t n = read(a->log_fd, a->log_buf + a->log_len, sizeof a->log_buf - a->log_len);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			take(a, 1);
			close(a->log_fd);
			a->log_fd = -1;
			return;
		}
		a->log_len += (size_t)n;
		take(a, 0);
	}
}

void logs_app_gone(struct nuwad *d, struct app *a)
{
	if (a->log_fd < 0)
		return;
	logs_read(d, a);
	if (a->log_fd >= 0) {
		take(a, 1);
		close(a->log_fd);
		a->log_fd = -1;
	}
}

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
