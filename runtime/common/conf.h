/* The runtime's config file: ini-like, line based (docs/runtime.md).
 * Every key is one row of the table in conf_keys.c, and the field it sets
 * is named as the key (a list's count: n<key>); the few exceptions are
 * spelled out there. */
#ifndef NUWA_CONF_H
#define NUWA_CONF_H

#include <stddef.h>
#include <stdio.h>

#include "nuwa_app.h"     /* enum nuwa_launch_mode: [app] mode */
#include "nuwa_sandbox.h" /* enum nuwa_landlock_policy: [daemon] landlock */

#define NUWA_NAME_MAX 48
/* The framework of [framework] (no name), and of apps naming none. */
#define NUWA_DEFAULT_FRAMEWORK "default"

enum nuwa_fallback { NUWA_FALLBACK_WAIT, NUWA_FALLBACK_EXEC };  /* [daemon] fallback */
enum nuwa_fw_start { NUWA_START_BOOT, NUWA_START_FIRST_USE };  /* [framework] start */
enum nuwa_fw_apps { NUWA_APPS_LIBRARIES, NUWA_APPS_MODULES };  /* [framework] apps */

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
	enum nuwa_fw_start start; /* first-use: the template starts at its first launch */
	int spare;                /* keep a spare of its template: 0/1; -1: [daemon] spare */
	enum nuwa_fw_apps apps;   /* modules: its apps name a module, not a library */
	int nfd_allow;            /* fd inventory: fd numbers or paths shared as is */
	char **fd_allow;
	int nfd_readonly_prefixes; /* read-only files reopened per child; 0: defaults */
	char **fd_readonly_prefixes;
	int nsandbox_read;        /* paths its sandboxed apps may read */
	char **sandbox_read;
};

struct nuwa_app_conf {
	char name[NUWA_NAME_MAX];
	int framework;        /* index in nuwa_conf.frameworks (0: the default) */
	char *module;         /* module = NAME (frameworks with apps = modules), or NULL */
	char *library;        /* the app shared object (module apps: the framework's) */
	char *entry;          /* entry symbol */
	enum nuwa_launch_mode mode; /* default launch mode */
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
	int template;             /* 0 (template = off): no template, exec launches only */
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
	 * own uid always; members of control_group every command; members of
	 * status_group the read-only ones (status_any: every local user) */
	long control_group;       /* a gid; -1: none */
	long status_group;        /* a gid; -1: none */
	int status_any;
	/* uids for apps without one: [app_uids.lo, app_uids.hi]; lo 0: none */
	struct { long lo, hi; } app_uids;
	int app_cgroups;          /* 0: process groups only */
	/* snapshots and sandbox policy (docs/security.md) */
	char *snapshot_dir;       /* NULL: STATE_DIR/snapshots */
	long snapshot_max_kb;     /* per snapshot; also every app's RLIMIT_FSIZE */
	long snapshot_quota_kb;   /* all snapshots */
	int snapshot_timeout_ms;
	int snapshot_tmpfs;       /* mount a tmpfs of the quota's size on the dir */
	enum nuwa_landlock_policy landlock; /* best-effort: apps run without Landlock on kernels lacking it */
	enum nuwa_fallback fallback; /* exec: launches run in exec mode while the template is not ready */
	char *core_dir;           /* NULL: no core dumps of crashing apps */
	long core_max_kb;         /* a longer core is cut (nuwa-core-writer) */
	int crash_records;        /* crash records kept in the state dir */
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
/* Every key (section, key, field, value, range, default, doc) and every
 * retired key to OUT: text for people, or (JSON nonzero) one JSON object
 * for scripts and the docs test (nuwad --config-keys [--json]). */
void nuwa_conf_keys_print(FILE *out, int json);
const struct nuwa_app_conf *nuwa_conf_app(const struct nuwa_conf *c, const char *name);
/* The framework called NAME, or NULL. */
const struct nuwa_fw_conf *nuwa_conf_framework(const struct nuwa_conf *c, const char *name);
/* Nonzero when S is a valid app name: [A-Za-z0-9._-], 1..NUWA_NAME_MAX-1. */
int nuwa_name_ok(const char *s);

#endif
