/* The sandbox's Landlock step: the app's ruleset, built while the process
 * still has its original ids (the readable paths may sit below directories
 * the app's uid cannot search). Every file-system right the kernel's ABI
 * knows is handled, so anything no rule grants is denied: reading is
 * granted beneath the app's own /proc/PID, its library and its config's
 * read paths, TCP bind/connect (ABI >= 4) on its config's ports only, and
 * signals and abstract UNIX sockets (ABI >= 6) are scoped to its domain.
 * The rules bind the inodes the paths name when they are added; the
 * confinement step restricts every thread to the ruleset. Raw system calls,
 * so no libseccomp or newer C library is needed (landlock_abi.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "landlock_abi.h"
#include "sandbox_steps.h"

int nuwa_landlock_abi(void)
{
	long v = syscall(__NR_landlock_create_ruleset, NULL, 0, NUWA_LL_CREATE_RULESET_VERSION);
	return v < 0 ? 0 : (int)v;
}

/* Every file-system right the kernel's ABI knows: all are handled, so
 * anything not granted by a rule is denied. */
static uint64_t fs_rights_for_abi(int abi)
{
	uint64_t r = NUWA_LL_FS_EXECUTE | NUWA_LL_FS_WRITE_FILE | NUWA_LL_FS_READ_FILE |
		     NUWA_LL_FS_READ_DIR | NUWA_LL_FS_REMOVE_DIR | NUWA_LL_FS_REMOVE_FILE |
		     NUWA_LL_FS_MAKE_CHAR | NUWA_LL_FS_MAKE_DIR | NUWA_LL_FS_MAKE_REG |
		     NUWA_LL_FS_MAKE_SOCK | NUWA_LL_FS_MAKE_FIFO | NUWA_LL_FS_MAKE_BLOCK |
		     NUWA_LL_FS_MAKE_SYM;
	if (abi >= 2)
		r |= NUWA_LL_FS_REFER;
	if (abi >= 3)
		r |= NUWA_LL_FS_TRUNCATE;
	if (abi >= 5)
		r |= NUWA_LL_FS_IOCTL_DEV;
	return r;
}

/* The handled rights of ABI in ATTR, and in ST (may be NULL) what they
 * cover; returns the size to pass to landlock_create_ruleset. */
static size_t ruleset_attr(int abi, struct nuwa_ll_ruleset_attr *attr, struct nuwa_sandbox_state *st)
{
	size_t size = sizeof attr->handled_access_fs;
	memset(attr, 0, sizeof *attr);
	attr->handled_access_fs = fs_rights_for_abi(abi);
	if (abi >= 4) {
		/* TCP: no bind, no connect but to the ports the config grants. */
		attr->handled_access_net = NUWA_LL_NET_BIND_TCP | NUWA_LL_NET_CONNECT_TCP;
		size = offsetof(struct nuwa_ll_ruleset_attr, scoped);
		if (st)
			st->landlock_net = 1;
	}
	if (abi >= 6) {
		/* No signals to, no abstract UNIX sockets of, processes outside
		 * the app's own domain (seccomp also confines signals). */
		attr->scoped = NUWA_LL_SCOPE_SIGNAL | NUWA_LL_SCOPE_ABSTRACT_UNIX_SOCKET;
		size = sizeof *attr;
		if (st)
			st->landlock_scoped = 1;
	}
	return size;
}

/* Allow TCP RIGHT (bind or connect) on each of the N PORTS. */
static int add_port_rules(int ruleset, uint64_t right, const unsigned short *ports, int n,
			  char *err, size_t errlen)
{
	int i;
	for (i = 0; i < n; i++) {
		struct nuwa_ll_net_port_attr np = { .allowed_access = right, .port = ports[i] };
		if (syscall(__NR_landlock_add_rule, ruleset, NUWA_LL_RULE_NET_PORT, &np, 0) < 0)
			return nuwa_sb_fail(err, errlen, "landlock: rule for port %u: %s", ports[i],
					    strerror(errno));
	}
	return 0;
}

int nuwa_sb_add_read(int ruleset, const char *path, const char *app,
		     struct nuwa_sandbox_state *st, char *err, size_t errlen)
{
	struct nuwa_ll_path_beneath_attr pb;
	struct stat sb;
	int fd = open(path, O_PATH | O_CLOEXEC);

	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR) {
			if (app)
				nuwa_sb_note(st, app, "readable path %s is absent, skipped", path);
			return 1;
		}
		return nuwa_sb_fail(err, errlen, "landlock: %s: %s", path, strerror(errno));
	}
	if (fstat(fd, &sb) < 0) {
		int e = errno;
		close(fd);
		return nuwa_sb_fail(err, errlen, "landlock: stat %s: %s", path, strerror(e));
	}
	memset(&pb, 0, sizeof pb);
	pb.parent_fd = fd;
	/* Directory rights on a non-directory are EINVAL. */
	pb.allowed_access = NUWA_LL_FS_READ_FILE | (S_ISDIR(sb.st_mode) ? NUWA_LL_FS_READ_DIR : 0);
	if (syscall(__NR_landlock_add_rule, ruleset, NUWA_LL_RULE_PATH_BENEATH, &pb, 0) < 0) {
		int e = errno;
		close(fd);
		return nuwa_sb_fail(err, errlen, "landlock: rule for %s: %s", path, strerror(e));
	}
	close(fd);
	return 0;
}

int nuwa_sb_ruleset_new(int abi, const char *app, struct nuwa_sandbox_state *st, char *err,
			size_t errlen)
{
	struct nuwa_ll_ruleset_attr attr;
	char self_dir[64];
	size_t size = ruleset_attr(abi, &attr, st);
	int rs = (int)syscall(__NR_landlock_create_ruleset, &attr, size, 0), e;

	if (rs < 0) {
		e = errno;
		nuwa_sb_fail(err, errlen, "landlock_create_ruleset: %s", strerror(e));
		errno = e;
		return -1;
	}
	/* /proc/self resolves to this process's own directory now: the app
	 * reads its own smaps for snapshots, nothing of others'. */
	snprintf(self_dir, sizeof self_dir, "/proc/%d", (int)getpid());
	if (nuwa_sb_add_read(rs, self_dir, app, st, err, errlen) < 0) {
		close(rs);
		errno = EINVAL;
		return -1;
	}
	return rs;
}

int nuwa_sb_landlock(struct nuwa_sb_apply *a)
{
	const struct nuwa_sandbox_conf *c = a->c;
	struct nuwa_sb_prepared *p = a->prepared;
	struct nuwa_ll_ruleset_attr attr;
	int abi = p->ruleset >= 0 ? p->abi : nuwa_landlock_abi(), rs, i;

	a->ruleset = -2;
	if (abi <= 0) {
		const char *why = errno == EOPNOTSUPP ? "disabled at boot (add landlock to lsm=)"
							: "not in this kernel";
		if (c->landlock == NUWA_LANDLOCK_REQUIRED)
			return nuwa_sb_fail(a->err, a->errlen, "landlock required but %s", why);
		nuwa_sb_note(&a->st, a->app,
			     "landlock %s: file access is limited by uid/gid and seccomp only", why);
		return 0;
	}
	if (abi < 4 && (c->nnet_connect || c->nnet_bind))
		nuwa_sb_note(&a->st, a->app,
			     "landlock ABI %d has no network rules: TCP is not restricted", abi);
	if (p->ruleset >= 0) {
		/* The spare made it, with its own /proc/PID and the framework's
		 * paths; it is this process's now. The read paths below are
		 * added again all the same, as before the sandbox was split
		 * into steps (a second rule for a path changes nothing). */
		rs = p->ruleset;
		p->ruleset = -1;
		ruleset_attr(abi, &attr, &a->st);
	} else {
		rs = nuwa_sb_ruleset_new(abi, a->app, &a->st, a->err, a->errlen);
		if (rs < 0)
			return -1;
	}
	if (c->app_library && nuwa_sb_add_read(rs, c->app_library, a->app, &a->st, a->err,
					       a->errlen) < 0)
		goto bad;
	for (i = 0; i < c->nread_paths; i++)
		if (nuwa_sb_add_read(rs, c->read_paths[i], a->app, &a->st, a->err, a->errlen) < 0)
			goto bad;
	if (abi >= 4 &&
	    (add_port_rules(rs, NUWA_LL_NET_CONNECT_TCP, c->net_connect, c->nnet_connect, a->err,
			    a->errlen) < 0 ||
	     add_port_rules(rs, NUWA_LL_NET_BIND_TCP, c->net_bind, c->nnet_bind, a->err,
			    a->errlen) < 0))
		goto bad;
	a->ruleset = rs;
	a->abi = abi;
	return 0;
bad:
	close(rs);
	return -1;
}
