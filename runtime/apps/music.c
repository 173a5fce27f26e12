/* music: a player. Start-up builds the library (media table) and a playlist
 * sorted by the collator, and allocates the audio ring buffer; every 100 ms
 * a pool worker synthesises the next chunk. Medium working set, written
 * continuously (the ring buffer). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nuwa_app.h"
#include "nuwa_fw.h"

#define RATE 44100
#define RING_SECONDS 2
#define CHUNK (RATE / 10)
#define TRACKS 300

static int16_t *ring; /* stereo, RING_SECONDS long */
static size_t ring_frames, write_pos;
static const char **playlist;
static int busy;
static unsigned long chunks;
static double phase;

static void synth(void *arg)
{
	(void)arg;
	/* Two detuned oscillators and a slow envelope: enough arithmetic to
	 * stand in for decoding, in a worker. */
	for (size_t i = 0; i < CHUNK; i++) {
		double env = 0.5 + 0.5 * sin(phase * 0.0001);
		double s = env * (sin(phase * 0.0627) + 0.5 * sin(phase * 0.0631));
		size_t f = (write_pos + i) % ring_frames;
		ring[2 * f] = (int16_t)(s * 12000);
		ring[2 * f + 1] = (int16_t)(s * 11000);
		phase += 1.0;
	}
}

static void synth_done(void *arg)
{
	(void)arg;
	write_pos = (write_pos + CHUNK) % ring_frames;
	chunks++;
	busy = 0;
}

static void tick(void *arg)
{
	(void)arg;
	if (!busy && nuwa_fw_submit(synth, synth_done, NULL) == 0)
		busy = 1;
}

static int start(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	static const char *const artists[] = {"Émilie", "Zoë", "Åsa", "Ólafur", "Beyoncé", "Sigur", "Røyksopp"};
	char *err = NULL;
	if (sqlite3_exec(nuwa_fw_db(), "BEGIN", NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "music: %s\n", err);
		sqlite3_free(err);
		return -1;
	}
	for (int i = 0; i < TRACKS; i++) {
		char title[128];
		const char *k = nuwa_fw_string_key(i % 150);
		snprintf(title, sizeof title, "%s %d", k ? nuwa_fw_string(k, "de") : "Track", i);
		sqlite3_stmt *s = nuwa_fw_stmt(NUWA_FW_STMT_MEDIA_PUT);
		sqlite3_bind_int(s, 1, 1000 + i);
		sqlite3_bind_text(s, 2, "audio", -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, title, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(s, 4, artists[i % 7], -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 5, 120 + i % 240);
		if (sqlite3_step(s) != SQLITE_DONE) {
			fprintf(stderr, "music: %s\n", sqlite3_errmsg(nuwa_fw_db()));
			return -1;
		}
	}
	sqlite3_exec(nuwa_fw_db(), "COMMIT", NULL, NULL, NULL);
	playlist = calloc(TRACKS, sizeof *playlist);
	if (!playlist)
		return -1;
	sqlite3_stmt *s = nuwa_fw_stmt(NUWA_FW_STMT_MEDIA_BY_KIND);
	sqlite3_bind_text(s, 1, "audio", -1, SQLITE_STATIC);
	int n = 0;
	while (n < TRACKS && sqlite3_step(s) == SQLITE_ROW)
		playlist[n++] = strdup((const char *)sqlite3_column_text(s, 1));
	nuwa_fw_collate_sort(playlist, (size_t)n);
	ring_frames = (size_t)RATE * RING_SECONDS;
	ring = calloc(ring_frames * 2, sizeof *ring);
	if (!ring)
		return -1;
	return nuwa_fw_every(100, tick, NULL);
}

static void status(char *buf, size_t len)
{
	snprintf(buf, len, "tracks=%d first=\"%s\" chunks=%lu", TRACKS, playlist[0], chunks);
}

static const struct nuwa_fw_app app_desc = {"music", start, status, NULL}; /* holds nothing to trim beyond the framework's caches */

int nuwa_app_main(struct nuwa_app *app)
{
	return nuwa_fw_app_main(app, &app_desc);
}
