/*
 * app-echo: the runtime's test app. Requests:
 *   echo TEXT     -> TEXT
 *   whoami        -> "name mode pid"
 *   args          -> argv, space-separated
 *   hostile       -> first floods nuwad with junk on the channel (tests)
 *   exit N        -> quits with status N
 *   crash null    -> dereferences NULL in nuwa_echo_crash_null() (crash records)
 *   crash handler -> the same with the crash handler's stack unmapped first:
 *                    the handler itself cannot run (faults on delivery)
 *   crash forged  -> a crash report claiming another app, pid and keys of
 *                    its own, then the NULL dereference
 *   forge N       -> N unsolicited TRIMMED and ERROR messages whose text
 *                    poses as nuwad's own log lines (the door's tests)
 *   escape        -> a reply with terminal escapes and a bell in it
 * Args: --fail (entry fails), --ready-after=MS (ready from a timer),
 * --fail-forged (fails before ready with a reason posing as log lines).
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nuwa.h"

#include "nuwa_app.h"

/* Everything a broken or hostile app could put on its channel. */
static int hostile(struct nuwa_app *app, char *reply, size_t cap)
{
	unsigned char junk[NUWA_MSG_MAX_PAYLOAD + 64];
	struct nuwa_msg_hdr h = { .type = NUWA_APP_MSG_REPLY, .id = 1, .len = 100 };
	int i, sent = 0, devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	for (i = 0; i < (int)sizeof junk; i++)
		junk[i] = (unsigned char)(i * 131 + 17);
	for (i = 1; i < 40; i++) /* short, long, random-looking datagrams */
		sent += send(app->channel_fd, junk, (size_t)(i * 211) % sizeof junk + 1, MSG_NOSIGNAL) > 0;
	memcpy(junk, &h, sizeof h); /* a header whose length lies */
	sent += send(app->channel_fd, junk, sizeof h + 10, MSG_NOSIGNAL) > 0;
	for (i = 0; i < 20; i++) { /* unknown types, unsolicited answers, fds */
		sent += nuwa_msg_send(app->channel_fd, (uint16_t)(200 + i), 7, "x", 1, devnull) == 0;
		sent += nuwa_msg_send(app->channel_fd, NUWA_APP_MSG_PONG, 99999, NULL, 0, devnull) == 0;
		sent += nuwa_msg_send(app->channel_fd, NUWA_APP_MSG_REPLY, 424242, "y", 1, -1) == 0;
		sent += nuwa_msg_send(app->channel_fd, NUWA_APP_MSG_READY, 0, NULL, 0, devnull) == 0;
	}
	if (devnull >= 0)
		close(devnull);
	return snprintf(reply, cap, "sent %d", sent);
}

/* What a log forger sends: a newline, then a line in nuwad's own format. */
static const char forged[] =
	"freed_kb=1\n2026-01-01T00:00:00 nuwad[1]: control: root launched FORGED\r\x1b[2K";

static int forge(struct nuwa_app *app, int n, char *reply, size_t cap)
{
	int i, sent = 0;
	for (i = 0; i < n; i++) {
		sent += nuwa_msg_send(app->channel_fd, NUWA_APP_MSG_TRIMMED, 0, forged,
				      sizeof forged - 1, -1) == 0;
		sent += nuwa_msg_send(app->channel_fd, NUWA_APP_MSG_ERROR, 0, forged,
				      sizeof forged - 1, -1) == 0;
	}
	return snprintf(reply, cap, "forged %d", sent);
}

int nuwa_echo_crash_null(void);
__attribute__((noinline)) int nuwa_echo_crash_null(void)
{
	volatile int *nowhere = NULL;
	return *nowhere;
}

static int on_request(struct nuwa_app *app, const char *req, size_t len, char *reply,
		      size_t cap, void *arg)
{
	(void)arg;
	if (!strcmp(req, "hostile"))
		return hostile(app, reply, cap);
	if (!strncmp(req, "echo ", 5))
		return snprintf(reply, cap, "%.*s", (int)(len - 5), req + 5);
	if (!strcmp(req, "args")) {
		size_t n = 0;
		int i;
		for (i = 0; i < app->argc && n < cap; i++)
			n += (size_t)snprintf(reply + n, cap - n, "%s%s", i ? " " : "", app->argv[i]);
		return (int)(n < cap ? n : cap - 1);
	}
	if (!strcmp(req, "whoami"))
		return snprintf(reply, cap, "%s %s %d", app->name,
				app->mode == NUWA_MODE_TEMPLATE ? "template" : "exec", (int)getpid());
	if (!strcmp(req, "crash null"))
		return snprintf(reply, cap, "%d", nuwa_echo_crash_null());
	if (!strcmp(req, "crash forged")) {
		static const char lie[] = "app=evil\npid=1\nmode=root\ntime=0\nexit_signal=0\n"
					  "signal=abc\nsignal=9\naddr=0xZZ\nowner=root\n"
					  "frame=0x1 invented+0x0 (lie.so)\n";
		nuwa_msg_send(app->channel_fd, NUWA_APP_MSG_CRASH, 0, lie, sizeof lie - 1, -1);
		return snprintf(reply, cap, "%d", nuwa_echo_crash_null());
	}
	if (!strcmp(req, "crash handler")) {
		stack_t ss;
		if (sigaltstack(NULL, &ss) == 0 && ss.ss_sp)
			munmap(ss.ss_sp, ss.ss_size);
		return snprintf(reply, cap, "%d", nuwa_echo_crash_null());
	}
	if (!strncmp(req, "forge ", 6))
		return forge(app, atoi(req + 6), reply, cap);
	if (!strcmp(req, "escape"))
		return snprintf(reply, cap, "a\x1b[2Jb\x07" "c\nd\te");
	if (!strncmp(req, "exit ", 5)) {
		app->svc->quit(app, atoi(req + 5));
		return snprintf(reply, cap, "bye");
	}
	return -1;
}

static void ready_timer(struct nuwa_app *app, int id, void *arg)
{
	(void)id;
	(void)arg;
	app->svc->ready(app);
}

int nuwa_app_main(struct nuwa_app *app)
{
	int i;
	app->svc->on_request(app, on_request, NULL);
	for (i = 1; i < app->argc; i++) {
		if (!strcmp(app->argv[i], "--fail"))
			return 3;
		if (!strcmp(app->argv[i], "--fail-forged")) {
			nuwa_msg_send(app->channel_fd, NUWA_APP_MSG_ERROR, 0, forged, sizeof forged - 1, -1);
			return 0; /* no ready: the ERROR ends the launch */
		}
		if (!strncmp(app->argv[i], "--ready-after=", 14)) {
			app->svc->add_timer(app, (unsigned)atoi(app->argv[i] + 14), 0, ready_timer, NULL);
			return 0;
		}
	}
	return app->svc->ready(app);
}
