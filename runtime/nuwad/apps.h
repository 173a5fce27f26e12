/* The launch state machine (apps.c): launching (spare, template fork,
 * exec, the exec fallback), ready, reaping, killing. */
#ifndef NUWAD_APPS_H
#define NUWAD_APPS_H

#include <stdint.h>
#include <sys/types.h>

#include "nuwad.h"

struct nuwa_msg_hdr;

/* MODE -1: the app's default. ARGS: NARGS extra app arguments. CID gets
 * the answer when the app is ready (or failed). */
void apps_launch(struct nuwad *d, uint64_t cid, int text, int64_t t_request, const char *name,
		 int mode, int no_spare, int nargs, char **args);
/* SIGTERM the running apps TARGET; CID is answered when all are reaped. */
void apps_kill(struct nuwad *d, uint64_t cid, int text, const char *target);
/* Send SIG to a running app (not the spare), saying why in the log. 0 or -1. */
int nuwad_kill_app(struct nuwad *d, struct app *a, int sig, const char *reason);
void apps_reaped(struct nuwad *d, pid_t pid, int status);
/* Reap every exited child (templates and apps). -1 when none is left. */
int apps_reap_children(struct nuwad *d);
/* Launch deadlines and spare refills; lower *NEXT to the next one. */
void apps_timers(struct nuwad *d, int64_t now, int64_t *next);
/* Stop every app and spare (SIGTERM, 2 s, then their groups killed). */
void apps_shutdown(struct nuwad *d);

/* Rows of the app message table (app_msgs.h): 0 taken, -1 not expected. */
int apps_on_phases(struct nuwad *d, struct app *a, const struct nuwa_msg_hdr *h,
		   const char *payload);
int apps_on_ready(struct nuwad *d, struct app *a, const struct nuwa_msg_hdr *h,
		  const char *payload);
int apps_on_error(struct nuwad *d, struct app *a, const struct nuwa_msg_hdr *h,
		  const char *payload);

extern const struct app_observer apps_observer;
extern const struct tmpl_listener apps_tmpl_listener;

#endif
