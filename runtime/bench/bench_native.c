/*
 * nuwa-bench-native: launch-path figures against a running nuwad.
 *
 *   nuwa-bench-native [--socket PATH] [--app NAME] [--runs N] [--spare-wait-ms MS]
 *
 * Prints one markdown table row per measurement (medians over N runs):
 *  - raw fork(): a process whose resident size equals the template's RSS
 *    (read from nuwad's stats) forks, the child exits at once; fork() return
 *    time and fork-to-reaped time;
 *  - template launch with the spare, without it (--no-spare), exec launch:
 *    nuwad's launch_ms (request arrival to the app's ready) and the client's
 *    round trip; each app is killed before the next launch;
 *  - the median of each launch phase (the answer's phases_ms, in order);
 *  - nuwad's own fds and USS/PSS/RSS with no apps running.
 * A benchmark, not a test: it asserts nothing.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctl_client.h"
#include "proto.h"
#include "util.h"

static const char *sock_path = "/run/nuwa/nuwad.sock";

/* One request; the answer (NUL-terminated, malloc'ed) or NULL on error. */
static char *request(const char *const *words, int *ok)
{
	const char *why;
	char *body;
	enum nuwa_ctl_result r = nuwa_ctl_request(sock_path, words, 0, &body, &why);

	if (r == NUWA_CTL_UNREACHABLE) {
		fprintf(stderr, "nuwa-bench-native: %s at %s: %s\n", why, sock_path,
			strerror(errno));
		exit(1);
	}
	*ok = r == NUWA_CTL_ANSWER_OK;
	return body; /* NULL unless nuwad answered */
}

/* The number after "KEY": in JSON text (first occurrence after FROM). */
static double field(const char *json, const char *from, const char *key)
{
	char pat[64];
	const char *p = from ? strstr(json, from) : json;
	snprintf(pat, sizeof pat, "\"%s\":", key);
	p = p ? strstr(p, pat) : NULL;
	return p ? strtod(p + strlen(pat), NULL) : -1;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Launch phases: each name's samples, in the order first seen. */
#define MAX_PHASES 32
struct phase {
	char name[32];
	double *v;
	int n;
};

static struct phase *phase_slot(struct phase *ph, int *nph, const char *name, size_t len,
				int runs)
{
	int k;
	for (k = 0; k < *nph; k++)
		if (strlen(ph[k].name) == len && !strncmp(ph[k].name, name, len))
			return &ph[k];
	if (k == MAX_PHASES || len >= sizeof ph[k].name)
		return NULL;
	ph[k].v = calloc((size_t)runs, sizeof *ph[k].v);
	if (!ph[k].v)
		return NULL;
	memcpy(ph[k].name, name, len);
	ph[k].name[len] = 0;
	ph[k].n = 0;
	(*nph)++;
	return &ph[k];
}

/* The "phases_ms":{"NAME":MS,...} object of one launch answer. */
static void phases_add(struct phase *ph, int *nph, const char *ans, int runs)
{
	static const char key[] = "\"phases_ms\":{";
	const char *p = strstr(ans, key);
	if (!p)
		return;
	p += strlen(key);
	while (*p == '"') {
		const char *q = strchr(p + 1, '"');
		struct phase *s;
		char *end;
		double v;
		if (!q || q[1] != ':')
			return;
		s = phase_slot(ph, nph, p + 1, (size_t)(q - p - 1), runs);
		v = strtod(q + 2, &end);
		if (s && s->n < runs)
			s->v[s->n++] = v;
		p = *end == ',' ? end + 1 : end;
	}
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void bench_fork(long size_kb, int runs)
{
	size_t len = (size_t)size_kb * 1024;
	double *ret = calloc((size_t)runs, sizeof *ret), *total = calloc((size_t)runs, sizeof *total);
	char *mem = len ? mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) : NULL;
	size_t k;
	int i;

	if (!ret || !total || mem == MAP_FAILED) {
		perror("nuwa-bench-native: fork buffer");
		exit(1);
	}
	for (k = 0; k < len; k += 4096)
		mem[k] = (char)k; /* resident and private, like the template's pages */
	for (i = 0; i < runs; i++) {
		int64_t t0 = nuwa_mono_us(), t1;
		int status;
		pid_t pid = fork();
		if (pid == 0)
			_exit(0);
		t1 = nuwa_mono_us();
		if (pid < 0 || waitpid(pid, &status, 0) < 0) {
			perror("nuwa-bench-native: fork");
			exit(1);
		}
		ret[i] = (double)(t1 - t0) / 1000.0;
		total[i] = (double)(nuwa_mono_us() - t0) / 1000.0;
	}
	printf("| raw fork() of a %ld KiB process: fork() returns | %.3f ms |\n", size_kb,
	       median(ret, runs));
	printf("| raw fork() of a %ld KiB process: fork to child reaped | %.3f ms |\n", size_kb,
	       median(total, runs));
	if (mem)
		munmap(mem, len);
	free(ret);
	free(total);
}

static void bench_launch(const char *app, const char *label, const char *const *extra, int runs,
			 int spare_wait_ms)
{
	double *srv = calloc((size_t)runs, sizeof *srv), *cli = calloc((size_t)runs, sizeof *cli);
	double *uss = calloc((size_t)runs, sizeof *uss), *fork_ms = calloc((size_t)runs, sizeof *fork_ms);
	int i, spares = 0, nph = 0, nfork = 0;
	struct phase ph[MAX_PHASES];
	if (!srv || !cli || !uss || !fork_ms)
		exit(1);
	for (i = 0; i < runs; i++) {
		const char *words[8] = { "launch", app };
		char pid[32], *ans;
		int n = 2, ok = 0, j;
		int64_t t0;
		for (j = 0; extra[j]; j++)
			words[n++] = extra[j];
		words[n] = NULL;
		if (spare_wait_ms)
			sleep_ms(spare_wait_ms); /* let nuwad refill the spare */
		t0 = nuwa_mono_us();
		ans = request(words, &ok);
		cli[i] = (double)(nuwa_mono_us() - t0) / 1000.0;
		if (!ans || !ok) {
			fprintf(stderr, "nuwa-bench-native: launch %s: %s\n", app, ans ? ans : "no answer");
			exit(1);
		}
		srv[i] = field(ans, NULL, "launch_ms");
		if (strstr(ans, "\"fork_ms\":") && field(ans, NULL, "fork_ms") >= 0)
			fork_ms[nfork++] = field(ans, NULL, "fork_ms"); /* the template's own timing */
		phases_add(ph, &nph, ans, runs);
		spares += strstr(ans, "\"spare\":true") != NULL;
		snprintf(pid, sizeof pid, "%.0f", field(ans, NULL, "pid"));
		free(ans);
		{
			/* The app's USS right after ready, from nuwad's list. */
			const char *list_words[] = { "list", NULL };
			char anchor[48], *list = request(list_words, &ok);
			snprintf(anchor, sizeof anchor, "\"pid\":%s,", pid);
			uss[i] = list && ok ? field(list, anchor, "uss_kb") : -1;
			free(list);
		}
		{
			const char *kill_words[] = { "kill", pid, NULL };
			free(request(kill_words, &ok));
		}
	}
	printf("| %s: launch_ms (request to ready, in nuwad) | %.3f ms |\n", label, median(srv, runs));
	printf("| %s: client round trip | %.3f ms |\n", label, median(cli, runs));
	printf("| %s: app USS right after ready | %.0f KiB |\n", label, median(uss, runs));
	if (nfork)
		printf("| %s: the template's fork (nuwa_fork_defer_threads, parent side) | %.3f ms |\n",
		       label, median(fork_ms, nfork));
	if (spares && spares != runs)
		printf("| %s: launches that found a spare | %d of %d |\n", label, spares, runs);
	for (i = 0; i < nph; i++) {
		printf("| %s: phase %s (median of %d) | %.3f ms |\n", label, ph[i].name, ph[i].n,
		       median(ph[i].v, ph[i].n));
		free(ph[i].v);
	}
	free(srv);
	free(cli);
	free(uss);
	free(fork_ms);
}

/* What fork() copies of the template: its mappings (VMAs), anonymous
 * resident memory (whose page-table entries fork copies; file pages that
 * were never written are refaulted instead) and page-table size. */
static void template_shape(long pid)
{
	char path[64], line[512];
	long vmas = 0, anon_vmas = 0;
	FILE *f;
	snprintf(path, sizeof path, "/proc/%ld/smaps", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		long kb;
		if (strchr(line, '-') && strchr(line, ' ') && line[0] != ' ' &&
		    strchr(line, '-') < strchr(line, ' '))
			vmas++;
		else if (sscanf(line, "Anonymous: %ld kB", &kb) == 1 && kb > 0)
			anon_vmas++;
	}
	fclose(f);
	snprintf(path, sizeof path, "/proc/%ld/status", pid);
	f = fopen(path, "re");
	printf("| template mappings (VMAs) / with anonymous pages | %ld / %ld |\n", vmas, anon_vmas);
	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, "RssAnon:", 8) || !strncmp(line, "VmPTE:", 6)) {
			line[strcspn(line, "\n")] = 0;
			printf("| template %.*s | %s |\n", (int)strcspn(line, ":"), line,
			       line + strcspn(line, ":") + 1 + strspn(line + strcspn(line, ":") + 1, " \t"));
		}
	if (f)
		fclose(f);
}

/* The exec host's own start-up in the dynamic loader (LD_DEBUG=statistics,
 * glibc): the host exits at its usage line, right after the loader is
 * done. The framework's libraries are relocated later, by dlopen in the
 * framework_loaded phase. */
static void loader_statistics(const char *exec_host)
{
	char cmd[1200], line[512];
	FILE *p;
	snprintf(cmd, sizeof cmd, "LD_DEBUG=statistics %s 2>&1 >/dev/null", exec_host);
	p = popen(cmd, "r");
	if (!p)
		return;
	while (fgets(line, sizeof line, p)) {
		/* "  PID:\t  time needed for relocation: 464342 cycles (74.4%)" */
		char *label = strchr(line, ':'), *value;
		if (!label || strstr(line, "final") ||
		    (!strstr(line, "startup time") && !strstr(line, "time needed for relocation") &&
		     !strstr(line, "number of relocations:")))
			continue;
		label += 1 + strspn(label + 1, " \t");
		value = strrchr(label, ':');
		if (!value)
			continue;
		*value++ = 0;
		value += strspn(value, " ");
		value[strcspn(value, "\n")] = 0;
		printf("| exec host loader (LD_DEBUG=statistics): %s | %s |\n", label, value);
	}
	pclose(p);
}

int main(int argc, char **argv)
{
	const char *app = "echo", *exec_host = "/usr/libexec/nuwa/nuwa-exec-host";
	int runs = 51, spare_wait_ms = -1, i, ok = 0;
	const char *stats_words[] = { "stats", NULL };
	char *stats;
	long tmpl_rss;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--socket") && i + 1 < argc)
			sock_path = argv[++i];
		else if (!strcmp(argv[i], "--app") && i + 1 < argc)
			app = argv[++i];
		else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
			runs = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--spare-wait-ms") && i + 1 < argc)
			spare_wait_ms = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--exec-host") && i + 1 < argc)
			exec_host = argv[++i];
		else {
			fprintf(stderr, "usage: nuwa-bench-native [--socket PATH] [--app NAME] "
					"[--runs N] [--spare-wait-ms MS] [--exec-host PATH]\n");
			return 2;
		}
	}
	if (runs < 1)
		runs = 1;
	/* Wait (bounded) for a ready template, e.g. right after boot. */
	for (i = 0; i < 1200; i++) {
		const char *status_words[] = { "template-status", NULL };
		char *st = request(status_words, &ok);
		int ready = st && ok && strstr(st, "\"state\":\"ready\"");
		free(st);
		if (ready)
			break;
		sleep_ms(100);
	}
	stats = request(stats_words, &ok);
	if (!stats || !ok || !strstr(stats, "\"template\":{")) {
		fprintf(stderr, "nuwa-bench-native: nuwad has no ready template\n");
		return 1;
	}
	tmpl_rss = (long)field(stats, "\"template\":{", "rss_kb");
	if (spare_wait_ms < 0)
		spare_wait_ms = 1200; /* the device's spare_delay_ms (1 s) plus margin */
	printf("| measurement (median of %d) | value |\n|---|---|\n", runs);
	bench_fork(tmpl_rss, runs);
	template_shape((long)field(stats, "\"template\":{", "pid"));
	loader_statistics(exec_host);
	{
		const char *with_spare[] = { "--mode", "template", NULL };
		const char *no_spare[] = { "--mode", "template", "--no-spare", NULL };
		const char *exec_mode[] = { "--mode", "exec", NULL };
		bench_launch(app, "template launch, spare", with_spare, runs, spare_wait_ms);
		bench_launch(app, "template launch, no spare", no_spare, runs, 0);
		bench_launch(app, "exec launch", exec_mode, runs, 0);
	}
	free(stats);
	stats = request(stats_words, &ok);
	if (stats && ok) {
		/* Without children every template page is its own (USS = all). */
		printf("| template RSS / PSS / USS (no apps, %s) | %.0f / %.0f / %.0f KiB |\n",
		       strstr(stats, "\"spare\":{") ? "with spare" : "no spare",
		       field(stats, "\"template\":{", "rss_kb"), field(stats, "\"template\":{", "pss_kb"),
		       field(stats, "\"template\":{", "uss_kb"));
		printf("| nuwad open fds (no apps) | %.0f |\n", field(stats, "\"nuwad\":{", "fds"));
		printf("| nuwad RSS / PSS / USS | %.0f / %.0f / %.0f KiB |\n",
		       field(stats, "\"nuwad\":{", "rss_kb"), field(stats, "\"nuwad\":{", "pss_kb"),
		       field(stats, "\"nuwad\":{", "uss_kb"));
	}
	free(stats);
	return 0;
}
