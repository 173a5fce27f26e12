/* Requests to running apps and their answers (requests.c). */
#ifndef NUWAD_REQUESTS_H
#define NUWAD_REQUESTS_H

#include <stdint.h>

#include "nuwad.h"

struct nuwa_msg_hdr;

/* Send KIND (ping, call with PAYLOAD, trim with PAYLOAD = level) to the
 * running app TARGET; CID gets the answer when it comes. */
void requests_send(struct nuwad *d, uint64_t cid, int text, const char *target,
		   enum pending_kind kind, const char *payload);
/* A's answer H (PONG, REPLY, TRIMMED or ERROR) to request H->id: 0, or -1
 * when no such request waits. */
int requests_answer(struct nuwad *d, struct app *a, const struct nuwa_msg_hdr *h,
		    const char *payload);
/* A request with id ID of A waits for its answer. */
int requests_pending(const struct app *a, uint32_t id);
/* Every waiting request of A fails with WHY. */
void requests_fail(struct nuwad *d, struct app *a, const char *why);
/* Fail requests past their deadline; lower *NEXT to the next one. */
void requests_timers(struct nuwad *d, int64_t now, int64_t *next);

extern const struct app_observer requests_observer;

#endif
