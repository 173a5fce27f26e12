/* "list", "stats" and "apps" (status.c): every module's part in one answer. */
#ifndef NUWAD_STATUS_H
#define NUWAD_STATUS_H

struct nuwad;
struct out;

/* "list": the running apps, oldest first. */
void status_list(struct nuwad *d, struct out *o);
/* "stats": memory of nuwad, templates, spares and apps; every module's figures. */
void status_stats(struct nuwad *d, struct out *o);
/* "apps": the configured apps. */
void status_configured(struct nuwad *d, struct out *o);

#endif
