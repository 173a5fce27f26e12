/*
 * Crash reports: an async-signal-safe handler for SIGSEGV, SIGBUS, SIGILL,
 * SIGFPE, SIGABRT, SIGTRAP and SIGSYS, on an alternate stack, that sends one
 * NUWA_APP_MSG_CRASH message on the app's channel (an fd nuwad gave it)
 * and then lets the signal kill the process as it would have.
 *
 * The message is text, one "key=value" per line: signal, code, addr (the
 * fault address), pc, then "frame=ADDR SYMBOL+OFF (OBJECT)" lines of the
 * faulting thread, innermost first. Everything it needs is made before:
 * nuwa_crash_prepare() (in the template, or the exec host before the app)
 * maps the alternate stack and calls backtrace() and dladdr() once, so the
 * unwinder (libgcc_s) is loaded and warm and the handler never allocates.
 * Symbol names come from dladdr(): the dynamic symbols of each object, so
 * exported functions are named, static ones show as OBJECT+OFFSET. (dladdr
 * takes the loader's lock: a crash inside dlopen() is reported without
 * names only if that lock is free; the record is still sent.)
 */
#include <dlfcn.h>
#include <errno.h>
#if __has_include(<execinfo.h>)
#include <execinfo.h>
#define HAVE_BACKTRACE 1
#else
/* musl has no backtrace(): the record then holds the faulting pc's frame. */
static int backtrace(void **frames, int n)
{
	(void)frames;
	(void)n;
	return 0;
}
#endif
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <ucontext.h>
#include <unistd.h>

#include "internal.h"
#include "nuwa_app.h"

#define ALT_STACK_SIZE (64 * 1024)
#define MAX_FRAMES 32

static const int crash_signals[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS };
static void *alt_stack;
static NUWA_CHILD_RW volatile sig_atomic_t crash_fd = -1;
static volatile sig_atomic_t in_handler;

/* A buffer on the (alternate) stack and append helpers that only copy. */
struct rec {
	char buf[NUWA_MSG_MAX_PAYLOAD];
	size_t len;
};

static void put(struct rec *r, const char *s)
{
	while (*s && r->len < sizeof r->buf - 1)
		r->buf[r->len++] = *s++;
}

static void put_uint(struct rec *r, uintptr_t v, int base)
{
	char tmp[24];
	int n = 0;
	if (base == 16)
		put(r, "0x");
	do {
		unsigned d = (unsigned)(v % (uintptr_t)base);
		tmp[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
		v /= (uintptr_t)base;
	} while (v && n < (int)sizeof tmp);
	while (n > 0 && r->len < sizeof r->buf - 1)
		r->buf[r->len++] = tmp[--n];
}

static void put_int(struct rec *r, long v)
{
	if (v < 0) {
		put(r, "-");
		v = -v;
	}
	put_uint(r, (uintptr_t)v, 10);
}

static void put_frame(struct rec *r, void *addr)
{
	Dl_info info;
	put(r, "frame=");
	put_uint(r, (uintptr_t)addr, 16);
	if (dladdr(addr, &info)) {
		if (info.dli_sname && info.dli_saddr) {
			put(r, " ");
			put(r, info.dli_sname);
			put(r, "+");
			put_uint(r, (uintptr_t)addr - (uintptr_t)info.dli_saddr, 16);
		} else if (info.dli_fbase) {
			put(r, " +");
			put_uint(r, (uintptr_t)addr - (uintptr_t)info.dli_fbase, 16);
		}
		if (info.dli_fname) {
			put(r, " (");
			put(r, info.dli_fname);
			put(r, ")");
		}
	}
	put(r, "\n");
}

static void *fault_pc(void *ctx)
{
	ucontext_t *uc = ctx;
	if (!uc)
		return NULL;
#if defined(__x86_64__)
	return (void *)uc->uc_mcontext.gregs[REG_RIP];
#elif defined(__i386__)
	return (void *)uc->uc_mcontext.gregs[REG_EIP];
#elif defined(__aarch64__)
	return (void *)uc->uc_mcontext.pc;
#elif defined(__arm__)
	return (void *)uc->uc_mcontext.arm_pc;
#else
	return NULL;
#endif
}

static void on_crash(int sig, siginfo_t *si, void *ctx)
{
	struct rec r;
	struct nuwa_msg_hdr h;
	void *frames[MAX_FRAMES];
	void *pc = fault_pc(ctx);
	int n, i, fd = crash_fd, e = errno;
	struct sigaction dfl;

	/* Back to the default first: a fault in here kills the process at
	 * once (nuwad then records the signal without this report). */
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	sigaction(sig, &dfl, NULL);
	if (in_handler || fd < 0)
		goto out;
	in_handler = 1;
	r.len = 0;
	put(&r, "signal=");
	put_int(&r, sig);
	put(&r, "\ncode=");
	put_int(&r, si ? si->si_code : 0);
	put(&r, "\naddr=");
	put_uint(&r, si ? (uintptr_t)si->si_addr : 0, 16);
	put(&r, "\npc=");
	put_uint(&r, (uintptr_t)pc, 16);
	put(&r, "\n");
	/* The faulting instruction first (the unwinder may not see through
	 * the signal frame on every architecture), then the unwound stack
	 * without our own handler frames. */
	if (pc)
		put_frame(&r, pc);
	n = backtrace(frames, MAX_FRAMES);
	for (i = 0; i < n; i++) {
		Dl_info info;
		if (frames[i] == pc)
			continue;
		if (dladdr(frames[i], &info) && info.dli_saddr == (void *)on_crash)
			continue;
		put_frame(&r, frames[i]);
	}
	memset(&h, 0, sizeof h);
	h.type = NUWA_APP_MSG_CRASH;
	h.len = (uint32_t)r.len;
	{
		struct iovec iov[2] = { { &h, sizeof h }, { r.buf, r.len } };
		struct msghdr m;
		memset(&m, 0, sizeof m);
		m.msg_iov = iov;
		m.msg_iovlen = 2;
		(void)sendmsg(fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
	}
out:
	errno = e;
	/* A fault re-executes and now kills; a sent signal needs raising. */
	if (!si || si->si_code <= 0)
		raise(sig);
}

int nuwa_crash_prepare(void)
{
	void *frames[4];
	Dl_info info;
	stack_t ss;

	if (!alt_stack) {
		void *p = mmap(NULL, ALT_STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return -1;
		alt_stack = p;
	}
	memset(&ss, 0, sizeof ss);
	ss.ss_sp = alt_stack;
	ss.ss_size = ALT_STACK_SIZE;
	if (sigaltstack(&ss, NULL) < 0)
		return -1;
	/* Load and warm the unwinder and the symbol lookup now. */
	(void)backtrace(frames, 4);
	(void)dladdr((void *)nuwa_crash_prepare, &info);
	return 0;
}

int nuwa_crash_arm(int fd)
{
	struct sigaction sa;
	size_t i;
	stack_t ss;
	if (!alt_stack && nuwa_crash_prepare() < 0)
		return -1;
	/* The alternate stack is per thread: make sure this one has it. */
	memset(&ss, 0, sizeof ss);
	ss.ss_sp = alt_stack;
	ss.ss_size = ALT_STACK_SIZE;
	if (sigaltstack(&ss, NULL) < 0)
		return -1;
	crash_fd = fd;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_crash;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof crash_signals / sizeof crash_signals[0]; i++)
		if (sigaction(crash_signals[i], &sa, NULL) < 0)
			return -1;
	return 0;
}
