/* App output (docs/security.md "App logs"): every app's stdout and stderr
 * is a pipe nuwad reads. Lines go to nuwad's log as "app NAME[PID]: TEXT"
 * (control characters replaced, at most LOG_LINE_MAX bytes each), limited
 * per app in lines and bytes per second, and the last lines of every app
 * name are kept for "nuwactl logs APP". */
#ifndef NUWAD_LOGS_H
#define NUWAD_LOGS_H

#include "out.h"

struct nuwad;
struct app;

/* A new pipe for A's output: nuwad keeps the read end (a->log_fd); the
 * write end is returned for the app's fds 1 and 2 (the caller closes it),
 * or -1 with errno. */
int logs_pipe(struct app *a);
/* A's pipe is readable (or closed): take what is there. */
void logs_read(struct nuwad *d, struct app *a);
/* A is gone: flush a last partial line, close the pipe. */
void logs_app_gone(struct nuwad *d, struct app *a);
/* "logs APP [--lines N]": the last N (default 50) lines of APP. */
void logs_show(struct nuwad *d, struct out *o, const char *app, int lines);

#endif
