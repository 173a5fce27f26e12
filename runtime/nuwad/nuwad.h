/*
 * nuwad: the launcher (docs/architecture.md "nuwad's layers"). One thread, one poll() loop: control socket, one
 * template channel per framework, every app channel, a signalfd for
 * SIGCHLD/SIGTERM, and timers (deadlines, spare refills, template restarts,
 * the periodic tick).
 */
#ifndef NUWAD_H
#define NUWAD_H

#include <stdint.h>
#include <sys/types.h>

#include "conf.h"
#include "crashes.h"
#include "door.h"
#include "events.h"
#include "importance.h"
#include "lmk.h"
#include "out.h"
#include "phases.h"
#include "psi.h"
#include "supervision.h"

enum app_state {
	APP_WAIT_TEMPLATE, /* template restarting; fork when it is ready */
	APP_FORKING,       /* fork requested, no pid yet */
	APP_STARTING,      /* pid known, waiting for ready */
	APP_RUNNING,
	APP_STOPPING,      /* kill sent */
	APP_SPARE_FORKING, /* the spare: fork requested */
	APP_SPARE          /* the spare: forked, waiting to be specialised */
};

enum pending_kind { PEND_PING, PEND_CALL, PEND_TRIM };

#define NUWA_LAUNCH_ARGS_MAX 1024

/* A request sent to an app, waiting for its answer (requests.c). */
struct pending {
	uint32_t id;
	enum pending_kind kind;
	uint64_t client;
	int text;
	int64_t sent_us;
	int64_t deadline_us;
	struct pending *next;
};

/* "nuwactl kill": answered when every app it signalled is reaped. */
struct killop {
	uint64_t client;
	int text;
	int remaining;
	int n;
	pid_t pids[64];
};

struct tmpl;

/* One app (or a spare). The launch's own fields first; each feature
 * module's per-app state is its own struct, from its own header. */
struct app {
	uint64_t seq;               /* launch order (lower = older) */
	char name[NUWA_NAME_MAX];
	struct tmpl *t;             /* its framework's template (forks it, or would) */
	char args[NUWA_LAUNCH_ARGS_MAX]; /* extra args from the launch request, NUL-separated */
	uint32_t args_len;
	pid_t pid;
	int pidfd;                  /* for signals to the main process, or -1 */
	int exec_mode;
	enum app_state state;
	int chan;                   /* nuwad's end of the app channel, or -1 */
	int via_spare;
	char fallback[256];         /* why a template launch ran in exec mode, or "" */
	uint32_t fork_id;
	int64_t t_request_us;       /* launch request arrival */
	double launch_ms;           /* request -> ready */
	int64_t t_fork_us;          /* just before the fork request is sent to the template */
	double fork_ms;             /* the template's own timing of fork(), or -1 */
	double fork_rtt_ms;         /* fork request -> template's answer, or -1 */
	double specialise_ms;       /* via the spare: request -> the spare read it, or -1 */
	int64_t deadline_us;        /* ready / fork / kill deadline, 0 none */
	int64_t t_ready_us;         /* READY arrival */
	uint64_t waiter;            /* client waiting for the launch answer */
	int waiter_text;
	struct killop *kill;
	struct pending *pend;       /* requests.c */
	struct app_door door;       /* door.c: what it sent, its output pipe */
	struct app_phases phases;   /* phases.c */
	struct app_importance imp;  /* importance.c */
	struct app_trim trim;       /* lmk.c */
	struct app_crash crash;     /* crashes.c */
	struct app *next;
};

struct client;
struct pollfd;

/* One per framework (conf.frameworks[i] is tmpls[i]): its template
 * process, its spare's refill, its restarts and figures. */
struct tmpl {
	const struct nuwa_fw_conf *fw;
	pid_t pid;
	int chan;
	/* IDLE: not running and not to be restarted: start = first-use before
	 * its first launch (or after failing its first start), a framework
	 * without a library, or [daemon] template = off. */
	enum { T_IDLE, T_DOWN, T_STARTING, T_READY } state;
	int ever_ready;
	int restarts;
	int backoff_ms;
	int64_t started_us;
	int64_t ready_us;
	int64_t restart_at_us;      /* 0: none scheduled */
	int64_t refill_at_us;       /* its spare's refill; 0: none scheduled */
	unsigned launches;          /* apps forked from it (or its spare) */
	unsigned fallback_launches; /* its apps' template launches run in exec mode */
	pid_t oom_adjusted;         /* lmk.c: the pid whose oom_score_adj is set */
	char last_error[1024];
	char ready_info[256];
};

/* What a template tells the launch state machine (apps.c installs it). */
struct tmpl_listener {
	void (*ready)(struct nuwad *d, struct tmpl *t);
	/* T died while up: fork requests in flight are lost. */
	void (*lost)(struct nuwad *d, struct tmpl *t);
	/* T died before it was ever ready: the launches waiting for it fail. */
	void (*failed)(struct nuwad *d, struct tmpl *t);
	/* The answer to fork request ID: PID and the fork's own time, or ERROR. */
	void (*forked)(struct nuwad *d, struct tmpl *t, uint32_t id, pid_t pid, double fork_ms,
		       const char *error);
	/* A child of T (an app) was reaped by T. */
	void (*reaped)(struct nuwad *d, pid_t pid, int status);
};

struct nuwad {
	struct nuwa_conf conf;
	const char *socket_path;
	const char *state_dir;
	char cgroup_dir[512];       /* parent of the apps' cgroups; "" = process groups only */
	int listen_fd;
	int sig_fd;
	struct tmpl *tmpls;         /* one per framework, in conf.frameworks order */
	int ntmpls;
	struct app *apps;           /* newest first; includes the spares */
	struct client *clients;
	int nclients;
	uint64_t next_client;
	uint64_t next_seq;
	uint32_t next_id;
	int64_t next_tick_us;
	int quit;
	unsigned fallback_launches; /* apps.c */
	/* Installed at start by the layers above (main.c): */
	void (*answer)(struct nuwad *d, uint64_t cid, int ok, const char *body, size_t len);
	const struct tmpl_listener *tmpl_listener;
	const struct app_msg_rule *msg_rules; /* the app message table */
	size_t nmsg_rules;
	const struct app_observer *observers[NUWAD_OBSERVERS_MAX];
	int nobservers;
	/* Feature modules' daemon state, each from its own header. */
	struct lmk_figures lmk;
	struct psi_state psi;
	struct supervision_state sup;
};

/* ---- log.c ---- */
void nuwad_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int64_t nuwad_now_us(void);

/* ---- control.c ---- */
int control_listen(struct nuwad *d);
void control_close(struct nuwad *d);
int control_poll_fds(struct nuwad *d, struct pollfd *p, void **tag, int max);
void control_ready(struct nuwad *d, struct client *c, short revents);
void control_accept(struct nuwad *d);
void control_timers(struct nuwad *d, int64_t now, int64_t *next);

/* ---- template.c: one framework's template, T ---- */
void tmpl_init(struct tmpl *t, const struct nuwa_fw_conf *fw);
void tmpl_start(struct nuwad *d, struct tmpl *t);
void tmpl_on_channel(struct nuwad *d, struct tmpl *t);
void tmpl_reaped(struct nuwad *d, struct tmpl *t, int status);
int tmpl_fork(struct nuwad *d, struct tmpl *t, struct app *a); /* 0 or -1 (not ready) */
void tmpl_timers(struct nuwad *d, struct tmpl *t, int64_t now, int64_t *next);
/* template-status: the default framework's fields, and "frameworks". */
void tmpl_status(struct nuwad *d, struct out *o);
void tmpl_stop(struct nuwad *d, struct tmpl *t);
const char *tmpl_state_name(const struct nuwad *d, const struct tmpl *t);
/* T keeps a spare: its framework's spare key, else [daemon] spare (never
 * with template = off). */
int tmpl_spare_enabled(const struct nuwad *d, const struct tmpl *t);
/* The template of app config AC's framework; the template whose pid is PID. */
struct tmpl *tmpl_of_app(struct nuwad *d, const struct nuwa_app_conf *ac);
struct tmpl *tmpl_by_pid(struct nuwad *d, pid_t pid);
/* The default framework's: the top-level "template" of stats and status. */
#define tmpl_default(d) (&(d)->tmpls[0])

#endif
