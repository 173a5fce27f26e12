/* App events (events.c): how the modules above the app table hear of an
 * app's life without the app table calling them. Each module that cares
 * fills one struct app_observer (the events it wants, the rest NULL);
 * main.c subscribes them in order at start. */
#ifndef NUWAD_EVENTS_H
#define NUWAD_EVENTS_H

struct nuwad;
struct app;

struct app_observer {
	const char *name;
	/* READY arrived: the app runs. */
	void (*ready)(struct nuwad *d, struct app *a);
	/* The app closed its channel (it is exiting). */
	void (*channel_closed)(struct nuwad *d, struct app *a);
	/* A line of its stdout/stderr, through the door (cut and cleaned). */
	void (*output)(struct nuwad *d, struct app *a, const char *line);
	/* Reaped with STATUS, before it is forgotten. */
	void (*died)(struct nuwad *d, struct app *a, int status);
	/* About to be freed (reaped, or never started). */
	void (*gone)(struct nuwad *d, struct app *a);
};

#define NUWAD_OBSERVERS_MAX 16

/* Add O (kept, not copied). 0, or -1 when the table is full. */
int events_subscribe(struct nuwad *d, const struct app_observer *o);
void events_ready(struct nuwad *d, struct app *a);
void events_channel_closed(struct nuwad *d, struct app *a);
void events_output(struct nuwad *d, struct app *a, const char *line);
void events_died(struct nuwad *d, struct app *a, int status);
void events_gone(struct nuwad *d, struct app *a);

#endif
