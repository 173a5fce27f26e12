/* Memory and fd figures from /proc. */
#ifndef NUWAD_PROCMEM_H
#define NUWAD_PROCMEM_H

#include <sys/types.h>

struct procmem {
	long uss_kb;  /* Private_Clean + Private_Dirty */
	long pss_kb;
	long rss_kb;
};

/* From /proc/PID/smaps_rollup. 0, or -1 when unreadable (fields -1). */
int procmem_read(pid_t pid, struct procmem *m);
/* Open fds of PID, or -1. */
int procmem_fds(pid_t pid);
/* MemTotal and MemAvailable from /proc/meminfo, kB. */
int procmem_meminfo(long *total_kb, long *avail_kb);

#endif
