/* nuwad's low-memory killer: lmk_tick() and
 * what it uses. */
#ifndef NUWAD_LMK_H
#define NUWAD_LMK_H

#include <stdint.h>
#include <sys/types.h>

/* An app's trim before kill (struct app's "trim"): one request per
 * pressure episode. */
struct app_trim {
	int state;                  /* 0 not asked, 1 asked, 2 answered or late */
	int64_t sent_us;
	long freed_kb;              /* what its last answer reported, -1 none */
};

/* The killer's figures for "stats" (struct nuwad's "lmk"). */
struct lmk_figures {
	unsigned kills;
	unsigned foreground_kills;
	unsigned trims;             /* trim requests sent */
	unsigned trims_answered;
	long trimmed_kb;            /* sum of what the apps reported freeing */
};

struct nuwad;
struct app;
struct out;

/* oom_score_adj (-1000..1000): the kernel's OOM killer must pick apps
 * (their config sections say 800) long before the template or nuwad. */
#define LMK_OOM_ADJ_NUWAD (-900)
#define LMK_OOM_ADJ_TEMPLATE (-800)

/* After a kill, how long to wait for the victim to be reaped before the
 * next victim may be chosen (an exit stuck in D state must not stall it). */
#define LMK_GRACE_MS 2000
/* Memory fine for this long ends a shortage (apps may be trimmed again). */
#define LMK_CALM_MS 10000

/* [daemon] apps_memory_high_kb: memory.high of the apps' cgroup, the
 * apps' budget. Above it the kernel reclaims from the apps and throttles
 * them; those stalls are what the PSI triggers on the apps' memory.pressure
 * see (psi.c), so nuwad trims and kills before the whole system is short.
 * Without an apps' cgroup or the memory controller: one log line. */
void lmk_budget_init(struct nuwad *d);
/* Every [daemon] tick_ms, after a PSI event and after a trim answer: is
 * memory short? Then the next step (trim or kill). */
void lmk_tick(struct nuwad *d);
/* The next victim (background first, least recently used, largest), never
 * the spare, or NULL. */
struct app *lmk_pick(struct nuwad *d);
/* A's answer to the killer's trim request ("freed_kb=N", through the
 * door). 0, or -1 when it was not asked or that is not an answer. */
int lmk_on_trimmed(struct nuwad *d, struct app *a, const char *answer);
/* "lmk_kills", "lmk_trims", ... of "stats". */
void lmk_out(struct nuwad *d, struct out *o);
/* "trim_freed_kb" of A's row in "list". */
void lmk_app_out(const struct app *a, struct out *o);
/* MemAvailable in kB from a meminfo file; -1 (errno set) when unreadable. */
long lmk_mem_available_kb(const char *path);
/* Write ADJ to /proc/PID/oom_score_adj (PID 0: this process). 0 or -1. */
int lmk_set_oom_score_adj(pid_t pid, int adj);

#endif
