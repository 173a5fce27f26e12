/* The door (door.c): the one place where bytes an app sent come in. Its
 * channel messages and its stdout/stderr are read here, bounded, counted
 * per app and sanitised once, before any module sees them; the rest of
 * nuwad handles only what came through. docs/security.md "What an app
 * sends". */
#ifndef NUWAD_DOOR_H
#define NUWAD_DOOR_H

#include <stddef.h>
#include <stdint.h>

struct nuwad;
struct app;
struct nuwa_msg_hdr;
struct out;

#define DOOR_OUT_BUF 1024      /* a partial output line */
#define DOOR_LINE_MAX 512      /* longer output lines are cut (and marked) */
#define DOOR_JUNK_LOGGED 5     /* bad messages logged per app; then one line */

/* What the door keeps per app (struct app's "door"). */
struct app_door {
	unsigned long msgs;         /* channel messages taken */
	unsigned long msg_bytes;    /* their payload bytes */
	unsigned junk;              /* messages refused (logged up to DOOR_JUNK_LOGGED) */
	int out_fd;                 /* read end of its stdout/stderr pipe, or -1 */
	char out_buf[DOOR_OUT_BUF]; /* a partial line */
	size_t out_len;
	unsigned long out_lines;    /* output lines passed on */
	unsigned long out_bytes;    /* and their bytes */
	double tokens, bytes;       /* output rate limit */
	int64_t refill_us;
	unsigned dropped;           /* lines dropped by the rate limit, not yet reported */
};

/* How a message's payload is cleaned (a column of the message table). */
enum door_text {
	DOOR_NONE,   /* no payload expected: whatever came is dropped */
	DOOR_LINE,   /* one line: every control character becomes '?' */
	DOOR_LINES,  /* lines: newlines and tabs stay, other control characters become '?' */
};

/* One row of the app message table (app_msgs.h, bound in messages.c). */
struct app_msg_rule {
	uint16_t first, last;       /* the type, or a range of types */
	const char *name;
	uint32_t max_len;           /* longer payloads are refused */
	uint32_t keep;              /* what the handler sees: cut to this (with "...") */
	unsigned states;            /* bit (1 << enum app_state) per state it is valid in */
	enum door_text text;
	/* 0: taken; -1: not expected now (counted and logged as junk). The
	 * payload is NUL-terminated and cleaned as TEXT says. */
	int (*handle)(struct nuwad *d, struct app *a, const struct nuwa_msg_hdr *h,
		      const char *payload);
};

/* Copy LEN bytes of SRC into DST (CAP bytes, CAP >= 4) cleaned as HOW:
 * cut to fit with "..." marking the cut, NUL-terminated. Its length. */
size_t door_clean(char *dst, size_t cap, const char *src, size_t len, enum door_text how);

/* Read what is waiting on A's channel (up to a small budget per call) and
 * pass each message that fits d->msg_rules to its handler. */
void door_read_channel(struct nuwad *d, struct app *a);
/* A refused message of A: count it, log the first few. */
void door_junk(struct app *a, const char *what, unsigned type);

/* "door": what A sent, as counted ("messages", "refused", "output_lines",
 * "output_bytes") for its row in "list". */
void door_out(const struct app *a, struct out *o);

/* A new pipe for A's output: nuwad keeps the read end (a->door.out_fd); the
 * write end is returned for the app's fds 1 and 2 (the caller closes it),
 * or -1 with errno. */
int door_output_pipe(struct app *a);
/* A's pipe is readable (or closed): each complete line, cut, cleaned and
 * within the rate limit, goes to the app events' output. */
void door_read_output(struct nuwad *d, struct app *a);
/* A is gone: the rest of its pipe and a last partial line, then close it. */
void door_close_output(struct nuwad *d, struct app *a);

#endif
