/* nuwactl: the control CLI. One framed request, one framed answer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_client.h"
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
		"  foreground APP|PID           make it the foreground app (the previous one: background)\n"
		"  background [APP|PID]         send it (default: the foreground app) to the background\n"
		"  stats                        memory of the system, templates, spares, nuwad, apps\n"
		"  template-status              each framework's template: state, restarts, last error\n"
		"  crashes                      crash records of apps (signal, fault address, frames)\n"
		"  logs APP [--lines N]         the app's last output lines (stdout/stderr)\n"
		"  app-ping APP|PID             round trip through an app's event loop\n"
		"  call APP|PID REQUEST         send a request to an app\n"
		"  trim APP|PID [LEVEL]         ask an app to trim (background|running-low): freed_kb\n"
		"  snapshot APP|PID             memory snapshot into nuwad's snapshot dir (id, path)\n"
		"--json may come anywhere; default socket /run/nuwa/nuwad.sock\n");
}

int main(int argc, char **argv)
{
	const char *sock = getenv("NUWA_SOCKET");
	const char *words[argc > 0 ? argc : 1];
	const char *why;
	char *body;
	int json = 0, i, nwords = 0;
	size_t len;

	if (!sock)
		sock = "/run/nuwa/nuwad.sock";
	for (i = 1; i < argc; i++) {
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
		words[nwords++] = argv[i];
	}
	if (!nwords) {
		usage(stderr);
		return 2;
	}
	words[nwords] = NULL;

	switch (nuwa_ctl_request(sock, words, json ? 0 : NUWA_CTL_FLAG_TEXT, &body, &why)) {
	case NUWA_CTL_ANSWER_OK:
		break;
	case NUWA_CTL_ANSWER_ERROR:
		fprintf(stderr, "nuwactl: %s\n", body);
		free(body);
		return 1;
	case NUWA_CTL_BAD_REQUEST:
		fprintf(stderr, "nuwactl: %s\n", why);
		return 2;
	case NUWA_CTL_UNREACHABLE:
		fprintf(stderr, "nuwactl: %s at %s: %s\n", why, sock, strerror(errno));
		return 3;
	default:
		fprintf(stderr, "nuwactl: %s\n", why);
		return 3;
	}
	len = strlen(body);
	fputs(body, stdout);
	if (len && body[len - 1] != '\n')
		fputc('\n', stdout);
	free(body);
	return 0;
}
