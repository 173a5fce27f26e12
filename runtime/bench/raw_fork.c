/* nuwa-raw-fork: the bench's reference for the template's fork latency.
 * Grows its own RSS to RSS_KB with written anonymous pages, then times
 * fork() (monotonic, around the call, in the parent) COUNT times; each
 * child exits at once. Prints JSON: {"rss_kb": N, "fork_ms": [...]}.
 *
 *   nuwa-raw-fork RSS_KB [COUNT]                                           */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static long rss_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

int main(int argc, char **argv)
{
	long want, have, count = 10, i;
	char *end;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: nuwa-raw-fork RSS_KB [COUNT]\n");
		return 2;
	}
	want = strtol(argv[1], &end, 10);
	if (*end || want < 0 || want > 4L * 1024 * 1024) {
		fprintf(stderr, "nuwa-raw-fork: bad RSS_KB '%s'\n", argv[1]);
		return 2;
	}
	if (argc == 3) {
		count = strtol(argv[2], &end, 10);
		if (*end || count < 1 || count > 1000) {
			fprintf(stderr, "nuwa-raw-fork: bad COUNT '%s'\n", argv[2]);
			return 2;
		}
	}
	have = rss_kb();
	if (have < 0) {
		fprintf(stderr, "nuwa-raw-fork: cannot read VmRSS: %s\n", strerror(errno));
		return 1;
	}
	if (want > have) {
		size_t len = (size_t)(want - have) * 1024;
		char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			fprintf(stderr, "nuwa-raw-fork: mmap %zu bytes: %s\n", len, strerror(errno));
			return 1;
		}
		memset(p, 0x5a, len); /* written: private pages fork must map copy-on-write */
	}
	printf("{\"rss_kb\": %ld, \"fork_ms\": [", rss_kb());
	for (i = 0; i < count; i++) {
		int status;
		double t0 = now_ms(), ms;
		pid_t pid = fork();
		if (pid == 0)
			_exit(0);
		ms = now_ms() - t0;
		if (pid < 0) {
			fprintf(stderr, "nuwa-raw-fork: fork: %s\n", strerror(errno));
			return 1;
		}
		if (waitpid(pid, &status, 0) < 0) {
			fprintf(stderr, "nuwa-raw-fork: waitpid: %s\n", strerror(errno));
			return 1;
		}
		printf("%s%.3f", i ? ", " : "", ms);
	}
	printf("]}\n");
	return 0;
}
