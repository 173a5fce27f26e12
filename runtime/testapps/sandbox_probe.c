/* nuwa-sandbox-probe: applies the app sandbox (nuwa_sandbox_apply) to
 * itself and then tries what a hostile app would, printing one
 * "probe=RESULT" line each (RESULT is "ok" or the errno name). Used by
 * tests/runtime/test_sandbox_native.py, natively and under ASan.
 *
 *   nuwa-sandbox-probe [--uid N] [--gid N] [--group N]... [--read PATH]... [--nofile N]
 *       [--fsize BYTES --fsize-file PATH] [--victim PID] [--tmp DIR]
 *       [--readable FILE] [--unreadable FILE] [--writable FILE] [--required]
 *       [--threads N]   (N extra threads blocked in pause(), like workers)
 *       [--blocker]     (a thread that blocks every signal: sandbox must fail)
 *       [--keep-bounding] (do not empty the capability bounding set at start,
 *                        as the hosts do: the sandbox then drops it per thread)
 *       [--syscalls N]  (time N getppid() calls before and after the sandbox:
 *                        "syscall_ns_before=", "syscall_ns_after=", per call)
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "nuwa_sandbox.h"

static const char *ename(int e)
{
	switch (e) {
	case 0: return "ok";
	case EACCES: return "EACCES";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EMFILE: return "EMFILE";
	case EFBIG: return "EFBIG";
	case ESRCH: return "ESRCH";
	case ENOSYS: return "ENOSYS";
	case EROFS: return "EROFS";
	case EXDEV: return "EXDEV";
	default: {
		/* strerrorname_np is glibc's only: the number, on every C library. */
		static __thread char other[24];
		snprintf(other, sizeof other, "errno %d", e);
		return other;
	}
	}
}

static void report(const char *name, int rc)
{
	printf("%s=%s\n", name, ename(rc < 0 ? errno : 0));
	fflush(stdout);
}

static int try_open(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
	return fd < 0 ? -1 : 0;
}

/* A thread that exists before the sandbox: it must end up confined too. */
static int go_pipe[2];
static char thread_tmp_path[4096];
static int thread_result = -2, thread_errno;

static void *early_thread(void *arg)
{
	char c;
	(void)arg;
	if (read(go_pipe[0], &c, 1) != 1)
		return NULL;
	thread_result = try_open(thread_tmp_path, O_WRONLY | O_CREAT | O_EXCL);
	thread_errno = errno;
	return NULL;
}

/* Extra threads blocked in a system call, like a framework's workers. */
static void *idle_thread(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

/* A thread that blocks every signal: the sandbox cannot confine it and
 * must say so instead of leaving it unconfined. */
static void *blocking_thread(void *arg)
{
	sigset_t all;
	(void)arg;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	for (;;)
		pause();
	return NULL;
}

/* Nanoseconds per getppid() over N calls (the raw call: no C-library cache). */
static long long syscall_ns(long n)
{
	struct timespec a, b;
	long i;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < n; i++)
		syscall(SYS_getppid);
	clock_gettime(CLOCK_MONOTONIC, &b);
	return n ? ((long long)(b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec)) / n : 0;
}

static void status_line(const char *key)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "re");
	if (!f) {
		printf("status_%s=unreadable\n", key);
		return;
	}
	while (fgets(line, sizeof line, f)) {
		if (!strncmp(line, key, strlen(key)) && line[strlen(key)] == ':') {
			char *v = line + strlen(key) + 1;
			v += strspn(v, " \t");
			v[strcspn(v, " \t\n")] = 0;
			printf("status_%s=%s\n", key, v);
		}
	}
	fclose(f);
}

int main(int argc, char **argv)
{
	long groups[8];
	const char *reads[16], *tmp = "/tmp", *readable = NULL, *unreadable = NULL;
	const char *writable = NULL, *fsize_file = NULL;
	struct nuwa_sandbox_conf c;
	struct nuwa_sandbox_state st;
	char err[512], path[4096], desc[512];
	pid_t victim = 0;
	pthread_t th, idle[32];
	struct timespec t0, t1;
	int i, nread = 0, fsize_fd = -1, nidle = 0;
	long nsyscalls = 0;
	long long ns_before = 0;

	memset(&c, 0, sizeof c);
	c.app = "probe";
	for (i = 1; i < argc && strcmp(argv[i], "--keep-bounding"); i++)
		;
	if (i == argc && nuwa_sandbox_drop_bounding() < 0)
		perror("bounding set");
	c.uid = c.gid = -1;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--blocker")) {
			pthread_t b;
			if (pthread_create(&b, NULL, blocking_thread, NULL) != 0)
				return 2;
			usleep(20000); /* let it block its signals */
			continue;
		}
		if (!strcmp(a, "--keep-bounding"))
			continue;
		if (!strcmp(a, "--required")) {
			c.landlock = NUWA_LANDLOCK_REQUIRED;
			continue;
		}
		if (!v) {
			fprintf(stderr, "sandbox-probe: %s needs a value\n", a);
			return 2;
		}
		i++;
		if (!strcmp(a, "--uid"))
			c.uid = atol(v);
		else if (!strcmp(a, "--gid"))
			c.gid = atol(v);
		else if (!strcmp(a, "--group") && c.ngroups < 8)
			groups[c.ngroups++] = atol(v);
		else if (!strcmp(a, "--read") && nread < 16)
			reads[nread++] = v;
		else if (!strcmp(a, "--nofile"))
			c.nofile = strtoul(v, NULL, 10);
		else if (!strcmp(a, "--fsize"))
			c.fsize = strtoull(v, NULL, 10);
		else if (!strcmp(a, "--fsize-file"))
			fsize_file = v;
		else if (!strcmp(a, "--victim"))
			victim = (pid_t)atoi(v);
		else if (!strcmp(a, "--syscalls"))
			nsyscalls = atol(v);
		else if (!strcmp(a, "--threads"))
			nidle = atoi(v) < 32 ? atoi(v) : 32;
		else if (!strcmp(a, "--tmp"))
			tmp = v;
		else if (!strcmp(a, "--readable"))
			readable = v;
		else if (!strcmp(a, "--unreadable"))
			unreadable = v;
		else if (!strcmp(a, "--writable"))
			writable = v;
		else {
			fprintf(stderr, "sandbox-probe: unknown option %s\n", a);
			return 2;
		}
	}
	c.groups = groups;
	c.read_paths = reads;
	c.nread_paths = nread;
	/* What a granted fd looks like: opened before the sandbox. */
	if (fsize_file && (fsize_fd = open(fsize_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666)) < 0) {
		perror(fsize_file);
		return 2;
	}
	snprintf(thread_tmp_path, sizeof thread_tmp_path, "%s/probe-thread-%d", tmp, (int)getpid());
	for (i = 0; i < nidle; i++)
		if (pthread_create(&idle[i], NULL, idle_thread, NULL) != 0) {
			perror("thread");
			return 2;
		}
	if (pipe(go_pipe) < 0 || pthread_create(&th, NULL, early_thread, NULL) != 0) {
		perror("thread");
		return 2;
	}
	if (nsyscalls)
		ns_before = syscall_ns(nsyscalls);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (nuwa_sandbox_apply(&c, &st, err, sizeof err) < 0) {
		printf("sandbox=failed\nsandbox_error=%s\n", err);
		return 3;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("apply_us=%lld\n", (long long)(t1.tv_sec - t0.tv_sec) * 1000000 +
	       (t1.tv_nsec - t0.tv_nsec) / 1000);
	if (nsyscalls)
		printf("syscall_ns_before=%lld\nsyscall_ns_after=%lld\n", ns_before, syscall_ns(nsyscalls));
	nuwa_sandbox_describe(&st, desc, sizeof desc);
	printf("sandbox=ok\nlandlock_abi=%d\ndescribe=%s\n", st.landlock_abi, desc);
	status_line("NoNewPrivs");
	status_line("Seccomp");
	status_line("Uid");
	status_line("Gid");
	status_line("Groups");
	status_line("CapInh");
	status_line("CapPrm");
	status_line("CapEff");
	status_line("CapBnd");
	status_line("CapAmb");

	snprintf(path, sizeof path, "%s/probe-main-%d", tmp, (int)getpid());
	report("create_tmp", try_open(path, O_WRONLY | O_CREAT | O_EXCL));
	if (write(go_pipe[1], "g", 1) != 1 || pthread_join(th, NULL) != 0)
		return 2;
	errno = thread_errno;
	report("thread_create_tmp", thread_result);
	if (writable)
		report("write_existing", try_open(writable, O_WRONLY));
	if (readable)
		report("read_allowed", try_open(readable, O_RDONLY));
	if (unreadable)
		report("read_outside", try_open(unreadable, O_RDONLY));
	report("read_own_smaps", try_open("/proc/self/smaps", O_RDONLY));
	if (fsize_fd >= 0) {
		/* A granted fd must not become a way back into its directory. */
		char self_fd[64];
		snprintf(self_fd, sizeof self_fd, "/proc/self/fd/%d", fsize_fd);
		report("reopen_granted", try_open(self_fd, O_RDONLY));
	}
	report("exec", execl("/bin/true", "true", (char *)NULL));
	if (victim > 0) {
		char mem[64];
		struct iovec local, remote;
		char buf[8];
		snprintf(mem, sizeof mem, "/proc/%d/mem", (int)victim);
		report("victim_mem", try_open(mem, O_RDONLY));
		report("victim_kill", kill(victim, 0));
		report("victim_ptrace", (int)ptrace(PTRACE_ATTACH, victim, NULL, NULL));
		local.iov_base = buf;
		local.iov_len = sizeof buf;
		remote.iov_base = (void *)&local;
		remote.iov_len = sizeof buf;
		report("victim_vm_readv", process_vm_readv(victim, &local, 1, &remote, 1, 0) < 0 ? -1 : 0);
	}
	report("parent_kill", kill(getppid(), 0));
	report("group_kill", kill(0, 0));
	report("self_kill", kill(getpid(), 0));
	report("mount", mount("none", tmp, "tmpfs", 0, NULL));
	report("unshare_user", unshare(CLONE_NEWUSER));
	if (c.nofile) {
		int n = 0, fd;
		while ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) >= 0 && n < 100000)
			n++;
		printf("nofile_opened=%d\n", n);
		report("nofile", fd);
	}
	if (fsize_fd >= 0 && c.fsize) {
		static char block[4096];
		unsigned long long total = 0;
		ssize_t w = 0;
		while (total <= c.fsize + sizeof block && (w = write(fsize_fd, block, sizeof block)) > 0)
			total += (unsigned long long)w;
		printf("fsize_written=%llu\n", total);
		report("fsize", w < 0 ? -1 : 0);
	}
	return 0;
}
