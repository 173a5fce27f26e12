/* messages: a chat app. Start-up loads contacts sorted by the collator and
 * a message history; every half second a message "arrives", is stored, and
 * the open conversation is loaded again (its last VIEW messages, held for
 * display). The database grows up to a cap, so its working set is medium
 * and drifts until the cap is reached. A TRIM drops the loaded conversation
 * and lowers the cap for good (KEEP_TRIMMED: a real chat app keeps the rest
 * on flash): the history beyond it goes, and what SQLite frees is reused by
 * the next messages instead of growing the heap. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nuwa_app.h"
#include "nuwa_fw.h"

#define CONTACTS 200
#define KEEP_MESSAGES 3000
#define KEEP_TRIMMED 500
#define THREADS 20
#define VIEW 50

static const char *const first[] = {"Ana", "Björn", "Chloé", "Dmitri", "Émile", "Fatima", "Günter", "Hana",
				    "Iñigo", "Jürgen", "Kai", "Léa", "Mateo", "Nadia", "Ørjan", "Priya"};
static const char *const last_names[] = {"Schmidt", "Øster", "Álvarez", "Nguyen", "Müller", "Dubois",
					 "Kowalski", "Rossi", "Sato", "Öztürk", "Silva", "Eriksson", "Brown"};

static char *contacts[CONTACTS];
static unsigned long received, shown, trims;
static int keep = KEEP_MESSAGES;
static char *view[VIEW]; /* the open conversation's messages, newest first */
static size_t view_bytes;

static void view_drop(void)
{
	for (int i = 0; i < VIEW; i++) {
		free(view[i]);
		view[i] = NULL;
	}
	view_bytes = 0;
}

static int store(int thread, const char *sender, const char *body)
{
	sqlite3_stmt *s = nuwa_fw_stmt(NUWA_FW_STMT_MSG_INSERT);
	sqlite3_bind_int(s, 1, thread);
	sqlite3_bind_text(s, 2, sender, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, body, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)time(NULL) * 1000 + (sqlite3_int64)received);
	return sqlite3_step(s) == SQLITE_DONE ? 0 : -1;
}

static void compose(char *buf, size_t len, unsigned long n)
{
	const char *k1 = nuwa_fw_string_key((int)(n % 97));
	const char *k2 = nuwa_fw_string_key((int)(n % 89) + 7);
	snprintf(buf, len, "%s %s (#%lu)", k1 ? nuwa_fw_string(k1, "en") : "hi",
		 k2 ? nuwa_fw_string(k2, "fr") : "salut", n);
}

static void tick(void *arg)
{
	(void)arg;
	char body[512];
	compose(body, sizeof body, received);
	if (store((int)(received % THREADS), contacts[received % CONTACTS], body) == 0)
		received++;
	sqlite3_stmt *s = nuwa_fw_stmt(NUWA_FW_STMT_MSG_RECENT);
	sqlite3_bind_int(s, 1, (int)(received % THREADS));
	sqlite3_bind_int(s, 2, VIEW);
	view_drop();
	for (int i = 0; i < VIEW && sqlite3_step(s) == SQLITE_ROW; i++) {
		const char *body = (const char *)sqlite3_column_text(s, 1);
		view[i] = strdup(body ? body : "");
		view_bytes += view[i] ? strlen(view[i]) + 1 : 0;
		shown++;
	}
	if (received % 100 == 0) {
		s = nuwa_fw_stmt(NUWA_FW_STMT_MSG_TRIM);
		sqlite3_bind_int(s, 1, keep);
		sqlite3_step(s);
	}
}

static int start(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	for (int i = 0; i < CONTACTS; i++) {
		char name[96];
		snprintf(name, sizeof name, "%s %s %d", first[(i * 7) % 16], last_names[(i * 5) % 13], i);
		contacts[i] = strdup(name);
		if (!contacts[i])
			return -1;
	}
	nuwa_fw_collate_sort((const char **)contacts, CONTACTS);
	char *err = NULL;
	if (sqlite3_exec(nuwa_fw_db(), "BEGIN", NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "messages: %s\n", err);
		sqlite3_free(err);
		return -1;
	}
	for (int i = 0; i < 600; i++) {
		char body[512];
		compose(body, sizeof body, (unsigned long)i * 31);
		if (store(i % THREADS, contacts[i % CONTACTS], body) < 0) {
			fprintf(stderr, "messages: %s\n", sqlite3_errmsg(nuwa_fw_db()));
			return -1;
		}
	}
	sqlite3_exec(nuwa_fw_db(), "COMMIT", NULL, NULL, NULL);
	return nuwa_fw_every(500, tick, NULL);
}

static void status(char *buf, size_t len)
{
	snprintf(buf, len, "contacts=%d first=\"%s\" received=%lu shown=%lu keep=%d trims=%lu", CONTACTS, contacts[0],
		 received, shown, keep, trims);
}

static long trim(const char *level)
{
	(void)level;
	size_t bytes = view_bytes + VIEW * sizeof(void *); /* strings and their malloc headers, roughly */
	view_drop();
	trims++;
	keep = KEEP_TRIMMED;
	sqlite3_stmt *s = nuwa_fw_stmt(NUWA_FW_STMT_MSG_TRIM);
	sqlite3_bind_int(s, 1, keep);
	sqlite3_step(s);
	sqlite3_reset(s);
	return (long)(bytes / 1024);
}

static const struct nuwa_fw_app app_desc = {"messages", start, status, trim};

int nuwa_app_main(struct nuwa_app *app)
{
	return nuwa_fw_app_main(app, &app_desc);
}
