/* The runtime's config file: ini-like, line based (docs/runtime.md). */
#ifndef NUWA_CONF_H
#define NUWA_CONF_H

#include <stddef.h>

#define NUWA_NAME_MAX 48
/* The framework of [framework] (no name), and of apps naming none. */
#define NUWA_DEFAULT_FRAMEWORK "default"

/* [framework] or [framework NAME]: one app framework, one template. */
struct nuwa_fw_conf {
	char name[NUWA_NAME_MAX];
	char *where;              /* "file:line" of the section, or NULL (not in the file) */
	int npreload;             /* libraries dlopen'ed before it (PATH[:INIT]) */
	char **preload;
	char *library;            /* the framework shared object; NULL: not configured */
	char *init;
	int argc;                 /* args for its init */
	char **argv;
	int first_use;            /* start = first-use: the template starts at its first launch */
	int spare;                /* keep a spare of its template: 0/1; -1: [daemon] spare */
	int app_modules;          /* apps = modules: its apps name a module, not a library */
	int nfd_allow;            /* fd inventory: fd numbers or paths shared as is */
	char **fd_allow;
	int nfd_ro_prefixes;      /* read-only files reopened per child; 0: defaults */
	char **fd_ro_prefixes;
	int nsandbox_read;        /* paths its sandboxed apps may read */
	char **sandbox_read;
};

struct nuwa_app_conf {
	char name[NUWA_NAME_MAX];
	int framework;        /* index in nuwa_conf.frameworks (0: the default) */
	char *module;         /* module = NAME (frameworks with apps = modules), or NULL */
	char *library;        /* the app shared object (module apps: the framework's) */
	char *entry;          /* entry symbol */
	int exec_mode;        /* default launch mode: 0 template, 1 exec */
	int oom_score_adj;
	int argc;             /* args (not including the name) */
	char **argv;
	char *where;          /* "file:line" of the section, for messages */
	char *framework_where; /* "file:line" of its framework = key, or NULL */
	char *framework_name;  /* as written, until resolved into framework */
	/* sandbox (docs/security.md) */
	int sandbox;          /* 1 (default): sandbox the app; 0: not */
	long uid, gid;        /* -1: keep nuwad's */
	int nread;            /* extra readable paths of this app */
	char **read;
	long nofile;          /* RLIMIT_NOFILE (default 256) */
	int ngroups;          /* supplementary groups (default: none) */
	long *groups;
	/* network (Landlock ABI >= 4): TCP ports the app may connect to / bind */
	int nnet_connect, nnet_bind;
	unsigned short *net_connect, *net_bind;
};

struct nuwa_conf {
	/* [daemon] */
	char *template_host;      /* template host executable */
	int template_off;         /* [daemon] template = off: no template, exec launches only */
	int exec_mergeable;       /* exec host marks its writable private mappings MADV_MERGEABLE */
	char *exec_host;          /* exec-mode host executable */
	int spare;                /* keep a pre-forked spare: 0/1 */
	int spare_delay_ms;       /* idle delay after ready before refilling */
	int freeze_timeout_ms;    /* libnuwa freeze watchdog */
	int fork_timeout_ms;      /* fork request unanswered -> deadlock */
	int ready_timeout_ms;     /* launch -> ready */
	int kill_timeout_ms;      /* SIGTERM -> SIGKILL */
	int tick_ms;              /* periodic tick (low-memory killer hook) */
	int lmk_threshold_kb;     /* low-memory killer: MemAvailable floor, 0 off */
	int lmk_trim;             /* ask apps to trim before killing: 0/1 */
	int trim_timeout_ms;      /* a trim answer later than this counts as none */
	int psi;                  /* PSI triggers besides MemAvailable: 0/1 */
	int psi_some_ms, psi_full_ms, psi_window_ms; /* stall thresholds in a window; 0 off */
	int apps_memory_high_kb;  /* memory.high of the apps' cgroup (their budget), 0 none */
	int max_clients;
	int rate_limit;           /* control requests per second per client */
	char *socket_group;       /* NULL: socket mode 0600 */
	/* who may use the control socket (docs/security.md): uid 0 and nuwad's
	 * own uid always; members of control_gid every command; members of
	 * status_gid the read-only ones (status_any: every local user) */
	long control_gid;         /* -1: none */
	long status_gid;          /* -1: none */
	int status_any;
	/* uids for apps without one: [app_uid_lo, app_uid_hi]; lo 0: none */
	long app_uid_lo, app_uid_hi;
	int no_app_cgroups;       /* app_cgroups = no: process groups only */
	/* snapshots and sandbox policy (docs/security.md) */
	char *snapshot_dir;       /* NULL: STATE_DIR/snapshots */
	long snapshot_max_kb;     /* per snapshot; also every app's RLIMIT_FSIZE */
	long snapshot_quota_kb;   /* all snapshots */
	int snapshot_timeout_ms;
	int snapshot_tmpfs;       /* mount a tmpfs of the quota's size on the dir */
	int landlock_required;    /* 0: apps run without Landlock on kernels lacking it */
	int fallback_exec;        /* 1 (default): launches run in exec mode while the template is not ready */
	char *core_dir;           /* NULL: no core dumps of crashing apps */
	long core_max_kb;         /* a longer core is cut (nuwa-core-writer) */
	int crash_records_max;    /* crash records kept in the state dir */
	/* [framework], [framework NAME]: frameworks[0] is the default one
	 * (always there; library NULL when the file has no [framework]) */
	int nframeworks;
	struct nuwa_fw_conf *frameworks;
	/* [app NAME] */
	int napps;
	struct nuwa_app_conf *apps;
	char *path;               /* the main config file */
};

/* Load PATH into C (zeroed first). Returns 0, or -1 with "file:line: why"
 * in ERR. Relative paths in values are made absolute against the current
 * directory. */
int nuwa_conf_load(const char *path, struct nuwa_conf *c, char *err, size_t errlen);
void nuwa_conf_free(struct nuwa_conf *c);
const struct nuwa_app_conf *nuwa_conf_app(const struct nuwa_conf *c, const char *name);
/* The framework called NAME, or NULL. */
const struct nuwa_fw_conf *nuwa_conf_framework(const struct nuwa_conf *c, const char *name);
/* Nonzero when S is a valid app name: [A-Za-z0-9._-], 1..NUWA_NAME_MAX-1. */
int nuwa_name_ok(const char *s);

#endif
