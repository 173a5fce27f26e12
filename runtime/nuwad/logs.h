/* App output (docs/security.md "App logs"): every app's stdout and stderr
 * is a pipe the door reads (door.c: lines cut, cleaned and rate limited).
 * Here each line goes to nuwad's log as "app NAME[PID]: TEXT", and the last
 * lines of every app name are kept for "nuwactl logs APP". */
#ifndef NUWAD_LOGS_H
#define NUWAD_LOGS_H

#include "out.h"

struct nuwad;
struct app;
struct app_observer;

/* output: each line to nuwad's log and the app name's ring. */
extern const struct app_observer logs_observer;
/* "logs APP [--lines N]": the last N (default 50) lines of APP. */
void logs_show(struct nuwad *d, struct out *o, const char *app, int lines);

#endif
