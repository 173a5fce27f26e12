/* Client side of the control socket (proto.h): one request, one answer.
 * Shared by nuwactl and nuwa-bench-native. */
#ifndef NUWA_CTL_CLIENT_H
#define NUWA_CTL_CLIENT_H

enum nuwa_ctl_result {
	NUWA_CTL_ANSWER_OK = 0,     /* nuwad answered with status OK */
	NUWA_CTL_ANSWER_ERROR,      /* nuwad answered with an error (in the body) */
	NUWA_CTL_BAD_REQUEST,       /* request or socket path too long */
	NUWA_CTL_UNREACHABLE,       /* no nuwad at the socket (errno set) */
	NUWA_CTL_BROKEN             /* closed, oversized or truncated answer */
};

/* Send WORDS (NULL-terminated) to nuwad at SOCK with header FLAGS. On
 * NUWA_CTL_ANSWER_OK/ERROR, *BODY is the answer (malloc'ed, NUL-terminated);
 * otherwise *BODY is NULL and *WHY a one-line reason. */
enum nuwa_ctl_result nuwa_ctl_request(const char *sock, const char *const *words,
				      unsigned flags, char **body, const char **why);

#endif
