#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app_runner.h"
#include "app_uids.h"
#include "nuwa.h"
#include "nuwa_sandbox.h"
#include "util.h"

static char *argv_area;
static size_t argv_len;

void runner_keep_argv(int argc, char **argv)
{
	int i;
	if (argc < 1)
		return;
	argv_area = argv[0];
	/* argv strings are contiguous; use them all as the name area. */
	for (i = 0; i < argc; i++) {
		if (argv[i] != argv_area + argv_len)
			break;
		argv_len += strlen(argv[i]) + 1;
	}
}

void runner_drop_bounding(const char *who)
{
	/* Nothing here execs a program that needs capabilities: every app
	 * (and thread) inherits the empty set, and the sandbox has none to
	 * drop per thread. */
	if (nuwa_sandbox_drop_bounding() < 0)
		nuwa_logf(who, "capability bounding set: %s", strerror(errno));
}

static void set_process_name(const char *name)
{
	if (prctl(PR_SET_NAME, name, 0, 0, 0) < 0)
		nuwa_logf(name, "PR_SET_NAME: %s", strerror(errno));
	if (argv_area && argv_len > 1) {
		memset(argv_area, 0, argv_len);
		snprintf(argv_area, argv_len, "%s", name);
	}
}

/* [daemon] exec_mergeable (the bench's exec+ksm mode): offer every writable
 * private mapping that exists after framework init to KSM, so ksmd can merge
 * the identical pages that every exec'd app builds. Mappings made later (the
 * app's own) are not marked. Linux 6.1 has no PR_SET_MEMORY_MERGE. */
static int mark_mergeable(char *err, size_t errlen)
{
	char line[512];
	int marked = 0;
	FILE *f = fopen("/proc/self/maps", "re");
	if (!f) {
		snprintf(err, errlen, "exec_mergeable: /proc/self/maps: %s", strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof line, f)) {
		unsigned long start, end;
		char perms[5];
		if (sscanf(line, "%lx-%lx %4s", &start, &end, perms) != 3)
			continue;
		if (perms[1] != 'w' || perms[3] != 'p')
			continue;
		if (madvise((void *)start, end - start, MADV_MERGEABLE) < 0) {
			int e = errno;
			fclose(f);
			snprintf(err, errlen, "exec_mergeable: madvise(MADV_MERGEABLE): %s%s",
				 strerror(e), e == EINVAL ? " (kernel without CONFIG_KSM?)" : "");
			return -1;
		}
		marked++;
	}
	fclose(f);
	return marked;
}

int runner_load(struct runner *r, const char *config, const char *framework,
		enum nuwa_launch_mode mode, char *err, size_t errlen)
{
	struct nuwa_framework_env env;
	nuwa_framework_init_fn init;
	const struct nuwa_fw_conf *f;
	void *h;
	int64_t t0 = nuwa_mono_us();
	int i;

	memset(r, 0, sizeof *r);
	r->mode = mode;
	if (nuwa_conf_load(config, &r->conf, err, errlen) < 0)
		return -1;
	f = nuwa_conf_framework(&r->conf, framework ? framework : NUWA_DEFAULT_FRAMEWORK);
	if (!f) {
		snprintf(err, errlen, "%s: no framework '%s'", config, framework);
		return -1;
	}
	if (!f->library) {
		if (f == r->conf.frameworks)
			snprintf(err, errlen, "%s: no [framework] library", config);
		else
			snprintf(err, errlen, "%s: [framework %s] has no library", config, f->name);
		return -1;
	}
	r->fwc = f;
	if (app_uids_load(&r->conf, err, errlen) < 0)
		return -1;
	for (i = 0; i < f->nfd_allow; i++)
		if (nuwa_fd_allow(f->fd_allow[i]) < 0) {
			snprintf(err, errlen, "fd_allow %s: %s", f->fd_allow[i], strerror(errno));
			return -1;
		}
	for (i = 0; i < f->nfd_readonly_prefixes; i++)
		if (nuwa_fd_readonly_prefix(f->fd_readonly_prefixes[i]) < 0) {
			snprintf(err, errlen, "fd_readonly_prefixes %s: %s", f->fd_readonly_prefixes[i],
				 strerror(errno));
			return -1;
		}
	for (i = 0; i < f->npreload; i++) {
		/* PATH or PATH:SYMBOL, SYMBOL being an int (void) init entry. */
		char *path = f->preload[i], *colon = strrchr(path, ':');
		const char *sym = NULL;
		void *lib;
		if (colon && !strchr(colon, '/')) {
			*colon = 0; /* the config copy is ours to split */
			sym = colon + 1;
		}
		lib = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
		if (!lib) {
			snprintf(err, errlen, "preload: %s", dlerror());
			return -1;
		}
		if (sym) {
			int (*fn)(void);
			*(void **)&fn = dlsym(lib, sym);
			if (!fn) {
				snprintf(err, errlen, "preload %s: no init symbol '%s'", path, sym);
				return -1;
			}
			if (fn() != 0) {
				snprintf(err, errlen, "preload %s: %s() failed", path, sym);
				return -1;
			}
		}
	}
	h = dlopen(f->library, RTLD_NOW | RTLD_GLOBAL);
	if (!h) {
		snprintf(err, errlen, "framework: %s", dlerror());
		return -1;
	}
	/* Exec mode: the loader's work for the framework's libraries (mapping,
	 * relocation) ends here; framework_init is its own start-up. */
	nuwa_phase_mark("framework_loaded");
	*(void **)&init = dlsym(h, f->init);
	if (!init) {
		snprintf(err, errlen, "framework %s: no init symbol '%s'", f->library, f->init);
		return -1;
	}
	memset(&env, 0, sizeof env);
	env.abi_version = NUWA_APP_ABI_VERSION;
	env.mode = mode;
	env.argc = f->argc;
	env.argv = f->argv;
	r->fw.abi_version = NUWA_APP_ABI_VERSION;
	if (init(&env, &r->fw) != 0) {
		snprintf(err, errlen, "framework %s: %s() failed", f->library, f->init);
		return -1;
	}
	if (r->fw.abi_version != NUWA_APP_ABI_VERSION || !r->fw.run_app) {
		snprintf(err, errlen, "framework %s: ABI version %u or no run_app (want %d)",
			 f->library, r->fw.abi_version, NUWA_APP_ABI_VERSION);
		return -1;
	}
	/* The crash handler's stack and a warm unwinder, made before the
	 * freeze so every app has them without allocating in a handler. */
	if (nuwa_crash_prepare() < 0) {
		snprintf(err, errlen, "crash handler: %s", strerror(errno));
		return -1;
	}
	r->init_ms = (double)(nuwa_mono_us() - t0) / 1000.0;
	nuwa_phase_mark("framework_init");
	if (mode == NUWA_MODE_EXEC && r->conf.exec_mergeable && mark_mergeable(err, errlen) < 0)
		return -1;
	return 0;
}

/* The app's own process group and cgroup (docs/security.md "Apps are
 * groups of processes"), made by the app process itself while it still
 * has its ids, before any app code: everything it forks is inside, and it
 * can leave neither (setpgid/setsid are refused by the sandbox, cgroup
 * files are root's). nuwad names the cgroup NUWA_APP_CGROUP/<app>-<pid>. */
static void join_groups(const char *name)
{
	const char *base = getenv("NUWA_APP_CGROUP");
	char dir[1024], procs[1100];
	int fd;

	if (setpgid(0, 0) < 0)
		nuwa_logf(name, "own process group: %s", strerror(errno));
	if (!base || !*base)
		return;
	nuwa_phase_mark("pgid_set");
	snprintf(dir, sizeof dir, "%s/%s-%d", base, name, (int)getpid());
	snprintf(procs, sizeof procs, "%s/cgroup.procs", dir);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		nuwa_logf(name, "cgroup %s: %s (its process group still holds it)", dir, strerror(errno));
		return;
	}
	nuwa_phase_mark("cgroup_made");
	fd = open(procs, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "0", 1) != 1)
		nuwa_logf(name, "joining cgroup %s: %s (its process group still holds it)", dir,
			  strerror(errno));
	if (fd >= 0)
		close(fd);
}

/* A spare joins its groups before any request (as spare-PID; nuwad names
 * them so): joining a cgroup can wait for an RCU grace period, which was
 * most of a launch through the spare (docs/benchmarks.md "Launch phases").
 * It also opens its oom_score_adj (the path lookup of a new pid's /proc
 * directory is most of setting it; the value is the app's) and does the
 * app-independent part of the sandbox (nuwa_sandbox_spare_prepare). */
static int groups_joined;
/* The spare's oom_score_adj fd + 1 (0: none): zero-initialised beside
 * groups_joined, so a child that has none writes no page for it. */
static int spare_oom_fd1;

void runner_spare_prepare(const struct runner *r)
{
	const struct nuwa_fw_conf *f = r->fwc;
	join_groups("spare");
	groups_joined = 1;
	spare_oom_fd1 = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC) + 1;
	if (!spare_oom_fd1)
		nuwa_logf("spare", "oom_score_adj: %s (the app opens it)", strerror(errno));
	if (nuwa_sandbox_spare_prepare((const char *const *)f->sandbox_read, f->nsandbox_read) < 0)
		nuwa_logf("spare", "sandbox: %s (the app does all of it)", strerror(errno));
}

static int app_error(int channel, const char *fmt, const char *a, const char *b)
{
	char msg[512];
	snprintf(msg, sizeof msg, fmt, a, b);
	nuwa_logf("nuwa-app", "%s", msg);
	nuwa_msg_send(channel, NUWA_APP_MSG_ERROR, 0, msg, (uint32_t)strlen(msg), -1);
	return 1;
}

/* The app's sandbox (docs/security.md): after framework init, before any
 * app code (the app library is opened after it). */
static int sandbox_app(const struct runner *r, const struct nuwa_app_conf *ac, char *err,
		       size_t errlen)
{
	const struct nuwa_conf *c = &r->conf;
	const struct nuwa_fw_conf *f = r->fwc;
	struct nuwa_sandbox_conf sc;
	struct nuwa_sandbox_state st;
	const char **paths;
	int i, n = 0, rc;

	paths = calloc((size_t)(f->nsandbox_read + ac->nread) + 1, sizeof *paths);
	if (!paths) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < f->nsandbox_read; i++)
		paths[n++] = f->sandbox_read[i];
	for (i = 0; i < ac->nread; i++)
		paths[n++] = ac->read[i];
	memset(&sc, 0, sizeof sc);
	sc.app = ac->name;
	sc.uid = ac->uid;
	sc.gid = ac->gid;
	sc.read_paths = paths;
	sc.nread_paths = n;
	sc.app_library = ac->library;
	sc.nofile = (unsigned long)ac->nofile;
	sc.fsize = (unsigned long long)c->snapshot_max_kb * 1024;
	sc.landlock = c->landlock;
	sc.groups = ac->groups;
	sc.ngroups = ac->ngroups;
	sc.net_connect = ac->net_connect;
	sc.nnet_connect = ac->nnet_connect;
	sc.net_bind = ac->net_bind;
	sc.nnet_bind = ac->nnet_bind;
	rc = nuwa_sandbox_apply(&sc, &st, err, errlen);
	free(paths);
	return rc;
}

/* The launch's phases so far, to nuwad, just before the app entry: the
 * last mark is the entry call (docs/protocol.md). */
static void send_phases(int channel)
{
	char text[2048]; /* 24 marks of "name microseconds\n" at most */
	int n;
	nuwa_phase_mark("entry_called");
	n = nuwa_phase_format(text, sizeof text);
	if (nuwa_msg_send(channel, NUWA_APP_MSG_PHASES, 0, text, (uint32_t)n, -1) < 0)
		nuwa_logf("nuwa-app", "launch phases: %s", strerror(errno));
}

/* [daemon] core_dir: setresuid() made the app non-dumpable; core dumps
 * need it dumpable again and a core size limit (nuwad points the kernel's
 * core_pattern at core_dir). */
static void enable_core_dumps(const char *app)
{
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	if (setrlimit(RLIMIT_CORE, &rl) < 0) {
		rl.rlim_cur = rl.rlim_max = 0;
		if (getrlimit(RLIMIT_CORE, &rl) == 0) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_CORE, &rl);
		}
	}
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		nuwa_logf(app, "PR_SET_DUMPABLE: %s", strerror(errno));
}

int runner_run_app(struct runner *r, const char *name, int nextra, char **extra, int channel)
{
	const struct nuwa_app_conf *ac = nuwa_conf_app(&r->conf, name);
	struct nuwa_app app;
	nuwa_app_entry_fn entry;
	char **argv, oom[16];
	void *h;
	int i, fd, n;

	if (!ac)
		return app_error(channel, "unknown app '%s'%s", name, "");
	/* nuwad sends each app to its own framework's host; this guards it. */
	if (&r->conf.frameworks[ac->framework] != r->fwc)
		return app_error(channel, "app '%s' runs on framework '%s', not on this host's",
				 name, r->conf.frameworks[ac->framework].name);
	set_process_name(ac->name);
	n = snprintf(oom, sizeof oom, "%d\n", ac->oom_score_adj);
	if (spare_oom_fd1) {
		fd = spare_oom_fd1 - 1;
		spare_oom_fd1 = 0;
	} else {
		fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	}
	if (fd < 0 || write(fd, oom, (size_t)n) != n)
		nuwa_logf(ac->name, "oom_score_adj %d: %s", ac->oom_score_adj, strerror(errno));
	if (fd >= 0)
		close(fd);
	nuwa_phase_mark("oom_score_set");
	/* Crash records: a dying app reports on its channel (lib/crash.c). */
	if (nuwa_crash_arm(channel) < 0)
		nuwa_logf(ac->name, "crash handler: %s", strerror(errno));
	nuwa_phase_mark("crash_armed");
	if (!groups_joined)
		join_groups(ac->name);
	nuwa_phase_mark("groups_joined");
	if (ac->sandbox) {
		char why[400];
		if (sandbox_app(r, ac, why, sizeof why) < 0)
			return app_error(channel, "sandbox: %s%s", why, "");
	} else {
		nuwa_sandbox_spare_drop();
	}
	if (r->conf.core_dir)
		enable_core_dumps(ac->name);
	/* A template child is still single-threaded (nuwa_fork_defer_threads):
	 * its workers start now, confined from birth. Nothing to do in exec
	 * mode, whose workers ran through framework init. */
	if (nuwa_child_start_threads() < 0)
		return app_error(channel, "%s%s", nuwa_child_error(), "");
	h = dlopen(ac->library, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return app_error(channel, "app library: %s%s", dlerror(), "");
	nuwa_phase_mark("library_opened");
	*(void **)&entry = dlsym(h, ac->entry);
	if (!entry)
		return app_error(channel, "app library has no entry symbol '%s'%s", ac->entry, "");
	argv = calloc((size_t)ac->argc + (size_t)nextra + 2, sizeof *argv);
	if (!argv)
		return app_error(channel, "out of memory%s%s", "", "");
	argv[0] = (char *)ac->name;
	for (i = 0; i < ac->argc; i++)
		argv[i + 1] = ac->argv[i];
	for (i = 0; i < nextra; i++)
		argv[ac->argc + 1 + i] = extra[i];
	memset(&app, 0, sizeof app);
	app.abi_version = NUWA_APP_ABI_VERSION;
	app.name = ac->name;
	app.mode = r->mode;
	app.argc = ac->argc + nextra + 1;
	app.argv = argv;
	app.channel_fd = channel;
	app.module = ac->module;
	send_phases(channel);
	return r->fw.run_app(&app, entry);
}
