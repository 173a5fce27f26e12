/* What the template host and the exec host share: load the framework, and
 * turn the current process into an app. Both modes run exactly this code. */
#ifndef NUWA_APP_RUNNER_H
#define NUWA_APP_RUNNER_H

#include "conf.h"
#include "nuwa_app.h"

struct runner {
	struct nuwa_conf conf;
	const struct nuwa_fw_conf *fwc; /* the framework this host runs (--framework) */
	struct nuwa_framework fw;
	enum nuwa_launch_mode mode;
	double init_ms;          /* preload + framework init, wall time */
};

/* Remember main()'s argv so the process can be renamed for ps. */
void runner_keep_argv(int argc, char **argv);
/* At start, single-threaded: empty the capability bounding set (as root). */
void runner_drop_bounding(const char *who);
/* Load config, preload framework FRAMEWORK's libraries (NULL: the default
 * framework), dlopen it and call its init. 0, or -1 with the reason in ERR. */
int runner_load(struct runner *r, const char *config, const char *framework,
		enum nuwa_launch_mode mode, char *err, size_t errlen);
/* In a spare, before it waits, the app-independent steps: its process
 * group and cgroup (spare-PID; runner_run_app skips join_groups then), its
 * oom_score_adj opened, the sandbox's share (nuwa_sandbox_spare_prepare). */
void runner_spare_prepare(const struct runner *r);
/* Specialise into app NAME on CHANNEL and run it; returns the exit status.
 * The app's argv: NAME, its configured args, then the NEXTRA launch args.
 * Failures are reported on the channel (NUWA_APP_MSG_ERROR) and logged. */
int runner_run_app(struct runner *r, const char *name, int nextra, char **extra, int channel);

#endif
