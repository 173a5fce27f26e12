/* The fd table shared by fds.c (marks, the interposed calls, the child's
 * rebuild) and fds_inventory.c (what the freeze lets through). Lock-free
 * reads and writes of a mark are described in fds.c. */
#ifndef NUWA_FDS_INTERNAL_H
#define NUWA_FDS_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/types.h>

#include "internal.h"

enum mark {
	MARK_NONE = 0,
	MARK_PRIVATE,  /* closed in every child */
	MARK_PAIR,     /* one end of a per-child pipe/socketpair */
	MARK_EPOLL,    /* rebuilt in every child */
	MARK_ALIAS,    /* another number for a marked fd (dup): follows it */
	MARK_REOPEN,   /* allowed read-only file: reopened in every child */
	MARK_SHARED,   /* allowed by kind or fd_allow: inherited as is */
};

struct epoll_reg {
	int fd;
	dev_t dev;
	ino_t ino;
	struct epoll_event ev;
};

struct fd_info {
	atomic_int mark;           /* enum mark; cleared without a lock */
	int peer;                  /* MARK_PAIR: the other end; MARK_ALIAS: the source */
	int ep_flags;              /* MARK_EPOLL: epoll_create1 flags */
	dev_t dev;                 /* identity when marked */
	ino_t ino;
	struct epoll_reg *regs;    /* MARK_EPOLL */
	int nregs, capregs;
	char *path;                /* MARK_REOPEN */
};

#define CHUNK_SHIFT 10
#define CHUNK_LEN (1 << CHUNK_SHIFT)
#define NCHUNKS 1024 /* fds below 1M are tracked */

/* The table: chunks of CHUNK_LEN slots, made once and never freed. */
NUWA_HIDDEN extern _Atomic(struct fd_info *) nuwa_fd_chunks[NCHUNKS];
/* Guards marking, epoll tracking and the allow lists; held across fork(). */
NUWA_HIDDEN extern pthread_mutex_t nuwa_fd_table_lock;

/* FD's mark, lock-free (MARK_NONE when untracked). */
NUWA_HIDDEN int nuwa_fd_get_mark(int fd);
/* Lock held: the slot of FD, its chunk made if needed (NULL: out of range
 * or memory). */
NUWA_HIDDEN struct fd_info *nuwa_fd_slot(int fd);
/* Lock held: reset slot I for a new mark. */
NUWA_HIDDEN void nuwa_fd_reset(struct fd_info *i);
/* Lock held: drop marks and epoll registrations whose fd no longer holds
 * the file they were made on. */
NUWA_HIDDEN void nuwa_fd_drop_stale(void);

#endif
