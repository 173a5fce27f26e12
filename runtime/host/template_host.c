/* nuwa-template: loads one framework (--framework NAME, default: the
 * [framework] section; nuwad starts one per framework), freezes, reports ready to nuwad on
 * its channel, then serves fork requests. It never runs app code: app
 * libraries are opened in the child. Children are reaped here and their
 * exit status reported to nuwad (apps re-parent to nuwad, a subreaper, if
 * the template dies). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "app_runner.h"
#include "nuwa.h"
#include "nuwa_sandbox.h"
#include "proto.h"
#include "util.h"

static sigset_t old_mask;

static void usage(void)
{
	fprintf(stderr, "usage: nuwa-template --config FILE [--framework NAME] --channel-fd N\n");
	exit(2);
}

static void restore_mask(enum nuwa_hook_point p, void *arg)
{
	(void)p;
	(void)arg;
	if (sigprocmask(SIG_SETMASK, &old_mask, NULL) < 0)
		nuwa_logf("nuwa-template", "child signal mask: %s", strerror(errno));
}

static void send_text(int ch, uint16_t type, uint32_t id, const char *s)
{
	if (nuwa_msg_send(ch, type, id, s, (uint32_t)strlen(s), -1) < 0 && errno != EPIPE)
		nuwa_logf("nuwa-template", "send: %s", strerror(errno));
}

/* Split "NAME\0ARG\0..." (LEN bytes) into words; returns how many. */
static int split_spec(char *spec, uint32_t len, char **words, int max)
{
	uint32_t off = 0;
	int n = 0;
	spec[len] = 0;
	while (off < len && n < max) {
		words[n++] = spec + off;
		off += (uint32_t)strlen(spec + off) + 1;
	}
	return n;
}

/* In the child: become the app (or wait as a spare first). Never returns. */
/* The child's first message is its output pipe (nuwad sent it before the
 * fork request): fds 1 and 2 become it, 0 /dev/null, so the app never
 * writes to nuwad's log. No pipe: /dev/null. */
static void take_stdio(int app_ch)
{
	struct nuwa_msg_hdr h;
	char buf[64];
	int fd = -1, null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (nuwa_msg_recv(app_ch, &h, buf, sizeof buf - 1, &fd) <= 0 || h.type != NUWA_APP_MSG_STDIO) {
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	if (null >= 0 && dup2(null, 0) < 0)
		nuwa_logf("nuwa-template", "stdin: %s", strerror(errno));
	if (fd < 0)
		fd = null;
	if (fd >= 0 && (dup2(fd, 1) < 0 || dup2(fd, 2) < 0))
		nuwa_logf("nuwa-template", "app output: %s", strerror(errno));
	if (fd >= 0 && fd != null)
		close(fd);
	if (null > 2)
		close(null);
}

/* Not inlined, and no large buffer of its own: the child's frames then sit
 * right below serve_fork's instead of below main's 50 KiB of buffers, so
 * it writes (copies on write) fewer pages of the template's stack. SPEC is
 * main's request buffer (NUWA_MSG_MAX_PAYLOAD + 1 bytes); a spare reads
 * its specialise message into it. */
__attribute__((noinline)) static void child(struct runner *r, char *spec, uint32_t len,
					    int app_ch)
{
	uint32_t i, nwords = 1;
	int n;
	take_stdio(app_ch);
	if (len == 0) {
		/* A spare: wait for nuwad to say which app to become. What the
		 * rebuild freed goes back to the kernel before the wait. */
		struct nuwa_msg_hdr h;
		int rc;
		runner_spare_prepare(r);
		nuwa_trim_heap();
		do
			rc = nuwa_msg_recv(app_ch, &h, spec, NUWA_MSG_MAX_PAYLOAD, NULL);
		while (rc > 0 && h.type != NUWA_APP_MSG_SPECIALISE);
		if (rc <= 0 || h.len == 0)
			_exit(0); /* nuwad dropped the spare */
		/* What the spare did before the request is not this launch's. */
		nuwa_phase_reset();
		/* nuwad's specialise_ms ends here (it reads this mark from the
		 * PHASES message): no acknowledgement, which woke nuwad in the
		 * middle of every launch through the spare. */
		nuwa_phase_mark("specialise_received");
		len = h.len;
	}
	for (i = 0; i < len; i++)
		nwords += spec[i] == 0;
	{
		char *words[nwords]; /* as many as there are: a few, not 4097 */
		n = split_spec(spec, len, words, (int)nwords);
		exit(runner_run_app(r, words[0], n - 1, words + 1, app_ch));
	}
}

static void serve_fork(struct runner *r, int ch, const struct nuwa_msg_hdr *h,
		       char *spec, int app_ch)
{
	char reply[64];
	pid_t pid;
	int64_t t0;
	double fork_ms;

	if (app_ch < 0) {
		send_text(ch, NUWA_T_FORK_FAILED, h->id, "fork request without a channel fd");
		return;
	}
	/* Timed here, around the call, in the parent: nuwad's round trip also
	 * holds two messages and the scheduling of both processes. */
	t0 = nuwa_mono_us();
	/* The child starts its threads only once it is confined as the app
	 * (runner_run_app): a spare waits single-threaded. A library thread
	 * that cannot be restarted fails that launch, not the template. */
	pid = nuwa_fork_defer_threads();
	if (pid == 0)
		child(r, spec, h->len, app_ch);
	fork_ms = (double)(nuwa_mono_us() - t0) / 1000.0;
	close(app_ch);
	if (pid < 0) {
		char why[128];
		snprintf(why, sizeof why, "fork: %s", strerror(errno));
		send_text(ch, NUWA_T_FORK_FAILED, h->id, why);
		return;
	}
	snprintf(reply, sizeof reply, "%d %.3f", (int)pid, fork_ms);
	send_text(ch, NUWA_T_FORKED, h->id, reply);
}

static void reap(int ch)
{
	int status;
	pid_t pid;
	char msg[64];
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		snprintf(msg, sizeof msg, "%d %d", (int)pid, status);
		send_text(ch, NUWA_T_EXIT, 0, msg);
	}
}

int main(int argc, char **argv)
{
	const char *config = NULL, *framework = NULL;
	int ch = -1, sfd, i;
	struct runner r;
	char err[4096], ready[256];
	sigset_t mask;
	int64_t t0;

	runner_keep_argv(argc, argv);
	runner_drop_bounding("nuwa-template");
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--config") && i + 1 < argc)
			config = argv[++i];
		else if (!strcmp(argv[i], "--framework") && i + 1 < argc)
			framework = argv[++i];
		else if (!strcmp(argv[i], "--channel-fd") && i + 1 < argc)
			ch = atoi(argv[++i]);
		else
			usage();
	}
	if (!config || ch < 0)
		usage();
	/* Copies: renaming the process for ps overwrites the argv strings. */
	config = strdup(config);
	if (!config || (framework && !(framework = strdup(framework))))
		return 1;
	/* The control channel and the SIGCHLD fd are the template's own. */
	if (nuwa_fd_private(ch) < 0) {
		perror("nuwa-template: channel fd");
		return 2;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &mask, &old_mask) < 0)
		return 1;
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0 || nuwa_fd_private(sfd) < 0 ||
	    nuwa_hook_add(NUWA_HOOK_CHILD_BEFORE_THREADS, restore_mask, NULL) < 0) {
		perror("nuwa-template: signalfd");
		return 1;
	}

	if (runner_load(&r, config, framework, NUWA_MODE_TEMPLATE, err, sizeof err) < 0) {
		nuwa_logf("nuwa-template", "%s", err);
		send_text(ch, NUWA_T_FAILED, 0, err);
		return 1;
	}
	/* The sandbox's app-independent part, shared by every child. */
	if (nuwa_sandbox_prepare() < 0)
		nuwa_logf("nuwa-template", "sandbox prepare: %s (each app builds it)", strerror(errno));
	t0 = nuwa_mono_us();
	if (nuwa_freeze(r.conf.freeze_timeout_ms, err, sizeof err) < 0) {
		nuwa_logf("nuwa-template", "%s", err);
		send_text(ch, NUWA_T_FAILED, 0, err);
		return 1;
	}
	snprintf(ready, sizeof ready, "init_ms=%.3f freeze_ms=%.3f trimmed_kb=%ld", r.init_ms,
		 (double)(nuwa_mono_us() - t0) / 1000.0, nuwa_freeze_trimmed_bytes() / 1024);
	send_text(ch, NUWA_T_READY, 0, ready);

	for (;;) {
		struct pollfd p[2] = { { .fd = ch, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			nuwa_logf("nuwa-template", "poll: %s", strerror(errno));
			return 1;
		}
		if (p[1].revents) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof si) > 0)
				;
			reap(ch);
		}
		if (p[0].revents) {
			struct nuwa_msg_hdr h;
			char spec[NUWA_MSG_MAX_PAYLOAD + 1];
			int app_ch, rc = nuwa_msg_recv(ch, &h, spec, NUWA_MSG_MAX_PAYLOAD, &app_ch);
			if (rc == 0)
				return 0; /* nuwad went away */
			if (rc < 0) {
				if (errno == EBADMSG || errno == EMSGSIZE || errno == EAGAIN)
					continue;
				nuwa_logf("nuwa-template", "channel: %s", strerror(errno));
				return 1;
			}
			spec[h.len] = 0; /* app name, then its launch args */
			if (h.type == NUWA_T_FORK) {
				serve_fork(&r, ch, &h, spec, app_ch);
			} else {
				if (app_ch >= 0)
					close(app_ch);
				send_text(ch, NUWA_T_FORK_FAILED, h.id, "unknown request");
			}
		}
	}
}
