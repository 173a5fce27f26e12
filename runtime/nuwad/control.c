/* The control socket: connections, who the peer is and what it may do,
 * framed requests, validation, rate limits; each request then goes to its
 * row of the command table (commands.c). */
#include <errno.h>
#include <signal.h>
#include <grp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "nuwad.h"
#include "app_table.h"
#include "reply.h"
#include "commands.h"
#include "proto.h"

#define MAX_WORDS 16
#define MAX_WORD 256
#define PARTIAL_TIMEOUT_US (10 * 1000000LL)   /* half a request for this long */
#define IDLE_TIMEOUT_US (300 * 1000000LL)     /* connected, nothing asked */
#define MAX_OUT (4 * NUWA_CTL_MAX_RESPONSE)
#define REFUSED_TIMEOUT_US (2 * 1000000LL)    /* a peer with no rights: its one answer */
#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77                       /* Linux 6.5; older kernels say ENOPROTOOPT */
#endif

struct client {
	uint64_t id;
	int fd;
	unsigned char in[NUWA_CTL_HDR + NUWA_CTL_MAX_REQUEST];
	size_t inlen;
	char *out;
	size_t outlen, outoff;
	int busy;             /* a request is being answered */
	int closing;          /* close once the output is flushed */
	double tokens;        /* rate limit bucket */
	int64_t refill_us;
	int64_t activity_us;  /* last byte in or request answered */
	int64_t partial_us;   /* first byte of the current frame, 0 if none */
	/* the peer (SO_PEERCRED at accept) and what it may do */
	pid_t peer_pid;
	uid_t peer_uid;
	gid_t peer_gid;
	enum peer_rights { PEER_NONE, PEER_STATUS, PEER_CONTROL } rights;
	int denied_logged;
	struct client *next;
};

/* GID is the peer's primary or one of its supplementary groups. */
static int peer_in_group(int fd, gid_t primary, long gid)
{
	gid_t groups[256];
	socklen_t len = sizeof groups;
	unsigned i;
	if (gid < 0)
		return 0;
	if (primary == (gid_t)gid)
		return 1;
#ifdef SO_PEERGROUPS
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0) {
		for (i = 0; i < len / sizeof groups[0]; i++)
			if (groups[i] == (gid_t)gid)
				return 1;
	}
#else
	(void)groups;
	(void)len;
	(void)i;
#endif
	return 0;
}

/* The pid of the process PIDFD refers to, 0 when it has exited, -1 when
 * the kernel does not say (fdinfo's "Pid:" line). */
static pid_t pidfd_pid(int pidfd)
{
	char path[64], line[128];
	pid_t pid = -1;
	FILE *f;
	snprintf(path, sizeof path, "/proc/self/fdinfo/%d", pidfd);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (!strncmp(line, "Pid:", 4)) {
			long v = strtol(line + 4, NULL, 10);
			pid = v < 0 ? 0 : (pid_t)v;
			break;
		}
	fclose(f);
	return pid;
}

/* The connecting process still exists, so its pid names it and not a
 * process that came after it (issue 20 item 3: a child of an app connects,
 * hands the fd over and exits). With SO_PEERPIDFD the kernel's own handle
 * says; without it, the pid must at least still exist. */
static int peer_still_there(int fd, pid_t pid)
{
	int pidfd = -1;
	socklen_t len = sizeof pidfd;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) == 0 && pidfd >= 0) {
		pid_t now = pidfd_pid(pidfd);
		close(pidfd);
		if (now >= 0)
			return now == pid;
	}
	return kill(pid, 0) == 0 || errno == EPERM;
}

/* UID is one an app runs as: its [app] uid, or the app_uids range. */
static int uid_is_an_apps(const struct nuwad *d, uid_t uid)
{
	if (uid == 0 || uid == geteuid())
		return 0; /* apps never get these (the launch refuses root) */
	if (d->conf.app_uids.lo > 0 && (long)uid >= d->conf.app_uids.lo && (long)uid <= d->conf.app_uids.hi)
		return 1;
	for (int i = 0; i < d->conf.napps; i++)
		if (d->conf.apps[i].uid >= 0 && (uid_t)d->conf.apps[i].uid == uid)
			return 1;
	return 0;
}

/* Who is on the other end, and what it may do (docs/security.md). An app
 * (or a child of one) gets nothing, whatever its ids; so does a peer whose
 * pid no longer names it, and one running as an app's uid. */
static void classify_peer(struct nuwad *d, struct client *c)
{
	struct ucred cred;
	socklen_t len = sizeof cred;
	c->rights = PEER_NONE;
	c->peer_pid = 0;
	c->peer_uid = (uid_t)-1;
	c->peer_gid = (gid_t)-1;
	if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || len != sizeof cred)
		return;
	c->peer_pid = cred.pid;
	c->peer_uid = cred.uid;
	c->peer_gid = cred.gid;
	if (cred.pid <= 0 || nuwad_pid_is_app(d, cred.pid) || !peer_still_there(c->fd, cred.pid) ||
	    uid_is_an_apps(d, cred.uid))
		return;
	/* Checked again now that the pid is known to be the peer's: it may have
	 * joined an app's group in between. */
	if (nuwad_pid_is_app(d, cred.pid))
		return;
	if (cred.uid == 0 || cred.uid == geteuid() ||
	    peer_in_group(c->fd, cred.gid, d->conf.control_group))
		c->rights = PEER_CONTROL;
	else if (d->conf.status_any || peer_in_group(c->fd, cred.gid, d->conf.status_group))
		c->rights = PEER_STATUS;
}

/* One log line per refused connection, and not more than a few per
 * 10 s overall: a hostile peer must not fill the log. */
static void log_denied(struct client *c, const char *cmd)
{
	static int64_t window_us;
	static unsigned in_window, suppressed;
	int64_t now = nuwad_now_us();
	if (c->denied_logged)
		return;
	c->denied_logged = 1;
	if (now - window_us > 10 * 1000000LL) {
		if (suppressed)
			nuwad_log("control: %u more refused peers not logged", suppressed);
		window_us = now;
		in_window = suppressed = 0;
	}
	if (++in_window > 10) {
		suppressed++;
		return;
	}
	nuwad_log("control: permission denied for '%.32s' to pid %d uid %d gid %d", cmd,
		  (int)c->peer_pid, (int)c->peer_uid, (int)c->peer_gid);
}

static void control_reply(struct nuwad *d, uint64_t cid, int ok, const char *body, size_t len);

int control_listen(struct nuwad *d)
{
	d->answer = control_reply;
	struct sockaddr_un sa = { .sun_family = AF_UNIX }, tmp = { .sun_family = AF_UNIX };
	int fd;
	mode_t old;

	if (strlen(d->socket_path) >= sizeof sa.sun_path) {
		fprintf(stderr, "nuwad: socket path too long: %s\n", d->socket_path);
		return -1;
	}
	strcpy(sa.sun_path, d->socket_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		perror("nuwad: socket");
		return -1;
	}
	/* A socket file left by a dead nuwad is removed; a live one is not. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
		fprintf(stderr, "nuwad: another nuwad is serving %s\n", d->socket_path);
		close(fd);
		return -1;
	}
	close(fd);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		perror("nuwad: socket");
		return -1;
	}
	/* Bind and listen on a temporary name, then rename: the socket path
	 * appears only once it accepts connections. */
	snprintf(tmp.sun_path, sizeof tmp.sun_path, "%s.%d", d->socket_path, (int)getpid());
	if (strlen(d->socket_path) + 12 >= sizeof sa.sun_path) {
		fprintf(stderr, "nuwad: socket path too long: %s\n", d->socket_path);
		close(fd);
		return -1;
	}
	unlink(tmp.sun_path);
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&tmp, sizeof tmp) < 0) {
		fprintf(stderr, "nuwad: bind %s: %s\n", tmp.sun_path, strerror(errno));
		umask(old);
		close(fd);
		return -1;
	}
	umask(old);
	if (d->conf.socket_group) {
		struct group *g = getgrnam(d->conf.socket_group);
		if (!g || chown(tmp.sun_path, (uid_t)-1, g->gr_gid) < 0 ||
		    chmod(tmp.sun_path, 0660) < 0) {
			fprintf(stderr, "nuwad: socket group %s: %s\n", d->conf.socket_group,
				g ? strerror(errno) : "no such group");
			close(fd);
			unlink(tmp.sun_path);
			return -1;
		}
	}
	if (listen(fd, 512) < 0 || rename(tmp.sun_path, d->socket_path) < 0) {
		fprintf(stderr, "nuwad: listen on %s: %s\n", d->socket_path, strerror(errno));
		close(fd);
		unlink(tmp.sun_path);
		return -1;
	}
	d->listen_fd = fd;
	return 0;
}

static void client_free(struct nuwad *d, struct client *c)
{
	struct client **pp;
	for (pp = &d->clients; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	close(c->fd);
	free(c->out);
	free(c);
	d->nclients--;
}

void control_close(struct nuwad *d)
{
	while (d->clients)
		client_free(d, d->clients);
	close(d->listen_fd);
	unlink(d->socket_path);
}

/* Connection slots (issue 20 item 4): the last few are kept for peers with
 * every right (root, nuwad's uid, control_group); peers with no rights
 * share a small part, each uid with read-only rights a quarter. So no app,
 * nor any user, can hold enough connections to lock root out. */
static int slot_for(const struct nuwad *d, const struct client *c)
{
	int max = d->conf.max_clients, reserved = max / 8 < 1 ? 1 : max / 8;
	int none = 0, same_uid = 0;
	if (d->nclients >= max)
		return 0;
	if (c->rights == PEER_CONTROL)
		return 1;
	if (d->nclients >= max - reserved)
		return 0;
	for (const struct client *x = d->clients; x; x = x->next) {
		none += x->rights == PEER_NONE;
		same_uid += x->rights == PEER_STATUS && x->peer_uid == c->peer_uid;
	}
	if (c->rights == PEER_NONE)
		return none < (reserved > 4 ? reserved : 4);
	return same_uid < (max / 4 > 1 ? max / 4 : 1);
}

void control_accept(struct nuwad *d)
{
	for (;;) {
		struct client *c;
		int fd = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				nuwad_log("accept: %s", strerror(errno));
			return;
		}
		c = calloc(1, sizeof *c);
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		classify_peer(d, c);
		if (!slot_for(d, c)) {
			/* Over its limit: a closed connection is the answer. */
			close(fd);
			free(c);
			continue;
		}
		c->id = ++d->next_client;
		c->tokens = d->conf.rate_limit;
		c->refill_us = c->activity_us = nuwad_now_us();
		c->next = d->clients;
		d->clients = c;
		d->nclients++;
	}
}

static struct client *find(struct nuwad *d, uint64_t cid)
{
	struct client *c;
	for (c = d->clients; c; c = c->next)
		if (c->id == cid)
			return c;
	return NULL;
}

static void flush(struct nuwad *d, struct client *c)
{
	while (c->outoff < c->outlen) {
		ssize_t n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			client_free(d, c);
			return;
		}
		c->outoff += (size_t)n;
	}
	c->outoff = c->outlen = 0;
	if (c->closing)
		client_free(d, c);
}

static void process(struct nuwad *d, struct client *c);
static int processing; /* inside process(): it picks up the next request itself */

static void queue(struct nuwad *d, struct client *c, int status, const char *body, size_t len)
{
	unsigned char h[NUWA_CTL_HDR];
	char *b;
	if (len > NUWA_CTL_MAX_RESPONSE) {
		static const char big[] = "answer too large";
		body = big;
		len = sizeof big - 1;
		status = NUWA_CTL_ERR;
	}
	if (c->outlen + sizeof h + len > MAX_OUT) {
		client_free(d, c); /* not reading its answers */
		return;
	}
	b = realloc(c->out, c->outlen + sizeof h + len);
	if (!b) {
		client_free(d, c);
		return;
	}
	c->out = b;
	h[0] = (unsigned char)(len >> 24);
	h[1] = (unsigned char)(len >> 16);
	h[2] = (unsigned char)(len >> 8);
	h[3] = (unsigned char)len;
	h[4] = 0;
	h[5] = (unsigned char)status;
	h[6] = h[7] = 0;
	memcpy(c->out + c->outlen, h, sizeof h);
	memcpy(c->out + c->outlen + sizeof h, body, len);
	c->outlen += sizeof h + len;
	c->busy = 0;
	if (status == NUWA_CTL_OK)
		c->activity_us = nuwad_now_us(); /* junk and refusals do not keep it connected */
	flush(d, c);
}

static void control_reply(struct nuwad *d, uint64_t cid, int ok, const char *body, size_t len)
{
	struct client *c = find(d, cid);
	if (!c)
		return; /* the client left; nothing to answer */
	queue(d, c, ok ? NUWA_CTL_OK : NUWA_CTL_ERR, body, len);
	if (!processing && (c = find(d, cid)) && !c->busy && !c->closing)
		process(d, c); /* a pipelined request may be waiting */
}


/* Split PAYLOAD into NUL-terminated words. -1 on a malformed payload. */
static int split(char *payload, size_t len, char **words, char *why, size_t whylen)
{
	size_t i, start = 0;
	int n = 0;
	if (len == 0) {
		snprintf(why, whylen, "empty request");
		return -1;
	}
	if (payload[len - 1] != 0) {
		snprintf(why, whylen, "request not NUL-terminated");
		return -1;
	}
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)payload[i];
		if (ch == 0) {
			if (i - start > MAX_WORD) {
				snprintf(why, whylen, "argument %d longer than %d bytes", n + 1, MAX_WORD);
				return -1;
			}
			if (n == MAX_WORDS) {
				snprintf(why, whylen, "more than %d arguments", MAX_WORDS);
				return -1;
			}
			words[n++] = payload + start;
			start = i + 1;
		} else if (ch < 0x20 || ch == 0x7f) {
			snprintf(why, whylen, "control character in argument %d", n + 1);
			return -1;
		}
	}
	if (!words[0][0]) {
		snprintf(why, whylen, "empty command");
		return -1;
	}
	return n;
}

/* May peer C use CMD (NULL: a command not in the table)? Control peers
 * may use every command, status peers only the table's read-only ones, and
 * an app none (docs/security.md). */
static int peer_may(const struct client *c, const struct nuwa_cmd *cmd)
{
	if (c->rights == PEER_CONTROL)
		return 1;
	return c->rights == PEER_STATUS && cmd && cmd->rights == NUWA_CMD_READ_ONLY;
}

static void dispatch(struct nuwad *d, struct client *c, int text, int64_t t_arrival,
		     char **w, int n)
{
	const struct nuwa_cmd *cmd = nuwa_cmd_find(w[0]);
	struct cmd_req r = { .cid = c->id, .text = text, .arrival_us = t_arrival, .w = w, .n = n };

	if (!peer_may(c, cmd)) {
		log_denied(c, w[0]);
		if (c->rights == PEER_NONE)
			c->closing = 1; /* nothing else it could ask is allowed either */
		reply_err(d, c->id, "permission denied");
		return;
	}
	c->activity_us = t_arrival; /* only a request it may make keeps it connected */
	commands_run(d, cmd, &r);
}

/* Handle complete requests in C's input while it is not busy. */
static void process_requests(struct nuwad *d, struct client *c);
static void process(struct nuwad *d, struct client *c)
{
	processing++;
	process_requests(d, c);
	processing--;
}

static void process_requests(struct nuwad *d, struct client *c)
{
	uint64_t cid = c->id;
	while ((c = find(d, cid)) && !c->busy && !c->closing && c->inlen >= NUWA_CTL_HDR) {
		uint32_t len = (uint32_t)c->in[0] << 24 | (uint32_t)c->in[1] << 16 |
			       (uint32_t)c->in[2] << 8 | c->in[3];
		unsigned version = (unsigned)c->in[4] << 8 | c->in[5];
		unsigned flags = (unsigned)c->in[6] << 8 | c->in[7];
		char payload[NUWA_CTL_MAX_REQUEST + 1], why[128];
		char *words[MAX_WORDS + 1] = { 0 };
		int64_t now = nuwad_now_us();
		int n;

		if (version != NUWA_CTL_VERSION) {
			c->closing = 1;
			c->inlen = 0;
			queue(d, c, NUWA_CTL_ERR, "unsupported protocol version", 28);
			return;
		}
		if (len > NUWA_CTL_MAX_REQUEST) {
			snprintf(why, sizeof why, "request too large (%u bytes, at most %d)", len,
				 NUWA_CTL_MAX_REQUEST);
			c->closing = 1;
			c->inlen = 0;
			queue(d, c, NUWA_CTL_ERR, why, strlen(why));
			return;
		}
		if (c->inlen < NUWA_CTL_HDR + len)
			return; /* wait for the rest */
		memcpy(payload, c->in + NUWA_CTL_HDR, len);
		payload[len] = 0;
		memmove(c->in, c->in + NUWA_CTL_HDR + len, c->inlen - NUWA_CTL_HDR - len);
		c->inlen -= NUWA_CTL_HDR + len;
		c->partial_us = c->inlen ? now : 0;

		/* Token bucket: rate_limit requests per second, same burst. */
		c->tokens += (double)(now - c->refill_us) * d->conf.rate_limit / 1e6;
		if (c->tokens > d->conf.rate_limit)
			c->tokens = d->conf.rate_limit;
		c->refill_us = now;
		if (c->tokens < 1) {
			c->busy = 1;
			reply_err(d, cid, "rate limit exceeded (%d requests/s)", d->conf.rate_limit);
			continue;
		}
		c->tokens -= 1;
		n = split(payload, len, words, why, sizeof why);
		c->busy = 1;
		if (n < 0) {
			reply_err(d, cid, "malformed request: %s", why);
			continue;
		}
		dispatch(d, c, flags & NUWA_CTL_FLAG_TEXT, now, words, n);
	}
}

void control_ready(struct nuwad *d, struct client *c, short revents)
{
	struct client *x;
	uint64_t cid;
	for (x = d->clients; x && x != c; x = x->next)
		;
	if (!x)
		return; /* freed earlier in this round */
	cid = c->id;
	if (revents & POLLOUT)
		flush(d, c);
	if (!(c = find(d, cid)))
		return;
	if (revents & (POLLIN | POLLHUP | POLLERR)) {
		size_t room = sizeof c->in - c->inlen;
		ssize_t n;
		if (room == 0) {
			/* Busy with a request and the next one is already a full
			 * buffer: stop reading until the answer goes out. */
			if (revents & (POLLHUP | POLLERR))
				client_free(d, c);
			return;
		}
		n = recv(c->fd, c->in + c->inlen, room, 0);
		if (n == 0 && c->busy) {
			/* Half-closed while its request is being answered: answer,
			 * then close (see control_poll_fds). */
			c->closing = 1;
			return;
		}
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			client_free(d, c); /* pending answers for it are dropped */
			return;
		}
		if (n > 0) {
			if (!c->inlen)
				c->partial_us = nuwad_now_us();
			c->inlen += (size_t)n;
		}
		process(d, c);
	}
}

int control_poll_fds(struct nuwad *d, struct pollfd *p, void **tag, int max)
{
	struct client *c;
	int n = 0;
	for (c = d->clients; c && n < max; c = c->next) {
		if (c->closing && c->outlen == c->outoff)
			continue; /* waiting for its answer; poll would only say HUP */
		p[n].fd = c->fd;
		p[n].events = (short)((c->inlen < sizeof c->in && !c->closing ? POLLIN : 0) |
				      (c->outlen > c->outoff ? POLLOUT : 0));
		p[n].revents = 0;
		tag[n++] = c;
	}
	return n;
}

void control_timers(struct nuwad *d, int64_t now, int64_t *next)
{
	struct client *c, *nx;
	for (c = d->clients; c; c = nx) {
		int64_t due;
		nx = c->next;
		if (c->busy)
			continue;
		due = c->inlen ? c->partial_us + PARTIAL_TIMEOUT_US : c->activity_us + IDLE_TIMEOUT_US;
		if (c->rights == PEER_NONE && c->activity_us + REFUSED_TIMEOUT_US < due)
			due = c->activity_us + REFUSED_TIMEOUT_US;
		if (now >= due) {
			client_free(d, c); /* slow or silent client */
			continue;
		}
		if (due < *next)
			*next = due;
	}
}
