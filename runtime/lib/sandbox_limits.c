/* The sandbox's first step: the resource limits the app's config sets,
 * soft = hard so that the app cannot raise them. SIGXFSZ is ignored, so
 * that a write past the size limit fails with EFBIG instead of killing
 * the app. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>

#include "sandbox_steps.h"

static int set_limit(int res, rlim_t v)
{
	struct rlimit r = { .rlim_cur = v, .rlim_max = v };
	return setrlimit(res, &r);
}

int nuwa_sb_limits(struct nuwa_sb_apply *a)
{
	const struct nuwa_sandbox_conf *c = a->c;

	if (c->nofile && set_limit(RLIMIT_NOFILE, (rlim_t)c->nofile) < 0)
		return nuwa_sb_fail(a->err, a->errlen, "RLIMIT_NOFILE %lu: %s", c->nofile,
				    strerror(errno));
	if (c->fsize) {
		if (set_limit(RLIMIT_FSIZE, (rlim_t)c->fsize) < 0)
			return nuwa_sb_fail(a->err, a->errlen, "RLIMIT_FSIZE %llu: %s", c->fsize,
					    strerror(errno));
		if (signal(SIGXFSZ, SIG_IGN) == SIG_ERR)
			return nuwa_sb_fail(a->err, a->errlen, "SIGXFSZ: %s", strerror(errno));
	}
	return 0;
}
