/*
 * fd marks (private, per-child pairs), epoll tracking and the per-child
 * rebuild; the table they keep is shared with the inventory at freeze
 * (fds_inventory.c) through fds_internal.h.
 *
 * epoll_create/epoll_create1/epoll_ctl/close/dup2/dup3/close_range are
 * interposed so that every epoll instance and its registrations are known;
 * in a child each instance is rebuilt as a new kernel object at the same fd
 * number. An inherited epoll fd would be the template's own instance, shared
 * by every app.
 *
 * Fork and signal safety: close() and the dup/close_range wrappers take no
 * lock. The table is a fixed array of chunk pointers; chunks are allocated
 * once and never freed, so a reader needs only atomic loads, and forgetting
 * an fd is one atomic store of its mark. Whatever it owned (epoll
 * registrations) is freed later under nuwa_fd_table_lock when the slot is reused. The
 * calls that do take nuwa_fd_table_lock (marking, epoll_create, epoll_ctl) are made safe
 * across any fork() by pthread_atfork handlers (nuwa_fds_atfork_*).
 *
 * Identity: every mark and every epoll registration records the (dev, ino)
 * of the open file it was made on. At freeze and again in the child a mark
 * whose fd now holds another file (closed behind our back by close_range or
 * a raw syscall, replaced with dup2, the number reused) is dropped, and so is
 * a registration whose fd no longer holds the registered file, so frameworks
 * need not EPOLL_CTL_DEL before closing.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fds_internal.h"

_Atomic(struct fd_info *) nuwa_fd_chunks[NCHUNKS];
NUWA_CHILD_RW pthread_mutex_t nuwa_fd_table_lock = PTHREAD_MUTEX_INITIALIZER;

typedef int (*close_fn)(int);
typedef int (*dup2_fn)(int, int);
typedef int (*dup3_fn)(int, int, int);
typedef int (*epoll_create_fn)(int);
typedef int (*epoll_ctl_fn)(int, int, int, struct epoll_event *);

static void *next_sym(const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);
	if (!p) {
		nuwa_log("cannot find the C library's %s", name);
		abort();
	}
	return p;
}

static _Atomic(close_fn) real_close_p;
static _Atomic(dup2_fn) real_dup2_p;
static _Atomic(dup3_fn) real_dup3_p;
static _Atomic(epoll_create_fn) real_epoll_create_p, real_epoll_create1_p;
static _Atomic(epoll_ctl_fn) real_epoll_ctl_p;

#define REAL(var, name, type)                                           \
	({                                                              \
		type fn_ = atomic_load(&var);                           \
		if (!fn_) {                                             \
			fn_ = (type)next_sym(name);                     \
			atomic_store(&var, fn_);                        \
		}                                                       \
		fn_;                                                    \
	})

int nuwa_real_close(int fd)
{
	return REAL(real_close_p, "close", close_fn)(fd);
}

static int real_dup3(int a, int b, int flags)
{
	return REAL(real_dup3_p, "dup3", dup3_fn)(a, b, flags);
}

void nuwa_fds_lock(void)
{
	pthread_mutex_lock(&nuwa_fd_table_lock);
}

void nuwa_fds_unlock(void)
{
	pthread_mutex_unlock(&nuwa_fd_table_lock);
}

void nuwa_fds_atfork_child(void)
{
	/* Only the forking thread exists: whoever held the lock is gone. */
	pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
	memcpy(&nuwa_fd_table_lock, &fresh, sizeof fresh);
}

/* Lock-free: the slot of FD if its chunk exists, else NULL. */
static struct fd_info *peek(int fd)
{
	struct fd_info *c;
	if (fd < 0 || fd >= NCHUNKS * CHUNK_LEN)
		return NULL;
	c = atomic_load_explicit(&nuwa_fd_chunks[fd >> CHUNK_SHIFT], memory_order_acquire);
	return c ? &c[fd & (CHUNK_LEN - 1)] : NULL;
}

/* Caller holds nuwa_fd_table_lock: the slot of FD, its chunk made if needed. */
struct fd_info *nuwa_fd_slot(int fd)
{
	struct fd_info *c;
	if (fd < 0 || fd >= NCHUNKS * CHUNK_LEN)
		return NULL;
	c = atomic_load(&nuwa_fd_chunks[fd >> CHUNK_SHIFT]);
	if (!c) {
		c = calloc(CHUNK_LEN, sizeof *c);
		if (!c)
			return NULL;
		atomic_store_explicit(&nuwa_fd_chunks[fd >> CHUNK_SHIFT], c, memory_order_release);
	}
	return &c[fd & (CHUNK_LEN - 1)];
}

int nuwa_fd_get_mark(int fd)
{
	struct fd_info *i = peek(fd);
	return i ? atomic_load(&i->mark) : MARK_NONE;
}

/* Async-signal-safe: forget FD's mark (its number is about to be closed or
 * replaced). What the slot owns is freed when it is next reused. */
static void forget_fast(int fd)
{
	struct fd_info *i = peek(fd);
	if (i && atomic_load_explicit(&i->mark, memory_order_relaxed) != MARK_NONE)
		atomic_store(&i->mark, MARK_NONE);
}

/* Caller holds nuwa_fd_table_lock. Reset slot I for a new mark. */
void nuwa_fd_reset(struct fd_info *i)
{
	free(i->regs);
	free(i->path);
	i->regs = NULL;
	i->path = NULL;
	i->nregs = i->capregs = 0;
	i->peer = -1;
	i->ep_flags = 0;
	i->dev = 0;
	i->ino = 0;
	atomic_store(&i->mark, MARK_NONE);
}

static int identity(int fd, dev_t *dev, ino_t *ino)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -1;
	*dev = st.st_dev;
	*ino = st.st_ino;
	return 0;
}

/* Nonzero when FD still holds the open file I was marked on. */
static int same_file(int fd, dev_t dev, ino_t ino)
{
	dev_t d;
	ino_t n;
	return identity(fd, &d, &n) == 0 && d == dev && n == ino;
}

static int set_mark(int fd, enum mark m, int peer)
{
	struct fd_info *i;
	dev_t dev;
	ino_t ino;
	if (identity(fd, &dev, &ino) < 0)
		return -1; /* EBADF */
	pthread_mutex_lock(&nuwa_fd_table_lock);
	i = nuwa_fd_slot(fd);
	if (!i) {
		pthread_mutex_unlock(&nuwa_fd_table_lock);
		errno = fd < 0 ? EBADF : ENOMEM;
		return -1;
	}
	nuwa_fd_reset(i);
	i->peer = peer;
	i->dev = dev;
	i->ino = ino;
	atomic_store(&i->mark, m);
	pthread_mutex_unlock(&nuwa_fd_table_lock);
	return 0;
}

int nuwa_fd_private(int fd)
{
	return set_mark(fd, MARK_PRIVATE, -1);
}

int nuwa_fd_per_child_pair(int fd0, int fd1)
{
	struct stat a, b;
	if (fd0 == fd1 || fstat(fd0, &a) < 0 || fstat(fd1, &b) < 0) {
		if (fd0 == fd1)
			errno = EINVAL;
		return -1;
	}
	if (!((S_ISFIFO(a.st_mode) && S_ISFIFO(b.st_mode)) ||
	      (S_ISSOCK(a.st_mode) && S_ISSOCK(b.st_mode)))) {
		errno = EINVAL;
		return -1;
	}
	if (set_mark(fd0, MARK_PAIR, fd1) < 0 || set_mark(fd1, MARK_PAIR, fd0) < 0)
		return -1;
	return 0;
}

int nuwa_pipe2(int fds[2], int flags)
{
	if (pipe2(fds, flags) < 0)
		return -1;
	if (nuwa_fd_per_child_pair(fds[0], fds[1]) < 0) {
		int e = errno;
		nuwa_real_close(fds[0]);
		nuwa_real_close(fds[1]);
		errno = e;
		return -1;
	}
	return 0;
}

int nuwa_socketpair(int domain, int type, int protocol, int sv[2])
{
	if (socketpair(domain, type, protocol, sv) < 0)
		return -1;
	if (nuwa_fd_per_child_pair(sv[0], sv[1]) < 0) {
		int e = errno;
		nuwa_real_close(sv[0]);
		nuwa_real_close(sv[1]);
		errno = e;
		return -1;
	}
	return 0;
}

int nuwa_fd_forget(int fd)
{
	forget_fast(fd);
	return 0;
}

/* ---- interposed calls ---------------------------------------------- */

int close(int fd)
{
	forget_fast(fd);
	return nuwa_real_close(fd);
}

int dup2(int oldfd, int newfd)
{
	int rc;
	if (oldfd != newfd)
		forget_fast(newfd);
	rc = REAL(real_dup2_p, "dup2", dup2_fn)(oldfd, newfd);
	return rc;
}

int dup3(int oldfd, int newfd, int flags)
{
	if (oldfd != newfd)
		forget_fast(newfd);
	return real_dup3(oldfd, newfd, flags);
}

/* close_range() is a system call on every libc that has it; libnuwa makes
 * it directly so it also exists where the C library lacks a wrapper. */
int close_range(unsigned int first, unsigned int last, int flags);
int close_range(unsigned int first, unsigned int last, int flags)
{
#ifdef SYS_close_range
	long rc;
	/* CLOSE_RANGE_CLOEXEC (4) only sets flags: marks stay. */
	if (!(flags & 4)) {
		unsigned int fd, top = last;
		if (top >= (unsigned)(NCHUNKS * CHUNK_LEN))
			top = NCHUNKS * CHUNK_LEN - 1;
		for (fd = first; fd <= top; fd++) {
			if ((fd & (CHUNK_LEN - 1)) == 0 && !peek((int)fd)) {
				fd += CHUNK_LEN - 1; /* a whole empty chunk */
				continue;
			}
			forget_fast((int)fd);
		}
	}
	rc = syscall(SYS_close_range, first, last, flags);
	return (int)rc;
#else
	(void)first;
	(void)last;
	(void)flags;
	errno = ENOSYS;
	return -1;
#endif
}

static int track_epoll(int fd, int flags)
{
	struct fd_info *i;
	dev_t dev = 0;
	ino_t ino = 0;
	if (fd < 0)
		return fd;
	if (identity(fd, &dev, &ino) < 0)
		nuwa_log("epoll fd %d: fstat: %s", fd, strerror(errno));
	pthread_mutex_lock(&nuwa_fd_table_lock);
	i = nuwa_fd_slot(fd);
	if (i) {
		nuwa_fd_reset(i);
		i->ep_flags = flags;
		i->dev = dev;
		i->ino = ino;
		atomic_store(&i->mark, MARK_EPOLL);
	} else {
		nuwa_log("epoll fd %d not tracked: out of memory", fd);
	}
	pthread_mutex_unlock(&nuwa_fd_table_lock);
	return fd;
}

int epoll_create(int size)
{
	return track_epoll(REAL(real_epoll_create_p, "epoll_create", epoll_create_fn)(size), 0);
}

int epoll_create1(int flags)
{
	return track_epoll(REAL(real_epoll_create1_p, "epoll_create1", epoll_create_fn)(flags),
			   flags);
}

static int real_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	return REAL(real_epoll_ctl_p, "epoll_ctl", epoll_ctl_fn)(epfd, op, fd, ev);
}

int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	int rc = real_epoll_ctl(epfd, op, fd, ev);
	struct fd_info *i;
	dev_t dev = 0;
	ino_t ino = 0;
	int k;

	if (rc != 0 || nuwa_fd_get_mark(epfd) != MARK_EPOLL)
		return rc;
	if (op == EPOLL_CTL_ADD && identity(fd, &dev, &ino) < 0)
		return rc; /* closed already: nothing to rebuild */
	pthread_mutex_lock(&nuwa_fd_table_lock);
	i = peek(epfd);
	if (i && atomic_load(&i->mark) == MARK_EPOLL) {
		for (k = 0; k < i->nregs && i->regs[k].fd != fd; k++)
			;
		if (op == EPOLL_CTL_DEL) {
			if (k < i->nregs)
				i->regs[k] = i->regs[--i->nregs];
		} else if (k < i->nregs) {
			/* MOD, or ADD over a stale registration of a closed fd. */
			i->regs[k].ev = *ev;
			if (op == EPOLL_CTL_ADD) {
				i->regs[k].dev = dev;
				i->regs[k].ino = ino;
			}
		} else if (op == EPOLL_CTL_ADD) {
			if (i->nregs == i->capregs) {
				int n = i->capregs ? i->capregs * 2 : 8;
				struct epoll_reg *r = realloc(i->regs, (size_t)n * sizeof *r);
				if (!r) {
					pthread_mutex_unlock(&nuwa_fd_table_lock);
					nuwa_log("epoll fd %d: registration of fd %d not tracked", epfd, fd);
					return rc;
				}
				i->regs = r;
				i->capregs = n;
			}
			i->regs[i->nregs] = (struct epoll_reg){ fd, dev, ino, *ev };
			i->nregs++;
		}
	}
	pthread_mutex_unlock(&nuwa_fd_table_lock);
	return rc;
}

/* Caller holds nuwa_fd_table_lock. Drop marks whose fd no longer holds the file they
 * were made on, and epoll registrations likewise. */
void nuwa_fd_drop_stale(void)
{
	int c, k, r;
	for (c = 0; c < NCHUNKS; c++) {
		struct fd_info *chunk = atomic_load(&nuwa_fd_chunks[c]);
		if (!chunk)
			continue;
		for (k = 0; k < CHUNK_LEN; k++) {
			struct fd_info *i = &chunk[k];
			int fd = (c << CHUNK_SHIFT) | k;
			int m = atomic_load(&i->mark);
			if (m == MARK_NONE)
				continue;
			if (!same_file(fd, i->dev, i->ino)) {
				nuwa_fd_reset(i);
				continue;
			}
			if (m != MARK_EPOLL)
				continue;
			for (r = 0; r < i->nregs; r++) {
				if (!same_file(i->regs[r].fd, i->regs[r].dev, i->regs[r].ino))
					i->regs[r--] = i->regs[--i->nregs];
			}
		}
	}
}

/* ---- child side ---------------------------------------------------- */

static void must(int ok, const char *what, int fd)
{
	if (!ok) {
		nuwa_log("child rebuild: %s (fd %d): %s", what, fd, strerror(errno));
		abort(); /* a half-rebuilt child would share the template's objects */
	}
}

/* Put NEWFD at number AT with the flags AT had, and close NEWFD. */
static void place(int newfd, int at)
{
	int fdflags = fcntl(at, F_GETFD);
	int flflags = fcntl(at, F_GETFL);
	must(fdflags >= 0 && flflags >= 0, "read flags", at);
	must(real_dup3(newfd, at, (fdflags & FD_CLOEXEC) ? O_CLOEXEC : 0) >= 0, "dup3", at);
	must(fcntl(at, F_SETFL, flflags & (O_NONBLOCK | O_APPEND)) >= 0, "set flags", at);
	nuwa_real_close(newfd);
}

static void renew_pair(int a, int b)
{
	struct stat st;
	int fresh[2];

	must(fstat(a, &st) == 0, "fstat", a);
	if (S_ISFIFO(st.st_mode)) {
		int acc = fcntl(a, F_GETFL);
		must(acc >= 0, "F_GETFL", a);
		must(pipe2(fresh, O_CLOEXEC) == 0, "pipe2", a);
		if ((acc & O_ACCMODE) == O_WRONLY) {
			place(fresh[1], a);
			b >= 0 ? place(fresh[0], b) : (void)nuwa_real_close(fresh[0]);
		} else {
			place(fresh[0], a);
			b >= 0 ? place(fresh[1], b) : (void)nuwa_real_close(fresh[1]);
		}
	} else {
		int dom, type, proto;
		socklen_t l = sizeof dom;
		must(getsockopt(a, SOL_SOCKET, SO_DOMAIN, &dom, &l) == 0, "SO_DOMAIN", a);
		l = sizeof type;
		must(getsockopt(a, SOL_SOCKET, SO_TYPE, &type, &l) == 0, "SO_TYPE", a);
		l = sizeof proto;
		must(getsockopt(a, SOL_SOCKET, SO_PROTOCOL, &proto, &l) == 0, "SO_PROTOCOL", a);
		must(socketpair(dom, type | SOCK_CLOEXEC, proto, fresh) == 0, "socketpair", a);
		place(fresh[0], a);
		b >= 0 ? place(fresh[1], b) : (void)nuwa_real_close(fresh[1]);
	}
}

static void renew_epoll(int epfd, struct fd_info *i)
{
	int k, fresh;
	fresh = REAL(real_epoll_create1_p, "epoll_create1", epoll_create_fn)(EPOLL_CLOEXEC);
	must(fresh >= 0, "epoll_create1", epfd);
	for (k = 0; k < i->nregs; k++) {
		struct epoll_event ev = i->regs[k].ev;
		if (real_epoll_ctl(fresh, EPOLL_CTL_ADD, i->regs[k].fd, &ev) < 0) {
			/* Gone meanwhile: its registration went with it. */
			if (errno == EBADF || errno == ENOENT || errno == EPERM) {
				i->regs[k--] = i->regs[--i->nregs];
				continue;
			}
			must(0, "epoll_ctl ADD", i->regs[k].fd);
		}
	}
	place(fresh, epfd);
}

/* A read-only file allowed by kind: a file description of the child's own
 * at the template's offset, so apps never move each other's offset. */
static void reopen_file(int fd, struct fd_info *i)
{
	off_t at = lseek(fd, 0, SEEK_CUR);
	int acc = fcntl(fd, F_GETFL), fresh;
	must(acc >= 0, "F_GETFL", fd);
	fresh = open(i->path, (acc & ~(O_CREAT | O_TRUNC | O_EXCL)) | O_CLOEXEC);
	must(fresh >= 0, i->path, fd);
	must(same_file(fresh, i->dev, i->ino), "reopened file is another file", fd);
	if (at > 0)
		must(lseek(fresh, at, SEEK_SET) == at, "lseek", fd);
	place(fresh, fd);
}

typedef void (*each_fn)(int fd, struct fd_info *i);

static void each_marked(int want, each_fn fn)
{
	int c, k;
	for (c = 0; c < NCHUNKS; c++) {
		struct fd_info *chunk = atomic_load(&nuwa_fd_chunks[c]);
		if (!chunk)
			continue;
		for (k = 0; k < CHUNK_LEN; k++)
			if (atomic_load(&chunk[k].mark) == want)
				fn((c << CHUNK_SHIFT) | k, &chunk[k]);
	}
}

static void close_private(int fd, struct fd_info *i)
{
	nuwa_real_close(fd);
	nuwa_fd_reset(i);
}

static void renew_marked_pair(int fd, struct fd_info *i)
{
	int peer = i->peer;
	if (peer > fd && nuwa_fd_get_mark(peer) == MARK_PAIR && peek(peer)->peer == fd)
		renew_pair(fd, peer);
	else if (peer < 0 || nuwa_fd_get_mark(peer) != MARK_PAIR || peek(peer)->peer != fd)
		renew_pair(fd, -1); /* the other end was closed in the template */
}

static void renew_marked_epoll(int fd, struct fd_info *i)
{
	renew_epoll(fd, i);
}

static void renew_alias(int fd, struct fd_info *i)
{
	int src = i->peer, m = nuwa_fd_get_mark(src);
	int fdflags = fcntl(fd, F_GETFD);
	must(fdflags >= 0, "read flags", fd);
	if (m == MARK_NONE) {
		/* The source was private (closed) or dropped: so is this. */
		nuwa_real_close(fd);
		nuwa_fd_reset(i);
		return;
	}
	must(real_dup3(src, fd, (fdflags & FD_CLOEXEC) ? O_CLOEXEC : 0) >= 0, "dup3 alias", fd);
}

static void reopen_marked(int fd, struct fd_info *i)
{
	reopen_file(fd, i);
}

void nuwa_fds_child_rebuild(void)
{
	pthread_mutex_lock(&nuwa_fd_table_lock);
	nuwa_fd_drop_stale();
	each_marked(MARK_PRIVATE, close_private);
	each_marked(MARK_PAIR, renew_marked_pair);
	/* After the pairs, so registrations point at the fresh ends. */
	each_marked(MARK_EPOLL, renew_marked_epoll);
	each_marked(MARK_REOPEN, reopen_marked);
	/* Last: aliases follow their rebuilt sources. */
	each_marked(MARK_ALIAS, renew_alias);
	pthread_mutex_unlock(&nuwa_fd_table_lock);
}
