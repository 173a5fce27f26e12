/* The door: every byte an app sends nuwad comes in here (door.h).
 *
 * Channel messages: read with the channel's own framing, then checked
 * against the message table (its type known, its length within the row's
 * bound, the app in a state the row allows), counted, and cleaned as the
 * row says before the row's handler runs. A refused message costs one
 * junk count; only the first DOOR_JUNK_LOGGED of an app are logged, so a
 * hostile app cannot fill the log (on the device, a tmpfs). A handler may
 * refuse too (a trim answer nobody asked for): the same count.
 *
 * Output: each app's stdout and stderr is one pipe. Lines are cut at
 * DOOR_LINE_MAX, control characters replaced (a line cannot pose as
 * another, nor move a terminal's cursor), and limited per app in lines and
 * bytes per second; what passes goes to the app events' output (logs.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "door.h"
#include "events.h"
#include "nuwa.h"
#include "nuwad.h"
#include "out.h"
#include "util.h"

#define CHANNEL_BUDGET 16           /* messages per app per poll round */
#define OUTPUT_BUDGET 8             /* pipe reads per app per poll round */
#define RATE_LINES 50               /* output lines per second per app, same burst */
#define RATE_BYTES (16 * 1024)      /* output bytes per second per app, same burst */

size_t door_clean(char *dst, size_t cap, const char *src, size_t len, enum door_text how)
{
	size_t i, n = len;
	if (cap < 4)
		return 0;
	if (how == DOOR_NONE)
		n = 0;
	if (n > cap - 1)
		n = cap - 4;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src[i];
		int keep = how == DOOR_LINES && (c == '\n' || c == '\t');
		dst[i] = (c < 0x20 || c == 0x7f) && !keep ? '?' : (char)c;
	}
	if (how != DOOR_NONE && len > n) {
		memcpy(dst + n, "...", 3);
		n += 3;
	}
	dst[n] = 0;
	return n;
}

void door_junk(struct app *a, const char *what, unsigned type)
{
	if (++a->door.junk <= DOOR_JUNK_LOGGED)
		nuwad_log("app %s (pid %d): %s (%u)", a->name, (int)a->pid, what, type);
	else if (a->door.junk == DOOR_JUNK_LOGGED + 1)
		nuwad_log("app %s (pid %d): more bad messages, no longer logged", a->name, (int)a->pid);
}

static const struct app_msg_rule *rule_for(const struct nuwad *d, unsigned type)
{
	for (size_t i = 0; i < d->nmsg_rules; i++)
		if (type >= d->msg_rules[i].first && type <= d->msg_rules[i].last)
			return &d->msg_rules[i];
	return NULL;
}

/* The app closed its channel: it is exiting; its exit status (from us or
 * the template) removes it. */
static void channel_closed(struct nuwad *d, struct app *a)
{
	close(a->chan);
	a->chan = -1;
	events_channel_closed(d, a);
}

void door_read_channel(struct nuwad *d, struct app *a)
{
	int budget = CHANNEL_BUDGET;
	while (budget-- > 0 && a->chan >= 0) {
		struct nuwa_msg_hdr h;
		char raw[NUWA_MSG_MAX_PAYLOAD + 1];
		char clean[NUWA_MSG_MAX_PAYLOAD + 4];
		size_t keep;
		const struct app_msg_rule *r;
		int rc = nuwa_msg_recv(a->chan, &h, raw, NUWA_MSG_MAX_PAYLOAD, NULL);
		if (rc < 0 && errno == EAGAIN)
			return;
		if (rc < 0 && (errno == EBADMSG || errno == EMSGSIZE)) {
			door_junk(a, "malformed message dropped", 0);
			continue;
		}
		if (rc <= 0) {
			channel_closed(d, a);
			return;
		}
		a->door.msgs++;
		a->door.msg_bytes += h.len;
		r = rule_for(d, h.type);
		if (!r) {
			door_junk(a, "unexpected message type", h.type);
			continue;
		}
		if (h.len > r->max_len) {
			door_junk(a, "message too long dropped", h.type);
			continue;
		}
		if (!(r->states & (1u << a->state))) {
			door_junk(a, "message not expected now dropped", h.type);
			continue;
		}
		keep = r->keep + 4 < sizeof clean ? r->keep + 4 : sizeof clean;
		h.len = (uint32_t)door_clean(clean, keep, raw, h.len, r->text);
		if (r->handle(d, a, &h, clean) < 0)
			door_junk(a, "unexpected message dropped", h.type);
	}
}

int door_output_pipe(struct app *a)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	if (nuwa_set_nonblock(p[0], 1) < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		errno = e;
		return -1;
	}
	if (a->door.out_fd >= 0)
		close(a->door.out_fd);
	a->door.out_fd = p[0];
	a->door.out_len = 0;
	a->door.tokens = RATE_LINES;
	a->door.bytes = RATE_BYTES;
	a->door.refill_us = nuwad_now_us();
	a->door.dropped = 0;
	return p[1];
}

/* One complete line of A (LEN bytes at S, no newline): within the rate
 * limit, cleaned, to the output event. */
static void output_line(struct nuwad *d, struct app *a, const char *s, size_t len)
{
	const char *name = a->name[0] ? a->name : "spare";
	int64_t now = nuwad_now_us();
	double dt = (double)(now - a->door.refill_us) / 1e6;
	size_t n = len > DOOR_LINE_MAX ? DOOR_LINE_MAX : len;
	char text[DOOR_LINE_MAX + 4];

	a->door.refill_us = now;
	a->door.tokens += dt * RATE_LINES;
	if (a->door.tokens > RATE_LINES)
		a->door.tokens = RATE_LINES;
	a->door.bytes += dt * RATE_BYTES;
	if (a->door.bytes > RATE_BYTES)
		a->door.bytes = RATE_BYTES;
	if (a->door.tokens < 1 || a->door.bytes < (double)n) {
		if (a->door.dropped++ == 0)
			nuwad_log("app %s[%d]: output limited (%d lines, %d bytes per second): "
				  "lines dropped", name, (int)a->pid, RATE_LINES, RATE_BYTES);
		return;
	}
	a->door.tokens -= 1;
	a->door.bytes -= (double)n;
	if (a->door.dropped) {
		nuwad_log("app %s[%d]: %u lines of output were dropped", name, (int)a->pid,
			  a->door.dropped);
		a->door.dropped = 0;
	}
	door_clean(text, sizeof text, s, len, DOOR_LINE);
	a->door.out_lines++;
	a->door.out_bytes += n;
	events_output(d, a, text);
}

static void take_lines(struct nuwad *d, struct app *a, int flush)
{
	char *nl, *start = a->door.out_buf;
	size_t left = a->door.out_len;
	while ((nl = memchr(start, '\n', left))) {
		output_line(d, a, start, (size_t)(nl - start));
		left -= (size_t)(nl - start) + 1;
		start = nl + 1;
	}
	/* A line longer than the buffer is cut where the buffer ends. */
	if (left && (flush || left == sizeof a->door.out_buf)) {
		output_line(d, a, start, left);
		left = 0;
	}
	memmove(a->door.out_buf, start, left);
	a->door.out_len = left;
}

void door_read_output(struct nuwad *d, struct app *a)
{
	int budget = OUTPUT_BUDGET;
	while (a->door.out_fd >= 0 && budget-- > 0) {
		ssize_t n = read(a->door.out_fd, a->door.out_buf + a->door.out_len,
				 sizeof a->door.out_buf - a->door.out_len);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			take_lines(d, a, 1);
			close(a->door.out_fd);
			a->door.out_fd = -1;
			return;
		}
		a->door.out_len += (size_t)n;
		take_lines(d, a, 0);
	}
}

void door_close_output(struct nuwad *d, struct app *a)
{
	if (a->door.out_fd < 0)
		return;
	door_read_output(d, a);
	if (a->door.out_fd >= 0) {
		take_lines(d, a, 1);
		close(a->door.out_fd);
		a->door.out_fd = -1;
	}
}

void door_out(const struct app *a, struct out *o)
{
	out_obj_begin(o, "door");
	out_int(o, "messages", (long long)a->door.msgs);
	out_int(o, "refused", a->door.junk);
	out_int(o, "output_lines", (long long)a->door.out_lines);
	out_int(o, "output_bytes", (long long)a->door.out_bytes);
	out_obj_end(o);
}
