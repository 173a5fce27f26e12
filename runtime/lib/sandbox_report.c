/* How the sandbox's steps report: a failure's reason into the caller's
 * buffer, and a note (a step skipped, a path absent) logged and kept in
 * the state nuwa_sandbox_describe() prints. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sandbox_steps.h"

int nuwa_sb_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

void nuwa_sb_note(struct nuwa_sandbox_state *st, const char *app, const char *fmt, ...)
{
	char line[256];
	size_t used = strlen(st->note);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	nuwa_log("sandbox %s: %s", app, line);
	snprintf(st->note + used, sizeof st->note - used, "%s%s", used ? "; " : "", line);
}
