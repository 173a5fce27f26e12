/* What "list", "stats" and "apps" show: the status module composes each
 * module's own part (the app table's rows, importance_out, lmk_out,
 * psi_out, supervision_out) into one answer. It only reads. */
#include <unistd.h>

#include "app_table.h"
#include "door.h"
#include "importance.h"
#include "lmk.h"
#include "nuwad.h"
#include "procmem.h"
#include "groups.h"
#include "psi.h"
#include "status.h"
#include "supervision.h"

static void out_mem(struct out *o, pid_t pid)
{
	struct procmem m;
	procmem_read(pid, &m);
	out_int(o, "uss_kb", m.uss_kb);
	out_int(o, "pss_kb", m.pss_kb);
	out_int(o, "rss_kb", m.rss_kb);
}

void status_list(struct nuwad *d, struct out *o)
{
	struct app *a = nuwad_app_oldest(d);
	out_arr_begin(o, NULL);
	for (; a; a = nuwad_app_newer(d, a)) {
		out_obj_begin(o, NULL);
		out_str(o, "app", a->name);
		out_int(o, "pid", a->pid);
		out_str(o, "mode", a->exec_mode ? "exec" : "template");
		out_str(o, "framework", a->t->fw->name);
		out_str(o, "state", app_state_name(a->state));
		out_num(o, "launch_ms", a->launch_ms);
		out_bool(o, "spare", a->via_spare);
		out_str(o, "fallback", a->fallback[0] ? a->fallback : NULL);
		out_int(o, "seq", (long long)a->seq);
		out_mem(o, a->pid);
		/* The figures are the main process's; its group may hold more. */
		out_bool(o, "mem_includes_descendants", 0);
		out_int(o, "group_procs", groups_count(d, a));
		importance_out(d, a, o);
		lmk_app_out(a, o);
		door_out(a, o);
		out_obj_end(o);
	}
	out_arr_end(o);
}

static void out_proc(struct out *o, const char *key, pid_t pid)
{
	if (pid <= 0) {
		out_null(o, key);
		return;
	}
	out_obj_begin(o, key);
	out_int(o, "pid", pid);
	out_mem(o, pid);
	out_int(o, "fds", procmem_fds(pid));
	out_obj_end(o);
}

static pid_t ready_template_pid(const struct tmpl *t)
{
	return t->state == T_READY ? t->pid : 0;
}

static pid_t spare_pid(struct nuwad *d, struct tmpl *t)
{
	struct app *s = apps_spare(d, t);
	return s && s->state == APP_SPARE ? s->pid : 0;
}

/* Per framework: its template and spare (memory), its apps' count. */
static void stats_frameworks(struct nuwad *d, struct out *o)
{
	int i;
	out_arr_begin(o, "frameworks");
	for (i = 0; i < d->ntmpls; i++) {
		struct tmpl *t = &d->tmpls[i];
		struct app *a;
		int apps = 0;
		if (!t->fw->library)
			continue;
		for (a = d->apps; a; a = a->next)
			if (a->t == t && !app_is_spare(a) && a->pid > 0)
				apps++;
		out_obj_begin(o, NULL);
		out_str(o, "framework", t->fw->name);
		out_str(o, "state", tmpl_state_name(d, t));
		out_proc(o, "template", ready_template_pid(t));
		out_proc(o, "spare", spare_pid(d, t));
		out_int(o, "apps", apps);
		out_int(o, "launches", t->launches);
		out_int(o, "restarts", t->restarts);
		out_int(o, "fallback_launches", t->fallback_launches);
		out_obj_end(o);
	}
	out_arr_end(o);
}

void status_stats(struct nuwad *d, struct out *o)
{
	long total = -1, avail = -1;
	struct app *a;
	procmem_meminfo(&total, &avail);
	out_obj_begin(o, NULL);
	out_int(o, "mem_total_kb", total);
	out_int(o, "mem_available_kb", avail);
	/* The default framework's, as before there were several. */
	out_proc(o, "template", ready_template_pid(tmpl_default(d)));
	out_proc(o, "spare", spare_pid(d, tmpl_default(d)));
	out_proc(o, "nuwad", getpid());
	out_arr_begin(o, "apps");
	for (a = nuwad_app_oldest(d); a; a = nuwad_app_newer(d, a)) {
		out_obj_begin(o, NULL);
		out_str(o, "app", a->name);
		out_int(o, "pid", a->pid);
		out_str(o, "mode", a->exec_mode ? "exec" : "template");
		out_str(o, "framework", a->t->fw->name);
		out_mem(o, a->pid);
		out_obj_end(o);
	}
	out_arr_end(o);
	stats_frameworks(d, o);
	lmk_out(d, o);
	psi_out(d, o);
	out_int(o, "clients", d->nclients);
	out_int(o, "fallback_launches", d->fallback_launches);
	supervision_out(d, o);
	out_obj_end(o);
}

void status_configured(struct nuwad *d, struct out *o)
{
	int i;
	out_arr_begin(o, NULL);
	for (i = 0; i < d->conf.napps; i++) {
		const struct nuwa_app_conf *ac = &d->conf.apps[i];
		out_obj_begin(o, NULL);
		out_str(o, "name", ac->name);
		out_str(o, "mode", ac->mode == NUWA_MODE_EXEC ? "exec" : "template");
		out_str(o, "framework", d->conf.frameworks[ac->framework].name);
		out_str(o, "module", ac->module);
		out_str(o, "library", ac->library);
		out_str(o, "entry", ac->entry);
		out_str(o, "defined_at", ac->where);
		out_obj_end(o);
	}
	out_arr_end(o);
}
