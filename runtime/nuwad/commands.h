/* nuwad's side of the command table (common/ctl_commands.h): each row's
 * handler. control.c frames, splits and checks rights; this runs one request. */
#ifndef NUWAD_COMMANDS_H
#define NUWAD_COMMANDS_H

#include <stdint.h>

#include "ctl_commands.h"

struct nuwad;

/* One request, as control.c split it. */
struct cmd_req {
	uint64_t cid;        /* the client, for answers given later */
	int text;            /* answer as human text, not JSON */
	int64_t arrival_us;  /* when the request arrived (launch_ms runs from it) */
	char **w;            /* w[0] is the command's name, then its arguments */
	int n;               /* words in w */
};

/* Run request R of command CMD (NULL: not in the table, answered "unknown
 * command"). Rights are the caller's to check. Every request gets exactly
 * one answer through control_reply*, now or when its work is done. */
void commands_run(struct nuwad *d, const struct nuwa_cmd *cmd, const struct cmd_req *r);

#endif
