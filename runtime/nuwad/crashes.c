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
#include "events.h"
#include "nuwa.h"
#include "nuwad.h"

#define MAX_RECORDS_LISTED 10000
#define CRASH_FRAMES_MAX 40     /* frame lines kept from a report */
#define CRASH_FRAME_MAX 300     /* bytes of one frame line */

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

/* VALUE (up to END) is what KEY's line may hold: signal and code in
 * decimal, addr and pc in hex, a frame any (already cleaned) text. */
static int value_ok(const char *key, const char *v, const char *end)
{
	size_t n = (size_t)(end - v);
	if (!strcmp(key, "signal") || !strcmp(key, "code")) {
		if (n && *v == '-')
			v++, n--;
		return n > 0 && n <= 11 && strspn(v, "0123456789") >= n;
	}
	if (!strcmp(key, "addr") || !strcmp(key, "pc"))
		return n > 2 && n <= 18 && !strncmp(v, "0x", 2) &&
		       strspn(v + 2, "0123456789abcdef") >= n - 2;
	return !strcmp(key, "frame") && n > 0 && n <= CRASH_FRAME_MAX;
}

/* Only the lines the crash handler's format has (docs/protocol.md CRASH),
 * each key once (frames up to CRASH_FRAMES_MAX), each value in its form:
 * nothing in the report can pose as a field nuwad writes (app, pid, mode,
 * time, exit_signal), nor add a key of its own. */
int crashes_on_report(struct nuwad *d, struct app *a, const struct nuwa_msg_hdr *h,
		      const char *text)
{
	static const char *const once[] = { "signal", "code", "addr", "pc" };
	int seen[4] = { 0 }, frames = 0;
	unsigned dropped = 0;
	const char *line = text, *end = text + h->len;
	char *out, *w;
	(void)d;
	if (a->crash.report)
		return -1; /* one per app: the first is the fault itself */
	out = malloc(h->len + 32);
	if (!out)
		return 0;
	w = out;
	while (line < end) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		const char *stop = nl ? nl : end, *eq = memchr(line, '=', (size_t)(stop - line));
		char key[16];
		size_t klen = eq ? (size_t)(eq - line) : 0;
		int ok = 0, i;
		if (eq && klen < sizeof key) {
			memcpy(key, line, klen);
			key[klen] = 0;
			ok = value_ok(key, eq + 1, stop);
			for (i = 0; ok && i < 4; i++)
				if (!strcmp(key, once[i]))
					ok = !seen[i]++;
			if (ok && !strcmp(key, "frame"))
				ok = frames++ < CRASH_FRAMES_MAX;
		}
		if (ok) {
			memcpy(w, line, (size_t)(stop - line));
			w += stop - line;
			*w++ = '\n';
		} else if (stop > line) {
			dropped++;
		}
		line = stop + 1;
	}
	if (dropped)
		w += sprintf(w, "report_dropped=%u\n", dropped);
	*w = 0;
	a->crash.report = out;
	return 0;
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
	if (a->crash.report)
		fprintf(f, "handler=yes\n%s", a->crash.report);
	else
		fprintf(f, "handler=no\n");
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		nuwad_log("crash records: %s: %s", path, strerror(errno));
		unlink(tmp);
		return;
	}
	nuwad_log("app %s (pid %d) crashed with SIG%s%s: %s", a->name, (int)a->pid,
		  sig_abbrev(sig),
		  a->crash.report ? "" : " (no report from its crash handler)", path);
	prune(d, dir);
}

/* One record file as an object. */
/* KEY came earlier in this record (frames may repeat); else remember it. */
static int seen_before(char seen[][16], int *n, const char *key)
{
	size_t len = strlen(key);
	if (!strcmp(key, "frame"))
		return 0;
	if (len >= 16)
		return 1; /* no key of a record is that long */
	for (int i = 0; i < *n; i++)
		if (!strcmp(seen[i], key))
			return 1;
	if (*n < 32)
		memcpy(seen[(*n)++], key, len + 1);
	return 0;
}

static void emit(struct out *o, const char *path)
{
	char line[1024], seen[32][16];
	int nseen = 0;
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
		if (seen_before(seen, &nseen, line))
			continue; /* a record's first line of a key is the one nuwad wrote */
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

static void on_gone(struct nuwad *d, struct app *a)
{
	(void)d;
	free(a->crash.report);
	a->crash.report = NULL;
}

const struct app_observer crashes_observer = {
	.name = "crashes",
	.died = crashes_on_death,
	.gone = on_gone,
};
