/* Crash records in STATE_DIR/crashes (crashes.c). */
#ifndef NUWAD_CRASHES_H
#define NUWAD_CRASHES_H

#include <stddef.h>

#include "nuwad.h"

/* [daemon] core_dir: make it and point the kernel's core_pattern there. */
void crashes_init(struct nuwad *d);
/* The app's NUWA_APP_MSG_CRASH report (kept until it is reaped). */
void crashes_on_report(struct app *a, const char *text, size_t len);
/* A reaped app: write a record when it died of a signal nuwad did not send. */
void crashes_on_death(struct nuwad *d, struct app *a, int status);
/* "crashes": every record, oldest first. */
void crashes_list(struct nuwad *d, struct out *o);

#endif
