/* Framed messages over SOCK_SEQPACKET, and the app-channel helper. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "internal.h"
#include "nuwa_app.h"
#include "nuwa_snapshot.h"

/* Weak: nuwad links this file alone, without the app-side snapshot writer. */
#pragma weak nuwa_snapshot_serve

int nuwa_msg_send(int sock, uint16_t type, uint32_t id, const void *payload,
		  uint32_t len, int pass_fd)
{
	struct nuwa_msg_hdr h = { .type = type, .flags = 0, .id = id, .len = len };
	struct iovec iov[2] = {
		{ .iov_base = &h, .iov_len = sizeof h },
		{ .iov_base = (void *)payload, .iov_len = len },
	};
	union {
		struct cmsghdr c;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
	ssize_t n;

	if (len > NUWA_MSG_MAX_PAYLOAD || (len && !payload)) {
		errno = EMSGSIZE;
		return -1;
	}
	if (pass_fd >= 0) {
		struct cmsghdr *c;
		memset(&u, 0, sizeof u);
		m.msg_control = u.buf;
		m.msg_controllen = sizeof u.buf;
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
	}
	do
		n = sendmsg(sock, &m, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if ((size_t)n != sizeof h + len) {
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

int nuwa_msg_recv(int sock, struct nuwa_msg_hdr *hdr, void *payload, size_t cap,
		  int *recv_fd)
{
	struct iovec iov[2] = {
		{ .iov_base = hdr, .iov_len = sizeof *hdr },
		{ .iov_base = payload, .iov_len = cap },
	};
	union {
		struct cmsghdr c;
		char buf[CMSG_SPACE(sizeof(int) * 4)];
	} u;
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = cap ? 2 : 1,
			    .msg_control = u.buf, .msg_controllen = sizeof u.buf };
	struct cmsghdr *c;
	ssize_t n;
	int got = -1, bad = 0;

	if (recv_fd)
		*recv_fd = -1;
	do
		n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			size_t k, nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (k = 0; k < nfd; k++) {
				int fd;
				memcpy(&fd, CMSG_DATA(c) + k * sizeof(int), sizeof fd);
				if (got < 0 && recv_fd)
					got = fd;
				else
					close(fd);
			}
		}
	}
	if (m.msg_flags & MSG_CTRUNC)
		bad = EBADMSG;
	if (n == 0 && !bad) {
		if (got >= 0)
			close(got);
		memset(hdr, 0, sizeof *hdr);
		return 0;
	}
	if (!bad && (size_t)n < sizeof *hdr)
		bad = EBADMSG;
	if (!bad && (m.msg_flags & MSG_TRUNC))
		bad = EMSGSIZE;
	if (!bad && (hdr->len != (size_t)n - sizeof *hdr))
		bad = EBADMSG;
	if (bad) {
		if (got >= 0)
			close(got);
		errno = bad;
		return -1;
	}
	if (recv_fd)
		*recv_fd = got;
	return 1;
}

int nuwa_app_send_ready(struct nuwa_app *app)
{
	return nuwa_msg_send(app->channel_fd, NUWA_APP_MSG_READY, 0, NULL, 0, -1);
}

static NUWA_CHILD_RW nuwa_trim_cb trim_cb;
static NUWA_CHILD_RW void *trim_arg;

void nuwa_app_set_trim_handler(nuwa_trim_cb cb, void *arg)
{
	trim_cb = cb;
	trim_arg = arg;
}

int nuwa_app_handle_msg(struct nuwa_app *app, nuwa_request_cb handler, void *handler_arg)
{
	struct nuwa_msg_hdr h;
	char *in, *out;
	int rc, ret = 1, fd = -1;

	in = malloc(NUWA_MSG_MAX_PAYLOAD + 1);
	out = malloc(NUWA_MSG_MAX_PAYLOAD);
	if (!in || !out) {
		free(in);
		free(out);
		errno = ENOMEM;
		return -1;
	}
	/* Only a snapshot request may carry an fd; any other is closed below. */
	rc = nuwa_msg_recv(app->channel_fd, &h, in, NUWA_MSG_MAX_PAYLOAD, &fd);
	if (rc < 0) {
		if (errno == EBADMSG || errno == EMSGSIZE) {
			static const char why[] = "malformed message";
			nuwa_msg_send(app->channel_fd, NUWA_APP_MSG_ERROR, 0, why, sizeof why - 1, -1);
		} else if (errno != EAGAIN) {
			ret = -1;
		}
		goto out;
	}
	if (rc == 0) {
		ret = 0;
		goto out;
	}
	in[h.len] = 0;
	switch (h.type) {
	case NUWA_APP_MSG_PING:
		if (nuwa_msg_send(app->channel_fd, NUWA_APP_MSG_PONG, h.id, NULL, 0, -1) < 0)
			ret = -1;
		break;
	case NUWA_APP_MSG_QUIT:
		ret = 0;
		break;
	case NUWA_APP_MSG_SNAPSHOT:
		/* Synchronous: the loop does not run until it is written. */
		if (nuwa_snapshot_serve) {
			nuwa_snapshot_serve(app, h.id, in, fd);
			fd = -1;
		}
		break;
	case NUWA_APP_MSG_REQUEST: {
		int n = handler ? handler(app, in, h.len, out, NUWA_MSG_MAX_PAYLOAD, handler_arg) : -1;
		if (n >= 0 && n <= NUWA_MSG_MAX_PAYLOAD) {
			if (nuwa_msg_send(app->channel_fd, NUWA_APP_MSG_REPLY, h.id, out, (uint32_t)n, -1) < 0)
				ret = -1;
		} else {
			const char *why = handler ? "request failed" : "app has no request handler";
			if (nuwa_msg_send(app->channel_fd, NUWA_APP_MSG_ERROR, h.id, why,
					  (uint32_t)strlen(why), -1) < 0)
				ret = -1;
		}
		break;
	}
	case NUWA_APP_MSG_TRIM: {
		long kb = trim_cb ? trim_cb(app, in, trim_arg) : 0;
		int n = snprintf(out, NUWA_MSG_MAX_PAYLOAD, "freed_kb=%ld", kb < 0 ? 0 : kb);
		if (nuwa_msg_send(app->channel_fd, NUWA_APP_MSG_TRIMMED, h.id, out, (uint32_t)n, -1) < 0)
			ret = -1;
		break;
	}
	default: {
		static const char why[] = "unknown message type";
		if (nuwa_msg_send(app->channel_fd, NUWA_APP_MSG_ERROR, h.id, why, sizeof why - 1, -1) < 0)
			ret = -1;
	}
	}
out:
	if (fd >= 0)
		close(fd);
	free(in);
	free(out);
	return ret;
}
