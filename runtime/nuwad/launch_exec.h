/* Start a helper executable with CHANNEL as its fd 3. */
#ifndef NUWAD_SPAWN_H
#define NUWAD_SPAWN_H
#include <sys/types.h>
/* Returns the pid, or -1 with errno. ARGV[0] is the executable. */
/* OUT >= 0: the child's stdout and stderr (stdin /dev/null); -2: all three
 * /dev/null; -1 keeps ours. */
pid_t spawn_with_channel(char *const argv[], int channel, int out);
#endif
