/* Wire formats private to the runtime (docs/protocol.md). */
#ifndef NUWA_PROTO_H
#define NUWA_PROTO_H

#include <stdint.h>

/* ---- control socket (nuwactl <-> nuwad), SOCK_STREAM ----
 * Request:  u32 length (big endian) | u16 version (=1) | u16 flags | payload
 *           payload = command and arguments, each terminated by NUL.
 * Response: u32 length | u16 status (0 ok, else error) | u16 flags | payload
 *           payload = JSON (flag TEXT unset) or human text, UTF-8;
 *           on error a one-line reason.                                    */
#define NUWA_CTL_VERSION 1
#define NUWA_CTL_HDR 8
#define NUWA_CTL_MAX_REQUEST 4096
#define NUWA_CTL_MAX_RESPONSE (1024 * 1024)
#define NUWA_CTL_FLAG_TEXT 1
#define NUWA_CTL_OK 0
#define NUWA_CTL_ERR 1

/* ---- template channel (nuwad <-> template host), nuwa_msg frames ---- */
enum nuwa_tmpl_msg {
	NUWA_T_READY = 1,   /* template -> nuwad: frozen, serving; payload text */
	NUWA_T_FAILED = 2,  /* template -> nuwad: start-up failed; reason */
	NUWA_T_FORK = 3,    /* nuwad -> template: fd = child's app channel;
			       payload = app name ("" for a spare) */
	NUWA_T_FORKED = 4,  /* template -> nuwad: same id; payload = pid */
	NUWA_T_FORK_FAILED = 5, /* same id; reason */
	NUWA_T_EXIT = 6     /* template -> nuwad: "pid status" of a reaped child */
};

#endif
