/* nuwactl: the control CLI. One framed request, one framed answer; its
 * help is the command table (common/ctl_commands.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_client.h"
#include "ctl_commands.h"
#include "proto.h"

#define HELP_COLUMN 29 /* where the commands' help starts, after two spaces */

/* The command table as people read it. */
static void usage(FILE *f)
{
	size_t i;
	fprintf(f,
		"usage: nuwactl [--socket PATH] [--json] COMMAND [ARGS]\n"
		"       nuwactl --help [--json]\n"
		"commands:\n");
	for (i = 0; i < NUWA_CMD_COUNT; i++) {
		char line[160];
		nuwa_cmd_usage(&nuwa_cmds[i], line, sizeof line);
		if (strlen(line) < HELP_COLUMN)
			fprintf(f, "  %-*s%s\n", HELP_COLUMN, line, nuwa_cmds[i].help);
		else
			fprintf(f, "  %s\n  %-*s%s\n", line, HELP_COLUMN, "", nuwa_cmds[i].help);
	}
	fprintf(f,
		"--json may come anywhere; default socket /run/nuwa/nuwad.sock\n"
		"--help --json: the command table as JSON (docs/protocol.md)\n");
}

static void json_str(FILE *f, const char *key, const char *s, const char *after)
{
	fprintf(f, "\"%s\": \"", key);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fprintf(f, "\"%s", after);
}

/* The command table for scripts and tests: {"commands": [{name, args,
 * usage, rights, min_args, max_args (null: any), answer, help}, ...]}. */
static void usage_json(FILE *f)
{
	size_t i;
	fputs("{\"commands\": [", f);
	for (i = 0; i < NUWA_CMD_COUNT; i++) {
		const struct nuwa_cmd *c = &nuwa_cmds[i];
		char line[160];
		fputs(i ? ",\n  {" : "\n  {", f);
		json_str(f, "name", c->name, ", ");
		json_str(f, "args", c->args, ", ");
		json_str(f, "usage", nuwa_cmd_usage(c, line, sizeof line), ", ");
		json_str(f, "rights", nuwa_cmd_rights_name(c->rights), ", ");
		fprintf(f, "\"min_args\": %d, ", c->min_args);
		if (c->max_args == NUWA_CMD_ANY_ARGS)
			fputs("\"max_args\": null, ", f);
		else
			fprintf(f, "\"max_args\": %d, ", c->max_args);
		json_str(f, "answer", nuwa_cmd_answer_name(c->answer), ", ");
		json_str(f, "help", c->help, "}");
	}
	fputs("\n]}\n", f);
}

/* Text for a terminal: an answer may carry what an app wrote (a reply, a
 * log line, a crash frame). nuwad's door already cleaned it; this is the
 * second line of defence, so no answer can move the cursor, set a title or
 * erase a line. Newlines and tabs stay. */
static void printable(char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
			*s = '?';
	}
}

int main(int argc, char **argv)
{
	const char *sock = getenv("NUWA_SOCKET");
	const char *words[argc > 0 ? argc : 1];
	const char *why;
	char *body;
	int json = 0, help = 0, i, nwords = 0;
	size_t len;

	if (!sock)
		sock = "/run/nuwa/nuwad.sock";
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = 1;
			continue;
		}
		if (nwords == 0 && !strcmp(argv[i], "--socket")) {
			if (++i == argc) {
				usage(stderr);
				return 2;
			}
			sock = argv[i];
			continue;
		}
		if (nwords == 0 && (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))) {
			help = 1;
			break;
		}
		words[nwords++] = argv[i];
	}
	for (; help && i < argc; i++) /* --json may come after --help too */
		json |= !strcmp(argv[i], "--json");
	if (help) {
		if (json)
			usage_json(stdout);
		else
			usage(stdout);
		return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
	}
	if (!nwords) {
		usage(stderr);
		return 2;
	}
	words[nwords] = NULL;

	switch (nuwa_ctl_request(sock, words, json ? 0 : NUWA_CTL_FLAG_TEXT, &body, &why)) {
	case NUWA_CTL_ANSWER_OK:
		break;
	case NUWA_CTL_ANSWER_ERROR:
		printable(body);
		fprintf(stderr, "nuwactl: %s\n", body);
		free(body);
		return 1;
	case NUWA_CTL_BAD_REQUEST:
		fprintf(stderr, "nuwactl: %s\n", why);
		return 2;
	case NUWA_CTL_UNREACHABLE:
		fprintf(stderr, "nuwactl: %s at %s: %s\n", why, sock, strerror(errno));
		return 3;
	default:
		fprintf(stderr, "nuwactl: %s\n", why);
		return 3;
	}
	if (!json)
		printable(body);
	len = strlen(body);
	fputs(body, stdout);
	if (len && body[len - 1] != '\n')
		fputc('\n', stdout);
	free(body);
	return 0;
}
