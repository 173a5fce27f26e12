/*
 * nuwa-supervise: keeps nuwad running. Started by /etc/init.d/S50nuwad
 * (so boot order and start|stop|restart stay as they were); restarts nuwad
 * within a few hundred milliseconds of its death, logs the cause (exit
 * status or signal) and writes the count and the last cause to
 * STATE_DIR/supervisor, where nuwad reads them for "nuwactl stats".
 *
 *   nuwa-supervise --state-dir DIR -- /usr/bin/nuwad ARGS...
 *
 * It is a child subreaper: processes orphaned by a dead nuwad (a stuck
 * app) re-parent to it and are reaped, and the restarted nuwad ends them
 * (see nuwad's end_survivors). SIGTERM/SIGINT: stop nuwad (SIGTERM, SIGKILL
 * after 5 s) and exit. SIGHUP: restart nuwad now.
 *
 * A nuwad that exits with EX_CONFIG (its configuration is invalid) is not
 * restarted: the same file would fail the same way, every second, forever.
 * The supervisor logs it once and waits for SIGHUP (sent once the config
 * is fixed) to start nuwad again.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>
#include <poll.h>

#define RESTART_DELAY_MS 100
#define RESTART_DELAY_MAX_MS 1000 /* restarted within 2 s, always */
#define STOP_GRACE_MS 5000

static const char *state_dir;
static unsigned restarts;
static char last_cause[128] = "";
static int waiting_for_config; /* nuwad exited with EX_CONFIG: restart on SIGHUP */

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void logmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logmsg(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	fprintf(stderr, "nuwa-supervise[%d]: %s\n", (int)getpid(), buf);
}

/* STATE_DIR/supervisor: "restarts=N\nlast_cause=...\n", replaced atomically. */
static void write_state(void)
{
	char path[4096], tmp[4112];
	FILE *f;
	snprintf(path, sizeof path, "%s/supervisor", state_dir);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f) {
		logmsg("%s: %s", tmp, strerror(errno));
		return;
	}
	fprintf(f, "restarts=%u\nlast_cause=%s\nsupervisor_pid=%d\nwaiting_for_config=%d\n",
		restarts, last_cause, (int)getpid(), waiting_for_config);
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		logmsg("%s: %s", path, strerror(errno));
}

static pid_t start(char **argv, const sigset_t *old_mask)
{
	pid_t pid = fork();
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, old_mask, NULL);
		execv(argv[0], argv);
		fprintf(stderr, "nuwa-supervise: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (pid < 0)
		logmsg("fork: %s", strerror(errno));
	return pid;
}

static void describe(int status, char *out, size_t cap)
{
	if (WIFSIGNALED(status))
		snprintf(out, cap, "killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(out, cap, "exited with status %d", WEXITSTATUS(status));
}

int main(int argc, char **argv)
{
	sigset_t mask, old;
	int sfd, i, delay = RESTART_DELAY_MS;
	char **cmd = NULL;
	pid_t child = -1;
	int64_t started = 0, restart_at = 0, kill_at = 0;
	int stopping = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--state-dir") && i + 1 < argc) {
			state_dir = argv[++i];
		} else if (!strcmp(argv[i], "--")) {
			cmd = argv + i + 1;
			break;
		} else {
			break;
		}
	}
	if (!state_dir || !cmd || !cmd[0]) {
		fprintf(stderr, "usage: nuwa-supervise --state-dir DIR -- NUWAD [ARGS...]\n");
		return 2;
	}
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		logmsg("PR_SET_CHILD_SUBREAPER: %s (orphans go to init)", strerror(errno));
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, &old) < 0 ||
	    (sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
		logmsg("signalfd: %s", strerror(errno));
		return 1;
	}
	if (mkdir(state_dir, 0755) < 0 && errno != EEXIST)
		logmsg("state dir %s: %s", state_dir, strerror(errno));
	write_state();
	child = start(cmd, &old);
	started = now_ms();
	if (child < 0)
		restart_at = now_ms() + delay;
	for (;;) {
		struct pollfd p = { .fd = sfd, .events = POLLIN };
		int64_t now = now_ms(), next = -1;
		int timeout, status;
		pid_t pid;

		if (child < 0 && !stopping && restart_at && now >= restart_at) {
			restart_at = 0;
			child = start(cmd, &old);
			started = now;
			if (child < 0)
				restart_at = now + delay;
		}
		if (stopping && child > 0 && kill_at && now >= kill_at) {
			logmsg("nuwad %d did not stop in %d ms: SIGKILL", (int)child, STOP_GRACE_MS);
			kill(child, SIGKILL);
			kill_at = 0;
		}
		if (restart_at)
			next = restart_at;
		if (kill_at && (next < 0 || kill_at < next))
			next = kill_at;
		timeout = next < 0 ? -1 : (int)(next > now ? next - now : 0);
		if (poll(&p, 1, timeout) < 0 && errno != EINTR) {
			logmsg("poll: %s", strerror(errno));
			return 1;
		}
		if (p.revents) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
				if ((si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) && !stopping) {
					stopping = 1;
					if (child > 0) {
						kill(child, SIGTERM);
						kill_at = now_ms() + STOP_GRACE_MS;
					}
				} else if (si.ssi_signo == SIGHUP && child > 0 && !stopping) {
					logmsg("SIGHUP: restarting nuwad %d", (int)child);
					kill(child, SIGTERM);
				} else if (si.ssi_signo == SIGHUP && waiting_for_config && !stopping) {
					logmsg("SIGHUP: starting nuwad with the configuration as it is now");
					waiting_for_config = 0;
					delay = RESTART_DELAY_MS;
					restart_at = now_ms();
					write_state();
				}
			}
		}
		/* Reap nuwad and any orphan that re-parented to us. */
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			if (pid != child)
				continue;
			child = -1;
			if (stopping) {
				write_state();
				return 0;
			}
			describe(status, last_cause, sizeof last_cause);
			if (WIFEXITED(status) && WEXITSTATUS(status) == EX_CONFIG) {
				waiting_for_config = 1;
				logmsg("nuwad %d exited: its configuration is invalid (see the line above); "
				       "not restarting until SIGHUP", (int)pid);
				write_state();
				continue;
			}
			restarts++;
			/* A nuwad dying right after start (bad config) backs off,
			 * but never beyond RESTART_DELAY_MAX_MS. */
			if (now_ms() - started < 1000)
				delay = delay * 2 > RESTART_DELAY_MAX_MS ? RESTART_DELAY_MAX_MS : delay * 2;
			else
				delay = RESTART_DELAY_MS;
			logmsg("nuwad %d %s; restart %u in %d ms", (int)pid, last_cause, restarts, delay);
			write_state();
			restart_at = now_ms() + delay;
		}
		if (stopping && child < 0) {
			write_state();
			return 0;
		}
	}
}
