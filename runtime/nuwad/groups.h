/* Every app is a group of processes (docs/security.md "Apps are process
 * groups"): its own cgroup v2 NUWA_APP_CGROUP_ENV/<app>-<pid>, which the app
 * process creates and joins itself before its sandbox, and its own process
 * group (the fallback where cgroup2 is unavailable). nuwad ends the whole
 * group when the app ends or is killed. */
#ifndef NUWAD_GROUPS_H
#define NUWAD_GROUPS_H

#include <sys/types.h>

#define NUWA_APP_CGROUP_ENV "NUWA_APP_CGROUP"
#define NUWA_GROUPS_FILE "app-groups"  /* in the state dir: the cgroup dir, then pgids */

struct nuwad;
struct app;

/* Find (or mount) cgroup2, make nuwad's app cgroup directory and hand it to
 * the hosts in the environment. Without one, apps get process groups only
 * (one log line). */
void groups_init(struct nuwad *d);

/* End every process left in the app cgroups and process groups recorded in
 * STATE_DIR by an earlier nuwad (one that died without cleaning up): all of
 * an app cgroup; of a recorded process group only processes running one of
 * the hosts TEMPLATE_HOST / EXEC_HOST (apps are forks of them), since the
 * group id may have been reused since. Returns how many processes were
 * signalled. Small and self-contained so a supervisor can call it before
 * starting anything. */
int groups_end_leftovers(const char *state_dir, const char *template_host, const char *exec_host);

/* SIGKILL every process of app A's group (its cgroup, else its process
 * group); the main process through its pidfd. */
/* The app's cgroup directory: NUWA_APP_CGROUP/APP-PID, or .../spare-PID for a
 * spare and an app a spare became (the spare joined it before the request). */
void groups_app_cgroup(const struct nuwad *d, const struct app *a, char *out, size_t cap);
void groups_kill(struct nuwad *d, struct app *a);
/* A's main process is gone: end the rest of its group, remove its cgroup. */
void groups_app_gone(struct nuwad *d, struct app *a);
/* At exit, every app gone: the apps' cgroups removed, and their parent. */
void groups_end(struct nuwad *d);
/* Record the running apps' groups in the state dir (after changes). */
void groups_record(struct nuwad *d);
/* Processes in A's group (at least 1 while it runs), or -1 if unknown. */
int groups_count(struct nuwad *d, const struct app *a);
/* PID is in one of this nuwad's app groups (cgroup or process group). */
int groups_pid_in_app(struct nuwad *d, pid_t pid);
/* Retry removing cgroups whose processes were still exiting (tick). */
void groups_sweep(struct nuwad *d);

/* Signal one process through a pidfd (never a bare pid that may have been
 * reused); falls back to kill() where pidfds are missing. */
int pidfd_signal(int pidfd, pid_t pid, int sig);
/* A pidfd for PID, or -1 (pidfd_open). */
int pidfd_for(pid_t pid);

#endif
