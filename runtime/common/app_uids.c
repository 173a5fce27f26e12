/* Per-app uids from [daemon] app_uids (app_uids.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app_uids.h"

/* The uid RECORD holds for NAME, or -1. */
static long recorded(FILE *f, const char *name)
{
	char line[256], n[NUWA_NAME_MAX];
	long uid;
	if (!f)
		return -1;
	rewind(f);
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "%47s %ld", n, &uid) == 2 && !strcmp(n, name))
			return uid;
	return -1;
}

/* UID is configured for, or already given to, another app than EXCEPT. */
static int uid_taken(const struct nuwa_conf *c, long uid, int except)
{
	int i;
	for (i = 0; i < c->napps; i++)
		if (i != except && c->apps[i].uid == uid)
			return 1;
	return 0;
}

int app_uids_assign(struct nuwa_conf *c, const char *state_dir, char *err, size_t errlen)
{
	char path[4096], tmp[4200];
	FILE *old, *out;
	int i, fd;

	if (c->app_uids.lo <= 0)
		return 0;
	snprintf(path, sizeof path, "%s/%s", state_dir, NUWA_APP_UIDS_FILE);
	old = fopen(path, "re");
	for (i = 0; i < c->napps; i++) {
		struct nuwa_app_conf *a = &c->apps[i];
		long uid;
		if (a->uid >= 0)
			continue;
		uid = recorded(old, a->name);
		if (uid < c->app_uids.lo || uid > c->app_uids.hi || uid_taken(c, uid, i))
			uid = -1;
		if (uid < 0) {
			long u;
			for (u = c->app_uids.lo; u <= c->app_uids.hi; u++) {
				FILE *f = old;
				int used = uid_taken(c, u, i);
				char line[256], n[NUWA_NAME_MAX];
				long ru;
				/* Not one recorded for another app either. */
				if (!used && f) {
					rewind(f);
					while (!used && fgets(line, sizeof line, f))
						used = sscanf(line, "%47s %ld", n, &ru) == 2 && ru == u &&
						       strcmp(n, a->name);
				}
				if (!used)
					break;
			}
			if (u > c->app_uids.hi) {
				if (old)
					fclose(old);
				snprintf(err, errlen, "app_uids %ld-%ld: no free uid left for app %s",
					 c->app_uids.lo, c->app_uids.hi, a->name);
				return -1;
			}
			uid = u;
		}
		a->uid = uid;
		if (a->gid < 0)
			a->gid = uid;
	}
	/* Rewrite the record: this config's apps plus older entries (an app
	 * removed from the config keeps its uid for when it comes back). */
	snprintf(tmp, sizeof tmp, "%s.%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	out = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!out) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		if (old)
			fclose(old);
		return -1;
	}
	for (i = 0; i < c->napps; i++)
		if (c->apps[i].uid >= c->app_uids.lo && c->apps[i].uid <= c->app_uids.hi)
			fprintf(out, "%s %ld\n", c->apps[i].name, c->apps[i].uid);
	if (old) {
		char line[256], n[NUWA_NAME_MAX];
		long uid;
		rewind(old);
		while (fgets(line, sizeof line, old))
			if (sscanf(line, "%47s %ld", n, &uid) == 2 && !nuwa_conf_app(c, n))
				fprintf(out, "%s %ld\n", n, uid);
		fclose(old);
	}
	if (fflush(out) != 0 || fsync(fileno(out)) != 0 || fclose(out) != 0 || rename(tmp, path) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (setenv(NUWA_APP_UIDS_ENV, path, 1) < 0) {
		snprintf(err, errlen, "setenv: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int app_uids_load(struct nuwa_conf *c, char *err, size_t errlen)
{
	const char *path = getenv(NUWA_APP_UIDS_ENV);
	FILE *f;
	int i;
	if (!path || !*path || c->app_uids.lo <= 0)
		return 0;
	f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "app uid record %s: %s", path, strerror(errno));
		return -1;
	}
	for (i = 0; i < c->napps; i++) {
		struct nuwa_app_conf *a = &c->apps[i];
		long uid;
		if (a->uid >= 0)
			continue;
		uid = recorded(f, a->name);
		if (uid >= c->app_uids.lo && uid <= c->app_uids.hi) {
			a->uid = uid;
			if (a->gid < 0)
				a->gid = uid;
		}
	}
	fclose(f);
	return 0;
}
