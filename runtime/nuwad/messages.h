/* The app message table, bound (messages.c). */
#ifndef NUWAD_MESSAGES_H
#define NUWAD_MESSAGES_H

struct nuwad;

/* Point d->msg_rules at the bound table. */
void messages_install(struct nuwad *d);

#endif
