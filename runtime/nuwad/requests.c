/* Requests to running apps and their answers: "nuwactl app-ping", "call"
 * and "trim" send one message each and wait (PENDING_TIMEOUT_MS at most)
 * for the app's answer with the same id; the answer, or why there is none,
 * goes to the client that asked. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "app_table.h"
#include "nuwa.h"
#include "nuwa_app.h"
#include "nuwad.h"
#include "reply.h"
#include "requests.h"

#define PENDING_TIMEOUT_MS 5000

void requests_fail(struct nuwad *d, struct app *a, const char *why)
{
	while (a->pend) {
		struct pending *p = a->pend;
		a->pend = p->next;
		reply_err(d, p->client, "app %s (pid %d): %s", a->name, (int)a->pid, why);
		free(p);
	}
}

int requests_pending(const struct app *a, uint32_t id)
{
	for (const struct pending *p = a->pend; p; p = p->next)
		if (p->id == id)
			return 1;
	return 0;
}

static struct pending *take_pending(struct app *a, uint32_t id)
{
	struct pending **pp;
	for (pp = &a->pend; *pp; pp = &(*pp)->next) {
		if ((*pp)->id == id) {
			struct pending *p = *pp;
			*pp = p->next;
			return p;
		}
	}
	return NULL;
}

int requests_answer(struct nuwad *d, struct app *a, const struct nuwa_msg_hdr *h,
		    const char *payload)
{
	struct pending *p = take_pending(a, h->id);
	struct out o;
	if (!p)
		return -1; /* nobody asked, or the answer came too late */
	if (h->type == NUWA_APP_MSG_ERROR) {
		reply_err(d, p->client, "app %s (pid %d): %s", a->name, (int)a->pid, payload);
		free(p);
		return 0;
	}
	out_init(&o, p->text);
	out_obj_begin(&o, NULL);
	out_str(&o, "app", a->name);
	out_int(&o, "pid", a->pid);
	out_num(&o, "rtt_ms", (double)(nuwad_now_us() - p->sent_us) / 1000.0);
	if (p->kind == PEND_CALL)
		out_str(&o, "reply", payload);
	if (p->kind == PEND_TRIM) {
		/* "freed_kb=N" (docs/protocol.md); -1 when the answer is not that. */
		const char *f = strstr(payload, "freed_kb=");
		char *end = NULL;
		long kb = f ? strtol(f + 9, &end, 10) : -1;
		out_int(&o, "freed_kb", f && end != f + 9 && kb >= 0 ? kb : -1);
	}
	out_obj_end(&o);
	reply_out(d, p->client, &o);
	out_free(&o);
	free(p);	return 0;
}

void requests_send(struct nuwad *d, uint64_t cid, int text, const char *target,
		   enum pending_kind kind, const char *payload)
{
	struct app *a;
	struct pending *p;
	uint16_t type = kind == PEND_PING ? NUWA_APP_MSG_PING
			: kind == PEND_TRIM ? NUWA_APP_MSG_TRIM
					    : NUWA_APP_MSG_REQUEST;
	for (a = d->apps; a; a = a->next)
		if (app_matches(a, target) && a->chan >= 0 && a->state == APP_RUNNING)
			break;
	if (!a) {
		reply_err(d, cid, "no running app '%s'", target);
		return;
	}
	p = calloc(1, sizeof *p);
	if (!p) {
		reply_err(d, cid, "out of memory");
		return;
	}
	p->id = ++d->next_id;
	p->kind = kind;
	p->client = cid;
	p->text = text;
	p->sent_us = nuwad_now_us();
	p->deadline_us = p->sent_us + PENDING_TIMEOUT_MS * 1000LL;
	if (nuwa_msg_send(a->chan, type, p->id, payload, payload ? (uint32_t)strlen(payload) : 0, -1) < 0) {
		reply_err(d, cid, "app %s: %s", a->name, strerror(errno));
		free(p);
		return;
	}
	p->next = a->pend;
	a->pend = p;
}

void requests_timers(struct nuwad *d, int64_t now, int64_t *next)
{
	for (struct app *a = d->apps; a; a = a->next) {
		struct pending **pp;
		for (pp = &a->pend; *pp;) {
			struct pending *p = *pp;
			if (now >= p->deadline_us) {
				*pp = p->next;
				reply_err(d, p->client, "app %s (pid %d) did not answer within %d ms",
					  a->name, (int)a->pid, PENDING_TIMEOUT_MS);
				free(p);
				continue;
			}
			if (p->deadline_us < *next)
				*next = p->deadline_us;
			pp = &p->next;
		}
	}
}

static void on_channel_closed(struct nuwad *d, struct app *a)
{
	requests_fail(d, a, "app closed its channel");
}

static void on_gone(struct nuwad *d, struct app *a)
{
	requests_fail(d, a, "app is gone");
}

const struct app_observer requests_observer = {
	.name = "requests",
	.channel_closed = on_channel_closed,
	.gone = on_gone,
};
