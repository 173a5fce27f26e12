/*
 * nuwa-thrash FILE MIB SECONDS: memory pressure as a device meets it, for
 * tests and benchmarks. Maps the first MIB MiB of FILE and reads one byte of
 * every page, round after round, for SECONDS. Run in a cgroup whose memory
 * (memory.high) is smaller than that working set, its pages are evicted and
 * read back again and again: thrashing, which the kernel's PSI counts as a
 * memory stall (a filler of unreclaimable memory stalls only when reclaim
 * happens to struggle; and memory.high's throttle sleep does not work on
 * 32-bit kernels). Prints the rounds done; 2 on bad arguments, 1 on errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static long number(const char *s, long max)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	return errno || end == s || *end || v <= 0 || v > max ? -1 : v;
}

int main(int argc, char **argv)
{
	long mib = argc == 4 ? number(argv[2], 4096) : -1, secs = argc == 4 ? number(argv[3], 86400) : -1;
	if (mib < 0 || secs < 0) {
		fprintf(stderr, "usage: nuwa-thrash FILE MIB SECONDS (MIB 1..4096, SECONDS 1..86400)\n");
		return 2;
	}
	int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "nuwa-thrash: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	size_t len = (size_t)mib << 20;
	if ((off_t)len > st.st_size) {
		fprintf(stderr, "nuwa-thrash: %s has %lld bytes, fewer than %ld MiB\n", argv[1],
			(long long)st.st_size, mib);
		return 1;
	}
	const volatile unsigned char *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		fprintf(stderr, "nuwa-thrash: mmap %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	long page = sysconf(_SC_PAGESIZE);
	time_t end = time(NULL) + secs;
	unsigned long rounds = 0, sum = 0;
	while (time(NULL) < end) {
		for (size_t off = 0; off < len; off += (size_t)page)
			sum += p[off];
		rounds++;
	}
	printf("rounds=%lu check=%lu\n", rounds, sum & 1);
	return 0;
}
