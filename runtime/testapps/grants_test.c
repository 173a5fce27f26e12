/* nuwa-grants-test DIR: unit tests of nuwad's snapshot grant bookkeeping
 * (runtime/nuwad/grants.c), one "ok NAME" or "FAIL NAME: why" line per
 * case; exit status 1 when any case failed. Run by tests/runtime/test_grants.py. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "grants.h"

#define MAX 4096
static int failures;
static char base[256];

#define CHECK(cond, ...)                                         \
	do {                                                     \
		if (!(cond)) {                                   \
			printf("FAIL %s: ", name);               \
			printf(__VA_ARGS__);                     \
			printf(" (line %d)\n", __LINE__);        \
			failures++;                              \
			goto out;                                \
		}                                                \
	} while (0)

static int setup(struct grants *g, const char *name, uint64_t quota, int timeout_ms)
{
	struct grant_conf c = { .max_bytes = MAX, .quota_bytes = quota, .timeout_ms = timeout_ms };
	char dir[512], err[256];
	snprintf(dir, sizeof dir, "%s/%s", base, name);
	c.dir = dir;
	if (grants_init(g, &c, err, sizeof err) < 0) {
		printf("FAIL %s: init: %s\n", name, err);
		failures++;
		return -1;
	}
	return 0;
}

static int write_snapshot(int fd, size_t body)
{
	char buf[256];
	memset(buf, 'x', sizeof buf);
	if (write(fd, GRANT_SNAPSHOT_MAGIC, strlen(GRANT_SNAPSHOT_MAGIC)) < 0)
		return -1;
	while (body > 0) {
		size_t n = body < sizeof buf ? body : sizeof buf;
		if (write(fd, buf, n) != (ssize_t)n)
			return -1;
		body -= n;
	}
	return (int)strlen(GRANT_SNAPSHOT_MAGIC);
}

static int count_files(const char *name)
{
	char cmd[600];
	FILE *p;
	int n = -1;
	snprintf(cmd, sizeof cmd, "ls -A '%s/%s' | wc -l", base, name);
	p = popen(cmd, "r");
	if (p) {
		if (fscanf(p, "%d", &n) != 1)
			n = -1;
		pclose(p);
	}
	return n;
}

static void t_good_snapshot(void)
{
	const char *name = "good";
	struct grants g;
	struct grant *gr;
	struct stat sb;
	char err[256], ans[32];
	pid_t holder;
	int fd = -1, head;
	if (setup(&g, name, 4 * MAX, 1000) < 0)
		return;
	gr = grants_open(&g, "clock", 100, 0, &fd, err, sizeof err);
	CHECK(gr && fd >= 0, "open: %s", err);
	CHECK(fcntl(fd, F_GETFL) >= 0 && (fcntl(fd, F_GETFL) & O_ACCMODE) == O_WRONLY, "fd is not write-only");
	/* Pending, the snapshot is nuwad's memfd: nothing is in the directory. */
	CHECK(count_files(name) == 0, "files while pending: %d", count_files(name));
	CHECK(gr->memfd >= 0 && fcntl(gr->memfd, F_GET_SEALS) == 0, "no sealable memfd");
	head = write_snapshot(fd, 1000);
	close(fd);
	fd = -1;
	snprintf(ans, sizeof ans, "%d", head + 1000);
	CHECK(grants_finish(&g, gr, ans, strlen(ans), 5000, &holder, err, sizeof err) == 0, "finish: %s", err);
	CHECK(gr->state == GRANT_DONE && gr->bytes == (uint64_t)head + 1000, "state/bytes");
	CHECK(strstr(gr->path, "clock-1.snap") && stat(gr->path, &sb) == 0, "final path %s", gr->path);
	CHECK(gr->write_ms == 5.0, "write_ms %f", gr->write_ms);
	CHECK(grants_used(&g) == gr->bytes, "used");
	CHECK(count_files(name) == 1, "files left: %d", count_files(name));
	CHECK((sb.st_mode & 0777) == 0600, "file mode %o", (unsigned)(sb.st_mode & 0777));
	printf("ok %s\n", name);
out:
	if (fd >= 0)
		close(fd);
	grants_free(&g);
}

/* A grant fd kept past the answer (parked, dup'ed): once accepted, the
 * snapshot is sealed and the file written; writes through it fail. */
static void t_sealed_after_finish(void)
{
	const char *name = "sealed";
	struct grants g;
	struct grant *gr;
	char err[256], ans[32], before[8192], after[8192];
	pid_t holder;
	int fd = -1, kept = -1, head, f;
	ssize_t nb, na;
	if (setup(&g, name, 4 * MAX, 1000) < 0)
		return;
	gr = grants_open(&g, "clock", 100, 0, &fd, err, sizeof err);
	CHECK(gr && fd >= 0, "open: %s", err);
	head = write_snapshot(fd, 100);
	kept = dup(fd);
	close(fd);
	fd = -1;
	snprintf(ans, sizeof ans, "%d", head + 100);
	CHECK(grants_finish(&g, gr, ans, strlen(ans), 0, &holder, err, sizeof err) == 0, "finish: %s", err);
	f = open(gr->path, O_RDONLY | O_CLOEXEC);
	nb = f >= 0 ? read(f, before, sizeof before) : -1;
	CHECK(nb == head + 100, "read %zd", nb);
	CHECK(pwrite(kept, "EVIL", 4, 0) < 0 && errno == EPERM, "write after seal: %s", strerror(errno));
	CHECK(write(kept, "EVIL", 4) < 0 && errno == EPERM, "append after seal");
	CHECK(lseek(f, 0, SEEK_SET) == 0 && (na = read(f, after, sizeof after)) == nb &&
	      !memcmp(before, after, (size_t)nb), "snapshot changed");
	close(f);
	printf("ok %s\n", name);
out:
	if (fd >= 0)
		close(fd);
	if (kept >= 0)
		close(kept);
	grants_free(&g);
}

static void t_one_per_app(void)
{
	const char *name = "one_per_app";
	struct grants g;
	char err[256];
	int fd1 = -1, fd2 = -1, fd3 = -1;
	if (setup(&g, name, 4 * MAX, 1000) < 0)
		return;
	CHECK(grants_open(&g, "clock", 100, 0, &fd1, err, sizeof err), "first: %s", err);
	CHECK(!grants_open(&g, "clock", 100, 0, &fd2, err, sizeof err) && errno == EBUSY && fd2 < 0,
	      "second grant for the same app was given");
	CHECK(grants_open(&g, "notes", 101, 0, &fd3, err, sizeof err), "other app: %s", err);
	printf("ok %s\n", name);
out:
	if (fd1 >= 0)
		close(fd1);
	if (fd3 >= 0)
		close(fd3);
	grants_free(&g);
}

static void finish_bad(const char *name, const char *answer, size_t body, const char *want)
{
	struct grants g;
	struct grant *gr;
	char err[256];
	pid_t holder;
	int fd = -1, head;
	if (setup(&g, name, 4 * MAX, 1000) < 0)
		return;
	gr = grants_open(&g, "clock", 100, 0, &fd, err, sizeof err);
	CHECK(gr, "open: %s", err);
	if (body == (size_t)-1)
		head = (int)write(fd, "garbage", 7);
	else
		head = write_snapshot(fd, body);
	CHECK(head >= 0, "write: %s", strerror(errno));
	close(fd);
	fd = -1;
	CHECK(grants_finish(&g, gr, answer, strlen(answer), 0, &holder, err, sizeof err) < 0,
	      "bad answer accepted");
	CHECK(strstr(err, want), "error '%s' lacks '%s'", err, want);
	CHECK(count_files(name) == 0, "snapshot not removed");
	CHECK(grants_used(&g) == 0 && !g.list, "grant not forgotten");
	printf("ok %s\n", name);
out:
	if (fd >= 0)
		close(fd);
	grants_free(&g);
}

static void t_bad_answers(void)
{
	char n[32];
	finish_bad("garbage_answer", "lots", 100, "malformed");
	finish_bad("empty_answer", "", 100, "malformed");
	finish_bad("huge_number", "99999999999999999999999", 100, "malformed");
	finish_bad("wrong_count", "17", 100, "says 17");
	snprintf(n, sizeof n, "%d", MAX + 100);
	finish_bad("past_limit", n, MAX + 100 - strlen(GRANT_SNAPSHOT_MAGIC), "exceeds the limit");
	finish_bad("garbage_file", "0", (size_t)-1, "says 0");
}

static void t_no_header(void)
{
	const char *name = "no_header_right_count";
	struct grants g;
	struct grant *gr;
	char err[256];
	pid_t holder;
	int fd = -1;
	if (setup(&g, name, 4 * MAX, 1000) < 0)
		return;
	gr = grants_open(&g, "clock", 100, 0, &fd, err, sizeof err);
	CHECK(gr, "open: %s", err);
	CHECK(write(fd, "NOT A SNAPSHOT, JUST SOME BYTES\n", 32) == 32, "write");
	CHECK(grants_finish(&g, gr, "32", 2, 0, &holder, err, sizeof err) < 0, "accepted");
	CHECK(strstr(err, "header"), "error: %s", err);
	CHECK(count_files(name) == 0, "not removed");
	printf("ok %s\n", name);
out:
	if (fd >= 0)
		close(fd);
	grants_free(&g);
}

static void t_timeout(void)
{
	const char *name = "timeout";
	struct grants g;
	struct grant *gr;
	char err[256];
	pid_t holder = -1;
	int fd = -1;
	if (setup(&g, name, 4 * MAX, 250) < 0)
		return;
	gr = grants_open(&g, "clock", 100, 1000000, &fd, err, sizeof err);
	CHECK(gr, "open: %s", err);
	close(fd);
	fd = -1;
	CHECK(grants_next_deadline(&g) == 1000000 + 250000, "deadline %lld", (long long)grants_next_deadline(&g));
	CHECK(!grants_expired(&g, 1000000 + 249999), "expired early");
	CHECK(grants_expired(&g, 1000000 + 250000) == gr, "not expired");
	grants_fail(&g, gr, &holder);
	CHECK(holder == 0, "holder %d", (int)holder);
	CHECK(count_files(name) == 0 && !g.list, "not removed");
	CHECK(grants_next_deadline(&g) == 0, "deadline left");
	printf("ok %s\n", name);
out:
	if (fd >= 0)
		close(fd);
	grants_free(&g);
}

static int finish_one(struct grants *g, const char *app, pid_t pid, int64_t t, char *err, size_t errlen)
{
	struct grant *gr;
	pid_t holder;
	char ans[32];
	int fd, head;
	gr = grants_open(g, app, pid, t, &fd, err, errlen);
	if (!gr)
		return -1;
	head = write_snapshot(fd, MAX / 2);
	close(fd);
	snprintf(ans, sizeof ans, "%d", head + MAX / 2);
	return grants_finish(g, gr, ans, strlen(ans), t + 1, &holder, err, errlen);
}

static void t_quota_evicts_oldest(void)
{
	const char *name = "quota_evicts_oldest";
	struct grants g;
	char err[256];
	int i;
	if (setup(&g, name, 2 * MAX, 1000) < 0)
		return;
	for (i = 0; i < 5; i++)
		CHECK(finish_one(&g, "clock", 100 + i, i * 10, err, sizeof err) == 0, "snapshot %d: %s", i, err);
	CHECK(grants_used(&g) <= 2 * MAX, "over quota: %llu", (unsigned long long)grants_used(&g));
	CHECK(!grants_find(&g, 1) && !grants_find(&g, 2), "oldest not evicted");
	CHECK(grants_find(&g, 5) && grants_find(&g, 5)->state == GRANT_DONE, "newest missing");
	CHECK(count_files(name) >= 1 && count_files(name) <= 2, "files: %d", count_files(name));
	printf("ok %s\n", name);
out:
	grants_free(&g);
}

static void t_quota_pending_refused(void)
{
	const char *name = "quota_pending_refused";
	struct grants g;
	char err[256];
	int fd1 = -1, fd2 = -1, fd3 = -1;
	if (setup(&g, name, 2 * MAX, 1000) < 0)
		return;
	CHECK(grants_open(&g, "a", 1, 0, &fd1, err, sizeof err), "a: %s", err);
	CHECK(grants_open(&g, "b", 2, 0, &fd2, err, sizeof err), "b: %s", err);
	CHECK(!grants_open(&g, "c", 3, 0, &fd3, err, sizeof err) && errno == ENOSPC, "third granted");
	CHECK(strstr(err, "quota"), "error: %s", err);
	printf("ok %s\n", name);
out:
	if (fd1 >= 0)
		close(fd1);
	if (fd2 >= 0)
		close(fd2);
	if (fd3 >= 0)
		close(fd3);
	grants_free(&g);
}

static void t_kept_fd(void)
{
	const char *name = "kept_fd";
	struct grants g;
	struct grant *gr;
	char err[256], ans[32];
	pid_t holder = 0, child = -1;
	int fd = -1, head, p[2] = { -1, -1 };
	if (setup(&g, name, 4 * MAX, 1000) < 0)
		return;
	gr = grants_open(&g, "hostile", 100, 0, &fd, err, sizeof err);
	CHECK(gr, "open: %s", err);
	head = write_snapshot(fd, 10);
	CHECK(pipe(p) == 0, "pipe");
	child = fork();
	CHECK(child >= 0, "fork");
	if (child == 0) {
		/* The "app": keeps its fd after answering. */
		char c;
		close(p[1]);
		if (read(p[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(fd);
	fd = -1;
	close(p[0]);
	p[0] = -1;
	snprintf(ans, sizeof ans, "%d", head + 10);
	CHECK(grants_finish(&g, gr, ans, strlen(ans), 0, &holder, err, sizeof err) < 0, "kept fd accepted");
	CHECK(holder == child, "holder %d, want %d", (int)holder, (int)child);
	CHECK(strstr(err, "kept the granted fd"), "error: %s", err);
	CHECK(count_files(name) == 0, "not removed");
	printf("ok %s\n", name);
out:
	if (p[1] >= 0)
		close(p[1]);
	if (p[0] >= 0)
		close(p[0]);
	if (child > 0)
		waitpid(child, NULL, 0);
	if (fd >= 0)
		close(fd);
	grants_free(&g);
}

static void t_restart_cleans_and_adopts(void)
{
	const char *name = "restart";
	struct grants g, g2;
	char err[256];
	int fd = -1, g2_ok = 0;
	if (setup(&g, name, 4 * MAX, 1000) < 0)
		return;
	CHECK(finish_one(&g, "clock", 1, 0, err, sizeof err) == 0, "done: %s", err);
	CHECK(grants_open(&g, "notes", 2, 0, &fd, err, sizeof err), "pending: %s", err);
	close(fd);
	fd = -1;
	/* nuwad restarts: the pending one is half-written and must go. */
	CHECK(setup(&g2, name, 4 * MAX, 1000) == 0, "re-init");
	g2_ok = 1;
	CHECK(grants_find(&g2, 1) && grants_find(&g2, 1)->state == GRANT_DONE, "done snapshot not adopted");
	CHECK(!grants_find(&g2, 2), "pending snapshot adopted");
	CHECK(count_files(name) == 1, "files: %d", count_files(name));
	CHECK(g2.next_id == 2, "next id %u", g2.next_id);
	CHECK(grants_remove(&g2, 1) == 0 && count_files(name) == 0, "remove");
	CHECK(grants_remove(&g2, 1) < 0 && errno == ENOENT, "double remove");
	printf("ok %s\n", name);
out:
	if (g2_ok)
		grants_free(&g2);
	grants_free(&g);
}

static void t_bad_conf(void)
{
	const char *name = "bad_conf";
	struct grants g;
	struct grant_conf c = { .dir = base, .max_bytes = 100, .quota_bytes = 10, .timeout_ms = 10 };
	char err[256];
	CHECK(grants_init(&g, &c, err, sizeof err) < 0 && strstr(err, "quota"), "quota < max accepted");
	c.quota_bytes = 1000;
	c.timeout_ms = 0;
	CHECK(grants_init(&g, &c, err, sizeof err) < 0, "zero timeout accepted");
	printf("ok %s\n", name);
out:
	return;
}

static void t_bad_names(void)
{
	const char *name = "bad_names";
	struct grants g;
	char err[256];
	int fd = -1;
	if (setup(&g, name, 4 * MAX, 1000) < 0)
		return;
	CHECK(!grants_open(&g, "../escape", 1, 0, &fd, err, sizeof err) && errno == EINVAL, "slash accepted");
	CHECK(!grants_open(&g, "", 1, 0, &fd, err, sizeof err), "empty accepted");
	CHECK(count_files(name) == 0, "files made");
	printf("ok %s\n", name);
out:
	if (fd >= 0)
		close(fd);
	grants_free(&g);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: nuwa-grants-test DIR\n");
		return 2;
	}
	snprintf(base, sizeof base, "%s", argv[1]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	t_good_snapshot();
	t_sealed_after_finish();
	t_one_per_app();
	t_bad_answers();
	t_no_header();
	t_timeout();
	t_quota_evicts_oldest();
	t_quota_pending_refused();
	t_kept_fd();
	t_restart_cleans_and_adopts();
	t_bad_conf();
	t_bad_names();
	return failures ? 1 : 0;
}
