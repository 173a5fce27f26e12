/* Launch phases (docs/runtime.md "Where a launch's time goes"): nuwad
 * marks the request's steps on its side, the child sends its own marks
 * (CLOCK_MONOTONIC, the same clock in every process) before the app entry,
 * and the launch answer reports the time between consecutive marks. */
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "nuwad.h"
#include "phases.h"

void phases_clear(struct app *a)
{
	a->phases.n = 0;
}

void phases_mark(struct app *a, const char *name, int64_t us)
{
	int i;
	if (a->phases.n == NUWAD_PHASES_MAX)
		return;
	/* Kept sorted by time (stable): the child's marks arrive late. */
	for (i = a->phases.n; i > 0 && a->phases.marks[i - 1].us > us; i--)
		a->phases.marks[i] = a->phases.marks[i - 1];
	snprintf(a->phases.marks[i].name, sizeof a->phases.marks[i].name, "%s", name);
	a->phases.marks[i].us = us;
	a->phases.n++;
}

int64_t phases_find(const struct app *a, const char *name)
{
	int i;
	for (i = 0; i < a->phases.n; i++)
		if (!strcmp(a->phases.marks[i].name, name))
			return a->phases.marks[i].us;
	return -1;
}

static int good_name(const char *s, size_t n)
{
	size_t i;
	if (n == 0 || n >= sizeof ((struct phase_mark *)0)->name)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_'))
			return 0;
	return 1;
}

void phases_take(struct app *a, const char *text, int64_t now)
{
	const char *line = text;
	while (*line) {
		const char *eol = strchr(line, '\n'), *sp = strchr(line, ' ');
		char name[32];
		long long us;
		size_t n;
		if (!eol)
			eol = line + strlen(line);
		if (sp && sp < eol) {
			n = (size_t)(sp - line);
			if (good_name(line, n) && sscanf(sp + 1, "%lld", &us) == 1 &&
			    us >= a->t_request_us && us <= now) {
				memcpy(name, line, n);
				name[n] = 0;
				phases_mark(a, name, (int64_t)us);
			}
		}
		line = *eol ? eol + 1 : eol;
	}
}

void phases_out(struct app *a, struct out *o, int64_t ready_us)
{
	int64_t prev = a->t_request_us;
	int i;
	out_obj_begin(o, "phases_ms");
	for (i = 0; i < a->phases.n; i++) {
		if (a->phases.marks[i].us > ready_us)
			break;
		out_num(o, a->phases.marks[i].name, (double)(a->phases.marks[i].us - prev) / 1000.0);
		prev = a->phases.marks[i].us;
	}
	out_num(o, "ready", (double)(ready_us - prev) / 1000.0);
	out_obj_end(o);
}
