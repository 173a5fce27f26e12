/*
 * libnuwa's small helpers that every other file of it uses: its log line,
 * bounded appending to an error text, and monotonic time (milliseconds,
 * deadlines, timed waits on CLOCK_MONOTONIC). They call nothing else of
 * libnuwa, so any file may use them without the two calling each other.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

void nuwa_log(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	dprintf(2, "libnuwa[%d]: %s\n", (int)getpid(), buf);
}

void nuwa_append(char *buf, size_t cap, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;
	if (used + 1 >= cap)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, cap - used, fmt, ap);
	va_end(ap);
}

int64_t nuwa_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int nuwa_ms_left(int64_t deadline)
{
	int64_t left;
	if (deadline < 0)
		return -1;
	left = deadline - nuwa_now_ms();
	return left < 0 ? 0 : (int)(left > INT32_MAX ? INT32_MAX : left);
}

void nuwa_deadline_in(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* Timed waits run on CLOCK_MONOTONIC: setting the clock must not stall a
 * worker. glibc (2.30+) has pthread_cond_clockwait for conds of any clock;
 * elsewhere the cond must have been made with a monotonic condattr (the
 * registry's own is, see registry.c). */
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 30))
#define HAVE_CLOCKWAIT 1
#endif

int nuwa_cond_timedwait_mono(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *ts)
{
#ifdef HAVE_CLOCKWAIT
	return pthread_cond_clockwait(c, m, CLOCK_MONOTONIC, ts);
#else
	return pthread_cond_timedwait(c, m, ts);
#endif
}
