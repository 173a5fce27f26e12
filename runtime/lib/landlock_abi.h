/* Landlock's user ABI, defined here rather than taken from <linux/landlock.h>:
 * the rights are chosen at run time from the kernel's ABI version
 * (landlock_create_ruleset(NULL, 0, VERSION)), so an image built against
 * older kernel headers must still know every right a newer kernel has.
 * Values are the kernel's (include/uapi/linux/landlock.h); the ABI that
 * introduced each is noted. */
#ifndef NUWA_LANDLOCK_ABI_H
#define NUWA_LANDLOCK_ABI_H

#include <stdint.h>

#define NUWA_LL_CREATE_RULESET_VERSION (1U << 0)

#define NUWA_LL_RULE_PATH_BENEATH 1
#define NUWA_LL_RULE_NET_PORT 2                     /* ABI 4 */

/* File-system rights. */
#define NUWA_LL_FS_EXECUTE (1ULL << 0)              /* ABI 1 ... */
#define NUWA_LL_FS_WRITE_FILE (1ULL << 1)
#define NUWA_LL_FS_READ_FILE (1ULL << 2)
#define NUWA_LL_FS_READ_DIR (1ULL << 3)
#define NUWA_LL_FS_REMOVE_DIR (1ULL << 4)
#define NUWA_LL_FS_REMOVE_FILE (1ULL << 5)
#define NUWA_LL_FS_MAKE_CHAR (1ULL << 6)
#define NUWA_LL_FS_MAKE_DIR (1ULL << 7)
#define NUWA_LL_FS_MAKE_REG (1ULL << 8)
#define NUWA_LL_FS_MAKE_SOCK (1ULL << 9)
#define NUWA_LL_FS_MAKE_FIFO (1ULL << 10)
#define NUWA_LL_FS_MAKE_BLOCK (1ULL << 11)
#define NUWA_LL_FS_MAKE_SYM (1ULL << 12)            /* ... ABI 1 */
#define NUWA_LL_FS_REFER (1ULL << 13)               /* ABI 2 */
#define NUWA_LL_FS_TRUNCATE (1ULL << 14)            /* ABI 3 */
#define NUWA_LL_FS_IOCTL_DEV (1ULL << 15)           /* ABI 5 */

/* Network rights (ABI 4). */
#define NUWA_LL_NET_BIND_TCP (1ULL << 0)
#define NUWA_LL_NET_CONNECT_TCP (1ULL << 1)

/* Scopes (ABI 6). */
#define NUWA_LL_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define NUWA_LL_SCOPE_SIGNAL (1ULL << 1)

/* ABI 7 adds audit-logging flags to landlock_restrict_self(), no rights. */

/* struct landlock_ruleset_attr grew with the ABI: the kernel takes the
 * size we pass, so a kernel of ABI < 4 gets only the first field. */
struct nuwa_ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;                /* ABI 4 */
	uint64_t scoped;                            /* ABI 6 */
};

struct nuwa_ll_path_beneath_attr {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

struct nuwa_ll_net_port_attr {
	uint64_t allowed_access;
	uint64_t port;
};

#endif
