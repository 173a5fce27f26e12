/* nuwad's own log line and clock: every module's "nuwad: ..." line goes
 * through nuwad_log (to libnuwa's log, one line each), and every deadline,
 * timer and launch figure reads nuwad_now_us (CLOCK_MONOTONIC). The bottom
 * of nuwad: it calls nothing of nuwad's. */
#include <stdarg.h>
#include <stdio.h>

#include "nuwa.h"
#include "util.h"
#include "nuwad.h"

void nuwad_log(const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	nuwa_logf("nuwad", "%s", msg);
}

int64_t nuwad_now_us(void)
{
	return nuwa_mono_us();
}
