/* The sandbox's BPF compiler: the rule list (sb_rules, sandbox_policy.c)
 * as a classic-BPF seccomp program. The rules become runs of consecutive
 * numbers with one action and a binary search over them; each argument
 * check is emitted once. No system calls and no state: the template builds
 * the program once (nuwa_sandbox_prepare), a child copies it with its own
 * pid in (copy_for_pid), and nuwa-seccomp-check runs it against the list. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "sandbox_steps.h"

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SB_ARG_LO(n) ((uint32_t)offsetof(struct seccomp_data, args[n]))
#else
#define SB_ARG_LO(n) ((uint32_t)offsetof(struct seccomp_data, args[n]) + 4)
#endif

static void mark_self(struct bpf_prog_buf *p, unsigned at)
{
	if (p->nself < SB_MAX_SELF)
		p->self_at[p->nself] = at;
	p->nself++;
}

static void emit(struct bpf_prog_buf *p, uint16_t code, uint8_t jt, uint8_t jf, uint32_t k)
{
	if (p->n < SB_MAX_INSNS)
		p->f[p->n] = (struct sock_filter)BPF_JUMP(code, k, jt, jf);
	p->n++;
}

#define RET_ERRNO(e) (SECCOMP_RET_ERRNO | ((e) & SECCOMP_RET_DATA))
#define RET(p, v) emit(p, BPF_RET | BPF_K, 0, 0, v)
#define LOAD_ARG(p, n) emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, SB_ARG_LO(n))

/* "RET IN if the accumulator is one of V[0..N), else RET OUT". */
static void ret_if_in(struct bpf_prog_buf *p, const uint32_t *v, int n, uint32_t in, uint32_t out)
{
	int i;
	for (i = 0; i < n; i++)
		emit(p, BPF_JMP | BPF_JEQ | BPF_K, (uint8_t)(n - i), 0, v[i]);
	RET(p, out);
	RET(p, in);
}

/* socket(): AF_UNIX always; with TCP granted, AF_INET/AF_INET6 stream
 * sockets of protocol 0 or TCP. Everything else (UDP, raw, packet, netlink,
 * SCTP…) gets EACCES, since Landlock has rules for TCP only; with net =
 * none no IP socket exists, on any Landlock ABI. */
static void emit_socket_check(struct bpf_prog_buf *p, int tcp)
{
	LOAD_ARG(p, 0);
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, AF_UNIX);
	RET(p, SECCOMP_RET_ALLOW);
	if (!tcp) {
		RET(p, RET_ERRNO(EACCES));
		return;
	}
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, AF_INET);
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 7, AF_INET6);
	LOAD_ARG(p, 1);
	emit(p, BPF_ALU | BPF_AND | BPF_K, 0, 0, 0xf); /* the type without SOCK_NONBLOCK/CLOEXEC */
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 4, SOCK_STREAM);
	LOAD_ARG(p, 2);
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 0);
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, IPPROTO_TCP);
	RET(p, SECCOMP_RET_ALLOW);
	RET(p, RET_ERRNO(EACCES));
}

/* The action's instructions; every path ends in a RET. */
static void emit_action(struct bpf_prog_buf *p, unsigned action, const struct sb_filter_ctx *cx)
{
	static const uint32_t fcntl_cmds[] = { F_SETOWN, F_SETOWN_EX, F_SETSIG };
	static const uint32_t ioctl_cmds[] = { FIOSETOWN, SIOCSPGRP, TIOCSTI, TIOCSETD,
					       TIOCSPGRP, TIOCLINUX };
	uint32_t self = cx->self, self_or_0[2] = { 0, cx->self };

	switch (action) {
	case A_ALLOW:
		RET(p, SECCOMP_RET_ALLOW);
		break;
	case A_EPERM:
		RET(p, RET_ERRNO(EPERM));
		break;
	case A_ENOSYS:
		RET(p, RET_ERRNO(ENOSYS));
		break;
	case A_SIGNAL_SELF:
		/* kill(0, ...) and kill(-1, ...) would reach nuwad's group. */
		LOAD_ARG(p, 0);
		mark_self(p, p->n);
		ret_if_in(p, &self, 1, SECCOMP_RET_ALLOW, RET_ERRNO(EPERM));
		break;
	case A_SELF_OR_0:
		LOAD_ARG(p, 0);
		mark_self(p, p->n + 1);
		ret_if_in(p, self_or_0, 2, SECCOMP_RET_ALLOW, RET_ERRNO(EPERM));
		break;
	case A_PRIO:
		LOAD_ARG(p, 0);
		emit(p, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, PRIO_PROCESS);
		RET(p, RET_ERRNO(EPERM));
		LOAD_ARG(p, 1);
		mark_self(p, p->n + 1);
		ret_if_in(p, self_or_0, 2, SECCOMP_RET_ALLOW, RET_ERRNO(EPERM));
		break;
	case A_FCNTL:
		/* F_SETOWN + F_SETSIG + O_ASYNC has the kernel signal anyone. */
		LOAD_ARG(p, 1);
		ret_if_in(p, fcntl_cmds, 3, RET_ERRNO(EPERM), SECCOMP_RET_ALLOW);
		break;
	case A_IOCTL:
		LOAD_ARG(p, 1);
		ret_if_in(p, ioctl_cmds, 6, RET_ERRNO(EPERM), SECCOMP_RET_ALLOW);
		break;
	case A_CLONE:
		/* flags are args[0] on every architecture built for. */
		LOAD_ARG(p, 0);
		emit(p, BPF_JMP | BPF_JSET | BPF_K, 0, 1, NAMESPACE_FLAGS);
		RET(p, RET_ERRNO(EPERM));
		RET(p, SECCOMP_RET_ALLOW);
		break;
	case A_PERSONALITY:
		LOAD_ARG(p, 0);
		ret_if_in(p, (const uint32_t[]){ 0xffffffffu }, 1, SECCOMP_RET_ALLOW, RET_ERRNO(EPERM));
		break;
	case A_SOCKET:
		emit_socket_check(p, cx->tcp);
		break;
	}
}

static int rule_cmp(const void *a, const void *b)
{
	const struct sb_rule *x = a, *y = b;
	return x->nr < y->nr ? -1 : x->nr > y->nr;
}

/* The filter tests ranges of system-call numbers, not each number: the
 * sorted rules become runs of consecutive numbers with one action (the
 * numbers between runs, and those past the last, are killed), and a binary
 * search over the runs' first numbers reaches a call's run in ~log2(runs)
 * comparisons. A run whose action checks arguments jumps to that action's
 * code, emitted once after the search; the other runs return at once. */
#define A_KILL 0xff /* a run of numbers not on the list */
#define SB_MAX_RUNS (2 * SB_NRULES + 2)
struct sb_run {
	uint32_t lo; /* the run is [lo, next run's lo), the last to 0xffffffff */
	unsigned char action;
};

/* Jumps from the search's leaves to an argument action's code, patched
 * once that code is emitted. */
struct sb_fixups {
	unsigned at[SB_MAX_RUNS];
	unsigned char action[SB_MAX_RUNS];
	unsigned n;
};

static int ret_only(unsigned action)
{
	return action == A_ALLOW || action == A_EPERM || action == A_ENOSYS || action == A_KILL;
}

/* Instructions emit_search() emits for runs R[0..N). */
static unsigned search_len(int n)
{
	unsigned left;
	if (n == 1)
		return 1;
	left = search_len(n / 2);
	return 1 + (left > 255 ? 1 : 0) + left + search_len(n - n / 2);
}

static void emit_search(struct bpf_prog_buf *p, const struct sb_run *r, int n,
			const struct sb_filter_ctx *cx, struct sb_fixups *fx)
{
	int mid = n / 2;
	unsigned left;

	if (n == 1) {
		if (ret_only(r->action)) {
			if (r->action == A_KILL)
				RET(p, SECCOMP_RET_KILL_PROCESS);
			else
				emit_action(p, r->action, cx);
		} else {
			fx->at[fx->n] = p->n;
			fx->action[fx->n++] = r->action;
			emit(p, BPF_JMP | BPF_JA, 0, 0, 0);
		}
		return;
	}
	/* nr >= r[mid].lo: the right half, else fall into the left one; a
	 * left half too long for the 8-bit offset is jumped over with JA. */
	left = search_len(mid);
	if (left <= 255) {
		emit(p, BPF_JMP | BPF_JGE | BPF_K, (uint8_t)left, 0, r[mid].lo);
	} else {
		emit(p, BPF_JMP | BPF_JGE | BPF_K, 0, 1, r[mid].lo);
		emit(p, BPF_JMP | BPF_JA, 0, 0, left);
	}
	emit_search(p, r, mid, cx, fx);
	emit_search(p, r + mid, n - mid, cx, fx);
}

/* The sorted, deduplicated rules as runs; 0, or -1 with ERR when one
 * number has two actions (two names for it on this architecture). */
static int make_runs(struct sb_run *runs, int *nruns, char *err, size_t errlen)
{
	struct sb_rule sorted[SB_NRULES];
	size_t i;
	int n = 0;
	uint32_t next = 0; /* the first number after the last run so far */

	memcpy(sorted, sb_rules, sizeof sorted);
	qsort(sorted, SB_NRULES, sizeof sorted[0], rule_cmp);
	for (i = 0; i < SB_NRULES; i++) {
		uint32_t nr = (uint32_t)sorted[i].nr;
		if (i && sorted[i - 1].nr == sorted[i].nr) {
			if (sorted[i - 1].action != sorted[i].action)
				return nuwa_sb_fail(err, errlen, "seccomp: system call %ld has two actions",
					    sorted[i].nr);
			continue;
		}
		if (nr != next && (!n || runs[n - 1].action != A_KILL)) {
			runs[n].lo = next;
			runs[n++].action = A_KILL;
		}
		if (!n || runs[n - 1].action != sorted[i].action) {
			runs[n].lo = nr;
			runs[n++].action = sorted[i].action;
		}
		next = nr + 1;
	}
	if (next != 0 && (!n || runs[n - 1].action != A_KILL)) {
		runs[n].lo = next;
		runs[n++].action = A_KILL;
	}
	*nruns = n;
	return 0;
}

int build_seccomp(struct bpf_prog_buf *p, const struct sb_filter_ctx *cx, char *err, size_t errlen)
{
	struct sb_run runs[SB_MAX_RUNS];
	struct sb_fixups fx;
	unsigned i, j;
	int nruns = 0;

	p->n = 0;
	p->nself = 0;
	fx.n = 0;
	if (make_runs(runs, &nruns, err, errlen) < 0)
		return -1;
	emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)offsetof(struct seccomp_data, arch));
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, SB_AUDIT_ARCH);
	RET(p, SECCOMP_RET_KILL_PROCESS);
	emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)offsetof(struct seccomp_data, nr));
#if defined(__x86_64__)
	/* x32 numbers would dodge the rules (the runs kill them too; this
	 * says so where it is decided). */
	emit(p, BPF_JMP | BPF_JGE | BPF_K, 0, 1, 0x40000000u);
	RET(p, SECCOMP_RET_KILL_PROCESS);
#endif
	emit_search(p, runs, nruns, cx, &fx);
	/* Each argument action's code once, every leaf that needs it jumping
	 * there (JA: a 32-bit offset). */
	for (i = 0; i < fx.n; i++) {
		unsigned start = p->n;
		int seen = 0;
		for (j = 0; j < i; j++)
			seen |= fx.action[j] == fx.action[i];
		if (seen)
			continue;
		emit_action(p, fx.action[i], cx);
		for (j = i; j < fx.n; j++)
			if (fx.action[j] == fx.action[i] && fx.at[j] < SB_MAX_INSNS)
				p->f[fx.at[j]].k = start - fx.at[j] - 1;
	}
	if (p->n > SB_MAX_INSNS)
		return nuwa_sb_fail(err, errlen, "seccomp: filter too long (%u)", p->n);
	if (p->nself > SB_MAX_SELF)
		return nuwa_sb_fail(err, errlen, "seccomp: %u pid checks (at most %d)", p->nself,
				    SB_MAX_SELF);
	return 0;
}

void copy_for_pid(struct bpf_prog_buf *dst, const struct bpf_prog_buf *src, uint32_t self)
{
	unsigned i;
	memcpy(dst->f, src->f, src->n * sizeof src->f[0]);
	dst->n = src->n;
	dst->nself = src->nself;
	memcpy(dst->self_at, src->self_at, sizeof dst->self_at);
	for (i = 0; i < dst->nself; i++)
		dst->f[dst->self_at[i]].k = self;
}
