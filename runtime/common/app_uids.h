/* Uids for apps whose section names none ([daemon] app_uids = LO-HI):
 * nuwad picks one per app name, stable across restarts because it is
 * recorded in STATE_DIR/app-uids ("NAME UID" lines); the hosts read that
 * record (path in the environment, NUWA_APP_UIDS_ENV) so the app process
 * gets the same uid in template and exec mode (docs/security.md). */
#ifndef NUWA_APP_UIDS_H
#define NUWA_APP_UIDS_H

#include <stddef.h>

#include "conf.h"

#define NUWA_APP_UIDS_ENV "NUWA_APP_UIDS"
#define NUWA_APP_UIDS_FILE "app-uids"

/* nuwad: give every app without a uid one from the range (keeping recorded
 * ones), write the record into STATE_DIR and set NUWA_APP_UIDS_ENV. Apps
 * without a uid keep -1 when no range is configured. 0, or -1 with ERR. */
int app_uids_assign(struct nuwa_conf *c, const char *state_dir, char *err, size_t errlen);

/* Hosts: fill in the uids of apps without one from the record named by the
 * environment (no record: nothing changes). 0, or -1 with ERR. */
int app_uids_load(struct nuwa_conf *c, char *err, size_t errlen);

#endif
