/* Config values by type: one key's value parsed into its field as its row
 * in conf_keys.c says (bools, numbers in a range, enums, strings, paths,
 * word lists, groups), its default set and what it owns freed; and the few
 * keys whose value has a shape of its own (template, app_uids, include,
 * [app] framework, groups, net) and the checks of single values, with
 * the file:line error of a bad one. It calls nothing of conf.c's, which
 * reads the files and calls it. */
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf_keys.h"

#define FIELD(obj, off, type) ((type *)(void *)((char *)(obj) + (off)))

int conf_fail(struct conf_parser *p, const char *fmt, ...)
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

char *conf_abs_path(const char *v)
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

void conf_free_words(int n, char **w)
{
	int i;
	for (i = 0; i < n; i++)
		free(w[i]);
	free(w);
}

static int set_str(struct conf_parser *p, char **dst, const char *v, int is_path)
{
	char *s;
	if (!*v)
		return conf_fail(p, "empty value");
	s = is_path ? conf_abs_path(v) : strdup(v);
	if (!s)
		return conf_fail(p, "out of memory");
	free(*dst);
	*dst = s;
	return 0;
}

static int set_long(struct conf_parser *p, long *dst, const char *v, long lo, long hi)
{
	char *end;
	long n;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < lo || n > hi)
		return conf_fail(p, "'%s' is not a number in %ld..%ld", v, lo, hi);
	*dst = n;
	return 0;
}

int conf_bool_word(const char *v)
{
	static const char *const yes[] = { "1", "yes", "true", "on" };
	static const char *const no[] = { "0", "no", "false", "off" };
	size_t i;
	for (i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		if (!strcmp(v, yes[i]))
			return 1;
		if (!strcmp(v, no[i]))
			return 0;
	}
	return -1;
}

/* Split V on blanks into a fresh array; paths made absolute when IS_PATH;
 * CHECK (if any) vets each word first. */
static int set_words(struct conf_parser *p, int *n, char ***dst, const char *v, int is_path,
		     conf_check_fn *check)
{
	char *copy = strdup(v), *tok, *save = NULL;
	char **w = NULL;
	int k = 0;
	if (!copy)
		return conf_fail(p, "out of memory");
	for (tok = strtok_r(copy, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		char **nw;
		if (check && check(p, tok) < 0) {
			free(copy);
			conf_free_words(k, w);
			return -1;
		}
		nw = realloc(w, (size_t)(k + 2) * sizeof *w);
		if (!nw)
			goto oom;
		w = nw;
		w[k] = is_path ? conf_abs_path(tok) : strdup(tok);
		if (!w[k])
			goto oom;
		w[++k] = NULL;
	}
	free(copy);
	conf_free_words(*n, *dst);
	*n = k;
	*dst = w;
	return 0;
oom:
	free(copy);
	conf_free_words(k, w);
	return conf_fail(p, "out of memory");
}

/* A group by name or number: its gid in *DST. */
static int set_group(struct conf_parser *p, long *dst, const char *v)
{
	struct group *g;
	char *end;
	long n;
	if (!*v)
		return conf_fail(p, "empty group");
	errno = 0;
	n = strtol(v, &end, 10);
	if (!errno && end != v && !*end) {
		if (n < 0 || n > 2147483647L)
			return conf_fail(p, "group id '%s' out of range", v);
		*dst = n;
		return 0;
	}
	for (end = (char *)v; *end; end++)
		if (!(isalnum((unsigned char)*end) || *end == '_' || *end == '-' || *end == '.'))
			return conf_fail(p, "'%s' is not a group name or number", v);
	g = getgrnam(v);
	if (!g)
		return conf_fail(p, "no such group '%s'", v);
	*dst = (long)g->gr_gid;
	return 0;
}

/* "'a', 'b' or 'c'" of an enum's words. */
static void enum_words(const struct conf_word *w, char *buf, size_t cap)
{
	size_t n = 0;
	int i;
	buf[0] = 0;
	for (i = 0; w[i].word && n < cap; i++)
		n += (size_t)snprintf(buf + n, cap - n, "%s'%s'",
				      !i ? "" : w[i + 1].word ? ", " : " or ", w[i].word);
}

const char *conf_value_shape(const struct conf_key *k, char *buf, size_t cap)
{
	static const char *const shapes[] = {
		[CONF_BOOL] = "yes|no", [CONF_STR] = "text", [CONF_PATH] = "path",
		[CONF_WORDS] = "words", [CONF_PATHS] = "paths", [CONF_GROUP] = "group"
	};
	size_t n = 0;
	int i;
	switch (k->type) {
	case CONF_INT:
	case CONF_LONG:
		snprintf(buf, cap, "%ld..%ld", k->lo, k->hi);
		return buf;
	case CONF_ENUM:
		buf[0] = 0;
		for (i = 0; k->words[i].word && n < cap; i++)
			n += (size_t)snprintf(buf + n, cap - n, "%s%s", i ? "|" : "", k->words[i].word);
		return buf;
	case CONF_GROUP:
		snprintf(buf, cap, "group%s%s", k->any ? "|" : "", k->any ? k->any : "");
		return buf;
	case CONF_CUSTOM:
		return k->value;
	default:
		return shapes[k->type];
	}
}

int conf_set(struct conf_parser *p, const struct conf_key *k, void *obj, const char *v)
{
	char *field = (char *)obj + k->field;
	long n;
	int i;

	switch (k->type) {
	case CONF_BOOL:
		i = conf_bool_word(v);
		if (i < 0)
			return conf_fail(p, "'%s' is not a boolean (0/1, yes/no)", v);
		*FIELD(obj, k->field, int) = i;
		return 0;
	case CONF_INT:
		/* The table keeps an int key's range within int's. */
		if (set_long(p, &n, v, k->lo, k->hi) < 0)
			return -1;
		*FIELD(obj, k->field, int) = (int)n;
		return 0;
	case CONF_LONG:
		return set_long(p, FIELD(obj, k->field, long), v, k->lo, k->hi);
	case CONF_ENUM: {
		char want[256];
		for (i = 0; k->words[i].word; i++)
			if (!strcmp(v, k->words[i].word)) {
				*FIELD(obj, k->field, int) = k->words[i].value;
				return 0;
			}
		enum_words(k->words, want, sizeof want);
		return conf_fail(p, "%s must be %s, not '%s'", k->key, want, v);
	}
	case CONF_STR:
	case CONF_PATH:
		if (k->check && k->check(p, v) < 0)
			return -1;
		return set_str(p, (char **)(void *)field, v, k->type == CONF_PATH);
	case CONF_WORDS:
	case CONF_PATHS:
		return set_words(p, FIELD(obj, k->count, int), (char ***)(void *)field, v,
				 k->type == CONF_PATHS, k->check);
	case CONF_GROUP:
		if (k->any) {
			int any = !strcmp(v, k->any);
			*FIELD(obj, k->count, int) = any;
			if (any)
				return 0;
		}
		return set_group(p, FIELD(obj, k->field, long), v);
	case CONF_CUSTOM:
		return k->parse(p, k, obj, v);
	}
	return conf_fail(p, "key '%s' has no type", k->key);
}

int conf_set_default(struct conf_parser *p, const struct conf_key *k, void *obj)
{
	if (k->def)
		return conf_set(p, k, obj, k->def);
	switch (k->type) {
	case CONF_BOOL:
	case CONF_INT:
	case CONF_ENUM:
		*FIELD(obj, k->field, int) = (int)k->unset;
		break;
	case CONF_LONG:
	case CONF_GROUP:
		*FIELD(obj, k->field, long) = k->unset;
		break;
	default:
		break; /* strings NULL, lists empty: the struct starts zeroed */
	}
	return 0;
}

void conf_release(const struct conf_key *k, void *obj)
{
	switch (k->type) {
	case CONF_STR:
	case CONF_PATH:
		free(*FIELD(obj, k->field, char *));
		break;
	case CONF_WORDS:
	case CONF_PATHS:
		conf_free_words(*FIELD(obj, k->count, int), *FIELD(obj, k->field, char **));
		break;
	case CONF_CUSTOM:
		if (k->release)
			k->release(k, obj);
		break;
	default:
		break;
	}
}

/* [daemon] template: off (no template at all: a fair exec-only baseline),
 * on (the host it has), or the template host's path. */
int conf_parse_template(struct conf_parser *p, const struct conf_key *k, void *obj, const char *v)
{
	struct nuwa_conf *c = obj;
	int on = conf_bool_word(v);
	(void)k;
	c->template = on != 0;
	if (on >= 0)
		return 0;
	return set_str(p, &c->template_host, v, 1);
}

void conf_release_template(const struct conf_key *k, void *obj)
{
	(void)k;
	free(((struct nuwa_conf *)obj)->template_host);
}

/* "LO-HI", 1 <= LO <= HI < 2^31-1. */
int conf_parse_app_uids(struct conf_parser *p, const struct conf_key *k, void *obj, const char *v)
{
	struct nuwa_conf *c = obj;
	char *end, *dash = strchr(v, '-');
	long a, b;
	(void)k;
	if (!dash)
		return conf_fail(p, "app_uids must be a range LO-HI (e.g. 10000-19999), not '%s'", v);
	errno = 0;
	a = strtol(v, &end, 10);
	if (errno || end != dash || end == v)
		return conf_fail(p, "app_uids: '%s' is not a range LO-HI", v);
	b = strtol(dash + 1, &end, 10);
	if (errno || *end || end == dash + 1)
		return conf_fail(p, "app_uids: '%s' is not a range LO-HI", v);
	if (a < 1 || b < a || b > 2147483646L)
		return conf_fail(p, "app_uids: %ld-%ld is not a range of non-root uids (1 <= LO <= HI)",
				 a, b);
	c->app_uids.lo = a;
	c->app_uids.hi = b;
	return 0;
}

/* [daemon] include: a drop-in directory, read after the main file. */
int conf_parse_include(struct conf_parser *p, const struct conf_key *k, void *obj, const char *v)
{
	char **ni = realloc(p->includes, (size_t)(p->nincludes + 1) * sizeof *ni);
	(void)k;
	(void)obj;
	if (!ni)
		return conf_fail(p, "out of memory");
	p->includes = ni;
	ni[p->nincludes] = conf_abs_path(v);
	if (!ni[p->nincludes])
		return conf_fail(p, "out of memory");
	p->nincludes++;
	return 0;
}

/* [app] framework = NAME: resolved after every file is read, so its
 * file:line is kept for the message if NAME is no framework. */
int conf_parse_framework(struct conf_parser *p, const struct conf_key *k, void *obj, const char *v)
{
	struct nuwa_app_conf *a = obj;
	char where[512];
	(void)k;
	if (!nuwa_name_ok(v))
		return conf_fail(p, "bad framework name '%s'", v);
	snprintf(where, sizeof where, "%s:%d", p->file, p->line);
	free(a->framework_where);
	a->framework_where = strdup(where);
	return a->framework_where ? set_str(p, &a->framework_name, v, 0)
				  : conf_fail(p, "out of memory");
}

void conf_release_framework(const struct conf_key *k, void *obj)
{
	struct nuwa_app_conf *a = obj;
	(void)k;
	free(a->framework_name);
	free(a->framework_where);
}

/* "none", or items "connect:PORT[,PORT...]" / "bind:PORT[,PORT...]". */
int conf_parse_net(struct conf_parser *p, const struct conf_key *k, void *obj, const char *v)
{
	struct nuwa_app_conf *a = obj;
	char *copy = strdup(v), *tok, *save = NULL;
	int rc = 0, none = 0, items = 0;
	(void)k;
	if (!copy)
		return conf_fail(p, "out of memory");
	conf_release_net(k, a);
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
			rc = conf_fail(p, "net: '%s' is not 'none', 'connect:PORT,...' or 'bind:PORT,...'",
				       tok);
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
			rc = conf_fail(p, "net: unknown kind '%s' (want connect or bind)", tok);
			break;
		}
		if (!colon[1]) {
			rc = conf_fail(p, "net: %s: no port", tok);
			break;
		}
		for (port = strtok_r(colon + 1, ",", &psave); port; port = strtok_r(NULL, ",", &psave)) {
			char *end;
			long num;
			unsigned short *nl;
			errno = 0;
			num = strtol(port, &end, 10);
			if (errno || end == port || *end || num < 1 || num > 65535) {
				rc = conf_fail(p, "net: '%s' is not a port (1..65535)", port);
				break;
			}
			nl = realloc(*list, (size_t)(*n + 1) * sizeof *nl);
			if (!nl) {
				rc = conf_fail(p, "out of memory");
				break;
			}
			*list = nl;
			nl[(*n)++] = (unsigned short)num;
		}
	}
	if (!rc && !items)
		rc = conf_fail(p, "net: empty value (want none, connect:PORT,... or bind:PORT,...)");
	if (!rc && none && items > 1)
		rc = conf_fail(p, "net: 'none' cannot be combined with ports");
	free(copy);
	return rc;
}

void conf_release_net(const struct conf_key *k, void *obj)
{
	struct nuwa_app_conf *a = obj;
	(void)k;
	free(a->net_connect);
	free(a->net_bind);
}

/* Supplementary gids, names or numbers separated by blanks or commas
 * ("" or "none": none). */
int conf_parse_groups(struct conf_parser *p, const struct conf_key *k, void *obj, const char *v)
{
	struct nuwa_app_conf *a = obj;
	char *copy = strdup(v), *tok, *save = NULL;
	int rc = 0;
	(void)k;
	if (!copy)
		return conf_fail(p, "out of memory");
	free(a->groups);
	a->groups = NULL;
	a->ngroups = 0;
	for (tok = strtok_r(copy, " \t,", &save); tok && !rc; tok = strtok_r(NULL, " \t,", &save)) {
		long g;
		long *ng;
		if (!strcmp(tok, "none"))
			continue;
		if (a->ngroups == 32) {
			rc = conf_fail(p, "groups: at most 32");
			break;
		}
		if (set_group(p, &g, tok) < 0) {
			rc = -1;
			break;
		}
		ng = realloc(a->groups, (size_t)(a->ngroups + 1) * sizeof *ng);
		if (!ng) {
			rc = conf_fail(p, "out of memory");
			break;
		}
		a->groups = ng;
		ng[a->ngroups++] = g;
	}
	free(copy);
	return rc;
}

void conf_release_groups(const struct conf_key *k, void *obj)
{
	(void)k;
	free(((struct nuwa_app_conf *)obj)->groups);
}

/* core_dir goes into core_pattern, where spaces split and % expands. */
int conf_check_core_dir(struct conf_parser *p, const char *v)
{
	if (strpbrk(v, " \t%"))
		return conf_fail(p, "core_dir may not contain spaces or '%%'");
	return 0;
}

/* fd_allow: an fd number above 2 or an absolute path that exists; one that
 * names nothing is an error here, not at freeze. */
int conf_check_fd_allow(struct conf_parser *p, const char *e)
{
	struct stat st;
	char *end;
	long n;
	errno = 0;
	n = strtol(e, &end, 10);
	if (*end == 0 && errno == 0 && n >= 3 && n < 1048576)
		return 0;
	if (e[0] == '/' && stat(e, &st) == 0)
		return 0;
	if (e[0] == '/')
		return conf_fail(p, "fd_allow entry '%s' names nothing: %s", e, strerror(errno));
	return conf_fail(p, "fd_allow entry '%s' names nothing (want an fd number above 2 or an "
			 "absolute path)", e);
}

int conf_check_readonly_prefix(struct conf_parser *p, const char *v)
{
	if (v[0] != '/')
		return conf_fail(p, "fd_readonly_prefixes: '%s' is not an absolute path", v);
	return 0;
}

/* A Python-style module name: identifiers joined by dots. */
int conf_check_module(struct conf_parser *p, const char *s)
{
	int start = 1;
	size_t n = 0;
	for (; s[n]; n++) {
		unsigned char ch = (unsigned char)s[n];
		if (ch == '.') {
			if (start)
				break;
			start = 1;
		} else if (isalpha(ch) || ch == '_' || (!start && isdigit(ch))) {
			start = 0;
		} else {
			break;
		}
	}
	if (s[n] || n == 0 || n >= 256 || start)
		return conf_fail(p, "module '%s' is not a module name (identifiers joined by '.')", s);
	return 0;
}
