/* nuwad's snapshot command: grants a file to an app, checks its answer
 * (grants.h does the bookkeeping, this file talks to apps and clients). */
#ifndef NUWAD_SNAPSHOTS_H
#define NUWAD_SNAPSHOTS_H

#include <stdint.h>

#include "nuwa.h"

struct nuwad;
struct app;
struct app_observer;

/* Prepare the snapshot directory from the config. 0, or -1 with ERR. */
int snapshots_init(struct nuwad *d, char *err, size_t errlen);
/* "snapshot APP|PID": answer CID when the app has answered (or failed). */
void snapshots_request(struct nuwad *d, uint64_t cid, int text, const char *target);
/* A grant-range message (64..95) from app A. */
int snapshots_on_app_msg(struct nuwad *d, struct app *a, const struct nuwa_msg_hdr *h,
			 const char *payload);
/* gone: the app's pending snapshot fails. */
extern const struct app_observer snapshots_observer;
/* Fail grants past their deadline; lower *NEXT to the next deadline. */
void snapshots_timers(struct nuwad *d, int64_t now, int64_t *next);

#endif
