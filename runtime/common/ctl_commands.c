/* The control command table (ctl_commands.h) as an array, shared by nuwad
 * (rights, argument counts, usage errors) and nuwactl (--help): lookups by
 * name and the table's words for rights and answers. */
#include "ctl_commands.h"

#include <stdio.h>
#include <string.h>

#define NUWA_CMD_ROW(id, name, args, rights, min, max, answer, help) \
	{ name, args, NUWA_CMD_##rights, min, max, NUWA_CMD_##answer, help },

const struct nuwa_cmd nuwa_cmds[NUWA_CMD_COUNT] = { NUWA_CMD_TABLE(NUWA_CMD_ROW) };

const struct nuwa_cmd *nuwa_cmd_find(const char *name)
{
	size_t i;
	for (i = 0; i < NUWA_CMD_COUNT; i++)
		if (!strcmp(name, nuwa_cmds[i].name))
			return &nuwa_cmds[i];
	return NULL;
}

const char *nuwa_cmd_usage(const struct nuwa_cmd *cmd, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s%s%s", cmd->name, cmd->args[0] ? " " : "", cmd->args);
	return buf;
}

const char *nuwa_cmd_rights_name(enum nuwa_cmd_rights rights)
{
	return rights == NUWA_CMD_READ_ONLY ? "read-only" : "control";
}

const char *nuwa_cmd_answer_name(enum nuwa_cmd_answer answer)
{
	return answer == NUWA_CMD_AT_ONCE ? "at once" : "when done";
}
