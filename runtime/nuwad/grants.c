/* Snapshot grant bookkeeping (grants.h). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "grants.h"

#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif

static int fail(char *err, size_t errlen, int e, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	errno = e;
	return -1;
}

static void glog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void glog(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "nuwad: snapshots: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int mkdir_p(const char *path)
{
	char tmp[512];
	size_t i, n = strlen(path);
	if (n == 0 || n >= sizeof tmp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(tmp, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (tmp[i] == '/' || tmp[i] == 0) {
			char c = tmp[i];
			tmp[i] = 0;
			if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
				return -1;
			tmp[i] = c;
		}
	}
	return 0;
}

static int is_mountpoint(const char *dir)
{
	char parent[600];
	struct stat a, b;
	snprintf(parent, sizeof parent, "%s/..", dir);
	if (stat(dir, &a) < 0 || stat(parent, &b) < 0)
		return 0;
	return a.st_dev != b.st_dev;
}

static void mount_tmpfs(struct grants *g)
{
	struct statfs sf;
	char opts[64];

	if (is_mountpoint(g->dir) && statfs(g->dir, &sf) == 0 && sf.f_type == TMPFS_MAGIC) {
		g->mounted = 1; /* ours from an earlier run of nuwad */
		return;
	}
	snprintf(opts, sizeof opts, "size=%" PRIu64 ",mode=0700", g->conf.quota_bytes);
	if (mount("nuwa-snapshots", g->dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts) < 0) {
		glog("cannot mount a %" PRIu64 "-byte tmpfs on %s (%s): quota kept by accounting only",
		     g->conf.quota_bytes, g->dir, strerror(errno));
		return;
	}
	g->mounted = 1;
}

/* "APP-ID.snap" -> ID, 0 when NAME is not a snapshot name. */
static uint32_t parse_name(const char *name, char *app, size_t applen)
{
	const char *dash = strrchr(name, '-'), *dot = strrchr(name, '.');
	char *end;
	unsigned long id;
	if (!dash || !dot || dot < dash || strcmp(dot, ".snap") || dash == name ||
	    (size_t)(dash - name) >= applen)
		return 0;
	id = strtoul(dash + 1, &end, 10);
	if (end != dot || id == 0 || id > UINT32_MAX)
		return 0;
	memcpy(app, name, (size_t)(dash - name));
	app[dash - name] = 0;
	return (uint32_t)id;
}

int grants_init(struct grants *g, const struct grant_conf *conf, char *err, size_t errlen)
{
	DIR *d;
	struct dirent *de;

	memset(g, 0, sizeof *g);
	g->conf = *conf;
	g->next_id = 1;
	if (!conf->dir || snprintf(g->dir, sizeof g->dir, "%s", conf->dir) >= (int)sizeof g->dir)
		return fail(err, errlen, EINVAL, "snapshot directory missing or too long");
	g->conf.dir = g->dir;
	if (conf->max_bytes == 0 || conf->quota_bytes < conf->max_bytes || conf->timeout_ms <= 0)
		return fail(err, errlen, EINVAL,
			    "snapshot limits: need max > 0, quota >= max, timeout > 0");
	if (mkdir_p(g->dir) < 0)
		return fail(err, errlen, errno, "snapshot directory %s: %s", g->dir, strerror(errno));
	if (chmod(g->dir, 0700) < 0)
		return fail(err, errlen, errno, "chmod %s: %s", g->dir, strerror(errno));
	if (conf->tmpfs)
		mount_tmpfs(g);
	d = opendir(g->dir);
	if (!d)
		return fail(err, errlen, errno, "snapshot directory %s: %s", g->dir, strerror(errno));
	while ((de = readdir(d))) {
		char path[sizeof g->list->path], app[GRANT_NAME_MAX];
		struct stat sb;
		uint32_t id;
		struct grant *gr;
		size_t l = strlen(de->d_name);
		if (de->d_name[0] == '.' && l > 5 && !strcmp(de->d_name + l - 5, ".part")) {
			/* A snapshot that was being written when nuwad stopped. */
			if (snprintf(path, sizeof path, "%s/%s", g->dir, de->d_name) < (int)sizeof path &&
			    unlink(path) < 0)
				glog("cannot remove %s: %s", path, strerror(errno));
			continue;
		}
		id = parse_name(de->d_name, app, sizeof app);
		if (snprintf(path, sizeof path, "%s/%s", g->dir, de->d_name) >= (int)sizeof path)
			continue;
		if (!id || lstat(path, &sb) < 0 || !S_ISREG(sb.st_mode))
			continue;
		gr = calloc(1, sizeof *gr);
		if (!gr)
			break;
		gr->id = id;
		gr->memfd = -1;
		snprintf(gr->app, sizeof gr->app, "%s", app);
		snprintf(gr->path, sizeof gr->path, "%s", path);
		gr->state = GRANT_DONE;
		gr->bytes = (uint64_t)sb.st_size;
		gr->dev = sb.st_dev;
		gr->ino = sb.st_ino;
		gr->started_us = (int64_t)sb.st_mtime * 1000000; /* age order */
		gr->next = g->list;
		g->list = gr;
		if (id >= g->next_id)
			g->next_id = id + 1;
	}
	closedir(d);
	return 0;
}

void grants_free(struct grants *g)
{
	while (g->list) {
		struct grant *n = g->list->next;
		if (g->list->memfd >= 0)
			close(g->list->memfd);
		free(g->list);
		g->list = n;
	}
}

uint64_t grants_used(const struct grants *g)
{
	const struct grant *gr;
	uint64_t used = 0;
	for (gr = g->list; gr; gr = gr->next)
		used += gr->state == GRANT_PENDING ? g->conf.max_bytes : gr->bytes;
	return used;
}

static void unlink_grant(struct grants *g, struct grant *gr)
{
	struct grant **pp;
	for (pp = &g->list; *pp; pp = &(*pp)->next) {
		if (*pp == gr) {
			*pp = gr->next;
			return;
		}
	}
}

static void remove_file(struct grant *gr)
{
	if (unlink(gr->path) < 0 && errno != ENOENT)
		glog("cannot remove %s: %s", gr->path, strerror(errno));
}

static struct grant *oldest_done(struct grants *g)
{
	struct grant *gr, *best = NULL;
	for (gr = g->list; gr; gr = gr->next)
		if (gr->state == GRANT_DONE &&
		    (!best || gr->started_us < best->started_us ||
		     (gr->started_us == best->started_us && gr->id < best->id)))
			best = gr;
	return best;
}

struct grant *grants_pending_for(struct grants *g, pid_t pid)
{
	struct grant *gr;
	for (gr = g->list; gr; gr = gr->next)
		if (gr->state == GRANT_PENDING && gr->pid == pid)
			return gr;
	return NULL;
}

struct grant *grants_find(struct grants *g, uint32_t id)
{
	struct grant *gr;
	for (gr = g->list; gr; gr = gr->next)
		if (gr->id == id)
			return gr;
	return NULL;
}

struct grant *grants_open(struct grants *g, const char *app, pid_t pid, int64_t now_us,
			  int *app_fd, char *err, size_t errlen)
{
	struct grant *gr;
	struct stat sb;
	int fd;

	*app_fd = -1;
	if (!app || !*app || strlen(app) >= GRANT_NAME_MAX || strchr(app, '/')) {
		fail(err, errlen, EINVAL, "bad app name");
		return NULL;
	}
	if ((gr = grants_pending_for(g, pid))) {
		fail(err, errlen, EBUSY, "app %s (pid %d) already has snapshot %u outstanding", app,
		     (int)pid, gr->id);
		return NULL;
	}
	/* Make room: a pending grant reserves the per-snapshot limit. */
	while (grants_used(g) + g->conf.max_bytes > g->conf.quota_bytes) {
		struct grant *old = oldest_done(g);
		if (!old) {
			fail(err, errlen, ENOSPC,
			     "snapshot quota (%" PRIu64 " bytes) is taken by pending snapshots", g->conf.quota_bytes);
			return NULL;
		}
		glog("quota: evicting snapshot %u (%s, %" PRIu64 " bytes)", old->id, old->app, old->bytes);
		remove_file(old);
		unlink_grant(g, old);
		free(old);
	}
	gr = calloc(1, sizeof *gr);
	if (!gr) {
		fail(err, errlen, ENOMEM, "out of memory");
		return NULL;
	}
	gr->id = g->next_id++;
	if (g->next_id == 0)
		g->next_id = 1;
	snprintf(gr->app, sizeof gr->app, "%s", app);
	gr->pid = pid;
	gr->state = GRANT_PENDING;
	if (snprintf(gr->path, sizeof gr->path, "%s/.%s-%u.part", g->dir, app, gr->id) >=
	    (int)sizeof gr->path) {
		fail(err, errlen, ENAMETOOLONG, "snapshot path too long");
		free(gr);
		return NULL;
	}
	/* The snapshot is written into memory nuwad owns; the app's fd is a
	 * write-only open of it (a new open file, through /proc/self/fd). */
	{
		char mname[GRANT_NAME_MAX + 32], self[64];
		snprintf(mname, sizeof mname, "nuwa-snapshot-%s-%u", app, gr->id);
		gr->memfd = memfd_create(mname, MFD_CLOEXEC | MFD_ALLOW_SEALING);
		if (gr->memfd < 0) {
			fail(err, errlen, errno, "memfd: %s", strerror(errno));
			free(gr);
			return NULL;
		}
		snprintf(self, sizeof self, "/proc/self/fd/%d", gr->memfd);
		fd = open(self, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || fstat(gr->memfd, &sb) < 0) {
			fail(err, errlen, errno, "memfd reopen: %s", strerror(errno));
			if (fd >= 0)
				close(fd);
			close(gr->memfd);
			free(gr);
			return NULL;
		}
	}
	gr->dev = sb.st_dev;
	gr->ino = sb.st_ino;
	gr->started_us = now_us;
	gr->deadline_us = now_us + (int64_t)g->conf.timeout_ms * 1000;
	gr->next = g->list;
	g->list = gr;
	*app_fd = fd;
	return gr;
}

struct grant *grants_expired(struct grants *g, int64_t now_us)
{
	struct grant *gr;
	for (gr = g->list; gr; gr = gr->next)
		if (gr->state == GRANT_PENDING && now_us >= gr->deadline_us)
			return gr;
	return NULL;
}

int64_t grants_next_deadline(const struct grants *g)
{
	const struct grant *gr;
	int64_t next = 0;
	for (gr = g->list; gr; gr = gr->next)
		if (gr->state == GRANT_PENDING && (!next || gr->deadline_us < next))
			next = gr->deadline_us;
	return next;
}

pid_t grants_fd_holder(dev_t dev, ino_t ino, pid_t exclude)
{
	DIR *proc = opendir("/proc");
	struct dirent *pe;
	pid_t found = 0;

	if (!proc)
		return 0;
	while (!found && (pe = readdir(proc))) {
		char fddir[64];
		DIR *fds;
		struct dirent *fe;
		pid_t pid;
		if (!isdigit((unsigned char)pe->d_name[0]))
			continue;
		pid = (pid_t)atoi(pe->d_name);
		if (pid == exclude)
			continue;
		snprintf(fddir, sizeof fddir, "/proc/%d/fd", (int)pid);
		fds = opendir(fddir);
		if (!fds)
			continue; /* gone, or not ours to see */
		while ((fe = readdir(fds))) {
			char link[sizeof fddir + 256 + 2];
			struct stat sb;
			if (fe->d_name[0] == '.')
				continue;
			snprintf(link, sizeof link, "%s/%s", fddir, fe->d_name);
			if (stat(link, &sb) == 0 && sb.st_dev == dev && sb.st_ino == ino) {
				found = pid;
				break;
			}
		}
		closedir(fds);
	}
	closedir(proc);
	return found;
}

void grants_fail(struct grants *g, struct grant *gr, pid_t *holder)
{
	pid_t h = grants_fd_holder(gr->dev, gr->ino, getpid());
	if (holder)
		*holder = h;
	if (gr->memfd >= 0)
		close(gr->memfd);
	remove_file(gr);
	unlink_grant(g, gr);
	free(gr);
}

/* The answer is the byte count in decimal, nothing else. */
static int parse_count(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;
	if (len == 0 || len > 20)
		return -1;
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Write the sealed memfd MEMFD (SIZE bytes) into a fresh PATH (O_EXCL,
 * 0600). 0 or an errno (the partial file is removed). */
static int write_out(int memfd, uint64_t size, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600), e = 0;
	off_t off = 0;
	if (fd < 0)
		return errno;
	while ((uint64_t)off < size) {
		ssize_t n = sendfile(fd, memfd, &off, (size_t)(size - (uint64_t)off));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			e = n < 0 ? errno : EIO;
			break;
		}
	}
	if (close(fd) < 0 && !e)
		e = errno;
	if (e)
		unlink(path);
	return e;
}

int grants_finish(struct grants *g, struct grant *gr, const char *answer, size_t len,
		  int64_t now_us, pid_t *holder, char *err, size_t errlen)
{
	char final[sizeof gr->path], head[sizeof GRANT_SNAPSHOT_MAGIC];
	uint64_t claimed = 0;
	struct stat sb;
	ssize_t n;
	int e = 0;

	*holder = 0;
	err[0] = 0;
	/* Seal first: whatever fds on it exist (kept, parked in flight in a
	 * socket, dup'ed to a child), nothing can change it after this. */
	if (gr->memfd < 0 ||
	    fcntl(gr->memfd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0) {
		e = gr->memfd < 0 ? EBADF : errno;
		snprintf(err, errlen, "snapshot could not be sealed: %s%s", strerror(e),
			 e == EBUSY ? " (the app mapped it writable)" : "");
	} else if (fstat(gr->memfd, &sb) < 0) {
		e = errno;
		snprintf(err, errlen, "snapshot: %s", strerror(e));
	} else if (parse_count(answer, len, &claimed) < 0) {
		e = EBADMSG;
		snprintf(err, errlen, "malformed answer (want the byte count)");
	} else if ((uint64_t)sb.st_size > g->conf.max_bytes) {
		e = EFBIG;
		snprintf(err, errlen, "snapshot of %lld bytes exceeds the limit of %" PRIu64,
			 (long long)sb.st_size, g->conf.max_bytes);
	} else if (claimed != (uint64_t)sb.st_size) {
		e = EBADMSG;
		snprintf(err, errlen, "app says %" PRIu64 " bytes, file has %lld", claimed,
			 (long long)sb.st_size);
	} else if ((n = pread(gr->memfd, head, sizeof head - 1, 0)) != (ssize_t)sizeof head - 1 ||
		   memcmp(head, GRANT_SNAPSHOT_MAGIC, sizeof head - 1)) {
		e = EBADMSG;
		snprintf(err, errlen, "snapshot has no header");
	}
	if (!e && (*holder = grants_fd_holder(gr->dev, gr->ino, getpid()))) {
		e = EPERM;
		snprintf(err, errlen, "process %d kept the granted fd", (int)*holder);
	}
	if (!e) {
		if (snprintf(final, sizeof final, "%s/%s-%u.snap", g->dir, gr->app, gr->id) >=
		    (int)sizeof final) {
			e = ENAMETOOLONG;
			snprintf(err, errlen, "snapshot path too long");
		} else if ((e = write_out(gr->memfd, claimed, gr->path)) != 0) {
			snprintf(err, errlen, "write %s: %s", gr->path, strerror(e));
		} else if (rename(gr->path, final) < 0) {
			e = errno;
			snprintf(err, errlen, "rename %s: %s", gr->path, strerror(e));
		}
	}
	if (e) {
		pid_t h = 0;
		remove_file(gr);
		if (!*holder)
			h = grants_fd_holder(gr->dev, gr->ino, getpid());
		if (h)
			*holder = h;
		close(gr->memfd);
		unlink_grant(g, gr);
		free(gr);
		errno = e;
		return -1;
	}
	/* The file holds it now; the memory goes once no app fd is left. */
	close(gr->memfd);
	gr->memfd = -1;
	snprintf(gr->path, sizeof gr->path, "%s", final);
	gr->state = GRANT_DONE;
	gr->bytes = claimed;
	gr->write_ms = (double)(now_us - gr->started_us) / 1000.0;
	return 0;
}

int grants_remove(struct grants *g, uint32_t id)
{
	struct grant *gr = grants_find(g, id);
	if (!gr) {
		errno = ENOENT;
		return -1;
	}
	if (gr->state == GRANT_PENDING) {
		errno = EBUSY;
		return -1;
	}
	remove_file(gr);
	unlink_grant(g, gr);
	free(gr);
	return 0;
}
