/* The app sandbox (nuwa_sandbox.h): nuwa_sandbox_apply() is the ordered
 * list of its steps (sandbox_steps.h), run in the app's own process after
 * the framework's init and before any app code. Each step is a function of
 * one struct nuwa_sb_apply, which carries the config, what was applied so
 * far and what the template and a spare prepared (taken from
 * sandbox_prepared.c at the start, the rest dropped at the end; with
 * nothing prepared each step builds its part now). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "nuwa.h"
#include "sandbox_prepared.h"

/* In this order: the ruleset is built with the original ids; every other
 * thread is confined before this one; seccomp comes last, when every
 * thread has no_new_privs, so that TSYNC may filter them all. MARK is the
 * phase mark after the step (NULL: the step's own, or none). */
static const struct {
	nuwa_sb_step *run;
	const char *mark;
} steps[] = {
	{ nuwa_sb_limits, NULL },
	{ nuwa_sb_landlock, "sandbox_landlock_ruleset" },
	{ nuwa_sb_identity, NULL },
	{ nuwa_sb_confine_others, NULL }, /* sandbox_other_threads, or sandbox_alone */
	{ nuwa_sb_confine_self, "sandbox_ids_landlock" },
	{ nuwa_sb_seccomp, "sandbox_seccomp" },
};

int nuwa_sandbox_apply(const struct nuwa_sandbox_conf *c, struct nuwa_sandbox_state *out,
		       char *err, size_t errlen)
{
	struct nuwa_sb_prepared prepared;
	struct nuwa_sb_apply a;
	size_t i;
	int rc = 0;

	memset(&a, 0, sizeof a);
	a.c = c;
	a.app = c->app ? c->app : "app";
	a.prepared = &prepared;
	a.ruleset = -2;
	a.err = err;
	a.errlen = errlen;
	nuwa_sb_prepared_take(&prepared);
	for (i = 0; i < sizeof steps / sizeof steps[0] && rc == 0; i++) {
		a.mark = NULL;
		rc = steps[i].run(&a);
		if (rc == 0 && (steps[i].mark || a.mark))
			nuwa_phase_mark(steps[i].mark ? steps[i].mark : a.mark);
	}
	if (rc == 0 && out)
		*out = a.st;
	if (a.ruleset >= 0)
		close(a.ruleset);
	nuwa_sb_prepared_release(&prepared); /* what the apply did not use */
	return rc;
}

int nuwa_sandbox_describe(const struct nuwa_sandbox_state *st, char *buf, size_t len)
{
	return snprintf(buf, len, "uid=%d gid=%d ids_set=%d nnp=%d landlock=%d net=%d scoped=%d "
			"seccomp=%d signalled=%d%s%s", (int)getuid(), (int)getgid(), st->uid_set,
			st->no_new_privs, st->landlock_abi, st->landlock_net, st->landlock_scoped,
			st->seccomp, st->threads_signalled,
			st->note[0] ? " note=" : "", st->note);
}
