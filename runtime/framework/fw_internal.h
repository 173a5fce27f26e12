/* Internal interfaces between the framework's modules (one module per job). */
#ifndef NUWA_FW_INTERNAL_H
#define NUWA_FW_INTERNAL_H

#include <stdio.h>

#include "nuwa.h"
#include "nuwa_app.h"
#include "nuwa_fw.h"

#define FW_LOG(...) fprintf(stderr, "nuwafw: " __VA_ARGS__)

/* fw_tls.c: trust store from the CA bundle. */
int fw_tls_init(const char *ca_bundle, int *n_certs);
/* fw_db.c: in-memory database, schema, seed rows, prepared statements. */
int fw_db_init(int *n_tables, int *n_stmts);
/* Give SQLite's page cache back (a TRIM). */
void fw_db_release(void);
/* fw_theme.c: parse theme.xml and index styles and strings. */
int fw_theme_init(const char *path, int *n_styles, int *n_strings);
/* fw_text.c: ICU collator, normalizer, word breaker. */
int fw_text_init(void);
/* Close the collator and the word breaker if this process opened them
 * (they open again on first use); how many it closed. A TRIM. */
int fw_text_release(void);
/* fw_threads.c: timer, I/O thread, worker pool; their completions and
 * timers run on libnuwa's app loop. */
int fw_threads_init(int n_workers);
/* Start the threads that have work left from before the fork (armed
 * timers, queued jobs); they otherwise start on first use. 0 or -1. */
int fw_threads_resume(void);
/* The apps' nuwa_fw_every() ticks skip while parked (after a background
 * trim, until the app is used again); the services' timers run on. */
void fw_park_ticks(int parked);
int fw_ticks_parked(void);
/* Timers on the timer thread, run on the loop's thread, for fw_app.c. */
typedef void (*fw_timer_fn)(int id, void *arg);
int fw_timer_add(unsigned ms, int repeat, fw_timer_fn cb, void *arg); /* id > 0 */
int fw_timer_cancel(int id);

/* fw_app.c: run_app (libnuwa's app loop with this framework's hooks). */
int fw_run_app(struct nuwa_app *app, nuwa_app_entry_fn entry);

#endif
