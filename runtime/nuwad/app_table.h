/* The app table (app_table.c): every app and spare, newest first. */
#ifndef NUWAD_APP_TABLE_H
#define NUWAD_APP_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "nuwad.h"

const char *app_state_name(enum app_state s);
/* A is a spare (forked or being forked), not an app. */
int app_is_spare(const struct app *a);
/* T's spare, or NULL. */
struct app *apps_spare(struct nuwad *d, struct tmpl *t);
/* Running apps (not spares) in launch order: the oldest, the next newer. */
struct app *nuwad_app_oldest(struct nuwad *d);
struct app *nuwad_app_newer(struct nuwad *d, struct app *a);
/* PID is an app, the spare, or a process in an app's group. */
int nuwad_pid_is_app(struct nuwad *d, pid_t pid);
/* A running app (not a spare) called TARGET, or whose pid is TARGET. */
int app_matches(const struct app *a, const char *target);
/* Payload "NAME\0ARG\0..." for a fork or specialise message; its length
 * (0: does not fit in CAP). */
uint32_t app_spec(const struct app *a, char *buf, size_t cap);
/* A new entry of framework template T (newest, next seq), or NULL. */
struct app *app_new(struct nuwad *d, struct tmpl *t, const char *name);
void app_close_chan(struct app *a);
/* Forget A: its channel and output closed, the observers told (gone). */
void app_free(struct nuwad *d, struct app *a);

#endif
