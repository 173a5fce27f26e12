/* notes: a note editor. Start-up loads notes (normalised to NFC, word
 * counted with the ICU breaker) into the database; every 1.5 s the open note
 * is edited, re-counted, searched, and autosaved by the I/O thread. Small to
 * medium working set that grows slowly with the open note (capped). A TRIM
 * frees the autosave copy (unless a save is under way) and shrinks the open
 * note's buffer to the note; both grow again as they are needed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <unicode/unorm2.h>
#include <unicode/ustring.h>

#include "nuwa_app.h"
#include "nuwa_fw.h"

#define NOTES 60
#define OPEN_NOTE_MAX (64 * 1024)

static char *open_note;
static size_t open_len, open_cap;
static int autosave_fd = -1;
static char *autosave_copy;
static size_t autosave_len;
static int saving, words;
static unsigned long edits, saves, trims;

/* NFC-normalise UTF-8 text into a new malloc'd string. */
static char *nfc(const char *in)
{
	UErrorCode st = U_ZERO_ERROR;
	int32_t n = 0;
	u_strFromUTF8(NULL, 0, &n, in, -1, &st);
	UChar *u = malloc(((size_t)n + 1) * sizeof *u), *v = malloc(((size_t)n * 3 + 1) * sizeof *v);
	char *out = malloc((size_t)n * 9 + 1);
	if (!u || !v || !out)
		goto fail;
	st = U_ZERO_ERROR;
	u_strFromUTF8(u, n + 1, NULL, in, -1, &st);
	int32_t m = unorm2_normalize(nuwa_fw_normalizer(), u, n, v, n * 3 + 1, &st);
	u_strToUTF8(out, n * 9 + 1, NULL, v, m, &st);
	if (U_FAILURE(st))
		goto fail;
	free(u);
	free(v);
	return out;
fail:
	free(u);
	free(v);
	free(out);
	return NULL;
}

static int save_note(int id, const char *title, const char *body, int w)
{
	sqlite3_stmt *s = nuwa_fw_stmt(NUWA_FW_STMT_NOTE_PUT);
	sqlite3_bind_int(s, 1, id);
	sqlite3_bind_text(s, 2, title, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 3, body, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 4, w);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)time(NULL));
	return sqlite3_step(s) == SQLITE_DONE ? 0 : -1;
}

static void autosave(void *arg)
{
	(void)arg;
	/* Runs on the I/O thread; writes the snapshot taken on the main thread. */
	if (ftruncate(autosave_fd, 0) < 0 || pwrite(autosave_fd, autosave_copy, autosave_len, 0) < 0)
		fprintf(stderr, "notes: autosave: %s\n", strerror(errno));
}

static void autosave_done(void *arg)
{
	(void)arg;
	saving = 0;
	saves++;
}

static void tick(void *arg)
{
	(void)arg;
	const char *k = nuwa_fw_string_key((int)(edits % 200));
	const char *add = k ? nuwa_fw_string(k, "es") : "más texto";
	size_t add_len = strlen(add);
	if (open_len + add_len + 2 > OPEN_NOTE_MAX)
		open_len = 0; /* the user starts a new note */
	if (open_len + add_len + 2 > open_cap) {
		/* Smaller since a trim: back to full size (the pages it has not
		 * written yet cost nothing). */
		char *grown = realloc(open_note, OPEN_NOTE_MAX);
		if (!grown)
			return;
		open_note = grown;
		open_cap = OPEN_NOTE_MAX;
	}
	memcpy(open_note + open_len, add, add_len);
	open_len += add_len;
	open_note[open_len++] = ' ';
	open_note[open_len] = 0;
	edits++;
	words = nuwa_fw_word_count(open_note);
	save_note(0, "Open note", open_note, words);
	sqlite3_stmt *s = nuwa_fw_stmt(NUWA_FW_STMT_NOTE_SEARCH);
	sqlite3_bind_text(s, 1, "%save%", -1, SQLITE_STATIC);
	while (sqlite3_step(s) == SQLITE_ROW)
		;
	if (!autosave_copy)
		autosave_copy = malloc(OPEN_NOTE_MAX);
	if (!saving && autosave_copy) {
		memcpy(autosave_copy, open_note, open_len);
		autosave_len = open_len;
		if (nuwa_fw_submit_io(autosave, autosave_done, NULL) == 0)
			saving = 1;
	}
}

static int start(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	open_note = malloc(OPEN_NOTE_MAX);
	autosave_copy = malloc(OPEN_NOTE_MAX);
	if (!open_note || !autosave_copy)
		return -1;
	open_cap = OPEN_NOTE_MAX;
	open_note[0] = 0;
	autosave_fd = memfd_create("notes-autosave", MFD_CLOEXEC);
	if (autosave_fd < 0) {
		fprintf(stderr, "notes: memfd_create: %s\n", strerror(errno));
		return -1;
	}
	for (int i = 1; i <= NOTES; i++) {
		char raw[2048] = "";
		size_t len = 0;
		for (int j = 0; j < 12; j++) {
			const char *k = nuwa_fw_string_key((i * 13 + j) % 200);
			len += (size_t)snprintf(raw + len, sizeof raw - len, "%s. ", k ? nuwa_fw_string(k, "fr") : "note");
			if (len >= sizeof raw)
				break;
		}
		char *body = nfc(raw);
		if (!body) {
			fprintf(stderr, "notes: normalisation failed\n");
			return -1;
		}
		char title[32];
		snprintf(title, sizeof title, "Note %d", i);
		int rc = save_note(i, title, body, nuwa_fw_word_count(body));
		free(body);
		if (rc < 0) {
			fprintf(stderr, "notes: %s\n", sqlite3_errmsg(nuwa_fw_db()));
			return -1;
		}
	}
	return nuwa_fw_every(1500, tick, NULL);
}

static void status(char *buf, size_t len)
{
	snprintf(buf, len, "notes=%d edits=%lu words=%d saves=%lu trims=%lu", NOTES, edits, words, saves, trims);
}

static long trim(const char *level)
{
	(void)level;
	size_t bytes = 0;
	trims++;
	if (autosave_copy && !saving) {
		free(autosave_copy);
		autosave_copy = NULL;
		bytes += OPEN_NOTE_MAX;
	}
	char *shrunk = realloc(open_note, open_len + 1);
	if (shrunk) {
		bytes += open_cap - (open_len + 1);
		open_note = shrunk;
		open_cap = open_len + 1;
	}
	return (long)(bytes / 1024);
}

static const struct nuwa_fw_app app_desc = {"notes", start, status, trim};

int nuwa_app_main(struct nuwa_app *app)
{
	return nuwa_fw_app_main(app, &app_desc);
}
