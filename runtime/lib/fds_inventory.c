/*
 * The fd inventory at freeze (nuwa_fds_freeze_check) and what it lets
 * through besides the fds libnuwa marked: [framework] fd_allow entries
 * (nuwa_fd_allow), read-only files under the reopen prefixes
 * (nuwa_fd_readonly_prefix; reopened in every child), harmless character
 * devices, stdio, and dup()s of marked fds (which follow their source).
 * Anything else fails the freeze, named with what it is (path, socket
 * address, "open for writing"). The table itself is fds.c's.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "fds_internal.h"

/* What the freeze inventory lets through besides marked fds. */
struct allow {
	char *entry;               /* absolute path, or NULL */
	int fd;                    /* fd number, or -1 */
	struct allow *next;
};
static struct allow *allowed;
static char **ro_prefixes;
static int nro_prefixes = -1; /* -1: the defaults */
static const char *const default_ro_prefixes[] = { "/usr/", "/lib/", "/etc/", NULL };
/* Character devices without per-open state that matters: shared. */
static const char *const shared_devices[] = {
	"/dev/null", "/dev/zero", "/dev/full", "/dev/urandom", "/dev/random", NULL
};


/* ---- what the inventory allows ------------------------------------ */

int nuwa_fd_allow(const char *entry)
{
	struct allow *a;
	char *end;
	long n;

	if (!entry || !*entry) {
		errno = EINVAL;
		return -1;
	}
	a = calloc(1, sizeof *a);
	if (!a)
		return -1;
	a->fd = -1;
	errno = 0;
	n = strtol(entry, &end, 10);
	if (*end == 0 && errno == 0 && n >= 0 && n < INT_MAX) {
		a->fd = (int)n;
	} else if (entry[0] == '/') {
		a->entry = strdup(entry);
		if (!a->entry) {
			free(a);
			return -1;
		}
	} else {
		free(a);
		errno = EINVAL; /* names nothing: neither an fd number nor a path */
		return -1;
	}
	pthread_mutex_lock(&nuwa_fd_table_lock);
	a->next = allowed;
	allowed = a;
	pthread_mutex_unlock(&nuwa_fd_table_lock);
	return 0;
}

int nuwa_fd_readonly_prefix(const char *prefix)
{
	char **p, *copy;
	if (!prefix || prefix[0] != '/') {
		errno = EINVAL;
		return -1;
	}
	copy = strdup(prefix);
	if (!copy)
		return -1;
	pthread_mutex_lock(&nuwa_fd_table_lock);
	if (nro_prefixes < 0)
		nro_prefixes = 0; /* the first explicit prefix replaces the defaults */
	p = realloc(ro_prefixes, (size_t)(nro_prefixes + 1) * sizeof *p);
	if (!p) {
		pthread_mutex_unlock(&nuwa_fd_table_lock);
		free(copy);
		errno = ENOMEM;
		return -1;
	}
	ro_prefixes = p;
	ro_prefixes[nro_prefixes++] = copy;
	pthread_mutex_unlock(&nuwa_fd_table_lock);
	return 0;
}

/* ---- the inventory at freeze ---------------------------------------- */

static void fd_target(int fd, char *out, size_t cap)
{
	char link[64];
	ssize_t n;
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	n = readlink(link, out, cap - 1);
	if (n < 0)
		n = snprintf(out, cap, "?");
	else
		out[n] = 0;
}

/* "socket:[ino], unix stream, peer /path" and the like. */
static void describe_socket(int fd, char *out, size_t cap)
{
	int dom = -1, type = -1;
	socklen_t l = sizeof dom;
	struct sockaddr_storage ss;
	const char *dn, *tn;

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &l) < 0)
		return;
	l = sizeof type;
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l) < 0)
		return;
	dn = dom == AF_UNIX ? "unix" : dom == AF_INET ? "inet" : dom == AF_INET6 ? "inet6" :
	     dom == AF_NETLINK ? "netlink" : "other-domain";
	tn = type == SOCK_STREAM ? "stream" : type == SOCK_DGRAM ? "dgram" :
	     type == SOCK_SEQPACKET ? "seqpacket" : type == SOCK_RAW ? "raw" : "other-type";
	nuwa_append(out, cap, ", %s %s", dn, tn);
	memset(&ss, 0, sizeof ss);
	l = sizeof ss;
	if (getpeername(fd, (struct sockaddr *)&ss, &l) < 0) {
		nuwa_append(out, cap, ", no peer");
		return;
	}
	if (ss.ss_family == AF_UNIX) {
		struct sockaddr_un *u = (struct sockaddr_un *)&ss;
		size_t plen = l > offsetof(struct sockaddr_un, sun_path) ?
			      l - offsetof(struct sockaddr_un, sun_path) : 0;
		if (plen == 0)
			nuwa_append(out, cap, ", peer unnamed");
		else if (u->sun_path[0] == 0)
			nuwa_append(out, cap, ", peer @%.*s", (int)plen - 1, u->sun_path + 1);
		else
			nuwa_append(out, cap, ", peer %.*s", (int)strnlen(u->sun_path, plen), u->sun_path);
	} else if (ss.ss_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		char a[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &in->sin_addr, a, sizeof a);
		nuwa_append(out, cap, ", peer %s:%u", a, ntohs(in->sin_port));
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		char a[INET6_ADDRSTRLEN];
		inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof a);
		nuwa_append(out, cap, ", peer [%s]:%u", a, ntohs(in6->sin6_port));
	}
}

static int under_prefix(const char *path)
{
	int k;
	if (nro_prefixes < 0) {
		for (k = 0; default_ro_prefixes[k]; k++)
			if (!strncmp(path, default_ro_prefixes[k], strlen(default_ro_prefixes[k])))
				return 1;
		return 0;
	}
	for (k = 0; k < nro_prefixes; k++)
		if (!strncmp(path, ro_prefixes[k], strlen(ro_prefixes[k])))
			return 1;
	return 0;
}

static int in_fd_allow(int fd, const char *target)
{
	struct allow *a;
	for (a = allowed; a; a = a->next) {
		if (a->fd == fd)
			return 1;
		if (a->entry && !strcmp(a->entry, target))
			return 1;
	}
	return 0;
}

/* Caller holds nuwa_fd_table_lock. A marked fd (other than FD) holding the same open
 * file as FD, or -1. */
static int marked_twin(int fd, dev_t dev, ino_t ino)
{
	int c, k, acc = fcntl(fd, F_GETFL) & O_ACCMODE;
	for (c = 0; c < NCHUNKS; c++) {
		struct fd_info *chunk = atomic_load(&nuwa_fd_chunks[c]);
		if (!chunk)
			continue;
		for (k = 0; k < CHUNK_LEN; k++) {
			int m = atomic_load(&chunk[k].mark), n = (c << CHUNK_SHIFT) | k;
			if (n != fd && m != MARK_NONE && m != MARK_ALIAS && m != MARK_SHARED &&
			    m != MARK_REOPEN && chunk[k].dev == dev && chunk[k].ino == ino &&
			    (fcntl(n, F_GETFL) & O_ACCMODE) == acc)
				return n; /* same access mode: not the other end of a pipe */
		}
	}
	return -1;
}

int nuwa_fds_freeze_check(char *err, size_t cap)
{
	DIR *d;
	struct dirent *de;
	int bad = 0;

	pthread_mutex_lock(&nuwa_fd_table_lock);
	nuwa_fd_drop_stale();
	d = opendir("/proc/self/fd");
	if (!d) {
		pthread_mutex_unlock(&nuwa_fd_table_lock);
		nuwa_append(err, cap, "; fd inventory: /proc/self/fd: %s", strerror(errno));
		return 1;
	}
	while ((de = readdir(d))) {
		char *end, target[512];
		long n = strtol(de->d_name, &end, 10);
		int fd = (int)n, m, twin, acc;
		struct stat st;
		struct fd_info *i;

		if (de->d_name[0] == '.' || *end || fd == dirfd(d))
			continue;
		m = nuwa_fd_get_mark(fd);
		if (m != MARK_NONE && m != MARK_SHARED && m != MARK_REOPEN)
			continue;
		if (fstat(fd, &st) < 0)
			continue; /* closed meanwhile */
		fd_target(fd, target, sizeof target);
		twin = marked_twin(fd, st.st_dev, st.st_ino);
		i = nuwa_fd_slot(fd);
		if (!i) {
			nuwa_append(err, cap, "; fd %d (%s): cannot track it: out of memory", fd, target);
			bad++;
			continue;
		}
		nuwa_fd_reset(i);
		i->dev = st.st_dev;
		i->ino = st.st_ino;
		if (twin >= 0) {
			/* dup() or F_DUPFD of a marked fd: follows it in the child. */
			i->peer = twin;
			atomic_store(&i->mark, MARK_ALIAS);
			continue;
		}
		if (fd <= 2 || in_fd_allow(fd, target)) {
			atomic_store(&i->mark, MARK_SHARED);
			continue;
		}
		if (S_ISCHR(st.st_mode)) {
			int k, ok = 0;
			for (k = 0; shared_devices[k] && !ok; k++)
				ok = !strcmp(target, shared_devices[k]);
			if (ok) {
				atomic_store(&i->mark, MARK_SHARED);
				continue;
			}
		}
		acc = fcntl(fd, F_GETFL);
		if (S_ISREG(st.st_mode) && acc >= 0 && (acc & O_ACCMODE) == O_RDONLY &&
		    target[0] == '/' && under_prefix(target)) {
			i->path = strdup(target);
			if (i->path) {
				atomic_store(&i->mark, MARK_REOPEN);
				continue;
			}
		}
		nuwa_append(err, cap, "; fd %d (%s", fd, target);
		if (S_ISSOCK(st.st_mode))
			describe_socket(fd, err, cap);
		else if (S_ISREG(st.st_mode) && (acc & O_ACCMODE) != O_RDONLY)
			nuwa_append(err, cap, ", open for writing");
		nuwa_append(err, cap, ") is neither marked by libnuwa, nor an allowed kind, nor in [framework] fd_allow");
		bad++;
	}
	closedir(d);
	pthread_mutex_unlock(&nuwa_fd_table_lock);
	return bad;
}
