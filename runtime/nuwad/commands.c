/* The handlers of the control commands, one per row of the command table
 * (common/ctl_commands.h), bound to their rows by the table itself: the
 * handler array below is generated from it, so a row without a handler does
 * not compile. The table checks argument counts before a handler runs; each
 * handler parses what is left of its words and calls the module that does
 * the work. A handler either fills O (answered at once, by commands_run) or
 * has answered, or will answer later, through reply* itself. */
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "crashes.h"
#include "importance.h"
#include "logs.h"
#include "nuwad.h"
#include "apps.h"
#include "requests.h"
#include "status.h"
#include "reply.h"
#include "snapshots.h"

enum cmd_result {
	CMD_OUT,      /* answer with O */
	CMD_ANSWERED  /* the handler answered, or the answer comes when done */
};

typedef enum cmd_result cmd_handler(struct nuwad *d, const struct cmd_req *r, struct out *o);

/* Answer R with an error; for "return fail(...)" in handlers. */
__attribute__((format(printf, 3, 4)))
static enum cmd_result fail(struct nuwad *d, const struct cmd_req *r, const char *fmt, ...)
{
	char msg[1200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	reply_err(d, r->cid, "%s", msg);
	return CMD_ANSWERED;
}

/* "usage: " and the command's usage line from the table. */
static enum cmd_result usage(struct nuwad *d, const struct cmd_req *r)
{
	char line[160];
	return fail(d, r, "usage: %s", nuwa_cmd_usage(nuwa_cmd_find(r->w[0]), line, sizeof line));
}

static enum cmd_result cmd_ping(struct nuwad *d, const struct cmd_req *r, struct out *o)
{
	(void)r;
	out_obj_begin(o, NULL);
	out_bool(o, "pong", 1);
	out_int(o, "pid", getpid());
	out_str(o, "template", !d->conf.template ? "off"
			       : tmpl_default(d)->state == T_READY ? "ready" : "not-ready");
	out_obj_end(o);
	return CMD_OUT;
}

static enum cmd_result cmd_apps(struct nuwad *d, const struct cmd_req *r, struct out *o)
{
	(void)r;
	status_configured(d, o);
	return CMD_OUT;
}

static enum cmd_result cmd_list(struct nuwad *d, const struct cmd_req *r, struct out *o)
{
	(void)r;
	status_list(d, o);
	return CMD_OUT;
}

static enum cmd_result cmd_crashes(struct nuwad *d, const struct cmd_req *r, struct out *o)
{
	(void)r;
	crashes_list(d, o);
	return CMD_OUT;
}

static enum cmd_result cmd_stats(struct nuwad *d, const struct cmd_req *r, struct out *o)
{
	(void)r;
	status_stats(d, o);
	return CMD_OUT;
}

static enum cmd_result cmd_template_status(struct nuwad *d, const struct cmd_req *r,
					   struct out *o)
{
	(void)r;
	tmpl_status(d, o);
	return CMD_OUT;
}

/* logs APP [--lines N] */
static enum cmd_result cmd_logs(struct nuwad *d, const struct cmd_req *r, struct out *o)
{
	int lines = 50;
	if (r->n == 4 && !strcmp(r->w[2], "--lines")) {
		char *end;
		long v = strtol(r->w[3], &end, 10);
		if (*end || end == r->w[3] || v < 0 || v > 100000)
			return fail(d, r, "--lines wants a count, not '%.32s'", r->w[3]);
		lines = (int)v;
	} else if (r->n != 2) {
		return usage(d, r);
	}
	if (!nuwa_name_ok(r->w[1]))
		return fail(d, r, "bad app name '%.64s'", r->w[1]);
	logs_show(d, o, r->w[1], lines);
	return CMD_OUT;
}

/* launch APP [--mode template|exec] [--no-spare] [-- ARG...] */
static enum cmd_result cmd_launch(struct nuwad *d, const struct cmd_req *r, struct out *o)
{
	int mode = -1, no_spare = 0, i, first_arg = r->n;
	const char *name = NULL;
	(void)o;
	for (i = 1; i < r->n; i++) {
		if (!strcmp(r->w[i], "--")) {
			first_arg = i + 1; /* the rest are the app's arguments */
			break;
		} else if (!strcmp(r->w[i], "--mode") && i + 1 < r->n) {
			i++;
			if (!strcmp(r->w[i], "template"))
				mode = 0;
			else if (!strcmp(r->w[i], "exec"))
				mode = 1;
			else
				return fail(d, r, "--mode must be template or exec");
		} else if (!strcmp(r->w[i], "--no-spare")) {
			no_spare = 1;
		} else if (!name && r->w[i][0] != '-') {
			name = r->w[i];
		} else {
			return usage(d, r);
		}
	}
	if (!name)
		return usage(d, r);
	if (!nuwa_name_ok(name))
		return fail(d, r, "bad app name '%s'", name);
	apps_launch(d, r->cid, r->text, r->arrival_us, name, mode, no_spare, r->n - first_arg,
		    r->w + first_arg);
	return CMD_ANSWERED;
}

static enum cmd_result cmd_kill(struct nuwad *d, const struct cmd_req *r, struct out *o)
{
	(void)o;
	apps_kill(d, r->cid, r->text, r->w[1]);
	return CMD_ANSWERED;
}

/* foreground APP|PID; background [APP|PID]: answered with the list. */
static enum cmd_result cmd_foreground(struct nuwad *d, const struct cmd_req *r, struct out *o)
{
	char why[160];
	if (importance_foreground(d, r->w[1], why, sizeof why) < 0)
		return fail(d, r, "%s", why);
	status_list(d, o);
	return CMD_OUT;
}

static enum cmd_result cmd_background(struct nuwad *d, const struct cmd_req *r, struct out *o)
{
	char why[160];
	if (importance_background(d, r->n > 1 ? r->w[1] : NULL, why, sizeof why) < 0)
		return fail(d, r, "%s", why);
	status_list(d, o);
	return CMD_OUT;
}

static enum cmd_result cmd_app_ping(struct nuwad *d, const struct cmd_req *r, struct out *o)
{
	(void)o;
	requests_send(d, r->cid, r->text, r->w[1], PEND_PING, NULL);
	return CMD_ANSWERED;
}

static enum cmd_result cmd_call(struct nuwad *d, const struct cmd_req *r, struct out *o)
{
	(void)o;
	requests_send(d, r->cid, r->text, r->w[1], PEND_CALL, r->w[2]);
	return CMD_ANSWERED;
}

/* What the killer sends, on demand (as Android's am send-trim-memory): for
 * tests and for app developers. */
static enum cmd_result cmd_trim(struct nuwad *d, const struct cmd_req *r, struct out *o)
{
	const char *level = r->n > 2 ? r->w[2] : "background";
	(void)o;
	if (strcmp(level, "background") && strcmp(level, "running-low"))
		return fail(d, r, "unknown trim level '%.32s' (want background or running-low)",
			    level);
	requests_send(d, r->cid, r->text, r->w[1], PEND_TRIM, level);
	return CMD_ANSWERED;
}

static enum cmd_result cmd_snapshot(struct nuwad *d, const struct cmd_req *r, struct out *o)
{
	(void)o;
	snapshots_request(d, r->cid, r->text, r->w[1]);
	return CMD_ANSWERED;
}

/* The handlers in the table's order: nuwa_cmds[i] is run by handlers[i]. */
#define HANDLER_OF(id, ...) cmd_##id,
static cmd_handler *const handlers[] = { NUWA_CMD_TABLE(HANDLER_OF) };
_Static_assert(sizeof handlers / sizeof handlers[0] == NUWA_CMD_COUNT,
	       "one handler per command");

void commands_run(struct nuwad *d, const struct nuwa_cmd *cmd, const struct cmd_req *r)
{
	struct out o;
	int nargs = r->n - 1;
	if (!cmd) {
		reply_err(d, r->cid, "unknown command '%.64s'", r->w[0]);
		return;
	}
	if (nargs < cmd->min_args || (cmd->max_args != NUWA_CMD_ANY_ARGS && nargs > cmd->max_args)) {
		usage(d, r);
		return;
	}
	out_init(&o, r->text);
	if (handlers[cmd - nuwa_cmds](d, r, &o) == CMD_OUT)
		reply_out(d, r->cid, &o);
	out_free(&o);
}
