/* The sandbox's seccomp policy: the rule list (sandbox_syscalls.list, one
 * system call a line with its action) as this target's table of numbers.
 * lib/sandbox_syscalls.sh made the table at build time from the target
 * compiler's own headers, leaving out the calls the architecture lacks;
 * sandbox_bpf.c compiles it into the filter. */
#include "sandbox_seccomp.h"

#define NUWA_SB_RULE(nr, action, name) { (nr), A_##action },
const struct sb_rule sb_rules[NUWA_SB_NRULES] = {
#include "sandbox_syscalls.h"
};
#undef NUWA_SB_RULE
