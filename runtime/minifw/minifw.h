/* The minimal framework's internals: the loop and the test workers. */
#ifndef NUWA_MINIFW_H
#define NUWA_MINIFW_H

#include <stddef.h>

/* waiters.c: start the five test workers (one per kind of wait). */
int waiters_start(void);
/* Send each worker a request and report how they answered. */
int waiters_check(char *out, size_t cap);
/* waiters_check, each worker also trying to create a file in DIR on its
 * own thread: " create_KIND=TID:ERRNO" per worker (0: created). */
int waiters_create(const char *dir, char *out, size_t cap);
/* Describe fds and seeds for the isolation tests. */
int waiters_info(char *out, size_t cap);
/* Change this process's registrations on the workers' epoll set. */
int waiters_epoll_mutate(char *out, size_t cap);

#endif
