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
 *       park      good snapshot, but first park a dup of the granted fd
 *                 in flight (SCM_RIGHTS on a socketpair of its own), so
 *                 no /proc scan finds it
 *   held                  fds this process holds that it did not open
 *                         before the snapshot (the kept grant, if any)
 *   unpark                take the parked fd back and overwrite the snapshot
 *                         through it: "ok" or the errno name
 *   probe control SOCK CMD...  a control request on nuwad's socket SOCK:
 *                         "answer=<status> <body>" or the errno name
 *   probe race SOCK N CMD...  N times: a child connects, hands over the fd
 *                         and exits, then CMD goes out on it: "won W lost L"
 *   probe hold SOCK N     hold N connections to SOCK open: "held K"
 *   probe setown PID      F_SETOWN PID + F_SETSIG SIGKILL + O_ASYNC on a pipe
 *   probe fiosetown PID   ioctl(FIOSETOWN, PID) on a pipe
 *   probe prlimit PID     prlimit64(PID, RLIMIT_CORE, {0, 0})
 *   probe setpriority PID setpriority(PRIO_PROCESS, PID, 19)
 *   probe sched PID       sched_setscheduler(PID, SCHED_OTHER)
 *   probe forbidden       a system call outside the allowlist (msgget): the
 *                         seccomp filter kills the app
 *   probe connect PORT    TCP connect to 127.0.0.1:PORT
 *   probe bind PORT       TCP bind to 127.0.0.1:PORT
 *   probe abstract NAME   connect to the abstract UNIX socket "@NAME"
 *   fork-child            fork a child that sleeps; answers its pid
 *   stderr TEXT           write TEXT and a newline to stderr; "ok"
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nuwa.h"
#include "nuwa_app.h"
#include "nuwa_snapshot.h"

enum mode { NORMAL, KEEP_FD, OVERFLOW, SILENT, GARBAGE, PARK };
static enum mode mode;
static int kept_fd = -1;
static int park_sv[2] = { -1, -1 };

/* Put a dup of FD in flight on our own socketpair and close the dup. */
static int park(int fd)
{
	char c = 'p', cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &c, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			    .msg_controllen = sizeof cbuf };
	struct cmsghdr *cm;
	int rc;
	if (park_sv[0] < 0 && socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, park_sv) < 0)
		return -1;
	memset(cbuf, 0, sizeof cbuf);
	cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof fd);
	rc = (int)sendmsg(park_sv[0], &m, 0);
	return rc < 0 ? -1 : 0;
}

static int unpark(void)
{
	char c, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &c, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			    .msg_controllen = sizeof cbuf };
	struct cmsghdr *cm;
	int fd = -1, rc;
	if (park_sv[1] < 0 || recvmsg(park_sv[1], &m, MSG_DONTWAIT) < 0)
		return -1;
	cm = CMSG_FIRSTHDR(&m);
	if (!cm || cm->cmsg_type != SCM_RIGHTS) {
		errno = ENOENT;
		return -1;
	}
	memcpy(&fd, CMSG_DATA(cm), sizeof fd);
	/* Overwrite the start of the accepted snapshot, then grow it. */
	rc = (int)pwrite(fd, "EVIL-EVIL-EVIL", 14, 0);
	if (rc >= 0)
		rc = (int)write(fd, "more evil\n", 10);
	close(fd);
	return rc < 0 ? -1 : 0;
}

static int control_connect(const char *sock)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* A control request on FD (connected to nuwad), as nuwactl would send it;
 * FD is closed. */
static int request_on(int fd, const char *words, char *reply, size_t cap);

/* A control request on nuwad's socket, as nuwactl would send it. */
static int control_request(const char *sock, const char *words, char *reply, size_t cap)
{
	int fd = control_connect(sock);
	if (fd < 0)
		return -1;
	return request_on(fd, words, reply, cap);
}

/* The peer race (issue 20 item 3): a child connects, hands the connected
 * fd over and exits; once it is reaped, the request goes out on that fd, so
 * the peer's pid names nobody. TRIES times; "won N" counts the answers that
 * were not "permission denied". */
static int control_race(const char *sock, int tries, const char *words, char *reply, size_t cap)
{
	int won = 0, lost = 0, i;
	for (i = 0; i < tries; i++) {
		char one[512];
		int sv[2], fd = -1, status;
		pid_t child;
		if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) < 0)
			return -1;
		child = fork();
		if (child == 0) {
			int c = control_connect(sock);
			park_sv[0] = sv[0];
			_exit(c >= 0 && park(c) == 0 ? 0 : 1);
		}
		if (child > 0 && waitpid(child, &status, 0) == child) {
			char c, cbuf[CMSG_SPACE(sizeof(int))];
			struct iovec iov = { &c, 1 };
			struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
					    .msg_controllen = sizeof cbuf };
			struct cmsghdr *cm;
			if (recvmsg(sv[1], &m, MSG_DONTWAIT) > 0 && (cm = CMSG_FIRSTHDR(&m)) &&
			    cm->cmsg_type == SCM_RIGHTS)
				memcpy(&fd, CMSG_DATA(cm), sizeof fd);
		}
		close(sv[0]);
		close(sv[1]);
		if (fd < 0 || request_on(fd, words, one, sizeof one) < 0) {
			lost++;
			continue;
		}
		if (strstr(one, "permission denied"))
			lost++;
		else
			won++;
	}
	return snprintf(reply, cap, "won %d lost %d", won, lost);
}

/* Hold N connections to nuwad's socket open (never closed): "held K". */
static int control_hold(const char *sock, int n, char *reply, size_t cap)
{
	int held = 0;
	while (n-- > 0)
		held += control_connect(sock) >= 0;
	return snprintf(reply, cap, "held %d", held);
}

static int request_on(int fd, const char *words, char *reply, size_t cap)
{
	unsigned char buf[4096 + 8], h[8];
	size_t len = 0;
	const char *w = words;
	int n;
	while (*w && len < 4000) {
		size_t l = strcspn(w, " ");
		memcpy(buf + 8 + len, w, l);
		len += l;
		buf[8 + len++] = 0;
		w += l;
		w += strspn(w, " ");
	}
	buf[0] = (unsigned char)(len >> 24);
	buf[1] = (unsigned char)(len >> 16);
	buf[2] = (unsigned char)(len >> 8);
	buf[3] = (unsigned char)len;
	buf[4] = 0;
	buf[5] = 1;
	buf[6] = 0;
	buf[7] = 1; /* text */
	if (write(fd, buf, 8 + len) != (ssize_t)(8 + len) || read(fd, h, 8) != 8) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	len = (size_t)h[0] << 24 | (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3];
	n = (int)read(fd, buf, len < sizeof buf - 1 ? len : sizeof buf - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	snprintf(reply, cap, "answer=%d %s", h[5], (char *)buf);
	return 0;
}

static const char *ename(int e)
{
	switch (e) {
	case 0: return "ok";
	case EACCES: return "EACCES";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EROFS: return "EROFS";
	case ESRCH: return "ESRCH";
	default: {
		/* strerrorname_np is glibc's only: the number, on every C library. */
		static __thread char other[24];
		snprintf(other, sizeof other, "errno %d", e);
		return other;
	}
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
	case PARK:
		if (park(fd) < 0)
			return -1;
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
	if (!strncmp(req, "probe race ", 11)) {
		char sock[108];
		int tries, off = 0;
		if (sscanf(req + 11, "%107s %d %n", sock, &tries, &off) != 2 || !off)
			return -1;
		return control_race(sock, tries, req + 11 + off, reply, cap);
	}
	if (!strncmp(req, "probe hold ", 11)) {
		char sock[108];
		int n;
		if (sscanf(req + 11, "%107s %d", sock, &n) != 2)
			return -1;
		return control_hold(sock, n, reply, cap);
	}
	if (!strncmp(req, "probe control ", 14)) {
		char sock[108];
		int off = 0;
		if (sscanf(req + 14, "%107s %n", sock, &off) != 1 || !off)
			return -1;
		if (control_request(sock, req + 14 + off, reply, cap) == 0)
			return (int)strlen(reply);
		return result(reply, cap, -1);
	}
	if (!strncmp(req, "probe setown ", 13)) {
		int p[2], rc;
		if (pipe(p) < 0)
			return result(reply, cap, -1);
		rc = fcntl(p[0], F_SETOWN, atoi(req + 13));
		if (rc == 0)
			rc = fcntl(p[0], F_SETSIG, SIGKILL);
		if (rc == 0)
			rc = fcntl(p[0], F_SETFL, O_ASYNC | O_NONBLOCK);
		if (rc == 0 && write(p[1], "x", 1) != 1)
			rc = -1;
		result(reply, cap, rc);
		close(p[0]);
		close(p[1]);
		return (int)strlen(reply);
	}
	if (!strncmp(req, "probe fiosetown ", 16)) {
		int p[2], rc, pid = atoi(req + 16);
		if (pipe(p) < 0)
			return result(reply, cap, -1);
		rc = ioctl(p[0], FIOSETOWN, &pid);
		result(reply, cap, rc);
		close(p[0]);
		close(p[1]);
		return (int)strlen(reply);
	}
	if (!strncmp(req, "probe prlimit ", 14)) {
		struct rlimit r = { 0, 0 };
		return result(reply, cap, prlimit((pid_t)atoi(req + 14), RLIMIT_CORE, &r, NULL));
	}
	if (!strncmp(req, "probe setpriority ", 18))
		return result(reply, cap, setpriority(PRIO_PROCESS, (id_t)atoi(req + 18), 19));
	if (!strncmp(req, "probe sched ", 12)) {
		/* The raw call: musl's wrapper answers ENOSYS without asking. */
		struct sched_param sp = { 0 };
		return result(reply, cap, (int)syscall(SYS_sched_setscheduler, (long)atoi(req + 12),
						       (long)SCHED_OTHER, &sp));
	}
	if (!strcmp(req, "probe forbidden")) {
#ifdef SYS_msgget
		long rc = syscall(SYS_msgget, 0L, 0L);
#else
		long rc = syscall(SYS_ipc, 13L, 0L, 0L);
#endif
		return result(reply, cap, (int)rc);
	}
	if (!strncmp(req, "probe connect ", 14) || !strncmp(req, "probe bind ", 11)) {
		int bind_it = req[6] == 'b';
		struct sockaddr_in sin = { .sin_family = AF_INET };
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), rc;
		if (fd < 0)
			return result(reply, cap, -1);
		sin.sin_port = htons((unsigned short)atoi(req + (bind_it ? 11 : 14)));
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		rc = bind_it ? bind(fd, (struct sockaddr *)&sin, sizeof sin)
			     : connect(fd, (struct sockaddr *)&sin, sizeof sin);
		result(reply, cap, rc);
		close(fd);
		return (int)strlen(reply);
	}
	if (!strncmp(req, "probe socket ", 13)) {
		/* "probe socket FAMILY TYPE": only creates the socket (what the
		 * seccomp socket check decides); FAMILY unix|inet|inet6|netlink|
		 * packet, TYPE stream|dgram|raw|sctp (an inet stream of SCTP). */
		static const struct { const char *name; int v; } fam[] = {
			{ "unix", AF_UNIX }, { "inet", AF_INET }, { "inet6", AF_INET6 },
			{ "netlink", AF_NETLINK }, { "packet", AF_PACKET },
		};
		char f[16], t[16];
		int family = -1, type, proto = 0, fd;
		size_t i;
		if (sscanf(req + 13, "%15s %15s", f, t) != 2)
			return snprintf(reply, cap, "bad probe");
		for (i = 0; i < sizeof fam / sizeof fam[0]; i++)
			if (!strcmp(f, fam[i].name))
				family = fam[i].v;
		type = !strcmp(t, "dgram") ? SOCK_DGRAM : !strcmp(t, "raw") ? SOCK_RAW : SOCK_STREAM;
		if (!strcmp(t, "sctp"))
			proto = IPPROTO_SCTP;
		if (family < 0)
			return snprintf(reply, cap, "bad probe");
		fd = socket(family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, proto);
		result(reply, cap, fd < 0 ? -1 : 0);
		if (fd >= 0)
			close(fd);
		return (int)strlen(reply);
	}
	if (!strncmp(req, "probe abstract ", 15)) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		size_t n = strlen(req + 15);
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), rc;
		if (fd < 0 || n + 1 > sizeof sa.sun_path)
			return result(reply, cap, -1);
		memcpy(sa.sun_path + 1, req + 15, n); /* sun_path[0] = 0: abstract */
		rc = connect(fd, (struct sockaddr *)&sa, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n));
		result(reply, cap, rc);
		close(fd);
		return (int)strlen(reply);
	}
	if (!strcmp(req, "fork-child")) {
		pid_t pid = fork();
		if (pid == 0) {
			for (;;)
				pause();
		}
		if (pid < 0)
			return result(reply, cap, -1);
		return snprintf(reply, cap, "%d", (int)pid);
	}
	if (!strncmp(req, "stderr ", 7)) {
		dprintf(2, "%s\n", req + 7);
		return snprintf(reply, cap, "ok");
	}
	if (!strcmp(req, "unpark"))
		return result(reply, cap, unpark());
	if (!strcmp(req, "probe exec")) {
		execl("/bin/sh", "sh", "-c", "true", (char *)NULL);
		return result(reply, cap, -1);
	}
	if (!strcmp(req, "status")) {
		char nnp[16], sec[16], uid[64], eff[32], prm[32], bnd[32], inh[32], amb[32];
		status_field("NoNewPrivs:", nnp, sizeof nnp);
		status_field("Seccomp:", sec, sizeof sec);
		status_field("Uid:", uid, sizeof uid);
		status_field("CapEff:", eff, sizeof eff);
		status_field("CapPrm:", prm, sizeof prm);
		status_field("CapBnd:", bnd, sizeof bnd);
		status_field("CapInh:", inh, sizeof inh);
		status_field("CapAmb:", amb, sizeof amb);
		return snprintf(reply, cap, "uid=%s nnp=%s seccomp=%s pid=%d capeff=%s capprm=%s "
				"capbnd=%s capinh=%s capamb=%s", uid, nnp, sec, (int)getpid(), eff, prm,
				bnd, inh, amb);
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
		else if (!strcmp(a, "park"))
			mode = PARK;
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
