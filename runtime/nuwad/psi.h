/* Memory pressure as the kernel measures it: PSI triggers on
 * /proc/pressure/memory (docs/runtime.md "Memory pressure"). Each trigger
 * is an fd in nuwad's poll loop that becomes POLLPRI when tasks stalled on
 * memory for more than the threshold within the window; no polling. Where
 * the kernel has no PSI, the MemAvailable tick is all there is. */
#ifndef NUWAD_PSI_H
#define NUWAD_PSI_H

struct nuwad;
struct out;

/* The triggers and what they saw (struct nuwad's "psi"). */
struct psi_state {
	int fd[2];                  /* "some" and "full" triggers, or -1 */
	unsigned events;
	int pending;                /* a trigger fired: the killer may take one step */
	const char *last;           /* which trigger fired last */
};

/* Open the configured triggers (nothing when the killer or psi is off). */
void psi_init(struct nuwad *d);
/* The trigger fd at FD has REVENTS: on POLLPRI, memory is under pressure
 * for the next window; the killer takes its next step now. */
void psi_ready(struct nuwad *d, int fd, short revents);
/* "psi": {file, some_ms, full_ms, window_ms, events} or null. */
void psi_out(struct nuwad *d, struct out *o);

#endif
