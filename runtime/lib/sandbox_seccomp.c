/* The sandbox's last step: the seccomp filter installed with TSYNC, so
 * every thread of the process gets it (each already has no_new_privs).
 * The program comes, in this order, from the spare's copy made for this
 * pid before the request, from the template's (nuwa_sandbox_prepare)
 * copied now with this pid in, or from the compiler (sandbox_bpf.c) now.
 * A copy lives in scratch memory of its own, unmapped once the kernel has
 * the program, so it leaves no written page behind in the app. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox_steps.h"

#define SB_PROGS_LEN (2 * sizeof(struct bpf_prog_buf))

struct bpf_prog_buf *nuwa_sb_progs_for_pid(const struct bpf_prog_buf *template_progs)
{
	struct bpf_prog_buf *p = mmap(NULL, SB_PROGS_LEN, PROT_READ | PROT_WRITE,
				      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	copy_for_pid(&p[0], &template_progs[0], (uint32_t)getpid());
	copy_for_pid(&p[1], &template_progs[1], (uint32_t)getpid());
	return p;
}

void nuwa_sb_progs_free(struct bpf_prog_buf *progs)
{
	if (progs && munmap(progs, SB_PROGS_LEN) < 0)
		nuwa_log("sandbox: spare scratch: %s", strerror(errno));
}

static int install(const struct bpf_prog_buf *p, char *err, size_t errlen)
{
	struct sock_fprog prog = { .len = (unsigned short)p->n, .filter = (struct sock_filter *)p->f };
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog) != 0)
		return nuwa_sb_fail(err, errlen, "seccomp: %s",
				    errno ? strerror(errno) : "thread sync failed");
	return 0;
}

int nuwa_sb_seccomp(struct nuwa_sb_apply *a)
{
	const struct nuwa_sandbox_conf *c = a->c;
	struct nuwa_sb_prepared *pp = a->prepared;
	int tcp = c->nnet_connect > 0 || c->nnet_bind > 0, rc = 0;
	struct sb_filter_ctx cx = { (uint32_t)getpid(), tcp };
	struct bpf_prog_buf *p;

	if (pp->progs) {
		/* The spare copied it for this pid before the request. */
		rc = install(&pp->progs[tcp ? 1 : 0], a->err, a->errlen);
		nuwa_sb_progs_free(pp->progs);
		pp->progs = NULL;
		goto done;
	}
	p = mmap(NULL, sizeof *p, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return nuwa_sb_fail(a->err, a->errlen, "seccomp: scratch: %s", strerror(errno));
	if (pp->template_progs)
		copy_for_pid(p, &pp->template_progs[tcp ? 1 : 0], cx.self);
	else if (build_seccomp(p, &cx, a->err, a->errlen) < 0)
		rc = -1;
	if (rc == 0)
		rc = install(p, a->err, a->errlen);
	munmap(p, sizeof *p);
done:
	if (rc == 0)
		a->st.seccomp = 1;
	return rc;
}
