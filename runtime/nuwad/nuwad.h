/*
 * nuwad: the launcher. One thread, one poll() loop: control socket, one
 * template channel per framework, every app channel, a signalfd for
 * SIGCHLD/SIGTERM, and timers (deadlines, spare refills, template restarts,
 * the periodic tick).
 */
#ifndef NUWAD_H
#define NUWAD_H

#include <stdint.h>
#include <sys/types.h>

#include "conf.h"
#include "out.h"

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
#define NUWAD_PHASES_MAX 32  /* launch phase marks kept per launch (phases.c) */

struct pending {
	uint32_t id;
	enum pending_kind kind;
	uint64_t client;
	int text;
	int64_t sent_us;
	int64_t deadline_us;
	struct pending *next;
};

struct killop {
	uint64_t client;
	int text;
	int remaining;
	int n;
	pid_t pids[64];
};

struct tmpl;

struct app {
	uint64_t seq;               /* launch order (lower = older) */
	char name[NUWA_NAME_MAX];
	struct tmpl *t;             /* its framework's template (forks it, or would) */
	char args[NUWA_LAUNCH_ARGS_MAX]; /* extra args from the launch request, NUL-separated */
	uint32_t args_len;
	unsigned junk;              /* bad messages from the app (log is capped) */
	pid_t pid;
	int pidfd;                  /* for signals to the main process, or -1 */
	int log_fd;                 /* read end of its stdout/stderr pipe, or -1 */
	char log_buf[1024];         /* a partial line */
	size_t log_len;
	double log_tokens, log_bytes; /* rate limit */
	int64_t log_refill_us;
	unsigned log_dropped;
	int exec_mode;
	enum app_state state;
	int chan;                   /* nuwad's end of the app channel, or -1 */
	int via_spare;
	char fallback[256];         /* why a template launch ran in exec mode, or "" */
	char *crash_report;         /* what its crash handler sent, or NULL */
	uint32_t fork_id;
	int64_t t_request_us;       /* launch request arrival */
	double launch_ms;           /* request -> ready */
	int64_t t_fork_us;          /* just before the fork request is sent to the template */
	double fork_ms;             /* the template's own timing of fork(), or -1 */
	double fork_rtt_ms;         /* fork request -> template's answer, or -1 */
	double specialise_ms;       /* via the spare: request -> the spare read it, or -1 */
	int64_t deadline_us;        /* ready / fork / kill deadline, 0 none */
	/* phases.c: this launch's timestamps, nuwad's and the child's. */
	struct phase_mark {
		char name[32];
		int64_t us;
	} phases[NUWAD_PHASES_MAX];
	int nphases;
	int phases_taken;           /* the child's marks arrived */
	int64_t t_ready_us;         /* READY arrival */
	uint64_t waiter;            /* client waiting for the launch answer */
	int waiter_text;
	struct killop *kill;
	struct pending *pend;
	/* importance.c: foreground or background, and when last used
	 * (monotonic; the foreground app is in use now). */
	int foreground;
	int64_t last_used_us;
	const char *cpu_control;    /* "cpu.weight", "nice" or NULL (none worked) */
	int cpu_value;
	/* lmk.c: trim before kill (one request per pressure episode) */
	int trim_state;             /* 0 not asked, 1 asked, 2 answered or late */
	int64_t trim_sent_us;
	long trim_freed_kb;         /* what its last answer reported, -1 none */
	struct app *next;
};

struct client;

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
	unsigned lmk_kills;         /* for the low-memory killer */
	unsigned lmk_foreground_kills;
	unsigned lmk_trims;         /* trim requests sent */
	unsigned lmk_trims_answered;
	long lmk_trimmed_kb;        /* sum of what the apps reported freeing */
	int psi_fd[2];              /* psi.c: "some" and "full" triggers, or -1 */
	unsigned psi_events;
	int psi_pending;            /* a trigger fired: the killer may take one step */
	const char *psi_last;       /* which trigger fired last */
	int quit;
	/* supervision.c */
	int supervised;             /* started by nuwa-supervise */
	unsigned restarts;          /* nuwad restarts by the supervisor */
	char restart_cause[160];    /* how the previous nuwad ended */
	int survivors_ended;        /* processes of the previous nuwad ended at start */
	/* fallback (apps.c) */
	unsigned fallback_launches;
};

/* ---- hook for the low-memory killer (nuwad/lmk*.c) ---------------------
 * nuwad_lmk_tick() runs every [daemon] tick_ms from the main loop. The
 * default (weak) does nothing; a source file defining it replaces it. It may
 * walk d->apps with nuwad_app_oldest/nuwad_app_newer (launch order), read
 * memory with procmem_read(), kill with nuwad_kill_app() and count kills in
 * d->lmk_kills (shown by "stats"). */
void nuwad_lmk_tick(struct nuwad *d);
struct app *nuwad_app_oldest(struct nuwad *d);
struct app *nuwad_app_newer(struct nuwad *d, struct app *a);
/* Send SIG to a running app (not the spare). 0 or -1. */
int nuwad_kill_app(struct nuwad *d, struct app *a, int sig, const char *reason);

/* ---- main.c ---- */
void nuwad_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int64_t nuwad_now_us(void);

/* ---- control.c ---- */
int control_listen(struct nuwad *d);
void control_close(struct nuwad *d);
int control_poll_fds(struct nuwad *d, struct pollfd *p, void **tag, int max);
void control_ready(struct nuwad *d, struct client *c, short revents);
void control_accept(struct nuwad *d);
void control_timers(struct nuwad *d, int64_t now, int64_t *next);
/* Answer client CID (if still connected). */
void control_reply(struct nuwad *d, uint64_t cid, int ok, const char *body, size_t len);
void control_reply_out(struct nuwad *d, uint64_t cid, struct out *o);
void control_reply_err(struct nuwad *d, uint64_t cid, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

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

/* ---- apps.c ---- */
/* MODE -1: the app's default. ARGS: NARGS extra app arguments. */
void apps_launch(struct nuwad *d, uint64_t cid, int text, int64_t t_request, const char *name,
		 int mode, int no_spare, int nargs, char **args);
/* Payload "NAME\0ARG\0..." for a fork or specialise message; its length. */
uint32_t app_spec(const struct app *a, char *buf, size_t cap);
void apps_kill(struct nuwad *d, uint64_t cid, int text, const char *target);
void apps_message(struct nuwad *d, uint64_t cid, int text, const char *target,
		  enum pending_kind kind, const char *payload);
void apps_on_channel(struct nuwad *d, struct app *a);
void apps_reaped(struct nuwad *d, pid_t pid, int status);
void apps_forked(struct nuwad *d, struct tmpl *t, uint32_t id, pid_t pid, double fork_ms,
		 const char *error);
void apps_template_ready(struct nuwad *d, struct tmpl *t);
void apps_template_lost(struct nuwad *d, struct tmpl *t);
/* T died before it was ever ready: the launches waiting for it fail. */
void apps_template_failed(struct nuwad *d, struct tmpl *t);
void apps_timers(struct nuwad *d, int64_t now, int64_t *next);
void apps_list(struct nuwad *d, struct out *o);
void apps_stats(struct nuwad *d, struct out *o);
void apps_configured(struct nuwad *d, struct out *o);
struct app *apps_spare(struct nuwad *d, struct tmpl *t);
void apps_shutdown(struct nuwad *d);
const char *app_state_name(enum app_state s);
/* PID is an app, the spare, or a process in an app's group. */
int nuwad_pid_is_app(struct nuwad *d, pid_t pid);

#endif
