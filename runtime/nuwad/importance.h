/* App importance (docs/runtime.md "Foreground and background"): one
 * foreground app at a time, every other app background with the time it
 * was last used. Importance sets the app's CPU share (cgroup v2 cpu.weight
 * of its own cgroup, else the nice value of its process group) and its
 * oom_score_adj, and orders the low-memory killer's victims. */
#ifndef NUWAD_IMPORTANCE_H
#define NUWAD_IMPORTANCE_H

#include <stddef.h>
#include <stdint.h>

/* An app's importance (struct app's "imp"): foreground or background, and
 * when last used (monotonic; the foreground app is in use now). */
struct app_importance {
	int foreground;
	int64_t last_used_us;
	const char *cpu_control;    /* "cpu.weight", "nice" or NULL (none worked) */
	int cpu_value;
};

struct nuwad;
struct app;
struct app_observer;
struct out;

#define IMPORTANCE_FG_OOM_ADJ 0      /* background apps keep their config's value */
#define IMPORTANCE_FG_CPU_WEIGHT 400 /* cgroup v2 cpu.weight, default 100 */
#define IMPORTANCE_BG_CPU_WEIGHT 25
#define IMPORTANCE_FG_NICE 0         /* where cpu.weight is not available */
#define IMPORTANCE_BG_NICE 10

/* Set A's CPU share and oom_score_adj for its importance (at ready, and
 * after every change). */
void importance_apply(struct nuwad *d, struct app *a);
/* Make the running app TARGET (name or pid) the foreground app; the previous
 * one becomes background. 0, or -1 with WHY filled. */
int importance_foreground(struct nuwad *d, const char *target, char *why, size_t cap);
/* Send TARGET (NULL: the foreground app) to the background. 0 or -1/WHY. */
int importance_background(struct nuwad *d, const char *target, char *why, size_t cap);
/* "importance", "idle_ms", "oom_score_adj", "cpu_control", "cpu_value" of A. */
void importance_out(struct nuwad *d, const struct app *a, struct out *o);

/* ready: importance_apply. */
extern const struct app_observer importance_observer;

#endif
