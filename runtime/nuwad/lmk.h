/* nuwad's low-memory killer: nuwad_lmk_tick() (declared in nuwad.h) and
 * what it uses. */
#ifndef NUWAD_LMK_H
#define NUWAD_LMK_H

#include <sys/types.h>

struct nuwad;
struct app;

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
/* The next victim (background first, least recently used, largest), never
 * the spare, or NULL. */
struct app *lmk_pick(struct nuwad *d);
/* A's answer to a trim request ("freed_kb=N"). */
void lmk_on_trimmed(struct nuwad *d, struct app *a, const char *answer);
/* MemAvailable in kB from a meminfo file; -1 (errno set) when unreadable. */
long lmk_mem_available_kb(const char *path);
/* Write ADJ to /proc/PID/oom_score_adj (PID 0: this process). 0 or -1. */
int lmk_set_oom_score_adj(pid_t pid, int adj);

#endif
