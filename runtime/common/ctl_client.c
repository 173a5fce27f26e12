/* Client side of the control socket: framing as in proto.h. */
#include "ctl_client.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "proto.h"

static int io_all(int fd, void *buf, size_t len, int writing)
{
	char *p = buf;
	while (len > 0) {
		ssize_t n = writing ? write(fd, p, len) : read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void put_be32(char *p, uint32_t v)
{
	p[0] = (char)(v >> 24);
	p[1] = (char)(v >> 16);
	p[2] = (char)(v >> 8);
	p[3] = (char)v;
}

enum nuwa_ctl_result nuwa_ctl_request(const char *sock, const char *const *words,
				      unsigned flags, char **body, const char **why)
{
	char req[NUWA_CTL_HDR + NUWA_CTL_MAX_REQUEST];
	unsigned char h[NUWA_CTL_HDR];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = 0;
	uint32_t rlen;
	char *answer;
	int fd;

	*body = NULL;
	for (int i = 0; words[i]; i++) {
		size_t l = strlen(words[i]) + 1;
		if (len + l > NUWA_CTL_MAX_REQUEST) {
			*why = "request too long";
			return NUWA_CTL_BAD_REQUEST;
		}
		memcpy(req + NUWA_CTL_HDR + len, words[i], l);
		len += l;
	}
	put_be32(req, (uint32_t)len);
	req[4] = 0;
	req[5] = NUWA_CTL_VERSION;
	req[6] = (char)(flags >> 8);
	req[7] = (char)flags;
	if (strlen(sock) >= sizeof sa.sun_path) {
		*why = "socket path too long";
		return NUWA_CTL_BAD_REQUEST;
	}
	strcpy(sa.sun_path, sock);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*why = "cannot make a socket";
		return NUWA_CTL_UNREACHABLE;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		*why = "cannot reach nuwad";
		return NUWA_CTL_UNREACHABLE;
	}
	if (io_all(fd, req, NUWA_CTL_HDR + len, 1) < 0 || io_all(fd, h, sizeof h, 0) < 0) {
		close(fd);
		*why = "nuwad closed the connection";
		return NUWA_CTL_BROKEN;
	}
	rlen = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
	if (rlen > NUWA_CTL_MAX_RESPONSE) {
		close(fd);
		*why = "answer too large";
		return NUWA_CTL_BROKEN;
	}
	answer = malloc(rlen + 1);
	if (!answer || io_all(fd, answer, rlen, 0) < 0) {
		*why = answer ? "truncated answer" : "out of memory";
		free(answer);
		close(fd);
		return NUWA_CTL_BROKEN;
	}
	answer[rlen] = 0;
	close(fd);
	*body = answer;
	return h[5] == NUWA_CTL_OK ? NUWA_CTL_ANSWER_OK : NUWA_CTL_ANSWER_ERROR;
}
