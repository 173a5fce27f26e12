/*
 * grants.h - nuwad's bookkeeping of parent-granted snapshot files.
 *
 * nuwad creates each snapshot as a sealable memfd of its own and hands the
 * app a write-only fd on it for that one request (docs/security.md):
 *  - at most one grant is outstanding per app;
 *  - each snapshot has a size limit (max_bytes) and all of them together a
 *    quota (quota_bytes): a pending grant reserves max_bytes; to make room
 *    the oldest finished snapshots are evicted; when pending grants alone
 *    fill the quota a new one is refused;
 *  - a grant ends by grants_finish(): the memfd is sealed first
 *    (F_SEAL_WRITE|GROW|SHRINK|SEAL: no fd anyone kept or parked in flight
 *    can change it any more), then the answer is checked (byte count = size
 *    <= max_bytes, the header is there, no process but nuwad holds the fd
 *    open), and only then is it written into the snapshot directory as
 *    ".APP-ID.part" and renamed to "APP-ID.snap", so a complete file never
 *    sits where a partial one could be mistaken for it. grants_fail()
 *    (timeout, bad answer, app gone) drops the memfd: nothing is on disk.
 * The directory may be its own size-limited tmpfs (mounted here when
 * tmpfs = 1 and nuwad may mount), so the kernel enforces the quota as well.
 *
 * Pure bookkeeping over files and /proc: no nuwad state, so it is unit
 * tested natively (runtime/testapps/grants_test.c).
 */
#ifndef NUWAD_GRANTS_H
#define NUWAD_GRANTS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define GRANT_NAME_MAX 48

struct grant_conf {
	const char *dir;           /* snapshot directory (created if absent) */
	uint64_t max_bytes;        /* per snapshot */
	uint64_t quota_bytes;      /* all snapshots, finished + reserved */
	int timeout_ms;            /* request -> answer */
	int tmpfs;                 /* mount a tmpfs of quota_bytes on dir */
};

enum grant_state { GRANT_PENDING, GRANT_DONE };

struct grant {
	uint32_t id;
	char app[GRANT_NAME_MAX];
	pid_t pid;                 /* the app process the fd went to */
	enum grant_state state;
	char path[384];            /* current path (.part while pending) */
	int memfd;                 /* nuwad's own fd on the snapshot while pending, else -1 */
	dev_t dev;
	ino_t ino;
	uint64_t bytes;            /* size once done */
	int64_t started_us;
	int64_t deadline_us;
	double write_ms;           /* request -> answer, once done */
	long rss_before_kb;        /* caller's: the app's RSS at the request */
	long uss_before_kb;        /* caller's: its USS then */
	uint64_t cookie;           /* caller's (e.g. the waiting client) */
	int cookie_text;
	struct grant *next;
};

struct grants {
	struct grant_conf conf;
	char dir[256];
	int mounted;               /* our own tmpfs is on dir */
	struct grant *list;        /* newest first */
	uint32_t next_id;
};

/* Prepare DIR: create it, mount the tmpfs when asked (falling back to
 * plain accounting with a log line when mounting is not permitted), delete
 * leftover ".part" files of a previous run and adopt finished snapshots.
 * 0, or -1 with ERR. */
int grants_init(struct grants *g, const struct grant_conf *conf, char *err, size_t errlen);
void grants_free(struct grants *g);

/* Start a grant for APP (process PID) at NOW_US: make the memfd and return
 * in *APP_FD a fresh O_WRONLY|O_CLOEXEC fd on it for the app;
 * the caller sends it and closes its copy at once. Errors (-1, ERR, errno):
 * EBUSY  the app already has a grant outstanding;
 * ENOSPC the quota is taken by pending grants;
 * other  the file could not be made. */
struct grant *grants_open(struct grants *g, const char *app, pid_t pid, int64_t now_us,
			  int *app_fd, char *err, size_t errlen);

/* The pending grant of PID, or NULL. */
struct grant *grants_pending_for(struct grants *g, pid_t pid);
/* The snapshot ID (pending or done), or NULL. */
struct grant *grants_find(struct grants *g, uint32_t id);
/* A pending grant past its deadline at NOW_US, or NULL. */
struct grant *grants_expired(struct grants *g, int64_t now_us);
/* Earliest pending deadline, or 0 when none. */
int64_t grants_next_deadline(const struct grants *g);

/* The app answered grant GR with ANSWER (LEN bytes, the byte count in
 * decimal) at NOW_US. On success GR is done (renamed, bytes set) and 0 is
 * returned. Otherwise -1 with the reason in ERR, GR removed and freed;
 * *HOLDER is set to a process other than nuwad that still holds the file
 * open (the caller should kill it) or 0. */
int grants_finish(struct grants *g, struct grant *gr, const char *answer, size_t len,
		  int64_t now_us, pid_t *holder, char *err, size_t errlen);

/* End GR as failed (timeout, app error, app gone): remove the file, free GR.
 * *HOLDER as above (may be NULL). */
void grants_fail(struct grants *g, struct grant *gr, pid_t *holder);

/* Remove finished snapshot ID. 0, or -1/ENOENT (or EBUSY when pending). */
int grants_remove(struct grants *g, uint32_t id);

/* Bytes finished snapshots use + bytes pending grants reserve. */
uint64_t grants_used(const struct grants *g);

/* A process other than EXCLUDE holding an open fd on DEV/INO, or 0. Scans
 * /proc/[pid]/fd (nuwad runs as root on the device, so it sees them all). */
pid_t grants_fd_holder(dev_t dev, ino_t ino, pid_t exclude);

/* Magic first line every snapshot starts with. */
#define GRANT_SNAPSHOT_MAGIC "NUWA-SNAPSHOT 1\n"

#endif
