/*
 * nuwa_snapshot.h - memory snapshots written by an app into a file that
 * nuwad granted it (docs/security.md, "Snapshots").
 *
 * Messages on the app channel (the range nuwa_app.h reserves for grants):
 *   NUWA_APP_MSG_SNAPSHOT        nuwad -> app, id = snapshot id, payload
 *                                "max=BYTES", one fd (SCM_RIGHTS): a fresh
 *                                file opened O_WRONLY by nuwad.
 *   NUWA_APP_MSG_SNAPSHOT_DONE   app -> nuwad, same id, payload: the byte
 *                                count written, in decimal. The app has
 *                                closed the fd before sending it.
 *   NUWA_APP_MSG_SNAPSHOT_FAILED app -> nuwad, same id, text reason.
 * Any other grant-range message from an app is unsolicited: nuwad logs it,
 * closes any fd that came with it and answers nothing. Apps cannot ask for
 * fds.
 *
 * nuwa_app_handle_msg() (libnuwa) serves NUWA_APP_MSG_SNAPSHOT itself with
 * the writer below, so every framework that uses it gets snapshots. The
 * writer runs synchronously inside that call: the event loop is not run and
 * no app callback is called until the snapshot is written; the output is
 * streamed through one small buffer, never built in memory. It writes
 *   NUWA-SNAPSHOT 1           header (key: value lines)
 *   == smaps                  a copy of /proc/self/smaps
 *   == heap-stats             the framework's hook, then the C library's
 *                             malloc statistics
 *   == allocations            the framework's allocation walk, then the C
 *                             library's per-arena/per-bin report
 *   == end bytes=N            trailer
 */
#ifndef NUWA_SNAPSHOT_H
#define NUWA_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NUWA_APP_MSG_SNAPSHOT 64
#define NUWA_APP_MSG_SNAPSHOT_DONE 65
#define NUWA_APP_MSG_SNAPSHOT_FAILED 66

#define NUWA_SNAPSHOT_MAGIC "NUWA-SNAPSHOT 1\n"

struct nuwa_app;
struct nuwa_snap; /* the streaming writer, valid only during a hook call */

/* Append to the snapshot. 0, or -1/errno (EFBIG: past the granted size;
 * the hook should return -1 then). */
int nuwa_snap_write(struct nuwa_snap *s, const void *buf, size_t len);
int nuwa_snap_printf(struct nuwa_snap *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Framework hooks (any may be NULL). Called on the thread that handles the
 * app channel, inside the snapshot. Return 0 or -1 (the snapshot fails). */
typedef int (*nuwa_snap_fn)(struct nuwa_snap *s, void *arg);
struct nuwa_snapshot_hooks {
	nuwa_snap_fn heap_stats;       /* e.g. "key: value" lines */
	nuwa_snap_fn walk_allocations; /* e.g. one line per live object */
	void *arg;
};
/* Set the hooks (copied). 0. */
int nuwa_snapshot_set_hooks(const struct nuwa_snapshot_hooks *hooks);

/* Serve one NUWA_APP_MSG_SNAPSHOT: write the snapshot of this process to
 * FD (at most MAX_BYTES), close FD, answer DONE or FAILED with ID on
 * app->channel_fd. Called by nuwa_app_handle_msg(). 0 when answered DONE,
 * -1 otherwise. */
int nuwa_snapshot_serve(struct nuwa_app *app, uint32_t id, const char *payload, int fd);

/* Replace nuwa_snapshot_serve() for this process (frameworks with their own
 * format; the hostile test app). NULL restores the default. The
 * replacement owns FD and must answer. */
typedef int (*nuwa_snapshot_server_fn)(struct nuwa_app *app, uint32_t id, const char *payload,
				       int fd);
void nuwa_snapshot_set_server(nuwa_snapshot_server_fn fn);
nuwa_snapshot_server_fn nuwa_snapshot_get_server(void);

#ifdef __cplusplus
}
#endif
#endif
