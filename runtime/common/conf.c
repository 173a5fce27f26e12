/* Config files: [daemon], [framework [NAME]], [app NAME]; key = value;
 * '#' comments; include directories. Reads the files line by line, starts
 * each section with its keys' defaults, hands every key = value to its row
 * of the key table (conf_keys.c), refuses retired and unknown keys with one
 * file:line error, then checks what spans sections (an app's framework,
 * snapshot quotas). Frees by the same table. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_keys.h"

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

/* Every key of SEC set to its default in OBJ, a zeroed section struct. */
static int set_defaults(struct conf_parser *p, enum conf_section sec, void *obj)
{
	size_t i;
	for (i = 0; i < conf_nkeys; i++)
		if (conf_keys[i].section == sec && conf_set_default(p, &conf_keys[i], obj) < 0)
			return -1;
	return 0;
}

static const struct conf_retired *find_retired(const struct conf_retired *rows, size_t n,
					       enum conf_section sec, const char *k)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (rows[i].section == sec && !strcmp(rows[i].key, k))
			return &rows[i];
	return NULL;
}

/* K = V in the current section: its row of the table, or one error saying
 * what replaced a retired key, or that K is unknown here. */
static int set_key(struct conf_parser *p, const char *k, const char *v)
{
	struct nuwa_conf *c = p->c;
	struct nuwa_fw_conf *f = &c->frameworks[p->fw];
	void *obj = p->sec == CONF_DAEMON ? (void *)c : p->sec == CONF_FRAMEWORK ? (void *)f
										   : (void *)p->app;
	const struct conf_retired *r;
	size_t i;
	for (i = 0; i < conf_nkeys; i++)
		if (conf_keys[i].section == p->sec && !strcmp(conf_keys[i].key, k))
			return conf_set(p, &conf_keys[i], obj, v);
	r = find_retired(conf_retired, conf_nretired, p->sec, k);
	if (!r)
		r = find_retired(p->extra_retired, p->nextra_retired, p->sec, k);
	if (r && r->renamed_to)
		return conf_fail(p, "%s was renamed to %s: write '%s = %s'%s%s", k, r->renamed_to,
				 r->renamed_to, v, r->why ? "; " : "", r->why ? r->why : "");
	if (r)
		return conf_fail(p, "%s was removed: %s", k, r->why);
	if (p->sec == CONF_DAEMON)
		return conf_fail(p, "unknown key '%s' in [daemon]", k);
	if (p->sec == CONF_APP)
		return conf_fail(p, "unknown key '%s' in [app %s]", k, p->app->name);
	if (p->fw == 0)
		return conf_fail(p, "unknown key '%s' in [framework]", k);
	return conf_fail(p, "unknown key '%s' in [framework %s]", k, f->name);
}

/* [framework] (the default) or [framework NAME]. */
static int framework_section(struct conf_parser *p, const char *name)
{
	struct nuwa_conf *c = p->c;
	struct nuwa_fw_conf *f = (struct nuwa_fw_conf *)nuwa_conf_framework(c, name);
	char where[512];
	if (!nuwa_name_ok(name))
		return conf_fail(p, "bad framework name '%s' (letters, digits, '.', '_', '-'; at most %d)",
				 name, NUWA_NAME_MAX - 1);
	if (f && f->where)
		return conf_fail(p, "framework '%s' defined twice (first at %s)", name, f->where);
	if (!f) {
		struct nuwa_fw_conf *nf = realloc(c->frameworks,
						  (size_t)(c->nframeworks + 1) * sizeof *nf);
		if (!nf)
			return conf_fail(p, "out of memory");
		c->frameworks = nf;
		f = &c->frameworks[c->nframeworks++];
		memset(f, 0, sizeof *f);
		snprintf(f->name, sizeof f->name, "%s", name);
		if (set_defaults(p, CONF_FRAMEWORK, f) < 0)
			return -1;
	}
	snprintf(where, sizeof where, "%s:%d", p->file, p->line);
	f->where = strdup(where);
	p->fw = (int)(f - c->frameworks);
	p->sec = CONF_FRAMEWORK;
	return f->where ? 0 : conf_fail(p, "out of memory");
}

static int section(struct conf_parser *p, char *s)
{
	struct nuwa_conf *c = p->c;
	char *end = strchr(s, ']'), *name;
	char where[512];
	if (!end || trim(end + 1)[0])
		return conf_fail(p, "malformed section header");
	*end = 0;
	s = trim(s + 1);
	p->app = NULL;
	p->in_section = 1;
	if (!strcmp(s, "daemon")) {
		p->sec = CONF_DAEMON;
		return 0;
	}
	if (!strcmp(s, "framework"))
		return framework_section(p, NUWA_DEFAULT_FRAMEWORK);
	if (!strncmp(s, "framework", 9) && isspace((unsigned char)s[9]))
		return framework_section(p, trim(s + 9));
	if (strncmp(s, "app", 3) || !isspace((unsigned char)s[3]))
		return conf_fail(p, "unknown section [%s] (want daemon, framework [NAME] or app NAME)", s);
	name = trim(s + 3);
	if (!nuwa_name_ok(name))
		return conf_fail(p, "bad app name '%s' (letters, digits, '.', '_', '-'; at most %d)", name,
			    NUWA_NAME_MAX - 1);
	if (nuwa_conf_app(c, name))
		return conf_fail(p, "app '%s' defined twice", name);
	{
		struct nuwa_app_conf *na = realloc(c->apps, (size_t)(c->napps + 1) * sizeof *na);
		if (!na)
			return conf_fail(p, "out of memory");
		c->apps = na;
	}
	p->app = &c->apps[c->napps++];
	memset(p->app, 0, sizeof *p->app);
	snprintf(p->app->name, sizeof p->app->name, "%s", name);
	if (set_defaults(p, CONF_APP, p->app) < 0)
		return -1;
	snprintf(where, sizeof where, "%s:%d", p->file, p->line);
	p->app->where = strdup(where);
	p->sec = CONF_APP;
	return p->app->where ? 0 : conf_fail(p, "out of memory");
}

static int parse_file(struct conf_parser *p, const char *path, int allow_daemon)
{
	FILE *f = fopen(path, "re");
	char buf[4096];
	int rc = 0;

	p->file = path;
	p->line = 0;
	p->in_section = 0;
	p->app = NULL;
	if (!f) {
		snprintf(p->err, p->errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (rc == 0 && fgets(buf, sizeof buf, f)) {
		char *s, *eq, *k, *v;
		p->line++;
		if (!strchr(buf, '\n') && !feof(f)) {
			rc = conf_fail(p, "line too long");
			break;
		}
		s = trim(buf);
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			rc = section(p, s);
			if (rc == 0 && p->sec == CONF_DAEMON && !allow_daemon)
				rc = conf_fail(p, "[daemon] is not allowed in an included file");
			continue;
		}
		eq = strchr(s, '=');
		if (!eq) {
			rc = conf_fail(p, "expected 'key = value' or '[section]'");
			break;
		}
		*eq = 0;
		k = trim(s);
		v = trim(eq + 1);
		if (!*k) {
			rc = conf_fail(p, "missing key before '='");
			break;
		}
		rc = p->in_section ? set_key(p, k, v) : conf_fail(p, "'%s' outside any section", k);
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

static int parse_dir(struct conf_parser *p, const char *dir)
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

static int fail_at(struct conf_parser *p, const char *where, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail_at(struct conf_parser *p, const char *where, const char *fmt, ...)
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
static int check_app(struct conf_parser *p, struct nuwa_app_conf *a)
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
	if (f->apps == NUWA_APPS_MODULES) {
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
	return 0;
}

static int check(struct conf_parser *p)
{
	struct nuwa_conf *c = p->c;
	int i, default_used = 0;
	p->file = c->path;
	p->line = 0;
	for (i = 1; i < c->nframeworks; i++)
		if (!c->frameworks[i].library)
			return fail_at(p, c->frameworks[i].where, "[framework %s] has no library",
				       c->frameworks[i].name);
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
	return 0;
}

int conf_load_retired(const char *path, struct nuwa_conf *c, char *err, size_t errlen,
		      const struct conf_retired *extra, size_t nextra)
{
	struct conf_parser p = { .c = c, .err = err, .errlen = errlen, .file = path,
				 .extra_retired = extra, .nextra_retired = nextra };
	int rc, i;

	memset(c, 0, sizeof *c);
	/* The default framework is always frameworks[0], configured or not. */
	c->frameworks = calloc(1, sizeof *c->frameworks);
	c->path = conf_abs_path(path);
	if (!c->path || !c->frameworks) {
		free(c->frameworks);
		free(c->path);
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	c->nframeworks = 1;
	snprintf(c->frameworks[0].name, sizeof c->frameworks[0].name, "%s", NUWA_DEFAULT_FRAMEWORK);
	rc = set_defaults(&p, CONF_DAEMON, c);
	if (rc == 0)
		rc = set_defaults(&p, CONF_FRAMEWORK, &c->frameworks[0]);
	if (rc == 0)
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

int nuwa_conf_load(const char *path, struct nuwa_conf *c, char *err, size_t errlen)
{
	return conf_load_retired(path, c, err, errlen, NULL, 0);
}

/* What the keys of SEC own in OBJ, freed. */
static void release_section(enum conf_section sec, void *obj)
{
	size_t i;
	for (i = 0; i < conf_nkeys; i++)
		if (conf_keys[i].section == sec)
			conf_release(&conf_keys[i], obj);
}

void nuwa_conf_free(struct nuwa_conf *c)
{
	int i;
	release_section(CONF_DAEMON, c);
	for (i = 0; i < c->nframeworks; i++) {
		release_section(CONF_FRAMEWORK, &c->frameworks[i]);
		free(c->frameworks[i].where);
	}
	free(c->frameworks);
	for (i = 0; i < c->napps; i++) {
		release_section(CONF_APP, &c->apps[i]);
		free(c->apps[i].where);
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
