/* nuwad: arguments, set-up and the main loop. */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nuwad.h"
#include "apps.h"
#include "door.h"
#include "events.h"
#include "importance.h"
#include "messages.h"
#include "requests.h"
#include "lmk.h"
#include "psi.h"
#include "snapshots.h"
#include "app_uids.h"
#include "supervision.h"
#include "crashes.h"
#include "filter_kill.h"
#include "groups.h"
#include "logs.h"
#include "util.h"

static void usage(void)
{
	fprintf(stderr,
		"usage: nuwad [--foreground] [--config FILE] [--socket PATH] [--state-dir DIR]\n"
		"       nuwad --config-keys [--json]   (every config key; docs/runtime.md)\n"
		"defaults: --config /etc/nuwa/nuwad.conf --socket /run/nuwa/nuwad.sock "
		"--state-dir /run/nuwa\n");
	exit(2);
}

static int mkdir_p(const char *dir)
{
	char buf[4096];
	size_t i, n = strlen(dir);
	if (n >= sizeof buf)
		return -1;
	memcpy(buf, dir, n + 1);
	for (i = 1; i <= n; i++) {
		if (buf[i] == '/' || buf[i] == 0) {
			char c = buf[i];
			buf[i] = 0;
			if (mkdir(buf, 0755) < 0 && errno != EEXIST)
				return -1;
			buf[i] = c;
		}
	}
	return 0;
}

static void on_signal(struct nuwad *d)
{
	struct signalfd_siginfo si;
	while (read(d->sig_fd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			nuwad_log("signal %d: shutting down", (int)si.ssi_signo);
			d->quit = 1;
		}
	}
	apps_reap_children(d);
}

enum tag_kind { TAG_SIG = 1, TAG_LISTEN, TAG_TEMPLATE, TAG_APP, TAG_APP_LOG, TAG_CLIENT, TAG_PSI };

static void loop(struct nuwad *d)
{
	struct pollfd *p = NULL;
	void **tag = NULL;
	int *kind = NULL, cap = 0;

	while (!d->quit) {
		int64_t now = nuwad_now_us(), next = d->next_tick_us;
		int n = 0, i, need, timeout;
		struct app *a;

		if (now >= d->next_tick_us) {
			lmk_tick(d);
			groups_sweep(d);
			d->next_tick_us = now + (int64_t)d->conf.tick_ms * 1000;
			next = d->next_tick_us;
		}
		for (i = 0; i < d->ntmpls; i++)
			tmpl_timers(d, &d->tmpls[i], now, &next);
		apps_timers(d, now, &next);
		requests_timers(d, now, &next);
		snapshots_timers(d, now, &next);
		control_timers(d, now, &next);
		filter_kill_timers(now, &next);

		need = 4 + d->ntmpls + d->nclients;
		for (a = d->apps; a; a = a->next)
			need += 2;
		if (need > cap) {
			cap = need * 2;
			p = realloc(p, (size_t)cap * sizeof *p);
			tag = realloc(tag, (size_t)cap * sizeof *tag);
			kind = realloc(kind, (size_t)cap * sizeof *kind);
			if (!p || !tag || !kind) {
				nuwad_log("out of memory");
				exit(1);
			}
		}
		p[n] = (struct pollfd){ .fd = d->sig_fd, .events = POLLIN };
		kind[n++] = TAG_SIG;
		if (d->nclients < d->conf.max_clients + 1) {
			p[n] = (struct pollfd){ .fd = d->listen_fd, .events = POLLIN };
			kind[n++] = TAG_LISTEN;
		}
		for (i = 0; i < d->ntmpls; i++) {
			if (d->tmpls[i].chan < 0)
				continue;
			p[n] = (struct pollfd){ .fd = d->tmpls[i].chan, .events = POLLIN };
			tag[n] = &d->tmpls[i];
			kind[n++] = TAG_TEMPLATE;
		}
		for (a = d->apps; a; a = a->next) {
			/* Until the template names the pid, an early ready
			 * message waits in the socket. */
			if (a->chan < 0 || a->state == APP_FORKING || a->state == APP_SPARE_FORKING)
				continue;
			p[n] = (struct pollfd){ .fd = a->chan, .events = POLLIN };
			tag[n] = a;
			kind[n++] = TAG_APP;
		}
		for (a = d->apps; a; a = a->next) {
			if (a->door.out_fd < 0)
				continue;
			p[n] = (struct pollfd){ .fd = a->door.out_fd, .events = POLLIN };
			tag[n] = a;
			kind[n++] = TAG_APP_LOG;
		}
		for (i = 0; i < 2; i++)
			if (d->psi.fd[i] >= 0) {
				p[n] = (struct pollfd){ .fd = d->psi.fd[i], .events = POLLPRI };
				kind[n++] = TAG_PSI;
			}
		i = control_poll_fds(d, p + n, tag + n, cap - n);
		while (i-- > 0)
			kind[n++] = TAG_CLIENT;

		timeout = next <= now ? 0 : (int)((next - now + 999) / 1000);
		if (poll(p, (nfds_t)n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			nuwad_log("poll: %s", strerror(errno));
			exit(1);
		}
		/* Handlers may free apps and clients: act on each ready fd only
		 * if its owner still exists. */
		for (i = 0; i < n; i++) {
			if (!p[i].revents)
				continue;
			switch (kind[i]) {
			case TAG_SIG:
				on_signal(d);
				break;
			case TAG_LISTEN:
				control_accept(d);
				break;
			case TAG_TEMPLATE: {
				struct tmpl *t = tag[i];
				if (t->chan == p[i].fd)
					tmpl_on_channel(d, t);
				break;
			}
			case TAG_APP:
				for (a = d->apps; a && a != tag[i]; a = a->next)
					;
				if (a && a->chan == p[i].fd)
					door_read_channel(d, a);
				break;
			case TAG_APP_LOG:
				for (a = d->apps; a && a != tag[i]; a = a->next)
					;
				if (a && a->door.out_fd == p[i].fd)
					door_read_output(d, a);
				break;
			case TAG_CLIENT:
				control_ready(d, tag[i], p[i].revents);
				break;
			case TAG_PSI:
				psi_ready(d, p[i].fd, p[i].revents);
				break;
			}
		}
	}
	free(p);
	free(tag);
	free(kind);
}

/* Whatever started us may have leaked fds (a pipe at 251, a socket): none
 * of them may reach the template and from there every app. */
static void close_inherited_fds(void)
{
	DIR *dir;
	struct dirent *de;
#ifdef SYS_close_range
	if (syscall(SYS_close_range, 3U, ~0U, 0) == 0)
		return;
#endif
	dir = opendir("/proc/self/fd");
	if (!dir) {
		int fd;
		for (fd = 3; fd < 1024; fd++)
			close(fd);
		return;
	}
	while ((de = readdir(dir))) {
		int fd = atoi(de->d_name);
		if (fd > 2 && fd != dirfd(dir))
			close(fd);
	}
	closedir(dir);
}

int main(int argc, char **argv)
{
	static struct nuwad d;
	const char *config = "/etc/nuwa/nuwad.conf";
	char err[1024];
	sigset_t mask;
	int i;

	close_inherited_fds();
	/* The layers above the app table plug in (docs/architecture.md): who
	 * answers clients, who hears a template, what an app may send, and
	 * who is told of an app's life, in this order. */
	d.tmpl_listener = &apps_tmpl_listener;
	messages_install(&d);
	events_subscribe(&d, &apps_observer);
	events_subscribe(&d, &requests_observer);
	events_subscribe(&d, &logs_observer);
	events_subscribe(&d, &importance_observer);
	events_subscribe(&d, &crashes_observer);
	events_subscribe(&d, &snapshots_observer);
	d.socket_path = "/run/nuwa/nuwad.sock";
	d.state_dir = "/run/nuwa";
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--foreground"))
			; /* nuwad never daemonises itself; init scripts background it */
		else if (!strcmp(argv[i], "--config") && i + 1 < argc)
			config = argv[++i];
		else if (!strcmp(argv[i], "--socket") && i + 1 < argc)
			d.socket_path = argv[++i];
		else if (!strcmp(argv[i], "--state-dir") && i + 1 < argc)
			d.state_dir = argv[++i];
		else if (!strcmp(argv[i], "--config-keys") && argc - i <= 2 &&
			 (i + 1 == argc || !strcmp(argv[i + 1], "--json"))) {
			nuwa_conf_keys_print(stdout, i + 1 < argc);
			return fflush(stdout) == 0 ? 0 : 1;
		} else
			usage();
	}
	if (nuwa_conf_load(config, &d.conf, err, sizeof err) < 0) {
		/* EX_CONFIG: nuwa-supervise waits for a fixed config (SIGHUP)
		 * instead of restarting into the same error. */
		fprintf(stderr, "nuwad: %s\n", err);
		return EX_CONFIG;
	}
	if (access(d.conf.template_host, X_OK) < 0) {
		fprintf(stderr, "nuwad: template host %s: %s\n", d.conf.template_host, strerror(errno));
		return 1;
	}
	if (mkdir_p(d.state_dir) < 0) {
		fprintf(stderr, "nuwad: state dir %s: %s\n", d.state_dir, strerror(errno));
		return 1;
	}
	if (app_uids_assign(&d.conf, d.state_dir, err, sizeof err) < 0) {
		fprintf(stderr, "nuwad: %s\n", err);
		return 1;
	}
	for (i = 0; i < d.conf.napps; i++)
		if (!d.conf.apps[i].sandbox)
			nuwad_log("app %s (%s): sandbox = no: it runs unconfined, with nuwad's ids "
				  "unless uid is set", d.conf.apps[i].name, d.conf.apps[i].where);
	/* Apps orphaned by a dying template become our children. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
		fprintf(stderr, "nuwad: PR_SET_CHILD_SUBREAPER: %s\n", strerror(errno));
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 ||
	    (d.sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
		fprintf(stderr, "nuwad: signalfd: %s\n", strerror(errno));
		return 1;
	}
	d.ntmpls = d.conf.nframeworks;
	d.tmpls = calloc((size_t)d.ntmpls, sizeof *d.tmpls);
	if (!d.tmpls) {
		fprintf(stderr, "nuwad: out of memory\n");
		return 1;
	}
	for (i = 0; i < d.ntmpls; i++)
		tmpl_init(&d.tmpls[i], &d.conf.frameworks[i]);
	/* Without a snapshot directory nuwad still runs; "snapshot" says why. */
	if (snapshots_init(&d, err, sizeof err) < 0)
		nuwad_log("snapshots unavailable: %s", err);
	supervision_start(&d);
	crashes_init(&d);
	if (control_listen(&d) < 0)
		return 1;
	filter_kill_init();
	/* Apps an earlier nuwad left behind (it died without stopping them). */
	i = groups_end_leftovers(d.state_dir, d.conf.template_host, d.conf.exec_host);
	if (i > 0) {
		nuwad_log("ended %d app processes/groups left by an earlier nuwad", i);
		d.sup.survivors_ended += i;
	}
	groups_init(&d);
	lmk_budget_init(&d);
	psi_init(&d);
	nuwad_log("listening on %s, config %s, %d apps", d.socket_path, d.conf.path, d.conf.napps);
	d.next_tick_us = nuwad_now_us() + (int64_t)d.conf.tick_ms * 1000;
	if (!d.conf.template) {
		/* The exec-only baseline: no template, so no spare either. */
		d.conf.spare = 0;
		nuwad_log("template off ([daemon] template = off): exec launches only");
	} else {
		/* One template per framework; start = first-use ones wait for
		 * their first launch. */
		for (i = 0; i < d.ntmpls; i++)
			if (d.tmpls[i].fw->library && d.tmpls[i].fw->start != NUWA_START_FIRST_USE)
				tmpl_start(&d, &d.tmpls[i]);
	}
	loop(&d);
	/* Templates first: their children then re-parent to us and are reaped. */
	for (i = 0; i < d.ntmpls; i++)
		tmpl_stop(&d, &d.tmpls[i]);
	apps_shutdown(&d);
	groups_end(&d);
	control_close(&d);
	close(d.sig_fd);
	free(d.tmpls);
	nuwa_conf_free(&d.conf);
	nuwad_log("stopped");
	return 0;
}
