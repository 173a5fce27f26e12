/* Crash records: an app that died of a signal leaves one file in
 * STATE_DIR/crashes (at most [daemon] crash_records, oldest removed), with
 * what nuwad knows (app, pid, mode, signal, time) and what the app's crash
 * handler sent on its channel (fault address, pc, frames; lib/crash.c).
 * "nuwactl crashes" lists them, oldest first. */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crashes.h"
#include "nuwad.h"

#define MAX_RECORDS_LISTED 10000

void crashes_init(struct nuwad *d)
{
	char writer[4096], pattern[4200], *slash;
	FILE *f;
	if (!d->conf.core_dir)
		return;
	/* Only the kernel's core writer (root) writes here. */
	if (mkdir(d->conf.core_dir, 0700) < 0 && errno != EEXIST) {
		nuwad_log("core_dir %s: %s (no core dumps)", d->conf.core_dir, strerror(errno));
		return;
	}
	/* nuwa-core-writer sits beside the template host. A pipe, not a file
	 * name: the kernel runs the writer as root outside the app's sandbox,
	 * which grants the app no directory to write to. */
	snprintf(writer, sizeof writer, "%s", d->conf.template_host);
	slash = strrchr(writer, '/');
	snprintf(slash ? slash + 1 : writer, sizeof writer - (size_t)(slash ? slash + 1 - writer : 0),
		 "nuwa-core-writer");
	if (strpbrk(writer, " \t%")) {
		nuwad_log("core_dir: %s: spaces or %% in the path (no core dumps)", writer);
		return;
	}
	if (access(writer, X_OK) < 0) {
		nuwad_log("core_dir: %s: %s (no core dumps)", writer, strerror(errno));
		return;
	}
	snprintf(pattern, sizeof pattern, "|%s %s %ld %%p %%e\n", writer, d->conf.core_dir,
		 d->conf.core_max_kb);
	f = fopen("/proc/sys/kernel/core_pattern", "we");
	if (!f || (fputs(pattern, f) < 0) | (fclose(f) != 0)) {
		nuwad_log("core_dir: cannot set /proc/sys/kernel/core_pattern: %s", strerror(errno));
		return;
	}
	nuwad_log("core dumps of crashing apps go to %s (at most %ld KiB each)", d->conf.core_dir,
		  d->conf.core_max_kb);
}

/* Own table: sigabbrev_np() is glibc-only. */
static const char *sig_abbrev(int sig)
{
	switch (sig) {
	case SIGSEGV: return "SEGV";
	case SIGBUS: return "BUS";
	case SIGILL: return "ILL";
	case SIGFPE: return "FPE";
	case SIGABRT: return "ABRT";
	case SIGTRAP: return "TRAP";
	case SIGSYS: return "SYS";
	case SIGQUIT: return "QUIT";
	case SIGUSR1: return "USR1";
	case SIGUSR2: return "USR2";
	case SIGPIPE: return "PIPE";
	case SIGALRM: return "ALRM";
	case SIGXCPU: return "XCPU";
	case SIGXFSZ: return "XFSZ";
	}
	return "?";
}

static void crash_dir(const struct nuwad *d, char *out, size_t cap)
{
	snprintf(out, cap, "%s/crashes", d->state_dir);
}

void crashes_on_report(struct app *a, const char *text, size_t len)
{
	char *copy;
	if (a->crash_report)
		return; /* one per app: the first is the fault itself */
	copy = malloc(len + 1);
	if (!copy)
		return;
	memcpy(copy, text, len);
	copy[len] = 0;
	a->crash_report = copy;
}

static int by_name(const struct dirent **x, const struct dirent **y)
{
	return strcmp((*x)->d_name, (*y)->d_name);
}

static int is_record(const struct dirent *e)
{
	return strncmp(e->d_name, "crash-", 6) == 0 && strstr(e->d_name, ".txt") != NULL;
}

static void prune(const struct nuwad *d, const char *dir)
{
	struct dirent **names;
	int n = scandir(dir, &names, is_record, by_name), i;
	if (n < 0)
		return;
	for (i = 0; i < n; i++) {
		if (i < n - d->conf.crash_records) {
			char path[4608];
			snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
			if (unlink(path) < 0)
				nuwad_log("crash records: %s: %s", path, strerror(errno));
		}
		free(names[i]);
	}
	free(names);
}

void crashes_on_death(struct nuwad *d, struct app *a, int status)
{
	static unsigned seq;
	char dir[4096], path[4608], tmp[4700];
	struct timespec now;
	FILE *f;
	int sig;

	if (!WIFSIGNALED(status) || a->state == APP_STOPPING)
		return; /* exits and kills nuwad asked for are not crashes */
	sig = WTERMSIG(status);
	if (sig == SIGKILL || sig == SIGTERM || sig == SIGINT || sig == SIGHUP)
		return;
	crash_dir(d, dir, sizeof dir);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		nuwad_log("crash records: %s: %s", dir, strerror(errno));
		return;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	snprintf(path, sizeof path, "%s/crash-%010lld-%04u-%d.txt", dir, (long long)now.tv_sec,
		 ++seq % 10000, (int)a->pid);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f) {
		nuwad_log("crash records: %s: %s", tmp, strerror(errno));
		return;
	}
	fprintf(f, "time=%lld\napp=%s\npid=%d\nmode=%s\nexit_signal=%d\nsignal_name=%s\n",
		(long long)now.tv_sec, a->name[0] ? a->name : "(spare)", (int)a->pid,
		a->exec_mode ? "exec" : "template", sig, sig_abbrev(sig));
	if (WCOREDUMP(status))
		fprintf(f, "core=yes\n");
	if (a->crash_report)
		fprintf(f, "handler=yes\n%s", a->crash_report);
	else
		fprintf(f, "handler=no\n");
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		nuwad_log("crash records: %s: %s", path, strerror(errno));
		unlink(tmp);
		return;
	}
	nuwad_log("app %s (pid %d) crashed with SIG%s%s: %s", a->name, (int)a->pid,
		  sig_abbrev(sig),
		  a->crash_report ? "" : " (no report from its crash handler)", path);
	prune(d, dir);
}

/* One record file as an object. */
static void emit(struct out *o, const char *path)
{
	char line[1024];
	FILE *f = fopen(path, "re");
	int frames = 0;
	if (!f)
		return;
	out_obj_begin(o, NULL);
	while (fgets(line, sizeof line, f)) {
		char *eq = strchr(line, '=');
		line[strcspn(line, "\n")] = 0;
		if (!eq)
			continue;
		*eq = 0;
		if (!strcmp(line, "frame")) {
			if (!frames++)
				out_arr_begin(o, "frames");
			out_str(o, NULL, eq + 1);
			continue;
		}
		if (frames) {
			out_arr_end(o); /* frames come last; anything after ends them */
			frames = -1000000;
		}
		if (!strcmp(line, "pid") || !strcmp(line, "exit_signal") || !strcmp(line, "time") ||
		    !strcmp(line, "signal") || !strcmp(line, "code"))
			out_int(o, line, atoll(eq + 1));
		else if (!strcmp(line, "handler") || !strcmp(line, "core"))
			out_bool(o, line, !strcmp(eq + 1, "yes"));
		else if (!strcmp(line, "addr"))
			out_str(o, "fault_addr", eq + 1);
		else
			out_str(o, line, eq + 1);
	}
	if (frames > 0)
		out_arr_end(o);
	else if (frames == 0)
		out_arr_begin(o, "frames"), out_arr_end(o);
	fclose(f);
	out_obj_end(o);
}

void crashes_list(struct nuwad *d, struct out *o)
{
	char dir[4096];
	struct dirent **names;
	int n, i;
	crash_dir(d, dir, sizeof dir);
	out_arr_begin(o, NULL);
	n = scandir(dir, &names, is_record, by_name);
	for (i = 0; i < n; i++) {
		char path[4608];
		snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
		if (i < MAX_RECORDS_LISTED)
			emit(o, path);
		free(names[i]);
	}
	if (n > 0)
		free(names);
	out_arr_end(o);
}
