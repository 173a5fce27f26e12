/* Answers to control clients, for every module below the control layer.
 * A module that answers a request later (a launch when the app is ready, a
 * call when the app replies, a snapshot) names the client by its id; the
 * control layer installed d->answer at start, and queues the frame. This
 * file is why no module calls up into control.c. */
#include <stdarg.h>
#include <stdio.h>

#include "nuwad.h"
#include "reply.h"

void reply(struct nuwad *d, uint64_t cid, int ok, const char *body, size_t len)
{
	if (d->answer)
		d->answer(d, cid, ok, body, len);
}

void reply_out(struct nuwad *d, uint64_t cid, struct out *o)
{
	if (o->failed)
		reply_err(d, cid, "out of memory");
	else
		reply(d, cid, 1, o->buf ? o->buf : "", o->len);
}

void reply_err(struct nuwad *d, uint64_t cid, const char *fmt, ...)
{
	char msg[1200];
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof msg)
		n = sizeof msg - 1;
	reply(d, cid, 0, msg, (size_t)n);
}
