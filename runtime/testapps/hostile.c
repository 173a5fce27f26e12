/*
 * app-hostile: a test app that behaves like a compromised app, to show that
 * the sandbox and the snapshot grants contain it (docs/security.md).
 * Requests (answers are "ok" or the errno name of the refusal):
 *   probe create PATH     open(PATH, O_CREAT|O_WRONLY)
 *   probe write PATH      open(PATH, O_WRONLY) of an existing file
 *   probe read PATH       open(PATH, O_RDONLY)
 *   probe mem PID         open /proc/PID/mem
 *   probe kill PID        kill(PID, SIGTERM)
 *   probe ptrace PID      ptrace(PTRACE_ATTACH, PID)
 *   probe exec            execve /bin/sh
 *   status                "uid=.. nnp=.. seccomp=.." from /proc/self/status
 *   grant MODE            how to treat the next snapshot request:
 *       normal    the libnuwa writer (a good snapshot)
 *       keep-fd   good snapshot, but keep a dup of the granted fd
 *       overflow  write past the granted size, then claim all of it
 *       silent    close the fd and never answer
 *       garbage   answer DONE with text that is not a byte count
 *   unsolicited N         send N grant-range messages to nuwad, some with
 *                         an fd attached, some asking for a snapshot file
 *   held                  fds this process holds that it did not open
 *                         before the snapshot (the kept grant, if any)
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <unistd.h>

#include "nuwa.h"
#include "nuwa_app.h"
#include "nuwa_snapshot.h"

enum mode { NORMAL, KEEP_FD, OVERFLOW, SILENT, GARBAGE };
static enum mode mode;
static int kept_fd = -1;

static const char *ename(int e)
{
	switch (e) {
	case 0: return "ok";
	case EACCES: return "EACCES";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EROFS: return "EROFS";
	case ESRCH: return "ESRCH";
	default: return strerrorname_np(e) ? strerrorname_np(e) : "E?";
	}
}

static int result(char *reply, size_t cap, int rc)
{
	return snprintf(reply, cap, "%s", ename(rc < 0 ? errno : 0));
}

static int try_open(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static void status_field(const char *key, char *out, size_t cap)
{
	char buf[4096], *p;
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
	if (fd >= 0)
		close(fd);
	snprintf(out, cap, "?");
	if (n <= 0)
		return;
	buf[n] = 0;
	p = strstr(buf, key);
	if (p) {
		p += strlen(key);
		p += strspn(p, " \t");
		snprintf(out, cap, "%.*s", (int)strcspn(p, " \t\n"), p);
	}
}

static int hostile_server(struct nuwa_app *app, uint32_t id, const char *payload, int fd)
{
	static char block[4096];
	unsigned long long max = 0, total = 0;
	char num[32];
	ssize_t w = 0;

	switch (mode) {
	case NORMAL:
		nuwa_snapshot_set_server(NULL);
		nuwa_snapshot_serve(app, id, payload, fd);
		nuwa_snapshot_set_server(hostile_server);
		return 0;
	case KEEP_FD:
		kept_fd = dup(fd);
		nuwa_snapshot_set_server(NULL);
		nuwa_snapshot_serve(app, id, payload, fd);
		nuwa_snapshot_set_server(hostile_server);
		return 0;
	case OVERFLOW:
		sscanf(payload, "max=%llu", &max);
		memset(block, 'A', sizeof block);
		if (write(fd, NUWA_SNAPSHOT_MAGIC, strlen(NUWA_SNAPSHOT_MAGIC)) > 0)
			total = strlen(NUWA_SNAPSHOT_MAGIC);
		/* Keep writing past the grant; RLIMIT_FSIZE says EFBIG at the
		 * limit. Claim what was attempted. */
		while (total < max + 16 * sizeof block) {
			w = write(fd, block, sizeof block);
			total += sizeof block;
			(void)w;
		}
		close(fd);
		snprintf(num, sizeof num, "%llu", total);
		return nuwa_msg_send(app->channel_fd, NUWA_APP_MSG_SNAPSHOT_DONE, id, num,
				     (uint32_t)strlen(num), -1);
	case SILENT:
		close(fd);
		return 0;
	case GARBAGE:
		if (write(fd, "junk", 4) < 0)
			(void)0;
		close(fd);
		return nuwa_msg_send(app->channel_fd, NUWA_APP_MSG_SNAPSHOT_DONE, id,
				     "a lot of bytes, trust me", 24, -1);
	}
	close(fd);
	return -1;
}

static int unsolicited(struct nuwa_app *app, int n)
{
	int i, sent = 0, p[2];
	if (pipe(p) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		/* Requests for a file, answers to snapshots never asked for, and
		 * fds pushed at nuwad. */
		uint16_t type = (uint16_t)(NUWA_APP_MSG_GRANT_FIRST + i % 32);
		int fd = i % 3 == 0 ? p[1] : -1;
		if (nuwa_msg_send(app->channel_fd, type, (uint32_t)(i + 1), "max=999999999", 13, fd) == 0)
			sent++;
	}
	close(p[0]);
	close(p[1]);
	return sent;
}

static int on_request(struct nuwa_app *app, const char *req, size_t len, char *reply,
		      size_t cap, void *arg)
{
	char a[64], b[64];
	(void)len;
	(void)arg;
	if (!strncmp(req, "probe create ", 13))
		return result(reply, cap, try_open(req + 13, O_WRONLY | O_CREAT | O_EXCL));
	if (!strncmp(req, "probe write ", 12))
		return result(reply, cap, try_open(req + 12, O_WRONLY));
	if (!strncmp(req, "probe read ", 11))
		return result(reply, cap, try_open(req + 11, O_RDONLY));
	if (!strncmp(req, "probe mem ", 10)) {
		char path[64];
		snprintf(path, sizeof path, "/proc/%d/mem", atoi(req + 10));
		return result(reply, cap, try_open(path, O_RDONLY));
	}
	if (!strncmp(req, "probe kill ", 11))
		return result(reply, cap, kill((pid_t)atoi(req + 11), SIGTERM));
	if (!strncmp(req, "probe ptrace ", 13))
		return result(reply, cap, (int)ptrace(PTRACE_ATTACH, (pid_t)atoi(req + 13), NULL, NULL));
	if (!strcmp(req, "probe exec")) {
		execl("/bin/sh", "sh", "-c", "true", (char *)NULL);
		return result(reply, cap, -1);
	}
	if (!strcmp(req, "status")) {
		char nnp[16], sec[16], uid[64];
		status_field("NoNewPrivs:", nnp, sizeof nnp);
		status_field("Seccomp:", sec, sizeof sec);
		status_field("Uid:", uid, sizeof uid);
		return snprintf(reply, cap, "uid=%s nnp=%s seccomp=%s pid=%d", uid, nnp, sec, (int)getpid());
	}
	if (sscanf(req, "grant %63s", a) == 1) {
		if (!strcmp(a, "normal"))
			mode = NORMAL;
		else if (!strcmp(a, "keep-fd"))
			mode = KEEP_FD;
		else if (!strcmp(a, "overflow"))
			mode = OVERFLOW;
		else if (!strcmp(a, "silent"))
			mode = SILENT;
		else if (!strcmp(a, "garbage"))
			mode = GARBAGE;
		else
			return -1;
		return snprintf(reply, cap, "mode %s", a);
	}
	if (sscanf(req, "unsolicited %63s", b) == 1)
		return snprintf(reply, cap, "sent %d", unsolicited(app, atoi(b)));
	if (!strcmp(req, "held"))
		return snprintf(reply, cap, "%s", kept_fd >= 0 ? "kept" : "none");
	return -1;
}

int nuwa_app_main(struct nuwa_app *app)
{
	nuwa_snapshot_set_server(hostile_server);
	app->svc->on_request(app, on_request, NULL);
	return app->svc->ready(app);
}
