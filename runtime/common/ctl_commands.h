/* The control commands as one table: each command's name, argument
 * synopsis, who may use it, how many arguments it takes, whether it is
 * answered at once or when its work is done, and one line of help. nuwad
 * checks rights and argument counts against it and binds each row to its
 * handler (nuwad/commands.c: a row without a handler does not compile);
 * nuwactl --help prints it (--help --json: as JSON, which
 * tests/runtime/test_commands.py compares with docs/protocol.md). A new
 * command is a row here, a handler there and a row in docs/protocol.md. */
#ifndef NUWA_CTL_COMMANDS_H
#define NUWA_CTL_COMMANDS_H

#include <stddef.h>

enum nuwa_cmd_rights {
	NUWA_CMD_READ_ONLY,  /* changes nothing: status peers may use it too */
	NUWA_CMD_CONTROL     /* control peers only */
};

enum nuwa_cmd_answer {
	NUWA_CMD_AT_ONCE,    /* answered before nuwad reads the next request */
	NUWA_CMD_WHEN_DONE   /* answered when the app (or the work) is done;
				other clients are served meanwhile */
};

#define NUWA_CMD_ANY_ARGS (-1) /* max_args: the handler checks the words */

/* CMD(id, name, arguments, rights, min args, max args, answer, help).
 * Arguments are counted after the name; a count outside [min, max] is
 * answered "usage: NAME ARGUMENTS". The id names the handler (cmd_ID). */
#define NUWA_CMD_TABLE(CMD)                                                              \
	CMD(ping, "ping", "", READ_ONLY, 0, 0, AT_ONCE,                                  \
	    "is nuwad there")                                                            \
	CMD(apps, "apps", "", READ_ONLY, 0, 0, AT_ONCE,                                  \
	    "configured apps")                                                           \
	CMD(launch, "launch", "APP [--mode template|exec] [--no-spare] [-- ARG...]",     \
	    CONTROL, 1, NUWA_CMD_ANY_ARGS, WHEN_DONE,                                    \
	    "start an app; answers once it is ready (launch_ms)")                        \
	CMD(list, "list", "", READ_ONLY, 0, 0, AT_ONCE,                                  \
	    "running apps with memory")                                                  \
	CMD(kill, "kill", "APP|PID", CONTROL, 1, 1, WHEN_DONE,                           \
	    "stop apps (waits until they are gone)")                                     \
	CMD(foreground, "foreground", "APP|PID", CONTROL, 1, 1, AT_ONCE,                 \
	    "make it the foreground app (the previous one: background)")                 \
	CMD(background, "background", "[APP|PID]", CONTROL, 0, 1, AT_ONCE,               \
	    "send it (default: the foreground app) to the background")                   \
	CMD(stats, "stats", "", READ_ONLY, 0, 0, AT_ONCE,                                \
	    "memory of the system, templates, spares, nuwad, apps")                      \
	CMD(template_status, "template-status", "", READ_ONLY, 0, 0, AT_ONCE,            \
	    "each framework's template: state, restarts, last error")                    \
	CMD(crashes, "crashes", "", READ_ONLY, 0, 0, AT_ONCE,                            \
	    "crash records of apps (signal, fault address, frames)")                     \
	CMD(logs, "logs", "APP [--lines N]", READ_ONLY, 1, 3, AT_ONCE,                   \
	    "the app's last output lines (stdout/stderr)")                               \
	CMD(app_ping, "app-ping", "APP|PID", CONTROL, 1, 1, WHEN_DONE,                   \
	    "round trip through an app's event loop")                                    \
	CMD(call, "call", "APP|PID REQUEST", CONTROL, 2, 2, WHEN_DONE,                   \
	    "send a request to an app")                                                  \
	CMD(trim, "trim", "APP|PID [background|running-low]", CONTROL, 1, 2, WHEN_DONE,  \
	    "ask an app to trim, as the killer does: freed_kb")                          \
	CMD(snapshot, "snapshot", "APP|PID", CONTROL, 1, 1, WHEN_DONE,                   \
	    "memory snapshot into nuwad's snapshot dir (id, path)")

struct nuwa_cmd {
	const char *name;
	const char *args;          /* synopsis after the name, "" for none */
	enum nuwa_cmd_rights rights;
	int min_args, max_args;    /* words after the name; max may be NUWA_CMD_ANY_ARGS */
	enum nuwa_cmd_answer answer;
	const char *help;          /* one line */
};

#define NUWA_CMD_COUNT_ROW(...) +1
enum { NUWA_CMD_COUNT = 0 NUWA_CMD_TABLE(NUWA_CMD_COUNT_ROW) };

/* The table's rows, in its order. */
extern const struct nuwa_cmd nuwa_cmds[NUWA_CMD_COUNT];

/* The row of command NAME, or NULL. */
const struct nuwa_cmd *nuwa_cmd_find(const char *name);

/* CMD's usage line, "NAME ARGUMENTS" (or "NAME"), in BUF; returns BUF. */
const char *nuwa_cmd_usage(const struct nuwa_cmd *cmd, char *buf, size_t cap);

/* "read-only" or "control"; "at once" or "when done" (nuwactl --help --json,
 * docs/protocol.md). */
const char *nuwa_cmd_rights_name(enum nuwa_cmd_rights rights);
const char *nuwa_cmd_answer_name(enum nuwa_cmd_answer answer);

#endif
