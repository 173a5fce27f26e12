/*
 * nuwa_fw.h - the Nuwa app framework (libnuwafw): what every sample app gets.
 *
 * The framework is initialised once, either in the template (template mode)
 * or from scratch in the app's own process (exec mode); the code is the same.
 * Start-up builds the state a device app platform builds: a TLS trust store
 * from the CA bundle (OpenSSL), a database with its schema and prepared
 * statements (SQLite), the parsed UI theme (libxml2), and text services
 * (ICU collator, normalizer, word breaker).  It also runs a timer thread, an
 * I/O thread and a small worker pool; apps use them through this API.
 *
 * Threads are not touched by apps directly: they submit jobs and get
 * completions back on the main thread's event loop, so app code is
 * single-threaded like in most UI frameworks.
 */
#ifndef NUWA_FW_H
#define NUWA_FW_H

#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>
#include <openssl/ssl.h>
#include <sqlite3.h>
#include <unicode/ubrk.h>
#include <unicode/ucol.h>
#include <unicode/unorm2.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What start-up built; figures go into the app's status and the docs. */
struct nuwa_fw_profile {
	int ca_certs;          /* certificates in the trust store */
	int db_tables;         /* tables created by the schema */
	int db_statements;     /* statements prepared and kept */
	int theme_styles;      /* styles indexed from the theme */
	int theme_strings;     /* UI strings indexed from the theme */
	int workers;           /* worker pool size */
	double init_ms;        /* wall time of nuwa_fw_init() */
};

/* Prepared statements kept by the framework (indices into nuwa_fw_stmt). */
enum nuwa_fw_stmt_id {
	NUWA_FW_STMT_MSG_INSERT,      /* (thread, sender, body, ts) */
	NUWA_FW_STMT_MSG_RECENT,      /* (thread, limit) -> sender, body, ts */
	NUWA_FW_STMT_MSG_TRIM,        /* (keep) */
	NUWA_FW_STMT_SETTING_GET,     /* (key) -> value */
	NUWA_FW_STMT_SETTING_PUT,     /* (key, value) */
	NUWA_FW_STMT_NOTE_PUT,        /* (id, title, body, words, ts) */
	NUWA_FW_STMT_NOTE_SEARCH,     /* (pattern) -> id, title */
	NUWA_FW_STMT_MEDIA_PUT,       /* (id, kind, title, artist, duration) */
	NUWA_FW_STMT_MEDIA_BY_KIND,   /* (kind) -> id, title, artist */
	NUWA_FW_STMT_COUNT
};

/* Framework start-up (nuwa_framework_init calls it; exported for tools).
 * data_dir holds theme.xml, ca_bundle is a PEM file; NULL means the default
 * (NUWA_FW_DATA_DIR / NUWA_FW_CA_BUNDLE in the environment, else the
 * install paths). 0 or -1 with
 * a message on stderr. Called exactly once per process image. */
int nuwa_fw_init(const char *data_dir, const char *ca_bundle);

const struct nuwa_fw_profile *nuwa_fw_profile(void);

/* Services built at start-up (owned by the framework, never NULL after init). */
SSL_CTX *nuwa_fw_tls(void);
sqlite3 *nuwa_fw_db(void);
sqlite3_stmt *nuwa_fw_stmt(enum nuwa_fw_stmt_id id); /* reset before return */
xmlDocPtr nuwa_fw_theme(void);
UCollator *nuwa_fw_collator(void);
const UNormalizer2 *nuwa_fw_normalizer(void);
UBreakIterator *nuwa_fw_word_breaker(void); /* main thread only */

/* Theme look-ups (index built at start-up); NULL when unknown. */
const char *nuwa_fw_style_attr(const char *style, const char *state, const char *attr);
const char *nuwa_fw_string(const char *key, const char *lang);
/* The i-th string key (0 <= i < theme_strings), for apps that walk them. */
const char *nuwa_fw_string_key(int i);

/* Count the words of UTF-8 text with the ICU word breaker; -1 on error. */
int nuwa_fw_word_count(const char *utf8);
/* Sort UTF-8 strings in place with the framework's collator. */
void nuwa_fw_collate_sort(const char **items, size_t n);

/* Jobs. work() runs on a pool worker (or the I/O thread); done() then runs
 * on the main thread from the event loop. Both get arg. 0 or -1 (queue full). */
typedef void (*nuwa_fw_job_fn)(void *arg);
int nuwa_fw_submit(nuwa_fw_job_fn work, nuwa_fw_job_fn done, void *arg);
int nuwa_fw_submit_io(nuwa_fw_job_fn work, nuwa_fw_job_fn done, void *arg);

/* Periodic work on the main thread, driven by the timer thread. 0 or -1.
 * After a "background" TRIM these ticks are parked (skipped) until the app
 * gets its next request: a background app rebuilds nothing it just freed. */
typedef void (*nuwa_fw_tick_fn)(void *arg);
int nuwa_fw_every(unsigned interval_ms, nuwa_fw_tick_fn fn, void *arg);

/* Jobs finished, ticks run: apps report these in their status. */
uint64_t nuwa_fw_jobs_done(void);
uint64_t nuwa_fw_ticks(void);

/* What an app gives the framework; called on the main thread. */
struct nuwa_fw_app {
	const char *name;
	/* After launch, before ready: the app's own start-up work. */
	int (*start)(int argc, char **argv);
	/* Short text for a "status" request (optional): writes into buf. */
	void (*status)(char *buf, size_t len);
	/* A TRIM (optional): release what can be rebuilt; return kB freed. */
	long (*trim)(const char *level);
};

struct nuwa_app;
/* The body of every sample app's nuwa_app_main(): runs DESC->start(), sets
 * the request handler ("status", "profile", "words TEXT") and reports ready.
 * Returns 0 or nonzero (launch failed). */
int nuwa_fw_app_main(struct nuwa_app *app, const struct nuwa_fw_app *desc);

#ifdef __cplusplus
}
#endif
#endif
