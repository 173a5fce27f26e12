/* What the sandbox makes before an app's request, and hands to
 * nuwa_sandbox_apply() as one struct nuwa_sb_prepared. The template
 * (nuwa_sandbox_prepare, before its freeze) builds both seccomp programs
 * for its own pid and reads the bounding set: every child inherits them
 * read-only. A spare (nuwa_sandbox_spare_prepare, a template child waiting
 * for its app) copies the programs for its pid, opens /proc/self/task and
 * makes the Landlock ruleset with what every app of the framework gets;
 * that part is valid in that process only, and the apply takes it over
 * (nuwa_sb_prepared_take) or it is dropped. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "sandbox_prepared.h"

/* The spare adds at most this many of the framework's read paths. */
#define SPARE_PATHS 32

/* The template's: children copy one program and put their pid in (the
 * template's copies are never written after). */
static struct bpf_prog_buf template_progs[2];
static int template_progs_ok;
static uint64_t template_bounding;
static int template_bounding_ok;

/* The spare's: valid in the process whose pid it names only. */
static NUWA_CHILD_RW struct {
	pid_t pid;                      /* the spare's; 0: nothing prepared */
	struct nuwa_sb_prepared p;
} spare = { 0, { NULL, 0, 0, NULL, -1, 0, -1 } };

int nuwa_sandbox_prepare(void)
{
	char why[128];
	int tcp;
	for (tcp = 0; tcp < 2; tcp++) {
		struct sb_filter_ctx cx = { (uint32_t)getpid(), tcp };
		if (build_seccomp(&template_progs[tcp], &cx, why, sizeof why) < 0) {
			errno = E2BIG;
			return -1;
		}
	}
	template_progs_ok = 1;
	template_bounding = nuwa_sb_bounding_set();
	template_bounding_ok = 1;
	return 0;
}

void nuwa_sb_prepared_release(struct nuwa_sb_prepared *p)
{
	if (p->ruleset >= 0)
		close(p->ruleset);
	if (p->task_fd >= 0)
		close(p->task_fd);
	nuwa_sb_progs_free(p->progs);
	p->ruleset = -1;
	p->task_fd = -1;
	p->progs = NULL;
}

/* The spare's part, when this process is the spare that made it. */
static int spare_ready(void)
{
	return spare.pid != 0 && spare.pid == getpid();
}

static void spare_release(void)
{
	nuwa_sb_prepared_release(&spare.p);
	spare.pid = 0;
}

void nuwa_sb_prepared_take(struct nuwa_sb_prepared *p)
{
	memset(p, 0, sizeof *p);
	p->ruleset = -1;
	p->task_fd = -1;
	if (spare_ready()) {
		*p = spare.p;
		spare.p.ruleset = -1;
		spare.p.task_fd = -1;
		spare.p.progs = NULL;
		spare.pid = 0;
	}
	p->template_progs = template_progs_ok ? template_progs : NULL;
	p->bounding_known = template_bounding_ok;
	p->bounding = template_bounding;
}

void nuwa_sandbox_spare_drop(void)
{
	if (spare_ready())
		spare_release();
}

int nuwa_sandbox_spare_prepare(const char *const *read_paths, int nread_paths)
{
	struct nuwa_sb_prepared *p = &spare.p;
	char why[160];
	int i, n = 0, abi, rs, r, e = 0, le = 0;

	spare_release();
	/* Both programs (without and with TCP) with this pid in, in scratch
	 * memory the app's apply installs from and unmaps. */
	if (template_progs_ok && !(p->progs = nuwa_sb_progs_for_pid(template_progs)))
		e = errno;
	/* For the lone-thread check: opened now, read at the apply. */
	p->task_fd = nuwa_sb_task_dir_open();
	if (p->task_fd < 0)
		e = errno;
	/* The ruleset with what every app of the framework gets: its own
	 * /proc/PID and READ_PATHS (those present: an absent one is left to
	 * the app's apply, which notes it). */
	abi = nuwa_landlock_abi();
	if (abi > 0) {
		rs = nuwa_sb_ruleset_new(abi, NULL, NULL, why, sizeof why);
		if (rs < 0) {
			le = errno;
		} else {
			p->ruleset = rs;
			p->abi = abi;
			for (i = 0; i < nread_paths && n < SPARE_PATHS; i++) {
				r = nuwa_sb_add_read(rs, read_paths[i], NULL, NULL, why, sizeof why);
				if (r < 0) {
					/* The app's apply makes it all, and says why. */
					le = EINVAL;
					close(rs);
					p->ruleset = -1;
					break;
				}
				n += r == 0;
			}
		}
	}
	spare.pid = getpid();
	if (e || le) {
		errno = e ? e : le;
		return -1;
	}
	return 0;
}
