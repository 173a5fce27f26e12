/* nuwad under a supervisor (nuwa-supervise, runtime/supervise/). */
#ifndef NUWAD_SUPERVISION_H
#define NUWAD_SUPERVISION_H

struct nuwad;
struct out;

/* What nuwad knows of its supervisor (struct nuwad's "sup"). */
struct supervision_state {
	int supervised;             /* started by nuwa-supervise */
	unsigned restarts;          /* nuwad restarts by the supervisor */
	char restart_cause[160];    /* how the previous nuwad ended */
	int survivors_ended;        /* processes of the previous nuwad ended at start */
};

/* At start, before the template: own process group, end survivors of the
 * previous nuwad on this state dir, record this one, read the restart
 * count and cause the supervisor left in STATE_DIR/supervisor. */
void supervision_start(struct nuwad *d);
/* End processes of the previous nuwad's process group; how many. */
int nuwad_end_survivors(struct nuwad *d);
/* "supervised, nuwad_restarts, nuwad_last_exit, survivors_ended" for stats. */
void supervision_out(struct nuwad *d, struct out *o);

#endif
