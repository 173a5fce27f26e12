/* The app side of snapshots (nuwa_snapshot.h): a streaming writer into the
 * fd nuwad granted, with one fixed buffer; nothing is built in memory. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "nuwa_app.h"
#include "nuwa_snapshot.h"

#define SNAP_BUF 4096

struct nuwa_snap {
	int fd;
	uint64_t max;     /* granted size */
	uint64_t total;   /* bytes accepted so far (flushed + buffered) */
	size_t used;
	int error;        /* first errno, sticky */
	char buf[SNAP_BUF];
};

static struct nuwa_snapshot_hooks hooks;
static nuwa_snapshot_server_fn server;

int nuwa_snapshot_set_hooks(const struct nuwa_snapshot_hooks *h)
{
	if (h)
		hooks = *h;
	else
		memset(&hooks, 0, sizeof hooks);
	return 0;
}

void nuwa_snapshot_set_server(nuwa_snapshot_server_fn fn)
{
	server = fn;
}

nuwa_snapshot_server_fn nuwa_snapshot_get_server(void)
{
	return server;
}

static int flush(struct nuwa_snap *s)
{
	size_t off = 0;
	while (off < s->used) {
		ssize_t n = write(s->fd, s->buf + off, s->used - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			s->error = n < 0 ? errno : EIO;
			return -1;
		}
		off += (size_t)n;
	}
	s->used = 0;
	return 0;
}

int nuwa_snap_write(struct nuwa_snap *s, const void *data, size_t len)
{
	const char *p = data;
	if (s->error) {
		errno = s->error;
		return -1;
	}
	if (s->total + len > s->max) {
		/* Stop at the grant's size rather than have nuwad reject it. */
		s->error = EFBIG;
		errno = EFBIG;
		return -1;
	}
	s->total += len;
	while (len > 0) {
		size_t room = sizeof s->buf - s->used, n = len < room ? len : room;
		memcpy(s->buf + s->used, p, n);
		s->used += n;
		p += n;
		len -= n;
		if (s->used == sizeof s->buf && flush(s) < 0) {
			errno = s->error;
			return -1;
		}
	}
	return 0;
}

int nuwa_snap_printf(struct nuwa_snap *s, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	return nuwa_snap_write(s, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

/* Copy a /proc file through the writer's buffer. */
static int copy_file(struct nuwa_snap *s, const char *path)
{
	char chunk[1024];
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;
	if (fd < 0)
		return nuwa_snap_printf(s, "unreadable: %s\n", strerror(errno));
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = nuwa_snap_printf(s, "read error: %s\n", strerror(errno));
			break;
		}
		if (n == 0)
			break;
		if (nuwa_snap_write(s, chunk, (size_t)n) < 0) {
			rc = -1;
			break;
		}
	}
	close(fd);
	return rc;
}

#if defined(__GLIBC__)
/* malloc_info() reports through a FILE: point one at the writer. */
static ssize_t cookie_write(void *c, const char *buf, size_t len)
{
	return nuwa_snap_write(c, buf, len) < 0 ? -1 : (ssize_t)len;
}

static int libc_allocations(struct nuwa_snap *s)
{
	static char filebuf[1024];
	cookie_io_functions_t io = { .write = cookie_write };
	FILE *f = fopencookie(s, "w", io);
	int rc;
	if (!f)
		return nuwa_snap_printf(s, "malloc_info: %s\n", strerror(errno));
	setvbuf(f, filebuf, _IOFBF, sizeof filebuf);
	rc = malloc_info(0, f);
	if (fclose(f) != 0 || rc != 0)
		return -1;
	return nuwa_snap_write(s, "\n", 1);
}

static int libc_heap_stats(struct nuwa_snap *s)
{
#if __GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33)
	struct mallinfo2 m = mallinfo2();
	return nuwa_snap_printf(s,
		"libc.arena_bytes: %zu\nlibc.mmap_bytes: %zu\nlibc.in_use_bytes: %zu\n"
		"libc.free_bytes: %zu\nlibc.free_chunks: %zu\nlibc.releasable_bytes: %zu\n",
		m.arena, m.hblkhd, m.uordblks, m.fordblks, m.ordblks, m.keepcost);
#else
	return nuwa_snap_printf(s, "libc: no mallinfo2\n");
#endif
}
#else
static int libc_allocations(struct nuwa_snap *s)
{
	return nuwa_snap_printf(s, "libc: no allocation report in this C library\n");
}

static int libc_heap_stats(struct nuwa_snap *s)
{
	return nuwa_snap_printf(s, "libc: no heap statistics in this C library\n");
}
#endif

static int write_snapshot(struct nuwa_snap *s, const struct nuwa_app *app, uint32_t id)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (nuwa_snap_write(s, NUWA_SNAPSHOT_MAGIC, strlen(NUWA_SNAPSHOT_MAGIC)) < 0 ||
	    nuwa_snap_printf(s, "app: %s\npid: %d\nmode: %s\nid: %" PRIu32 "\ntime: %lld.%03ld\n"
			     "granted_bytes: %" PRIu64 "\n",
			     app->name, (int)getpid(), app->mode == NUWA_MODE_EXEC ? "exec" : "template",
			     id, (long long)ts.tv_sec, ts.tv_nsec / 1000000, s->max) < 0)
		return -1;
	if (nuwa_snap_printf(s, "== smaps\n") < 0 || copy_file(s, "/proc/self/smaps") < 0)
		return -1;
	if (nuwa_snap_printf(s, "== heap-stats\n") < 0 ||
	    (hooks.heap_stats && hooks.heap_stats(s, hooks.arg) < 0) || libc_heap_stats(s) < 0)
		return -1;
	if (nuwa_snap_printf(s, "== allocations\n") < 0 ||
	    (hooks.walk_allocations && hooks.walk_allocations(s, hooks.arg) < 0) ||
	    libc_allocations(s) < 0)
		return -1;
	/* Trailer: N is the byte count before this line, so a reader can
	 * tell a complete snapshot from a cut one. */
	if (nuwa_snap_printf(s, "== end bytes=%" PRIu64 "\n", s->total) < 0)
		return -1;
	return flush(s);
}

static int answer(struct nuwa_app *app, uint16_t type, uint32_t id, const char *text)
{
	return nuwa_msg_send(app->channel_fd, type, id, text, (uint32_t)strlen(text), -1);
}

int nuwa_snapshot_serve(struct nuwa_app *app, uint32_t id, const char *payload, int fd)
{
	struct nuwa_snap *s;
	char num[32], why[160];
	unsigned long long max = 0;
	int rc;

	if (server)
		return server(app, id, payload, fd);
	if (fd < 0) {
		answer(app, NUWA_APP_MSG_SNAPSHOT_FAILED, id, "snapshot request without a file");
		return -1;
	}
	if (sscanf(payload, "max=%llu", &max) != 1 || max == 0) {
		close(fd);
		answer(app, NUWA_APP_MSG_SNAPSHOT_FAILED, id, "malformed snapshot request");
		return -1;
	}
	/* One small buffer for the whole snapshot, freed before answering. */
	s = calloc(1, sizeof *s);
	if (!s) {
		close(fd);
		answer(app, NUWA_APP_MSG_SNAPSHOT_FAILED, id, "out of memory");
		return -1;
	}
	s->fd = fd;
	s->max = max;
	rc = write_snapshot(s, app, id);
	/* Give the grant back before answering: nuwad checks nobody holds it. */
	if (close(fd) < 0 && !s->error)
		s->error = errno;
	if (rc < 0 || s->error) {
		snprintf(why, sizeof why, "snapshot failed after %llu bytes: %s",
			 (unsigned long long)s->total, strerror(s->error ? s->error : EIO));
		free(s);
		nuwa_log("%s", why);
		answer(app, NUWA_APP_MSG_SNAPSHOT_FAILED, id, why);
		return -1;
	}
	snprintf(num, sizeof num, "%llu", (unsigned long long)s->total);
	free(s);
	return answer(app, NUWA_APP_MSG_SNAPSHOT_DONE, id, num);
}
