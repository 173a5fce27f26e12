/*
 * nuwa-core-writer: writes an app's core dump into [daemon] core_dir.
 * nuwad sets the kernel's core_pattern to
 *
 *   |/usr/libexec/nuwa/nuwa-core-writer DIR MAX_KB %p %e
 *
 * so the kernel runs this program (as root, outside the app's sandbox) with
 * the core on stdin. Writing it from the crashing app's own context would
 * need the app to hold write access to a directory (Landlock grants none)
 * and a file size limit above its snapshot limit; a pipe needs neither.
 *
 * The file is DIR/core.NAME.PID, mode 0600, created exclusively without
 * following links; NAME is the app's comm with anything but [A-Za-z0-9._-]
 * replaced (the app chooses its comm). Cores longer than MAX_KB are cut
 * there and named ....truncated, so a runaway app cannot fill the tmpfs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char name[32], path[4096], done[4200], buf[65536];
	unsigned long long max, total = 0;
	int fd, truncated = 0;
	size_t i;
	char *end;

	if (argc != 5 || argv[1][0] != '/') {
		fprintf(stderr, "usage: nuwa-core-writer DIR MAX_KB PID NAME (core on stdin)\n");
		return 2;
	}
	max = strtoull(argv[2], &end, 10) * 1024;
	if (*end || !max || strspn(argv[3], "0123456789") != strlen(argv[3]) || !argv[3][0]) {
		fprintf(stderr, "nuwa-core-writer: bad MAX_KB or PID\n");
		return 2;
	}
	for (i = 0; argv[4][i] && i < sizeof name - 1; i++)
		name[i] = is_name_char(argv[4][i]) ? argv[4][i] : '_';
	name[i] = 0;
	if (name[0] == '.' || !name[0])
		name[0] = '_';
	if (snprintf(path, sizeof path, "%s/core.%s.%s", argv[1], name, argv[3]) >= (int)sizeof path)
		return 2;
	umask(077);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "nuwa-core-writer: %s: %s\n", path, strerror(errno));
		return 1;
	}
	for (;;) {
		ssize_t n = read(0, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "nuwa-core-writer: reading the core: %s\n", strerror(errno));
			break;
		}
		if (n == 0)
			break;
		if (total + (unsigned long long)n > max) {
			n = (ssize_t)(max - total);
			truncated = 1;
		}
		if (write_all(fd, buf, (size_t)n) < 0) {
			fprintf(stderr, "nuwa-core-writer: %s: %s\n", path, strerror(errno));
			truncated = 1;
			break;
		}
		total += (unsigned long long)n;
		if (truncated)
			break;
	}
	if (close(fd) < 0)
		truncated = 1;
	if (truncated) {
		snprintf(done, sizeof done, "%s.truncated", path);
		if (rename(path, done) < 0)
			fprintf(stderr, "nuwa-core-writer: %s: %s\n", done, strerror(errno));
	}
	return 0;
}
