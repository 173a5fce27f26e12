/* Answers to control clients by id (reply.c): the one way a module below
 * the control layer answers a request, now or when its work is done. */
#ifndef NUWAD_REPLY_H
#define NUWAD_REPLY_H

#include <stddef.h>
#include <stdint.h>

struct nuwad;
struct out;

/* Answer client CID (nothing when it has gone). */
void reply(struct nuwad *d, uint64_t cid, int ok, const char *body, size_t len);
void reply_out(struct nuwad *d, uint64_t cid, struct out *o);
void reply_err(struct nuwad *d, uint64_t cid, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
