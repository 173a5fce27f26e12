/*
 * fd marks (private, per-child pairs) and epoll tracking.
 *
 * epoll_create/epoll_create1/epoll_ctl/close are interposed so that every
 * epoll instance and its registrations are known; in a child each instance
 * is rebuilt as a new kernel object at the same fd number. An inherited
 * epoll fd would be the template's own instance, shared by every app.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

enum mark { MARK_NONE = 0, MARK_PRIVATE, MARK_PAIR, MARK_EPOLL };

struct epoll_reg {
	int fd;
	struct epoll_event ev;
};

struct fd_info {
	enum mark mark;
	int peer;                  /* MARK_PAIR: the other end */
	int ep_flags;              /* MARK_EPOLL: epoll_create1 flags */
	struct epoll_reg *regs;    /* MARK_EPOLL */
	int nregs, capregs;
};

static pthread_mutex_t fd_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fd_info *table;
static int table_len;

typedef int (*close_fn)(int);
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

static close_fn real_close_p;
static epoll_create_fn real_epoll_create_p, real_epoll_create1_p;
static epoll_ctl_fn real_epoll_ctl_p;

int nuwa_real_close(int fd)
{
	if (!real_close_p)
		real_close_p = (close_fn)next_sym("close");
	return real_close_p(fd);
}

void nuwa_fds_lock(void)
{
	pthread_mutex_lock(&fd_lock);
}

void nuwa_fds_unlock(void)
{
	pthread_mutex_unlock(&fd_lock);
}

/* Caller holds fd_lock. */
static struct fd_info *slot(int fd)
{
	if (fd < 0)
		return NULL;
	if (fd >= table_len) {
		int n = table_len ? table_len : 64;
		struct fd_info *t;
		while (n <= fd)
			n *= 2;
		t = realloc(table, (size_t)n * sizeof *t);
		if (!t)
			return NULL;
		memset(t + table_len, 0, (size_t)(n - table_len) * sizeof *t);
		table = t;
		table_len = n;
	}
	return &table[fd];
}

/* Caller holds fd_lock. */
static void clear(int fd)
{
	struct fd_info *i;
	if (fd < 0 || fd >= table_len)
		return;
	i = &table[fd];
	if (i->mark == MARK_PAIR && i->peer >= 0 && i->peer < table_len &&
	    table[i->peer].mark == MARK_PAIR && table[i->peer].peer == fd)
		table[i->peer].peer = -1;
	free(i->regs);
	memset(i, 0, sizeof *i);
}

static int set_mark(int fd, enum mark m, int peer)
{
	struct fd_info *i;
	if (fcntl(fd, F_GETFD) < 0)
		return -1; /* EBADF */
	pthread_mutex_lock(&fd_lock);
	i = slot(fd);
	if (!i) {
		pthread_mutex_unlock(&fd_lock);
		errno = ENOMEM;
		return -1;
	}
	clear(fd);
	i->mark = m;
	i->peer = peer;
	pthread_mutex_unlock(&fd_lock);
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
	pthread_mutex_lock(&fd_lock);
	clear(fd);
	pthread_mutex_unlock(&fd_lock);
	return 0;
}

/* ---- interposed calls ---------------------------------------------- */

int close(int fd)
{
	pthread_mutex_lock(&fd_lock);
	if (fd >= 0 && fd < table_len && table[fd].mark != MARK_NONE)
		clear(fd);
	pthread_mutex_unlock(&fd_lock);
	return nuwa_real_close(fd);
}

static int track_epoll(int fd, int flags)
{
	struct fd_info *i;
	if (fd < 0)
		return fd;
	pthread_mutex_lock(&fd_lock);
	i = slot(fd);
	if (i) {
		clear(fd);
		i->mark = MARK_EPOLL;
		i->ep_flags = flags;
	} else {
		nuwa_log("epoll fd %d not tracked: out of memory", fd);
	}
	pthread_mutex_unlock(&fd_lock);
	return fd;
}

int epoll_create(int size)
{
	if (!real_epoll_create_p)
		real_epoll_create_p = (epoll_create_fn)next_sym("epoll_create");
	return track_epoll(real_epoll_create_p(size), 0);
}

int epoll_create1(int flags)
{
	if (!real_epoll_create1_p)
		real_epoll_create1_p = (epoll_create_fn)next_sym("epoll_create1");
	return track_epoll(real_epoll_create1_p(flags), flags);
}

static int real_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	if (!real_epoll_ctl_p)
		real_epoll_ctl_p = (epoll_ctl_fn)next_sym("epoll_ctl");
	return real_epoll_ctl_p(epfd, op, fd, ev);
}

int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	int rc = real_epoll_ctl(epfd, op, fd, ev);
	struct fd_info *i;
	int k;

	if (rc != 0)
		return rc;
	pthread_mutex_lock(&fd_lock);
	if (epfd >= 0 && epfd < table_len && table[epfd].mark == MARK_EPOLL) {
		i = &table[epfd];
		for (k = 0; k < i->nregs && i->regs[k].fd != fd; k++)
			;
		if (op == EPOLL_CTL_DEL) {
			if (k < i->nregs)
				i->regs[k] = i->regs[--i->nregs];
		} else if (k < i->nregs) {
			i->regs[k].ev = *ev;
		} else {
			if (i->nregs == i->capregs) {
				int n = i->capregs ? i->capregs * 2 : 8;
				struct epoll_reg *r = realloc(i->regs, (size_t)n * sizeof *r);
				if (!r) {
					pthread_mutex_unlock(&fd_lock);
					nuwa_log("epoll fd %d: registration of fd %d not tracked", epfd, fd);
					return rc;
				}
				i->regs = r;
				i->capregs = n;
			}
			i->regs[i->nregs].fd = fd;
			i->regs[i->nregs].ev = *ev;
			i->nregs++;
		}
	}
	pthread_mutex_unlock(&fd_lock);
	return rc;
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
	must(dup3(newfd, at, (fdflags & FD_CLOEXEC) ? O_CLOEXEC : 0) >= 0, "dup3", at);
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
			place(fresh[0], b);
		} else {
			place(fresh[0], a);
			place(fresh[1], b);
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
		place(fresh[1], b);
	}
}

static void renew_epoll(int epfd, struct fd_info *i)
{
	int k, fresh;
	if (!real_epoll_create1_p)
		real_epoll_create1_p = (epoll_create_fn)next_sym("epoll_create1");
	fresh = real_epoll_create1_p(EPOLL_CLOEXEC);
	must(fresh >= 0, "epoll_create1", epfd);
	for (k = 0; k < i->nregs; k++) {
		struct epoll_event ev = i->regs[k].ev;
		if (real_epoll_ctl(fresh, EPOLL_CTL_ADD, i->regs[k].fd, &ev) < 0) {
			/* The fd was closed by then (its registration went with it
			 * in the template too): drop it. */
			if (errno == EBADF || errno == ENOENT || errno == EPERM) {
				i->regs[k--] = i->regs[--i->nregs];
				continue;
			}
			must(0, "epoll_ctl ADD", i->regs[k].fd);
		}
	}
	place(fresh, epfd);
}

void nuwa_fds_child_rebuild(void)
{
	int fd;
	pthread_mutex_lock(&fd_lock);
	for (fd = 0; fd < table_len; fd++) {
		if (table[fd].mark == MARK_PRIVATE) {
			nuwa_real_close(fd);
			clear(fd);
		}
	}
	for (fd = 0; fd < table_len; fd++) {
		struct fd_info *i = &table[fd];
		if (i->mark == MARK_PAIR && i->peer > fd && i->peer < table_len &&
		    table[i->peer].mark == MARK_PAIR && table[i->peer].peer == fd)
			renew_pair(fd, i->peer);
	}
	/* After the pairs, so registrations point at the fresh ends. */
	for (fd = 0; fd < table_len; fd++)
		if (table[fd].mark == MARK_EPOLL)
			renew_epoll(fd, &table[fd]);
	pthread_mutex_unlock(&fd_lock);
}
