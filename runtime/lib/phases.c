/* Launch phases: monotonic timestamps taken in the child on its way to the
 * app (docs/runtime.md "Where a launch's time goes"). Fixed storage, no
 * allocation, no lock: only the child's launching thread marks, and it
 * does so before any app code runs. */
#include <stdio.h>
#include <time.h>

#include "internal.h"

#define MAX_PHASES 24

static NUWA_CHILD_RW struct {
	const char *name;
	int64_t us;
} marks[MAX_PHASES];
static NUWA_CHILD_RW int nmarks;

void nuwa_phase_mark(const char *name)
{
	struct timespec ts;
	if (nmarks == MAX_PHASES || clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		return;
	marks[nmarks].name = name;
	marks[nmarks].us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	nmarks++;
}

void nuwa_phase_reset(void)
{
	nmarks = 0;
}

int nuwa_phase_format(char *buf, size_t cap)
{
	size_t off = 0;
	int i;
	if (cap)
		buf[0] = 0;
	for (i = 0; i < nmarks; i++) {
		int n = snprintf(buf + off, cap - off, "%s %lld\n", marks[i].name,
				 (long long)marks[i].us);
		if (n < 0 || (size_t)n >= cap - off)
			break; /* whole lines only */
		off += (size_t)n;
	}
	return (int)off;
}
