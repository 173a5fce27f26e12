/* Config parser: [daemon], [framework [NAME]], [app NAME]; key = value; '#' comments. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"

#define NUWA_APP_ENTRY_DEFAULT "nuwa_app_main"

enum section { SEC_NONE, SEC_DAEMON, SEC_FRAMEWORK, SEC_APP };

struct parser {
	struct nuwa_conf *c;
	const char *file;
	int line;
	enum section sec;
	struct nuwa_app_conf *app;
	int fw;                   /* the [framework] section's index in c->frameworks */
	char *err;
	size_t errlen;
	char **includes;
	int nincludes;
};

static int fail(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct parser *p, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "%s:%d: %s", p->file, p->line, msg);
	return -1;
}

int nuwa_name_ok(const char *s)
{
	size_t n = 0;
	if (!s || !*s)
		return 0;
	for (; s[n]; n++)
		if (!(isalnum((unsigned char)s[n]) || s[n] == '.' || s[n] == '_' || s[n] == '-'))
			return 0;
	return n < NUWA_NAME_MAX && s[0] != '.' && s[0] != '-';
}

static char *trim(char *s)
{
	char *e;
	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

static char *abs_path(const char *v)
{
	char cwd[PATH_MAX], *out;
	if (v[0] == '/')
		return strdup(v);
	if (!getcwd(cwd, sizeof cwd))
		return NULL;
	out = malloc(strlen(cwd) + strlen(v) + 2);
	if (out)
		sprintf(out, "%s/%s", cwd, v);
	return out;
}

static int set_str(struct parser *p, char **dst, const char *v, int is_path)
{
	char *s;
	if (!*v)
		return fail(p, "empty value");
	s = is_path ? abs_path(v) : strdup(v);
	if (!s)
		return fail(p, "out of memory");
	free(*dst);
	*dst = s;
	return 0;
}

static int set_long(struct parser *p, long *dst, const char *v, long lo, long hi)
{
	char *end;
	long n;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < lo || n > hi)
		return fail(p, "'%s' is not a number in %ld..%ld", v, lo, hi);
	*dst = n;
	return 0;
}

/* Callers keep HI within int's range. */
static int set_int(struct parser *p, int *dst, const char *v, long lo, long hi)
{
	long n;
	if (set_long(p, &n, v, lo, hi) < 0)
		return -1;
	*dst = (int)n;
	return 0;
}

static void free_words(int n, char **w)
{
	int i;
	for (i = 0; i < n; i++)
		free(w[i]);
	free(w);
}

/* Split V on blanks into a fresh array; paths made absolute when IS_PATH. */
static int set_words(struct parser *p, int *n, char ***dst, const char *v, int is_path)
{
	char *copy = strdup(v), *tok, *save = NULL;
	char **w = NULL;
	int k = 0;
	if (!copy)
		return fail(p, "out of memory");
	for (tok = strtok_r(copy, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		char **nw = realloc(w, (size_t)(k + 2) * sizeof *w);
		if (!nw)
			goto oom;
		w = nw;
		w[k] = is_path ? abs_path(tok) : strdup(tok);
		if (!w[k])
			goto oom;
		w[++k] = NULL;
	}
	free(copy);
	free_words(*n, *dst);
	*n = k;
	*dst = w;
	return 0;
oom:
	free(copy);
	free_words(k, w);
	return fail(p, "out of memory");
}

static int set_bool(struct parser *p, int *dst, const char *v)
{
	if (!strcmp(v, "1") || !strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on"))
		*dst = 1;
	else if (!strcmp(v, "0") || !strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "off"))
		*dst = 0;
	else
		return fail(p, "'%s' is not a boolean (0/1, yes/no)", v);
	return 0;
}

/* A group by name or number: its gid in *DST. */
static int set_group(struct parser *p, long *dst, const char *v)
{
	struct group *g;
	char *end;
	long n;
	if (!*v)
		return fail(p, "empty group");
	errno = 0;
	n = strtol(v, &end, 10);
	if (!errno && end != v && !*end) {
		if (n < 0 || n > 2147483647L)
			return fail(p, "group id '%s' out of range", v);
		*dst = n;
		return 0;
	}
	for (end = (char *)v; *end; end++)
		if (!(isalnum((unsigned char)*end) || *end == '_' || *end == '-' || *end == '.'))
			return fail(p, "'%s' is not a group name or number", v);
	g = getgrnam(v);
	if (!g)
		return fail(p, "no such group '%s'", v);
	*dst = (long)g->gr_gid;
	return 0;
}

/* "LO-HI", 1 <= LO <= HI < 2^31-1, at least... any size. */
static int set_uid_range(struct parser *p, long *lo, long *hi, const char *v)
{
	char *end, *dash = strchr(v, '-');
	long a, b;
	if (!dash)
		return fail(p, "app_uids must be a range LO-HI (e.g. 10000-19999), not '%s'", v);
	errno = 0;
	a = strtol(v, &end, 10);
	if (errno || end != dash || end == v)
		return fail(p, "app_uids: '%s' is not a range LO-HI", v);
	b = strtol(dash + 1, &end, 10);
	if (errno || *end || end == dash + 1)
		return fail(p, "app_uids: '%s' is not a range LO-HI", v);
	if (a < 1 || b < a || b > 2147483646L)
		return fail(p, "app_uids: %ld-%ld is not a range of non-root uids (1 <= LO <= HI)", a, b);
	*lo = a;
	*hi = b;
	return 0;
}

/* "none", or items "connect:PORT[,PORT...]" / "bind:PORT[,PORT...]". */
static int set_net(struct parser *p, struct nuwa_app_conf *a, const char *v)
{
	char *copy = strdup(v), *tok, *save = NULL;
	int rc = 0, none = 0, items = 0;
	if (!copy)
		return fail(p, "out of memory");
	free(a->net_connect);
	free(a->net_bind);
	a->net_connect = a->net_bind = NULL;
	a->nnet_connect = a->nnet_bind = 0;
	for (tok = strtok_r(copy, " \t", &save); tok && !rc; tok = strtok_r(NULL, " \t", &save)) {
		char *colon = strchr(tok, ':'), *port, *psave = NULL;
		unsigned short **list;
		int *n;
		items++;
		if (!strcmp(tok, "none")) {
			none = 1;
			continue;
		}
		if (!colon) {
			rc = fail(p, "net: '%s' is not 'none', 'connect:PORT,...' or 'bind:PORT,...'", tok);
			break;
		}
		*colon = 0;
		if (!strcmp(tok, "connect")) {
			list = &a->net_connect;
			n = &a->nnet_connect;
		} else if (!strcmp(tok, "bind")) {
			list = &a->net_bind;
			n = &a->nnet_bind;
		} else {
			rc = fail(p, "net: unknown kind '%s' (want connect or bind)", tok);
			break;
		}
		if (!colon[1]) {
			rc = fail(p, "net: %s: no port", tok);
			break;
		}
		for (port = strtok_r(colon + 1, ",", &psave); port; port = strtok_r(NULL, ",", &psave)) {
			char *end;
			long num;
			unsigned short *nl;
			errno = 0;
			num = strtol(port, &end, 10);
			if (errno || end == port || *end || num < 1 || num > 65535) {
				rc = fail(p, "net: '%s' is not a port (1..65535)", port);
				break;
			}
			nl = realloc(*list, (size_t)(*n + 1) * sizeof *nl);
			if (!nl) {
				rc = fail(p, "out of memory");
				break;
			}
			*list = nl;
			nl[(*n)++] = (unsigned short)num;
		}
	}
	if (!rc && !items)
		rc = fail(p, "net: empty value (want none, connect:PORT,... or bind:PORT,...)");
	if (!rc && none && items > 1)
		rc = fail(p, "net: 'none' cannot be combined with ports");
	free(copy);
	return rc;
}

/* Supplementary gids, numbers separated by blanks ("" or "none": none). */
static int set_gid_list(struct parser *p, struct nuwa_app_conf *a, const char *v)
{
	char *copy = strdup(v), *tok, *save = NULL;
	int rc = 0;
	if (!copy)
		return fail(p, "out of memory");
	free(a->groups);
	a->groups = NULL;
	a->ngroups = 0;
	for (tok = strtok_r(copy, " \t,", &save); tok && !rc; tok = strtok_r(NULL, " \t,", &save)) {
		long g;
		long *ng;
		if (!strcmp(tok, "none"))
			continue;
		if (a->ngroups == 32) {
			rc = fail(p, "groups: at most 32");
			break;
		}
		if (set_group(p, &g, tok) < 0) {
			rc = -1;
			break;
		}
		ng = realloc(a->groups, (size_t)(a->ngroups + 1) * sizeof *ng);
		if (!ng) {
			rc = fail(p, "out of memory");
			break;
		}
		a->groups = ng;
		ng[a->ngroups++] = g;
	}
	free(copy);
	return rc;
}

static int daemon_key(struct parser *p, const char *k, const char *v)
{
	struct nuwa_conf *c = p->c;
	if (!strcmp(k, "template")) {
		/* off: no template at all (a fair exec-only baseline); on: the default
		 * host; anything else: the template host's path. */
		if (!strcmp(v, "off") || !strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0")) {
			c->template_off = 1;
			return 0;
		}
		c->template_off = 0;
		if (!strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1"))
			return 0;
		return set_str(p, &c->template_host, v, 1);
	}
	if (!strcmp(k, "exec_mergeable"))
		return set_bool(p, &c->exec_mergeable, v);
	if (!strcmp(k, "exec_host"))
		return set_str(p, &c->exec_host, v, 1);
	if (!strcmp(k, "spare"))
		return set_bool(p, &c->spare, v);
	if (!strcmp(k, "spare_delay_ms"))
		return set_int(p, &c->spare_delay_ms, v, 0, 600000);
	if (!strcmp(k, "freeze_timeout_ms"))
		return set_int(p, &c->freeze_timeout_ms, v, 1, 600000);
	if (!strcmp(k, "fork_timeout_ms"))
		return set_int(p, &c->fork_timeout_ms, v, 1, 600000);
	if (!strcmp(k, "ready_timeout_ms"))
		return set_int(p, &c->ready_timeout_ms, v, 1, 600000);
	if (!strcmp(k, "kill_timeout_ms"))
		return set_int(p, &c->kill_timeout_ms, v, 1, 600000);
	if (!strcmp(k, "tick_ms"))
		return set_int(p, &c->tick_ms, v, 10, 600000);
	if (!strcmp(k, "lmk_threshold_kb"))
		return set_int(p, &c->lmk_threshold_kb, v, 0, INT_MAX);
	if (!strcmp(k, "lmk_trim"))
		return set_bool(p, &c->lmk_trim, v);
	if (!strcmp(k, "trim_timeout_ms"))
		return set_int(p, &c->trim_timeout_ms, v, 10, 60000);
	if (!strcmp(k, "psi"))
		return set_bool(p, &c->psi, v);
	/* The kernel's limits: a window of 0.5 to 10 s, a stall within it. */
	if (!strcmp(k, "psi_window_ms"))
		return set_int(p, &c->psi_window_ms, v, 500, 10000);
	if (!strcmp(k, "psi_some_ms"))
		return set_int(p, &c->psi_some_ms, v, 0, 10000);
	if (!strcmp(k, "psi_full_ms"))
		return set_int(p, &c->psi_full_ms, v, 0, 10000);
	if (!strcmp(k, "apps_memory_high_kb"))
		return set_int(p, &c->apps_memory_high_kb, v, 0, INT_MAX);
	if (!strcmp(k, "max_clients"))
		return set_int(p, &c->max_clients, v, 1, 4096);
	if (!strcmp(k, "rate_limit"))
		return set_int(p, &c->rate_limit, v, 1, 1000000);
	if (!strcmp(k, "socket_group"))
		return set_str(p, &c->socket_group, v, 0);
	if (!strcmp(k, "control_group"))
		return set_group(p, &c->control_gid, v);
	if (!strcmp(k, "status_group")) {
		c->status_any = !strcmp(v, "any");
		return c->status_any ? 0 : set_group(p, &c->status_gid, v);
	}
	if (!strcmp(k, "app_cgroups")) {
		int on;
		if (set_bool(p, &on, v) < 0)
			return -1;
		c->no_app_cgroups = !on;
		return 0;
	}
	if (!strcmp(k, "app_uids"))
		return set_uid_range(p, &c->app_uid_lo, &c->app_uid_hi, v);
	if (!strcmp(k, "snapshot_dir"))
		return set_str(p, &c->snapshot_dir, v, 1);
	if (!strcmp(k, "snapshot_max_kb"))
		return set_long(p, &c->snapshot_max_kb, v, 4, 4L * 1024 * 1024);
	if (!strcmp(k, "snapshot_quota_kb"))
		return set_long(p, &c->snapshot_quota_kb, v, 4, 64L * 1024 * 1024);
	if (!strcmp(k, "snapshot_timeout_ms"))
		return set_int(p, &c->snapshot_timeout_ms, v, 10, 600000);
	if (!strcmp(k, "snapshot_tmpfs"))
		return set_bool(p, &c->snapshot_tmpfs, v);
	if (!strcmp(k, "landlock")) {
		if (!strcmp(v, "required"))
			c->landlock_required = 1;
		else if (!strcmp(v, "best-effort"))
			c->landlock_required = 0;
		else
			return fail(p, "landlock must be 'required' or 'best-effort', not '%s'", v);
		return 0;
	}
	if (!strcmp(k, "fallback")) {
		if (!strcmp(v, "exec"))
			c->fallback_exec = 1;
		else if (!strcmp(v, "wait"))
			c->fallback_exec = 0;
		else
			return fail(p, "fallback must be 'exec' or 'wait', not '%s'", v);
		return 0;
	}
	if (!strcmp(k, "core_dir")) {
		/* It goes into core_pattern, where spaces split and % expands. */
		if (strpbrk(v, " \t%"))
			return fail(p, "core_dir may not contain spaces or '%%'");
		return set_str(p, &c->core_dir, v, 1);
	}
	if (!strcmp(k, "core_max_kb"))
		return set_long(p, &c->core_max_kb, v, 64, 4L * 1024 * 1024);
	if (!strcmp(k, "crash_records"))
		return set_int(p, &c->crash_records_max, v, 1, 10000);
	if (!strcmp(k, "include")) {
		char **ni = realloc(p->includes, (size_t)(p->nincludes + 1) * sizeof *ni);
		if (!ni)
			return fail(p, "out of memory");
		p->includes = ni;
		ni[p->nincludes] = abs_path(v);
		if (!ni[p->nincludes])
			return fail(p, "out of memory");
		p->nincludes++;
		return 0;
	}
	return fail(p, "unknown key '%s' in [daemon]", k);
}

/* fd_allow: fd numbers or absolute paths; one that names nothing (neither,
 * or a path that does not exist) is an error here, not at freeze. */
static int set_fd_allow(struct parser *p, struct nuwa_fw_conf *f, const char *v)
{
	int i;
	struct stat st;
	if (set_words(p, &f->nfd_allow, &f->fd_allow, v, 0) < 0)
		return -1;
	for (i = 0; i < f->nfd_allow; i++) {
		const char *e = f->fd_allow[i];
		char *end;
		long n;
		errno = 0;
		n = strtol(e, &end, 10);
		if (*end == 0 && errno == 0 && n >= 3 && n < 1048576)
			continue;
		if (e[0] == '/' && stat(e, &st) == 0)
			continue;
		if (e[0] == '/')
			return fail(p, "fd_allow entry '%s' names nothing: %s", e, strerror(errno));
		return fail(p, "fd_allow entry '%s' names nothing (want an fd number above 2 or an absolute path)", e);
	}
	return 0;
}

static int framework_key(struct parser *p, const char *k, const char *v)
{
	struct nuwa_fw_conf *f = &p->c->frameworks[p->fw];
	if (!strcmp(k, "preload"))
		return set_words(p, &f->npreload, &f->preload, v, 1);
	if (!strcmp(k, "library"))
		return set_str(p, &f->library, v, 1);
	if (!strcmp(k, "init"))
		return set_str(p, &f->init, v, 0);
	if (!strcmp(k, "args"))
		return set_words(p, &f->argc, &f->argv, v, 0);
	if (!strcmp(k, "start")) {
		if (!strcmp(v, "boot"))
			f->first_use = 0;
		else if (!strcmp(v, "first-use"))
			f->first_use = 1;
		else
			return fail(p, "start must be 'boot' or 'first-use', not '%s'", v);
		return 0;
	}
	if (!strcmp(k, "spare"))
		return set_bool(p, &f->spare, v);
	if (!strcmp(k, "apps")) {
		if (!strcmp(v, "libraries"))
			f->app_modules = 0;
		else if (!strcmp(v, "modules"))
			f->app_modules = 1;
		else
			return fail(p, "apps must be 'libraries' or 'modules', not '%s'", v);
		return 0;
	}
	if (!strcmp(k, "skip_threads"))
		return fail(p, "skip_threads was removed: a library thread is stopped and restarted "
			    "by hooks it registers (nuwa_thread_register, docs/runtime.md)");
	if (!strcmp(k, "fd_allow"))
		return set_fd_allow(p, f, v);
	if (!strcmp(k, "fd_readonly_prefixes")) {
		int i;
		if (set_words(p, &f->nfd_ro_prefixes, &f->fd_ro_prefixes, v, 0) < 0)
			return -1;
		for (i = 0; i < f->nfd_ro_prefixes; i++)
			if (f->fd_ro_prefixes[i][0] != '/')
				return fail(p, "fd_readonly_prefixes: '%s' is not an absolute path",
					    f->fd_ro_prefixes[i]);
		return 0;
	}
	if (!strcmp(k, "sandbox_read"))
		return set_words(p, &f->nsandbox_read, &f->sandbox_read, v, 1);
	if (p->fw == 0)
		return fail(p, "unknown key '%s' in [framework]", k);
	return fail(p, "unknown key '%s' in [framework %s]", k, f->name);
}

/* A Python-style module name: identifiers joined by dots. */
static int module_name_ok(const char *s)
{
	int start = 1;
	size_t n = 0;
	for (; s[n]; n++) {
		unsigned char ch = (unsigned char)s[n];
		if (ch == '.') {
			if (start)
				return 0;
			start = 1;
		} else if (isalpha(ch) || ch == '_' || (!start && isdigit(ch))) {
			start = 0;
		} else {
			return 0;
		}
	}
	return n > 0 && n < 256 && !start;
}

static int app_key(struct parser *p, const char *k, const char *v)
{
	struct nuwa_app_conf *a = p->app;
	if (!strcmp(k, "library"))
		return set_str(p, &a->library, v, 1);
	if (!strcmp(k, "framework")) {
		char where[512];
		if (!nuwa_name_ok(v))
			return fail(p, "bad framework name '%s'", v);
		snprintf(where, sizeof where, "%s:%d", p->file, p->line);
		free(a->framework_where);
		a->framework_where = strdup(where);
		return a->framework_where ? set_str(p, &a->framework_name, v, 0)
					  : fail(p, "out of memory");
	}
	if (!strcmp(k, "module")) {
		if (!module_name_ok(v))
			return fail(p, "module '%s' is not a module name (identifiers joined by '.')", v);
		return set_str(p, &a->module, v, 0);
	}
	if (!strcmp(k, "entry"))
		return set_str(p, &a->entry, v, 0);
	if (!strcmp(k, "args"))
		return set_words(p, &a->argc, &a->argv, v, 0);
	if (!strcmp(k, "oom_score_adj"))
		return set_int(p, &a->oom_score_adj, v, -1000, 1000);
	if (!strcmp(k, "sandbox"))
		return set_bool(p, &a->sandbox, v);
	if (!strcmp(k, "uid"))
		return set_long(p, &a->uid, v, 0, 2147483647L);
	if (!strcmp(k, "gid"))
		return set_long(p, &a->gid, v, 0, 2147483647L);
	if (!strcmp(k, "read"))
		return set_words(p, &a->nread, &a->read, v, 1);
	if (!strcmp(k, "nofile"))
		return set_long(p, &a->nofile, v, 16, 65536);
	if (!strcmp(k, "groups"))
		return set_gid_list(p, a, v);
	if (!strcmp(k, "net"))
		return set_net(p, a, v);
	if (!strcmp(k, "mode")) {
		if (!strcmp(v, "template"))
			a->exec_mode = 0;
		else if (!strcmp(v, "exec"))
			a->exec_mode = 1;
		else
			return fail(p, "mode must be 'template' or 'exec', not '%s'", v);
		return 0;
	}
	return fail(p, "unknown key '%s' in [app %s]", k, a->name);
}

/* [framework] (the default) or [framework NAME]. */
static int framework_section(struct parser *p, const char *name)
{
	struct nuwa_conf *c = p->c;
	struct nuwa_fw_conf *f = (struct nuwa_fw_conf *)nuwa_conf_framework(c, name);
	char where[512];
	if (!nuwa_name_ok(name))
		return fail(p, "bad framework name '%s' (letters, digits, '.', '_', '-'; at most %d)",
			    name, NUWA_NAME_MAX - 1);
	if (f && f->where)
		return fail(p, "framework '%s' defined twice (first at %s)", name, f->where);
	if (!f) {
		struct nuwa_fw_conf *nf = realloc(c->frameworks,
						  (size_t)(c->nframeworks + 1) * sizeof *nf);
		if (!nf)
			return fail(p, "out of memory");
		c->frameworks = nf;
		f = &c->frameworks[c->nframeworks++];
		memset(f, 0, sizeof *f);
		f->spare = -1;
		snprintf(f->name, sizeof f->name, "%s", name);
	}
	snprintf(where, sizeof where, "%s:%d", p->file, p->line);
	f->where = strdup(where);
	p->fw = (int)(f - c->frameworks);
	p->sec = SEC_FRAMEWORK;
	return f->where ? 0 : fail(p, "out of memory");
}

static int section(struct parser *p, char *s)
{
	struct nuwa_conf *c = p->c;
	char *end = strchr(s, ']'), *name;
	char where[512];
	if (!end || trim(end + 1)[0])
		return fail(p, "malformed section header");
	*end = 0;
	s = trim(s + 1);
	p->app = NULL;
	if (!strcmp(s, "daemon")) {
		p->sec = SEC_DAEMON;
		return 0;
	}
	if (!strcmp(s, "framework"))
		return framework_section(p, NUWA_DEFAULT_FRAMEWORK);
	if (!strncmp(s, "framework", 9) && isspace((unsigned char)s[9]))
		return framework_section(p, trim(s + 9));
	if (strncmp(s, "app", 3) || !isspace((unsigned char)s[3]))
		return fail(p, "unknown section [%s] (want daemon, framework [NAME] or app NAME)", s);
	name = trim(s + 3);
	if (!nuwa_name_ok(name))
		return fail(p, "bad app name '%s' (letters, digits, '.', '_', '-'; at most %d)", name,
			    NUWA_NAME_MAX - 1);
	if (nuwa_conf_app(c, name))
		return fail(p, "app '%s' defined twice", name);
	{
		struct nuwa_app_conf *na = realloc(c->apps, (size_t)(c->napps + 1) * sizeof *na);
		if (!na)
			return fail(p, "out of memory");
		c->apps = na;
	}
	p->app = &c->apps[c->napps++];
	memset(p->app, 0, sizeof *p->app);
	p->app->sandbox = 1;
	p->app->uid = p->app->gid = -1;
	p->app->nofile = 256;
	snprintf(p->app->name, sizeof p->app->name, "%s", name);
	snprintf(where, sizeof where, "%s:%d", p->file, p->line);
	p->app->where = strdup(where);
	p->sec = SEC_APP;
	return p->app->where ? 0 : fail(p, "out of memory");
}

static int parse_file(struct parser *p, const char *path, int allow_daemon)
{
	FILE *f = fopen(path, "re");
	char buf[4096];
	int rc = 0;

	p->file = path;
	p->line = 0;
	p->sec = SEC_NONE;
	p->app = NULL;
	if (!f) {
		snprintf(p->err, p->errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (rc == 0 && fgets(buf, sizeof buf, f)) {
		char *s, *eq, *k, *v;
		p->line++;
		if (!strchr(buf, '\n') && !feof(f)) {
			rc = fail(p, "line too long");
			break;
		}
		s = trim(buf);
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			rc = section(p, s);
			if (rc == 0 && p->sec == SEC_DAEMON && !allow_daemon)
				rc = fail(p, "[daemon] is not allowed in an included file");
			continue;
		}
		eq = strchr(s, '=');
		if (!eq) {
			rc = fail(p, "expected 'key = value' or '[section]'");
			break;
		}
		*eq = 0;
		k = trim(s);
		v = trim(eq + 1);
		if (!*k) {
			rc = fail(p, "missing key before '='");
			break;
		}
		switch (p->sec) {
		case SEC_NONE:
			rc = fail(p, "'%s' outside any section", k);
			break;
		case SEC_DAEMON:
			rc = daemon_key(p, k, v);
			break;
		case SEC_FRAMEWORK:
			rc = framework_key(p, k, v);
			break;
		case SEC_APP:
			rc = app_key(p, k, v);
			break;
		}
	}
	if (rc == 0 && ferror(f)) {
		snprintf(p->err, p->errlen, "%s: read error", path);
		rc = -1;
	}
	fclose(f);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int parse_dir(struct parser *p, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	int n = 0, i, rc = 0;

	if (!d) {
		if (errno == ENOENT)
			return 0; /* an absent drop-in directory means no drop-ins */
		snprintf(p->err, p->errlen, "include %s: %s", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		char **nn;
		if (de->d_name[0] == '.' || l < 6 || strcmp(de->d_name + l - 5, ".conf"))
			continue;
		nn = realloc(names, (size_t)(n + 1) * sizeof *nn);
		if (!nn) {
			rc = -1;
			break;
		}
		names = nn;
		names[n] = malloc(strlen(dir) + l + 2);
		if (!names[n]) {
			rc = -1;
			break;
		}
		sprintf(names[n++], "%s/%s", dir, de->d_name);
	}
	closedir(d);
	if (rc)
		snprintf(p->err, p->errlen, "include %s: out of memory", dir);
	else
		qsort(names, (size_t)n, sizeof *names, cmp_str);
	for (i = 0; rc == 0 && i < n; i++)
		rc = parse_file(p, names[i], 0);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

static int fail_at(struct parser *p, const char *where, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail_at(struct parser *p, const char *where, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "%s: %s", where, msg);
	return -1;
}

/* The frameworks' names, for "unknown framework" messages. */
static void framework_names(const struct nuwa_conf *c, char *buf, size_t cap)
{
	size_t n = 0;
	int i;
	buf[0] = 0;
	for (i = 0; i < c->nframeworks && n < cap; i++)
		if (c->frameworks[i].library)
			n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? ", " : "",
					      c->frameworks[i].name);
}

/* An app's framework (by name, default when none) and library or module. */
static int check_app(struct parser *p, struct nuwa_app_conf *a)
{
	struct nuwa_conf *c = p->c;
	const struct nuwa_fw_conf *f = &c->frameworks[0];
	if (a->framework_name) {
		f = nuwa_conf_framework(c, a->framework_name);
		if (!f || !f->library) {
			char names[256];
			framework_names(c, names, sizeof names);
			return fail_at(p, a->framework_where, "app '%s' names unknown framework '%s' "
				       "(configured: %s)", a->name, a->framework_name,
				       names[0] ? names : "none");
		}
	}
	a->framework = (int)(f - c->frameworks);
	if (f->app_modules) {
		if (!a->module)
			return fail_at(p, a->where, "[app %s] has no module (framework '%s' runs "
				       "modules: module = NAME)", a->name, f->name);
		if (a->library)
			return fail_at(p, a->where, "[app %s] names a library and a module; "
				       "framework '%s' runs modules (module = only)", a->name, f->name);
		/* The entry is the framework's own (it imports the module). */
		a->library = strdup(f->library);
		if (!a->library)
			return fail_at(p, a->where, "out of memory");
	} else if (a->module) {
		return fail_at(p, a->where, "[app %s] has module = '%s', but its framework '%s' "
			       "runs app libraries (library =); module = is for a framework "
			       "with apps = modules", a->name, a->module, f->name);
	} else if (!a->library) {
		return fail_at(p, a->where, "[app %s] has no library", a->name);
	}
	if (!a->entry && !(a->entry = strdup(NUWA_APP_ENTRY_DEFAULT)))
		return fail_at(p, a->where, "out of memory");
	return 0;
}

static int check(struct parser *p)
{
	struct nuwa_conf *c = p->c;
	int i, default_used = 0;
	p->file = c->path;
	p->line = 0;
	for (i = 1; i < c->nframeworks; i++)
		if (!c->frameworks[i].library)
			return fail_at(p, c->frameworks[i].where, "[framework %s] has no library",
				       c->frameworks[i].name);
	for (i = 0; i < c->nframeworks; i++)
		if (c->frameworks[i].library && !c->frameworks[i].init &&
		    !(c->frameworks[i].init = strdup("nuwa_framework_init")))
			return fail_at(p, c->path, "out of memory");
	for (i = 0; i < c->napps; i++)
		if (!c->apps[i].framework_name)
			default_used = 1;
	if (c->frameworks[0].library == NULL && default_used) {
		snprintf(p->err, p->errlen, "%s: [framework] library is required", c->path);
		return -1;
	}
	for (i = 0; i < c->napps; i++)
		if (check_app(p, &c->apps[i]) < 0)
			return -1;
	if (c->snapshot_quota_kb < c->snapshot_max_kb) {
		snprintf(p->err, p->errlen, "%s: snapshot_quota_kb (%ld) is below snapshot_max_kb (%ld)",
			 c->path, c->snapshot_quota_kb, c->snapshot_max_kb);
		return -1;
	}
	if (!c->template_host && !(c->template_host = strdup("/usr/libexec/nuwa/nuwa-template")))
		return -1;
	if (!c->exec_host && !(c->exec_host = strdup("/usr/libexec/nuwa/nuwa-exec-host")))
		return -1;
	return 0;
}

int nuwa_conf_load(const char *path, struct nuwa_conf *c, char *err, size_t errlen)
{
	struct parser p = { .c = c, .err = err, .errlen = errlen };
	int rc, i;

	memset(c, 0, sizeof *c);
	c->spare = 1;
	c->spare_delay_ms = 1000;
	c->freeze_timeout_ms = 5000;
	c->fork_timeout_ms = 2000;
	c->ready_timeout_ms = 10000;
	c->kill_timeout_ms = 2000;
	c->tick_ms = 1000;
	c->lmk_trim = 1;
	c->trim_timeout_ms = 1000;
	c->psi = 1;
	/* lmkd's proportions; a 2 s window because without CAP_SYS_RESOURCE
	 * the kernel takes only windows of whole multiples of 2 s. */
	c->psi_some_ms = 300;
	c->psi_full_ms = 100;
	c->psi_window_ms = 2000;
	c->max_clients = 512;
	c->rate_limit = 1000;
	c->snapshot_max_kb = 16 * 1024;
	c->snapshot_quota_kb = 64 * 1024;
	c->snapshot_timeout_ms = 10000;
	c->control_gid = c->status_gid = -1;
	c->fallback_exec = 0; /* wait; the device config says exec */
	c->crash_records_max = 32;
	c->core_max_kb = 64 * 1024;
	/* The default framework is always frameworks[0], configured or not. */
	c->frameworks = calloc(1, sizeof *c->frameworks);
	if (c->frameworks) {
		c->nframeworks = 1;
		c->frameworks[0].spare = -1;
		snprintf(c->frameworks[0].name, sizeof c->frameworks[0].name, "%s",
			 NUWA_DEFAULT_FRAMEWORK);
	}
	c->path = abs_path(path);
	if (!c->path || !c->frameworks) {
		free(c->frameworks);
		free(c->path);
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	rc = parse_file(&p, c->path, 1);
	for (i = 0; rc == 0 && i < p.nincludes; i++)
		rc = parse_dir(&p, p.includes[i]);
	for (i = 0; i < p.nincludes; i++)
		free(p.includes[i]);
	free(p.includes);
	if (rc == 0)
		rc = check(&p);
	if (rc != 0)
		nuwa_conf_free(c);
	return rc;
}

void nuwa_conf_free(struct nuwa_conf *c)
{
	int i;
	free(c->template_host);
	free(c->exec_host);
	free(c->socket_group);
	free(c->snapshot_dir);
	for (i = 0; i < c->nframeworks; i++) {
		struct nuwa_fw_conf *f = &c->frameworks[i];
		free(f->where);
		free_words(f->npreload, f->preload);
		free(f->library);
		free(f->init);
		free_words(f->argc, f->argv);
		free_words(f->nfd_allow, f->fd_allow);
		free_words(f->nfd_ro_prefixes, f->fd_ro_prefixes);
		free_words(f->nsandbox_read, f->sandbox_read);
	}
	free(c->frameworks);
	free(c->core_dir);
	for (i = 0; i < c->napps; i++) {
		free(c->apps[i].module);
		free(c->apps[i].framework_where);
		free(c->apps[i].framework_name);
		free(c->apps[i].library);
		free(c->apps[i].entry);
		free(c->apps[i].where);
		free_words(c->apps[i].argc, c->apps[i].argv);
		free_words(c->apps[i].nread, c->apps[i].read);
		free(c->apps[i].groups);
		free(c->apps[i].net_connect);
		free(c->apps[i].net_bind);
	}
	free(c->apps);
	free(c->path);
	memset(c, 0, sizeof *c);
}

const struct nuwa_fw_conf *nuwa_conf_framework(const struct nuwa_conf *c, const char *name)
{
	int i;
	for (i = 0; i < c->nframeworks; i++)
		if (!strcmp(c->frameworks[i].name, name))
			return &c->frameworks[i];
	return NULL;
}

const struct nuwa_app_conf *nuwa_conf_app(const struct nuwa_conf *c, const char *name)
{
	int i;
	for (i = 0; i < c->napps; i++)
		if (!strcmp(c->apps[i].name, name))
			return &c->apps[i];
	return NULL;
}
