/* What the template and a spare made before the request, taken by one
 * apply (sandbox_prepared.c; libnuwa internal). */
#ifndef NUWA_SANDBOX_PREPARED_H
#define NUWA_SANDBOX_PREPARED_H

#include "sandbox_steps.h"

/* P = what this process has prepared: the template's programs and bounding
 * set, and the spare's part (moved into P) when this process is the spare
 * that made it; members with nothing prepared are at "none". */
NUWA_HIDDEN void nuwa_sb_prepared_take(struct nuwa_sb_prepared *p);
/* Close and unmap what P still holds. */
NUWA_HIDDEN void nuwa_sb_prepared_release(struct nuwa_sb_prepared *p);

#endif
