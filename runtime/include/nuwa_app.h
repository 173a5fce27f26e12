/*
 * nuwa_app.h - the ABI between the Nuwa hosts, an app framework and apps.
 *
 * Three parties:
 *  - a HOST: the template host (nuwa-template, template mode) or the exec
 *    host (nuwa-exec-host, exec mode = the baseline). Both read the same
 *    config file and run exactly the same steps below; only process creation
 *    differs.
 *  - a FRAMEWORK: a shared object named by the config's [framework] section.
 *  - an APP: a shared object named by an [app NAME] section.
 *
 * Config (see docs/runtime.md):
 *     [framework]                               # the default framework; more
 *                                               # as [framework NAME], each its
 *                                               # own template (apps: framework = NAME)
 *     preload  = /usr/lib/nuwa/libfoo.so[:init] ... # dlopen'ed first, in order;
 *                                               # init: int init(void), 0 = ok
 *     library  = /usr/lib/nuwa/libnuwafw.so     # the framework
 *     init     = nuwa_framework_init            # its init entry (default)
 *     args     = word word ...                  # passed to init
 *     fd_allow = 5 /dev/ttyS0 ...               # fds the freeze lets through
 *     fd_readonly_prefixes = /usr/ /lib/ ...    # read-only files reopened per child
 *     start    = boot | first-use               # when its template starts
 *     apps     = libraries | modules            # what its apps name
 *     [app clock]
 *     library  = /usr/lib/nuwa/app-clock.so
 *     entry    = nuwa_app_main                  # default
 *     args     = word ...
 *     [app weather]
 *     framework = python                        # [framework python]
 *     module   = weather                        # loaded by that framework
 *
 * Sequence, both modes:
 *  1. host dlopen()s every preload library, then the framework library
 *     (RTLD_NOW | RTLD_GLOBAL), and calls its init symbol
 *     (nuwa_framework_init_fn) with env->mode set. The framework does all
 *     its expensive start-up here, makes its threads libnuwa workers
 *     (nuwa_worker_create, or better nuwa_worker_create_flags with
 *     NUWA_WORKER_ON_DEMAND and nuwa_worker_demand() when it first hands a
 *     worker work, so an app has only the threads it uses), makes its
 *     epoll sets and internal pipes (nuwa_pipe2/nuwa_socketpair) and fills
 *     in struct nuwa_framework.
 *  2. template mode only: host calls nuwa_freeze(), reports ready to nuwad,
 *     and for each launch nuwa_fork_defer_threads()s; the child continues
 *     with step 3 single-threaded. The template itself never runs app code
 *     (app libraries are opened in the child).
 *  3. host sets the process name, oom_score_adj, applies the sandbox, calls
 *     nuwa_child_start_threads() (template mode: the framework's workers
 *     start now, as confined as the app, on-demand ones at their first
 *     demand; a no-op in exec mode, where they ran through init), dlopen()s
 *     the app library,
 *     looks up its entry symbol (nuwa_app_entry_fn), fills in struct nuwa_app
 *     (channel_fd = the app's IPC channel to nuwad) and calls
 *     fw->run_app(app, entry). run_app sets app->svc, puts channel_fd on its
 *     event loop, demands the on-demand workers that have work kept from
 *     before the fork (armed timers, queued jobs), calls ENTRY(app) from
 *     inside the loop, and loops until the
 *     app quits or the channel reaches end of file. Its return value is the
 *     process's exit status.
 *
 * The app channel (channel_fd) is an AF_UNIX SOCK_SEQPACKET socket carrying
 * nuwa_msg frames (nuwa.h: nuwa_msg_send / nuwa_msg_recv) of the types in
 * enum nuwa_app_msg. The framework must:
 *  - send NUWA_APP_MSG_READY once, when the app calls svc->ready(); nuwad
 *    counts launch_ms from the launch request to this message;
 *  - answer every NUWA_APP_MSG_PING with NUWA_APP_MSG_PONG, same id, from its
 *    event loop (so a pong proves the loop is alive);
 *  - pass NUWA_APP_MSG_REQUEST payloads (text) to the handler the app set
 *    with svc->on_request and answer NUWA_APP_MSG_REPLY with the same id
 *    (NUWA_APP_MSG_ERROR with a text reason when there is no handler);
 *  - answer every NUWA_APP_MSG_TRIM with NUWA_APP_MSG_TRIMMED, same id,
 *    "freed_kb=N", after releasing its own caches and calling the handler
 *    the app set with svc->on_trim;
 *  - quit on NUWA_APP_MSG_QUIT and on end of file.
 * Frameworks may use nuwa_app_handle_msg() below to do all of that, or
 * better run their apps on libnuwa's app loop (nuwa_loop_run below),
 * which does it and the rest of run_app's loop.
 */
#ifndef NUWA_APP_H
#define NUWA_APP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NUWA_APP_ABI_VERSION 1

/* Default symbol names looked up when the config does not name them. */
#define NUWA_FRAMEWORK_INIT_SYMBOL "nuwa_framework_init"
#define NUWA_APP_ENTRY_SYMBOL "nuwa_app_main"

enum nuwa_launch_mode {
	NUWA_MODE_TEMPLATE = 0, /* init ran in the template, app is a fork */
	NUWA_MODE_EXEC = 1      /* init ran from scratch in this process */
};

/* Message types on an app channel (struct nuwa_msg_hdr.type). */
enum nuwa_app_msg {
	NUWA_APP_MSG_READY = 1,      /* app -> nuwad: app is up */
	NUWA_APP_MSG_PING = 2,       /* nuwad -> app */
	NUWA_APP_MSG_PONG = 3,       /* app -> nuwad, same id */
	NUWA_APP_MSG_REQUEST = 4,    /* nuwad -> app, text payload */
	NUWA_APP_MSG_REPLY = 5,      /* app -> nuwad, same id, text payload */
	NUWA_APP_MSG_ERROR = 6,      /* either way, text reason */
	NUWA_APP_MSG_QUIT = 7,       /* nuwad -> app: exit now */
	NUWA_APP_MSG_SPECIALISE = 8, /* nuwad -> spare (host-internal): app
					name, then args, NUL-separated */
	NUWA_APP_MSG_SPECIALISED = 9, /* retired (was the spare's acknowledgement
					 of SPECIALISE); not sent, ignored */
	/* 64..95 reserved for file grants (snapshots) */
	NUWA_APP_MSG_STDIO = 11,     /* nuwad -> new app or spare (host-internal),
					first message: fd = its stdout/stderr pipe
					(none: /dev/null) */
	NUWA_APP_MSG_CRASH = 10,     /* app -> nuwad: the app is dying of a signal;
				      * text "key=value" lines (lib/crash.c) */
	NUWA_APP_MSG_TRIM = 12,      /* nuwad -> app: memory is short, give some back;
				      * text level: "background" or "running-low"
				      * (docs/protocol.md) */
	NUWA_APP_MSG_TRIMMED = 13,   /* app -> nuwad, same id: text "freed_kb=N" */
	NUWA_APP_MSG_PHASES = 14,    /* app host -> nuwad (host-internal), before
				      * the app entry: "NAME MONO_US" lines, the
				      * child's launch phases (docs/protocol.md) */
	NUWA_APP_MSG_GRANT_FIRST = 64,
	NUWA_APP_MSG_GRANT_LAST = 95
};

/* ------------------------------------------------------------------ */
/* Framework side.                                                     */

struct nuwa_framework_env {
	uint32_t abi_version;          /* NUWA_APP_ABI_VERSION */
	enum nuwa_launch_mode mode;
	int argc;                      /* [framework] args, split on blanks */
	char **argv;
};

struct nuwa_app;
typedef int (*nuwa_app_entry_fn)(struct nuwa_app *app);

struct nuwa_framework {
	uint32_t abi_version;          /* set to NUWA_APP_ABI_VERSION */
	const char *name;
	/* Run APP in this process (see sequence step 3). Returns exit status. */
	int (*run_app)(struct nuwa_app *app, nuwa_app_entry_fn entry);
	void *data;                    /* framework private */
};

/* The framework's init entry point, exported under the name given by
 * [framework] init (default "nuwa_framework_init"). Fill FW; return 0, or
 * nonzero to fail start-up (the host logs it and exits nonzero). */
typedef int (*nuwa_framework_init_fn)(const struct nuwa_framework_env *env,
				      struct nuwa_framework *fw);

/* ------------------------------------------------------------------ */
/* App side.                                                           */

typedef void (*nuwa_fd_cb)(struct nuwa_app *app, int fd, uint32_t revents, void *arg);
typedef void (*nuwa_timer_cb)(struct nuwa_app *app, int timer_id, void *arg);
/* Handle request REQ (LEN bytes, NUL-terminated); write the answer into
 * REPLY (CAP bytes); return its length, or -1 to answer an error. */
typedef int (*nuwa_request_cb)(struct nuwa_app *app, const char *req, size_t len,
			       char *reply, size_t cap, void *arg);
/* Release what the app can rebuild (caches, decoded data) for a TRIM of
 * LEVEL ("background", "running-low"); return the kB freed (an estimate,
 * >= 0). */
typedef long (*nuwa_trim_cb)(struct nuwa_app *app, const char *level, void *arg);

/* What a framework offers an app; all calls are made from the loop thread. */
struct nuwa_app_services {
	/* Report ready to nuwad (once). 0 or -1. */
	int (*ready)(struct nuwa_app *app);
	/* Watch FD; EVENTS are EPOLLIN/EPOLLOUT bits. 0 or -1. */
	int (*watch_fd)(struct nuwa_app *app, int fd, uint32_t events, nuwa_fd_cb cb, void *arg);
	int (*unwatch_fd)(struct nuwa_app *app, int fd);
	/* One-shot (REPEAT == 0) or periodic timer. Returns id > 0 or -1. */
	int (*add_timer)(struct nuwa_app *app, unsigned ms, int repeat, nuwa_timer_cb cb, void *arg);
	int (*cancel_timer)(struct nuwa_app *app, int timer_id);
	/* Set the handler for NUWA_APP_MSG_REQUEST. */
	int (*on_request)(struct nuwa_app *app, nuwa_request_cb cb, void *arg);
	/* Leave the loop; run_app returns STATUS. */
	void (*quit)(struct nuwa_app *app, int status);
	/* Set the handler for NUWA_APP_MSG_TRIM (the framework releases its own
	 * caches too, and answers NUWA_APP_MSG_TRIMMED). */
	int (*on_trim)(struct nuwa_app *app, nuwa_trim_cb cb, void *arg);
};

struct nuwa_app {
	uint32_t abi_version;          /* NUWA_APP_ABI_VERSION */
	const char *name;              /* the [app NAME] */
	enum nuwa_launch_mode mode;
	int argc;                      /* argv[0] is the app name */
	char **argv;
	int channel_fd;                /* IPC channel to nuwad */
	const struct nuwa_app_services *svc; /* set by run_app */
	void *framework_data;          /* framework private */
	void *app_data;                /* app private */
	/* [app] module: what a framework with apps = modules loads for this app
	 * (CPython: the module's name); NULL for an app library. Last, so a
	 * framework built before it reads the fields above unchanged. */
	const char *module;
};

/* The app's entry point, exported under the name given by [app] entry
 * (default "nuwa_app_main"). Called once from inside the framework's loop:
 * register fds/timers/request handler, then call app->svc->ready(app) (now or
 * later from a callback). Return 0, or nonzero to fail the launch (the
 * framework sends NUWA_APP_MSG_ERROR and run_app returns that value). */

/* ------------------------------------------------------------------ */
/* Helper for frameworks (in libnuwa).                                 */

/* Read one message from app->channel_fd and handle it as the contract above
 * says: PING -> PONG, REQUEST -> HANDLER (may be NULL) -> REPLY/ERROR.
 * Returns 1 when handled, 0 when the app must quit (QUIT or end of file),
 * -1/errno on a channel error. */
int nuwa_app_handle_msg(struct nuwa_app *app, nuwa_request_cb handler, void *handler_arg);

/* The handler nuwa_app_handle_msg() calls for a TRIM (NULL: answer
 * "freed_kb=0"); its result is the answer's freed_kb. */
void nuwa_app_set_trim_handler(nuwa_trim_cb cb, void *arg);

/* Send READY on app->channel_fd. 0 or -1/errno. */
int nuwa_app_send_ready(struct nuwa_app *app);

/* ------------------------------------------------------------------ */
/* The app loop (in libnuwa, docs/app-platform.md "The app loop").     */
/*
 * One epoll loop for every framework: the channel (every message handled
 * by nuwa_app_handle_msg above), the fds the app and the framework watch,
 * timers on CLOCK_MONOTONIC, quit. A framework's run_app is
 * nuwa_loop_run(app, entry, &its_hooks); all calls from the loop's thread.
 */

/* What a framework adds to the loop; every field may be 0/NULL. */
struct nuwa_loop_hooks {
	/* The services the app gets (NULL: nuwa_loop_services). A framework
	 * that offers some differently copies nuwa_loop_services and changes
	 * those. */
	const struct nuwa_app_services *services;
	/* REQUEST handler (NULL: the app's, set with svc->on_request). A
	 * framework answering some requests itself passes the others on
	 * with nuwa_loop_app_request(). */
	nuwa_request_cb request;
	void *request_arg;
	/* TRIM handler (NULL: the app's, set with svc->on_trim); the
	 * framework's own calls nuwa_loop_app_trim() for the app's part. */
	nuwa_trim_cb trim;
	void *trim_arg;
	/* Run before the app's entry (e.g. start threads with work kept from
	 * before the fork); nonzero fails run_app with status 1. */
	int (*before_entry)(struct nuwa_app *app);
	/* The entry sends its own NUWA_APP_MSG_ERROR when it fails (else the
	 * loop sends "app entry failed with N"). */
	int entry_reports_failure;
};

/* Make the loop's epoll set now: at framework init, so that libnuwa
 * rebuilds it (with the framework's registrations) in every template
 * child. Otherwise made when first needed. 0 or -1/errno. */
int nuwa_loop_init(void);
/* Watch FD (EPOLLIN/EPOLLOUT bits); CB gets the running app. 0 or
 * -1/errno (ENOSPC: too many fds). */
int nuwa_loop_watch(int fd, uint32_t events, nuwa_fd_cb cb, void *arg);
int nuwa_loop_unwatch(int fd);
/* One-shot (REPEAT == 0) or periodic timer; id > 0, or -1/errno. */
int nuwa_loop_add_timer(unsigned ms, int repeat, nuwa_timer_cb cb, void *arg);
int nuwa_loop_cancel_timer(int id);
/* Leave the loop: nuwa_loop_run returns STATUS. */
void nuwa_loop_quit(int status);
/* The app's own request handler (-1 when it set none) and trim handler
 * (0 kB when none), for a framework's hooks. */
int nuwa_loop_app_request(struct nuwa_app *app, const char *req, size_t len, char *reply, size_t cap);
long nuwa_loop_app_trim(struct nuwa_app *app, const char *level);
/* The default services: ready once, the loop's fds and timers, the app's
 * request and trim handlers, quit. */
extern const struct nuwa_app_services nuwa_loop_services;
/* Run APP: set app->svc, put the channel on the loop, run HOOKS'
 * before_entry, call ENTRY(app), loop until quit or end of file. Returns
 * the exit status (ENTRY's nonzero result when it fails). */
int nuwa_loop_run(struct nuwa_app *app, nuwa_app_entry_fn entry, const struct nuwa_loop_hooks *hooks);

#ifdef __cplusplus
}
#endif
#endif
