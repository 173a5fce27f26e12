/* App events: the observer list and its five calls (events.h). Observers
 * run in the order they subscribed; none may free the app. */
#include "events.h"
#include "nuwad.h"

int events_subscribe(struct nuwad *d, const struct app_observer *o)
{
	if (d->nobservers == NUWAD_OBSERVERS_MAX)
		return -1;
	d->observers[d->nobservers++] = o;
	return 0;
}

#define EACH(d, o) \
	for (int i_ = 0; i_ < (d)->nobservers && ((o) = (d)->observers[i_]); i_++)

void events_ready(struct nuwad *d, struct app *a)
{
	const struct app_observer *o;
	EACH(d, o)
		if (o->ready)
			o->ready(d, a);
}

void events_channel_closed(struct nuwad *d, struct app *a)
{
	const struct app_observer *o;
	EACH(d, o)
		if (o->channel_closed)
			o->channel_closed(d, a);
}

void events_output(struct nuwad *d, struct app *a, const char *line)
{
	const struct app_observer *o;
	EACH(d, o)
		if (o->output)
			o->output(d, a, line);
}

void events_died(struct nuwad *d, struct app *a, int status)
{
	const struct app_observer *o;
	EACH(d, o)
		if (o->died)
			o->died(d, a, status);
}

void events_gone(struct nuwad *d, struct app *a)
{
	const struct app_observer *o;
	EACH(d, o)
		if (o->gone)
			o->gone(d, a);
}
