/* The app sandbox's steps, shared by its source files (libnuwa internal;
 * the public API is nuwa_sandbox.h). nuwa_sandbox_apply() (sandbox.c) is
 * the ordered list of them, each a function of one struct nuwa_sb_apply:
 *
 *   limits         sandbox_limits.c    RLIMIT_NOFILE, RLIMIT_FSIZE, SIGXFSZ
 *   Landlock       sandbox_landlock.c  the ruleset, built with the original ids
 *   identity       sandbox_confine.c   what every thread becomes (uid, gid,
 *                                      groups, capabilities)
 *   other threads  sandbox_confine.c   the signal round
 *   this thread    sandbox_confine.c   ids, no_new_privs, the Landlock domain
 *   seccomp        sandbox_seccomp.c   the filter installed (TSYNC); its rule
 *                                      list is sandbox_policy.c, its compiler
 *                                      sandbox_bpf.c (sandbox_seccomp.h)
 *
 * What the template and a spare made ahead (sandbox_prepared.c) reaches
 * the steps only as the apply's struct nuwa_sb_prepared. The steps are
 * leaves: none calls sandbox.c or sandbox_prepared.c, which call them. */
#ifndef NUWA_SANDBOX_STEPS_H
#define NUWA_SANDBOX_STEPS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "internal.h"
#include "nuwa_sandbox.h"
#include "sandbox_seccomp.h"

/* Landlock's calls, numbered alike on every architecture, for C libraries
 * whose headers are older. */
#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#endif
#ifndef __NR_landlock_add_rule
#define __NR_landlock_add_rule 445
#endif
#ifndef __NR_landlock_restrict_self
#define __NR_landlock_restrict_self 446
#endif

/* ---- reporting (sandbox_report.c) -------------------------------------- */

/* ERR = the message; returns -1. */
NUWA_HIDDEN int nuwa_sb_fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Log "sandbox APP: ..." and append it to ST's note (what was skipped). */
NUWA_HIDDEN void nuwa_sb_note(struct nuwa_sandbox_state *st, const char *app, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- what was made before the request ----------------------------------- */

/* What the template (nuwa_sandbox_prepare) and this process as a spare
 * (nuwa_sandbox_spare_prepare) made ahead. A member at its "none" value
 * (NULL, -1) means: the step builds it now. A step that uses an fd or the
 * scratch memory takes it (sets the member to none); sandbox_prepared.c
 * drops whatever is left once the apply is over. */
struct nuwa_sb_prepared {
	/* the template's, read-only: the programs for its pid ([0] without,
	 * [1] with TCP) and the bounding set it read */
	const struct bpf_prog_buf *template_progs;
	int bounding_known;
	uint64_t bounding;
	/* the spare's, this process's own */
	struct bpf_prog_buf *progs;     /* [2] copied for this pid (scratch) */
	int ruleset;                    /* /proc/PID and PATHS in, or -1 */
	int abi;                        /* the ruleset's Landlock ABI */
	int task_fd;                    /* /proc/self/task opened, or -1 */
};

/* ---- one apply ---------------------------------------------------------- */

/* What every thread is to become (the identity step fills it). */
struct nuwa_sb_identity {
	int set_ids;                    /* 0: ids and capabilities left alone */
	long uid, gid;
	const long *groups;
	int ngroups;
	uint64_t bounding;              /* capabilities still in the bounding set */
	int ruleset;                    /* Landlock ruleset to restrict to, or -1 */
};

/* Handed from step to step by nuwa_sandbox_apply(). */
struct nuwa_sb_apply {
	const struct nuwa_sandbox_conf *c;
	const char *app;                /* for notes: c->app or "app" */
	struct nuwa_sandbox_state st;   /* what was applied, so far */
	struct nuwa_sb_prepared *prepared;
	int ruleset;                    /* the Landlock step's: an fd, or -2 (none) */
	int abi;                        /* its ABI */
	struct nuwa_sb_identity id;
	const char *mark;               /* a step's own phase mark (else the list's) */
	char *err;
	size_t errlen;
};

/* A step: 0, or -1 with A->err. */
typedef int nuwa_sb_step(struct nuwa_sb_apply *a);

/* ---- limits (sandbox_limits.c) ------------------------------------------ */

NUWA_HIDDEN nuwa_sb_step nuwa_sb_limits;

/* ---- Landlock (sandbox_landlock.c) -------------------------------------- */

/* The app's ruleset: the prepared one (taken) or a new one, plus the app's
 * own rules; A->ruleset is -2 when Landlock is unavailable and allowed to be. */
NUWA_HIDDEN nuwa_sb_step nuwa_sb_landlock;
/* A ruleset for ABI (> 0) handling every right ABI knows (ST says what they
 * cover; APP and ST are NULL for a spare), with a read rule for this
 * process's own /proc/PID. The fd, or -1 with ERR and errno (EINVAL when
 * the rule failed). */
NUWA_HIDDEN int nuwa_sb_ruleset_new(int abi, const char *app, struct nuwa_sandbox_state *st,
				    char *err, size_t errlen);
/* Allow reading beneath PATH in RULESET. 0; 1 when PATH is absent (skipped:
 * configs list optional trees such as a CA directory), noted in ST for APP
 * when APP is set; -1 with ERR on anything else. */
NUWA_HIDDEN int nuwa_sb_add_read(int ruleset, const char *path, const char *app,
				 struct nuwa_sandbox_state *st, char *err, size_t errlen);

/* ---- identity and confinement (sandbox_confine.c) ----------------------- */

/* A->id from the config (refusing root), the prepared bounding set. */
NUWA_HIDDEN nuwa_sb_step nuwa_sb_identity;
/* Every other thread made A->id in one signal round (the prepared
 * /proc/self/task taken); sets A->st.threads_signalled and A->mark. */
NUWA_HIDDEN nuwa_sb_step nuwa_sb_confine_others;
/* The calling thread made A->id (after nuwa_sb_confine_others). */
NUWA_HIDDEN nuwa_sb_step nuwa_sb_confine_self;
/* The capability bounding set of the calling thread (CapBnd); all bits
 * when it cannot be read. */
NUWA_HIDDEN uint64_t nuwa_sb_bounding_set(void);
/* /proc/self/task opened, for the signal round to read later; or -1. */
NUWA_HIDDEN int nuwa_sb_task_dir_open(void);

/* ---- seccomp (sandbox_seccomp.c) ---------------------------------------- */

/* Install the filter (TSYNC): the prepared copy for this pid (taken), else
 * the template's copied for this pid, else one built now. */
NUWA_HIDDEN nuwa_sb_step nuwa_sb_seccomp;
/* TEMPLATE's two programs copied for this pid into scratch memory of their
 * own (nuwa_sb_progs_free() unmaps it); NULL with errno. */
NUWA_HIDDEN struct bpf_prog_buf *nuwa_sb_progs_for_pid(const struct bpf_prog_buf *template_progs);
NUWA_HIDDEN void nuwa_sb_progs_free(struct bpf_prog_buf *progs);

#endif
