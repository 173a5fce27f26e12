/* nuwactl: the control CLI. One framed request, one framed answer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "proto.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: nuwactl [--socket PATH] [--json] COMMAND [ARGS]\n"
		"commands:\n"
		"  ping                         is nuwad there\n"
		"  apps                         configured apps\n"
		"  launch APP [--mode template|exec] [--no-spare] [-- ARG...]\n"
		"  list                         running apps with memory\n"
		"  kill APP|PID                 stop apps (waits until they are gone)\n"
		"  stats                        memory of the system, template, spare, nuwad, apps\n"
		"  template-status              template state, restarts, last error\n"
		"  app-ping APP|PID             round trip through an app's event loop\n"
		"  call APP|PID REQUEST         send a request to an app\n"
		"  snapshot APP|PID             memory snapshot into nuwad's snapshot dir (id, path)\n"
		"--json may come anywhere; default socket /run/nuwa/nuwad.sock\n");
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int read_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	while (len > 0) {
		ssize_t n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *sock = getenv("NUWA_SOCKET");
	char req[NUWA_CTL_HDR + NUWA_CTL_MAX_REQUEST];
	unsigned char h[NUWA_CTL_HDR];
	size_t len = 0;
	int json = 0, i, fd, nwords = 0;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint32_t rlen;
	char *body;

	if (!sock)
		sock = "/run/nuwa/nuwad.sock";
	for (i = 1; i < argc; i++) {
		size_t l;
		if (!strcmp(argv[i], "--json")) {
			json = 1;
			continue;
		}
		if (nwords == 0 && !strcmp(argv[i], "--socket")) {
			if (++i == argc) {
				usage(stderr);
				return 2;
			}
			sock = argv[i];
			continue;
		}
		if (nwords == 0 && (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))) {
			usage(stdout);
			return 0;
		}
		l = strlen(argv[i]) + 1;
		if (len + l > NUWA_CTL_MAX_REQUEST) {
			fprintf(stderr, "nuwactl: request too long\n");
			return 2;
		}
		memcpy(req + NUWA_CTL_HDR + len, argv[i], l);
		len += l;
		nwords++;
	}
	if (!nwords) {
		usage(stderr);
		return 2;
	}
	req[0] = (char)(len >> 24);
	req[1] = (char)(len >> 16);
	req[2] = (char)(len >> 8);
	req[3] = (char)len;
	req[4] = 0;
	req[5] = NUWA_CTL_VERSION;
	req[6] = 0;
	req[7] = json ? 0 : NUWA_CTL_FLAG_TEXT;

	if (strlen(sock) >= sizeof sa.sun_path) {
		fprintf(stderr, "nuwactl: socket path too long\n");
		return 2;
	}
	strcpy(sa.sun_path, sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		fprintf(stderr, "nuwactl: cannot reach nuwad at %s: %s\n", sock, strerror(errno));
		return 3;
	}
	if (write_all(fd, req, NUWA_CTL_HDR + len) < 0 || read_all(fd, h, sizeof h) < 0) {
		fprintf(stderr, "nuwactl: nuwad closed the connection\n");
		return 3;
	}
	rlen = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
	if (rlen > NUWA_CTL_MAX_RESPONSE) {
		fprintf(stderr, "nuwactl: answer too large (%u bytes)\n", rlen);
		return 3;
	}
	body = malloc(rlen + 1);
	if (!body || read_all(fd, body, rlen) < 0) {
		fprintf(stderr, "nuwactl: truncated answer\n");
		return 3;
	}
	body[rlen] = 0;
	close(fd);
	if (h[5] != NUWA_CTL_OK) {
		fprintf(stderr, "nuwactl: %s\n", body);
		free(body);
		return 1;
	}
	fputs(body, stdout);
	if (rlen && body[rlen - 1] != '\n')
		fputc('\n', stdout);
	free(body);
	return 0;
}
