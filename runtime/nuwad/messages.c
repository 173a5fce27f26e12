/* The app message table (app_msgs.h) bound to its handlers: the one list
 * of what an app may send, installed in d->msg_rules at start for the
 * door. The handlers live in their modules; a row that needs two of them
 * (a trim answer: nuwactl's, or the killer's) is decided here. */
#include "app_msgs.h"
#include "apps.h"
#include "crashes.h"
#include "door.h"
#include "lmk.h"
#include "messages.h"
#include "nuwad.h"
#include "requests.h"
#include "snapshots.h"

/* TRIMMED answers "nuwactl trim" when that asked with this id, else the
 * killer's own request. */
static int messages_on_trimmed(struct nuwad *d, struct app *a, const struct nuwa_msg_hdr *h,
			       const char *payload)
{
	if (requests_pending(a, h->id))
		return requests_answer(d, a, h, payload);
	return lmk_on_trimmed(d, a, payload);
}

#define ROW(first, last, name, max, keep, states, text, handler, doc) \
	{ first, last, name, max, keep, states, text, handler },
static const struct app_msg_rule rules[] = { NUWAD_APP_MSG_TABLE(ROW) };
#undef ROW

void messages_install(struct nuwad *d)
{
	d->msg_rules = rules;
	d->nmsg_rules = sizeof rules / sizeof rules[0];
}
