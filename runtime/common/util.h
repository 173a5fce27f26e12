/* Small helpers shared by the daemon, the CLI and the hosts. */
#ifndef NUWA_UTIL_H
#define NUWA_UTIL_H

#include <stdint.h>
#include <stddef.h>

int64_t nuwa_mono_us(void);
int nuwa_set_nonblock(int fd, int on);
/* Read all of a small file into BUF (NUL-terminated). Bytes read or -1. */
long nuwa_read_file(const char *path, char *buf, size_t cap);
/* 1 if S is a non-empty string of decimal digits (a pid given as text). */
int nuwa_is_decimal(const char *s);
/* Log with a time stamp and PREFIX to stderr. */
void nuwa_logf(const char *prefix, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
