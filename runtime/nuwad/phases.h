/* Launch phases: where a launch's time goes (docs/runtime.md). */
#ifndef NUWAD_PHASES_H
#define NUWAD_PHASES_H

#include <stdint.h>

#define NUWAD_PHASES_MAX 32  /* launch phase marks kept per launch */

struct app;
struct out;

/* An app's launch marks, nuwad's and the child's (struct app's "phases"). */
struct app_phases {
	struct phase_mark {
		char name[32];
		int64_t us;
	} marks[NUWAD_PHASES_MAX];
	int n;
	int taken;                  /* the child's marks arrived */
};

/* Forget the marks (a new launch, or a spare being specialised). */
void phases_clear(struct app *a);
/* nuwad's own mark at US. */
void phases_mark(struct app *a, const char *name, int64_t us);
/* The child's NUWA_APP_MSG_PHASES text ("NAME MONO_US" lines). Marks
 * before the request or after NOW (an app cannot be trusted to send
 * sane ones) are dropped; bad lines are skipped. */
void phases_take(struct app *a, const char *text, int64_t now);
/* The time (CLOCK_MONOTONIC us) of the first mark called NAME, or -1. */
int64_t phases_find(const struct app *a, const char *name);
/* "phases_ms": {NAME: ms since the previous mark, ...} in time order,
 * from the request to READY_US; the values add up to launch_ms. */
void phases_out(struct app *a, struct out *o, int64_t ready_us);

#endif
