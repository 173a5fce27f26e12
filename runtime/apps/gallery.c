/* gallery: a photo browser. It keeps a cache of decoded photos and their
 * thumbnails; every second the pool "decodes" the next photo (generates and
 * downscales it) and the oldest one is evicted. Largest working set of the
 * six, with churn in the allocator. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nuwa_app.h"
#include "nuwa_fw.h"

#define W 320
#define H 240
#define TW 80
#define TH 60
#define CACHED 6

struct photo {
	uint32_t *pixels; /* W*H RGBA */
	uint32_t thumb[TW * TH];
	unsigned id;
};

static struct photo *cache[CACHED];
static struct photo *pending;
static unsigned next_id;
static unsigned long decoded;

static void decode(void *arg)
{
	struct photo *p = arg;
	for (unsigned y = 0; y < H; y++)
		for (unsigned x = 0; x < W; x++)
			p->pixels[y * W + x] = (x * 3 + p->id * 17) << 16 | (y * 5 + p->id) << 8 | ((x ^ y) & 0xff) | 0xffu << 24;
	/* Box-filter downscale by 4. */
	for (unsigned ty = 0; ty < TH; ty++)
		for (unsigned tx = 0; tx < TW; tx++) {
			unsigned r = 0, g = 0, b = 0;
			for (unsigned dy = 0; dy < 4; dy++)
				for (unsigned dx = 0; dx < 4; dx++) {
					uint32_t px = p->pixels[(ty * 4 + dy) * W + tx * 4 + dx];
					r += px >> 16 & 0xff;
					g += px >> 8 & 0xff;
					b += px & 0xff;
				}
			p->thumb[ty * TW + tx] = 0xffu << 24 | (r / 16) << 16 | (g / 16) << 8 | b / 16;
		}
}

static void decoded_done(void *arg)
{
	struct photo *p = arg;
	unsigned slot = p->id % CACHED;
	if (cache[slot]) {
		free(cache[slot]->pixels);
		free(cache[slot]);
	}
	cache[slot] = p;
	pending = NULL;
	decoded++;
}

static struct photo *new_photo(void)
{
	struct photo *p = malloc(sizeof *p);
	if (!p)
		return NULL;
	p->pixels = malloc(sizeof *p->pixels * W * H);
	if (!p->pixels) {
		free(p);
		return NULL;
	}
	p->id = next_id++;
	return p;
}

static void tick(void *arg)
{
	(void)arg;
	if (pending)
		return;
	pending = new_photo();
	if (pending && nuwa_fw_submit(decode, decoded_done, pending) < 0) {
		free(pending->pixels);
		free(pending);
		pending = NULL;
	}
}

static int start(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	for (int i = 0; i < CACHED; i++) {
		struct photo *p = new_photo();
		if (!p) {
			fprintf(stderr, "gallery: out of memory\n");
			return -1;
		}
		decode(p);
		decoded_done(p);
		sqlite3_stmt *s = nuwa_fw_stmt(NUWA_FW_STMT_MEDIA_PUT);
		char title[32];
		snprintf(title, sizeof title, "IMG_%04u.jpg", p->id);
		sqlite3_bind_int(s, 1, (int)p->id);
		sqlite3_bind_text(s, 2, "photo", -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, title, -1, SQLITE_TRANSIENT);
		sqlite3_bind_null(s, 4);
		sqlite3_bind_int(s, 5, 0);
		sqlite3_step(s);
	}
	return nuwa_fw_every(1000, tick, NULL);
}

static unsigned long trimmed_kb;

/* A TRIM: drop every decoded photo; the tick decodes them again, one a
 * second, once the app is used again (the framework parks it after a
 * background trim). */
static long trim(const char *level)
{
	(void)level;
	size_t bytes = 0;
	for (int i = 0; i < CACHED; i++)
		if (cache[i]) {
			bytes += sizeof *cache[i] + sizeof *cache[i]->pixels * W * H;
			free(cache[i]->pixels);
			free(cache[i]);
			cache[i] = NULL;
		}
	trimmed_kb += bytes / 1024;
	return (long)(bytes / 1024);
}

static void status(char *buf, size_t len)
{
	int cached = 0;
	for (int i = 0; i < CACHED; i++)
		cached += cache[i] != NULL;
	snprintf(buf, len, "cached=%d decoded=%lu trimmed_kb=%lu thumb0=%08x", cached, decoded, trimmed_kb,
		 cache[0] ? (unsigned)cache[0]->thumb[TW + 1] : 0u);
}

static const struct nuwa_fw_app app_desc = {"gallery", start, status, trim};

int nuwa_app_main(struct nuwa_app *app)
{
	return nuwa_fw_app_main(app, &app_desc);
}
