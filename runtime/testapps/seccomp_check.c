/* nuwa-seccomp-check: the app sandbox's seccomp program (the rule list
 * runtime/lib/sandbox_syscalls.list as this target's table, sandbox_policy.c,
 * compiled by sandbox_bpf.c; linked with their objects, not libnuwa)
 * against its own allowlist, in user space. The generated program is run by
 * a small classic-BPF interpreter for every system-call number from 0 to
 * past the highest listed one (and the x32, signed and top-of-range
 * numbers), with argument values that exercise every argument check, and
 * each decision is compared with one taken straight from the list
 * (sb_rules: the call's action and what that action means). Both programs
 * (without and with TCP) are checked, built for one pid and copied for
 * another as a template child does. One "ok NAME" or "FAIL NAME: why" line
 * per case, an "info" line with the program's size and search depth; exit
 * status 1 when a case failed. Run by tests/runtime/test_seccomp_program.py
 * natively and tests/system/test_seccomp_program_guest.py in the guest.
 *
 * nuwa-seccomp-check --dump: both programs as built for pid 4242, one
 * instruction a line ("code jt jf k", hexadecimal) and the pid checks'
 * places, so that two builds' programs can be compared byte for byte.
 *
 * nuwa-seccomp-check --time-install N (a measurement, docs/benchmarks.md):
 * N children each install the program (without TCP) and time the seccomp()
 * call; prints the median and the minimum in microseconds. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../lib/sandbox_seccomp.h"

/* libnuwa's log, which the sandbox's reporting calls. */
void nuwa_log(const char *fmt, ...)
{
	(void)fmt;
}

static int failures;

/* ---- the interpreter: the instructions a seccomp filter may use ---- */

struct run_result {
	uint32_t ret;
	unsigned steps; /* instructions executed */
	const char *error;
};

static struct run_result run_bpf(const struct sock_filter *f, unsigned n,
				 const struct seccomp_data *d)
{
	struct run_result r = { 0, 0, NULL };
	uint32_t a = 0;
	unsigned pc = 0;

	while (pc < n) {
		const struct sock_filter *in = &f[pc];
		uint32_t word;
		r.steps++;
		pc++;
		switch (in->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			if (in->k % 4 || in->k + 4 > sizeof *d) {
				r.error = "load outside seccomp_data";
				return r;
			}
			memcpy(&word, (const char *)d + in->k, 4);
			a = word;
			break;
		case BPF_ALU | BPF_AND | BPF_K:
			a &= in->k;
			break;
		case BPF_JMP | BPF_JA:
			if (in->k >= n - pc) {
				r.error = "JA past the end";
				return r;
			}
			pc += in->k;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
		case BPF_JMP | BPF_JGE | BPF_K:
		case BPF_JMP | BPF_JSET | BPF_K: {
			int taken = BPF_OP(in->code) == BPF_JEQ ? a == in->k
				    : BPF_OP(in->code) == BPF_JGE ? a >= in->k : (a & in->k) != 0;
			unsigned off = taken ? in->jt : in->jf;
			if (off >= n - pc) {
				r.error = "conditional jump past the end";
				return r;
			}
			pc += off;
			break;
		}
		case BPF_RET | BPF_K:
			r.ret = in->k;
			return r;
		default:
			r.error = "instruction the checker does not know";
			return r;
		}
	}
	r.error = "ran off the end without RET";
	return r;
}

/* ---- the reference: the decision read off the list ---------------- */

static struct sb_rule by_nr[SB_NRULES];

static int cmp_nr(const void *a, const void *b)
{
	const struct sb_rule *x = a, *y = b;
	return x->nr < y->nr ? -1 : x->nr > y->nr;
}

static int in_list(uint32_t v, const uint32_t *list, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (list[i] == v)
			return 1;
	return 0;
}

#define ALLOW SECCOMP_RET_ALLOW
#define KILL SECCOMP_RET_KILL_PROCESS
#define ERR(e) (SECCOMP_RET_ERRNO | (e))

/* What the list says for D: the filter reads the low 32 bits of each
 * argument, so the reference does too. */
static uint32_t reference(const struct seccomp_data *d, uint32_t self, int tcp)
{
	static const uint32_t fcntl_bad[] = { F_SETOWN, F_SETOWN_EX, F_SETSIG };
	static const uint32_t ioctl_bad[] = { FIOSETOWN, SIOCSPGRP, TIOCSTI, TIOCSETD, TIOCSPGRP,
					      TIOCLINUX };
	uint32_t a0 = (uint32_t)d->args[0], a1 = (uint32_t)d->args[1], a2 = (uint32_t)d->args[2];
	struct sb_rule key = { (long)(uint32_t)d->nr, 0 };
	const struct sb_rule *r;

	if (d->arch != SB_AUDIT_ARCH)
		return KILL;
	r = bsearch(&key, by_nr, SB_NRULES, sizeof by_nr[0], cmp_nr);
	if (!r)
		return KILL;
	switch (r->action) {
	case A_ALLOW:
		return ALLOW;
	case A_EPERM:
		return ERR(EPERM);
	case A_ENOSYS:
		return ERR(ENOSYS);
	case A_SIGNAL_SELF:
		return a0 == self ? ALLOW : ERR(EPERM);
	case A_SELF_OR_0:
		return a0 == 0 || a0 == self ? ALLOW : ERR(EPERM);
	case A_PRIO:
		return a0 == PRIO_PROCESS && (a1 == 0 || a1 == self) ? ALLOW : ERR(EPERM);
	case A_FCNTL:
		return in_list(a1, fcntl_bad, 3) ? ERR(EPERM) : ALLOW;
	case A_IOCTL:
		return in_list(a1, ioctl_bad, 6) ? ERR(EPERM) : ALLOW;
	case A_CLONE:
		return a0 & (CLONE_NEWNS | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC |
			     CLONE_NEWUTS | CLONE_NEWCGROUP) ? ERR(EPERM) : ALLOW;
	case A_PERSONALITY:
		return a0 == 0xffffffffu ? ALLOW : ERR(EPERM);
	case A_SOCKET:
		if (a0 == AF_UNIX)
			return ALLOW;
		if (tcp && (a0 == AF_INET || a0 == AF_INET6) && (a1 & 0xf) == SOCK_STREAM &&
		    (a2 == 0 || a2 == IPPROTO_TCP))
			return ALLOW;
		return ERR(EACCES);
	}
	return 0xdead; /* an action the reference does not know: always a mismatch */
}

static int arg_dependent(uint32_t nr)
{
	struct sb_rule key = { (long)nr, 0 };
	const struct sb_rule *r = bsearch(&key, by_nr, SB_NRULES, sizeof by_nr[0], cmp_nr);
	return r && r->action != A_ALLOW && r->action != A_EPERM && r->action != A_ENOSYS;
}

/* ---- the cases ----------------------------------------------------- */

#define NPROBES_MAX 64
static uint64_t probes[NPROBES_MAX];
static unsigned nprobes;

static void add_probe(uint64_t v)
{
	if (nprobes < NPROBES_MAX)
		probes[nprobes++] = v;
}

/* Argument values on both sides of every check: pids, families, types,
 * protocols, commands, flags, with and without high bits set. */
static void make_probes(uint32_t self)
{
	unsigned i;
	static const uint64_t fixed[] = {
		0, 1, 2, 0xffffffffu, 0x7fffffffu, AF_UNIX, AF_INET, AF_INET6, AF_NETLINK,
		AF_PACKET, SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_TCP, IPPROTO_UDP, F_SETOWN, F_SETOWN_EX, F_SETSIG,
		F_GETFL, F_GETOWN, FIOSETOWN, SIOCSPGRP, TIOCSTI, TIOCSETD, TIOCSPGRP, TIOCLINUX,
		0x541B /* FIONREAD */, PRIO_PGRP, PRIO_USER, CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID,
		CLONE_NEWNET, CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWCGROUP, CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD,
		SIGCHLD, 0x100000000ull, 0xffffffff00000000ull | AF_UNIX,
	};
	nprobes = 0;
	for (i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		add_probe(fixed[i]);
	add_probe(self);
	add_probe(self + 1);
	add_probe(self - 1);
	add_probe(0xffffffff00000000ull | self);
	add_probe((uint32_t)-self);
}

struct tally {
	unsigned long decisions, mismatches;
	unsigned max_steps;
	char first[200];
};

static void check_one(const struct bpf_prog_buf *p, const struct seccomp_data *d, uint32_t self,
		      int tcp, struct tally *t)
{
	struct run_result r = run_bpf(p->f, p->n, d);
	uint32_t want = reference(d, self, tcp);
	t->decisions++;
	if (r.steps > t->max_steps)
		t->max_steps = r.steps;
	if (r.error || r.ret != want) {
		if (!t->mismatches++)
			snprintf(t->first, sizeof t->first,
				 "nr %u arch %#x args %#llx %#llx %#llx: program %#x%s%s, list %#x",
				 (unsigned)d->nr, d->arch, (unsigned long long)d->args[0],
				 (unsigned long long)d->args[1], (unsigned long long)d->args[2], r.ret, r.error ? " " : "",
				 r.error ? r.error : "", want);
	}
}

static void check_nr(const struct bpf_prog_buf *p, uint32_t nr, uint32_t arch, uint32_t self,
		     int tcp, struct tally *t)
{
	struct seccomp_data d;
	unsigned i, j, k;

	memset(&d, 0, sizeof d);
	d.nr = (int)nr;
	d.arch = arch;
	d.instruction_pointer = 0x1000;
	d.args[3] = d.args[4] = d.args[5] = 0xa5a5a5a5a5a5a5a5ull;
	if (arch != SB_AUDIT_ARCH || !arg_dependent(nr)) {
		/* The decision must not depend on the arguments: two probes. */
		check_one(p, &d, self, tcp, t);
		d.args[0] = d.args[1] = d.args[2] = ~0ull;
		check_one(p, &d, self, tcp, t);
		return;
	}
	for (i = 0; i < nprobes; i++)
		for (j = 0; j < nprobes; j++)
			for (k = 0; k < nprobes; k++) {
				d.args[0] = probes[i];
				d.args[1] = probes[j];
				d.args[2] = probes[k];
				check_one(p, &d, self, tcp, t);
			}
}

static void report(const char *name, const struct tally *t)
{
	if (t->mismatches) {
		printf("FAIL %s: %lu of %lu decisions differ from the list, first: %s\n", name,
		       t->mismatches, t->decisions, t->first);
		failures++;
	} else {
		printf("ok %s: %lu decisions\n", name, t->decisions);
	}
}

/* Every number 0..(highest listed + 4096), then the ranges past it that
 * a caller could pass: x32, negative, the top of the 32-bit range. */
static void check_program(const char *name, const struct bpf_prog_buf *p, uint32_t self, int tcp,
			  struct tally *t)
{
	uint32_t top = (uint32_t)by_nr[SB_NRULES - 1].nr + 4096, nr;
	static const uint32_t edges[] = { 0x3fffffffu, 0x40000000u, 0x7fffffffu, 0x80000000u,
					  0xfffffffeu, 0xffffffffu };
	unsigned i;

	memset(t, 0, sizeof *t);
	make_probes(self);
	for (nr = 0; nr <= top; nr++)
		check_nr(p, nr, SB_AUDIT_ARCH, self, tcp, t);
	for (i = 0; i < SB_NRULES; i++) /* each listed call under x32's bit */
		check_nr(p, (uint32_t)by_nr[i].nr | 0x40000000u, SB_AUDIT_ARCH, self, tcp, t);
	for (i = 0; i < sizeof edges / sizeof edges[0]; i++)
		check_nr(p, edges[i], SB_AUDIT_ARCH, self, tcp, t);
	report(name, t);
}

/* A listed call under another architecture's audit value is killed. */
static void check_foreign_arch(const struct bpf_prog_buf *p, uint32_t self, int tcp)
{
	static const uint32_t arches[] = { AUDIT_ARCH_X86_64, AUDIT_ARCH_I386, AUDIT_ARCH_ARM,
					   AUDIT_ARCH_AARCH64, 0, 0xffffffffu };
	struct tally t;
	unsigned i, j;

	memset(&t, 0, sizeof t);
	make_probes(self);
	for (i = 0; i < sizeof arches / sizeof arches[0]; i++) {
		if (arches[i] == SB_AUDIT_ARCH)
			continue;
		for (j = 0; j < SB_NRULES; j++)
			check_nr(p, (uint32_t)by_nr[j].nr, arches[i], self, tcp, &t);
	}
	report(tcp ? "foreign_arch_tcp" : "foreign_arch", &t);
}

/* Mean instructions a listed call runs with all-zero arguments. */
static double mean_steps(const struct bpf_prog_buf *p)
{
	struct seccomp_data d;
	unsigned long sum = 0;
	size_t i;

	memset(&d, 0, sizeof d);
	d.arch = SB_AUDIT_ARCH;
	for (i = 0; i < SB_NRULES; i++) {
		d.nr = (int)by_nr[i].nr;
		sum += run_bpf(p->f, p->n, &d).steps;
	}
	return (double)sum / SB_NRULES;
}

static void check_list(void)
{
	size_t i;
	for (i = 1; i < SB_NRULES; i++)
		if (by_nr[i].nr == by_nr[i - 1].nr && by_nr[i].action != by_nr[i - 1].action) {
			printf("FAIL list: system call %ld is listed with two actions\n", by_nr[i].nr);
			failures++;
			return;
		}
	printf("ok list: %zu rules\n", (size_t)SB_NRULES);
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	return x < y ? -1 : x > y;
}

/* Each child: no_new_privs, then the timed seccomp(); it sends the time in
 * ns down the pipe and exits (write and exit_group are allowed). */
static int time_install(int runs)
{
	static struct bpf_prog_buf p;
	struct sb_filter_ctx cx = { (uint32_t)getpid(), 0 };
	long ns[1000];
	char err[160];
	int i, n = 0;

	if (runs < 1 || runs > 1000) {
		fprintf(stderr, "nuwa-seccomp-check: --time-install takes 1..1000\n");
		return 2;
	}
	if (build_seccomp(&p, &cx, err, sizeof err) < 0) {
		fprintf(stderr, "nuwa-seccomp-check: %s\n", err);
		return 1;
	}
	for (i = 0; i < runs; i++) {
		int fd[2], status;
		pid_t pid;
		if (pipe(fd) < 0) {
			perror("nuwa-seccomp-check: pipe");
			return 1;
		}
		pid = fork();
		if (pid < 0) {
			perror("nuwa-seccomp-check: fork");
			return 1;
		}
		if (pid == 0) {
			struct sock_fprog prog = { (unsigned short)p.n, p.f };
			struct timespec a, b;
			long d = -1;
			close(fd[0]);
			if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
			    clock_gettime(CLOCK_MONOTONIC, &a) == 0 &&
			    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC,
				    &prog) == 0 &&
			    clock_gettime(CLOCK_MONOTONIC, &b) == 0)
				d = (b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec);
			_exit(write(fd[1], &d, sizeof d) == (ssize_t)sizeof d && d >= 0 ? 0 : 1);
		}
		close(fd[1]);
		if (read(fd[0], &ns[n], sizeof ns[n]) == (ssize_t)sizeof ns[n] && ns[n] >= 0)
			n++;
		close(fd[0]);
		if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
			fprintf(stderr, "nuwa-seccomp-check: an install failed (status %#x)\n", status);
			return 1;
		}
	}
	qsort(ns, (size_t)n, sizeof ns[0], cmp_long);
	printf("install insns=%u runs=%d median_us=%.1f min_us=%.1f\n", p.n, n,
	       ns[n / 2] / 1000.0, ns[0] / 1000.0);
	return 0;
}

/* Both programs for pid 4242 (as main() builds them), for comparing builds. */
static int dump(void)
{
	static struct bpf_prog_buf p;
	char err[160];
	unsigned i;
	int tcp;

	for (tcp = 0; tcp < 2; tcp++) {
		struct sb_filter_ctx cx = { 4242, tcp };
		if (build_seccomp(&p, &cx, err, sizeof err) < 0) {
			fprintf(stderr, "nuwa-seccomp-check: %s\n", err);
			return 1;
		}
		printf("program tcp=%d insns=%u self_checks=%u\n", tcp, p.n, p.nself);
		for (i = 0; i < p.nself && i < SB_MAX_SELF; i++)
			printf("self %u\n", p.self_at[i]);
		for (i = 0; i < p.n; i++)
			printf("%04x %02x %02x %08x\n", p.f[i].code, p.f[i].jt, p.f[i].jf, p.f[i].k);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct bpf_prog_buf built, copied;
	const uint32_t built_for = 4242, child = 31337;
	struct tally t;
	char err[160];
	unsigned max_steps[2] = { 0, 0 }, len[2] = { 0, 0 };
	double mean = 0;
	int tcp;

	if (argc == 3 && strcmp(argv[1], "--time-install") == 0)
		return time_install(atoi(argv[2]));
	if (argc == 2 && strcmp(argv[1], "--dump") == 0)
		return dump();
	if (argc != 1) {
		fprintf(stderr, "usage: nuwa-seccomp-check [--dump | --time-install N]\n");
		return 2;
	}
	memcpy(by_nr, sb_rules, sizeof by_nr);
	qsort(by_nr, SB_NRULES, sizeof by_nr[0], cmp_nr);
	check_list();
	for (tcp = 0; tcp < 2; tcp++) {
		struct sb_filter_ctx cx = { built_for, tcp };
		char name[40];
		if (build_seccomp(&built, &cx, err, sizeof err) < 0) {
			printf("FAIL build%s: %s\n", tcp ? "_tcp" : "", err);
			failures++;
			continue;
		}
		len[tcp] = built.n;
		if (!tcp)
			mean = mean_steps(&built);
		if (built.n > BPF_MAXINSNS) {
			printf("FAIL length%s: %u instructions, the kernel takes %d\n",
			       tcp ? "_tcp" : "", built.n, BPF_MAXINSNS);
			failures++;
		}
		snprintf(name, sizeof name, "decisions%s", tcp ? "_tcp" : "");
		check_program(name, &built, built_for, tcp, &t);
		max_steps[tcp] = t.max_steps;
		/* A template child's program: the template's, with its own pid. */
		copy_for_pid(&copied, &built, child);
		snprintf(name, sizeof name, "copied_for_child%s", tcp ? "_tcp" : "");
		check_program(name, &copied, child, tcp, &t);
		check_foreign_arch(&built, built_for, tcp);
	}
	printf("info rules=%zu insns=%u insns_tcp=%u max_steps=%u max_steps_tcp=%u "
	       "mean_steps_listed=%.1f\n", (size_t)SB_NRULES, len[0], len[1], max_steps[0],
	       max_steps[1], mean);
	return failures ? 1 : 0;
}
