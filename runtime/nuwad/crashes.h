/* Crash records in STATE_DIR/crashes (crashes.c). */
#ifndef NUWAD_CRASHES_H
#define NUWAD_CRASHES_H

#include <stddef.h>

struct nuwad;
struct app;
struct out;
struct nuwa_msg_hdr;
struct app_observer;

/* What an app's crash handler sent (struct app's "crash"), kept until it
 * is reaped. */
struct app_crash {
	char *report;               /* or NULL */
};

/* [daemon] core_dir: make it and point the kernel's core_pattern there. */
void crashes_init(struct nuwad *d);
/* The app's NUWA_APP_MSG_CRASH report, through the door (kept until it
 * is reaped; the first only). */
int crashes_on_report(struct nuwad *d, struct app *a, const struct nuwa_msg_hdr *h,
		      const char *text);
/* A reaped app: write a record when it died of a signal nuwad did not send. */
void crashes_on_death(struct nuwad *d, struct app *a, int status);
/* "crashes": every record, oldest first. */
void crashes_list(struct nuwad *d, struct out *o);

/* died: the record; gone: the report freed. */
extern const struct app_observer crashes_observer;

#endif
