/* Start-up part 2: the app database. Opening it, creating the schema and
 * preparing the statements apps use is ordinary platform start-up work; the
 * schema cache and prepared statements live on the heap from then on. */
#include <limits.h>
#include <stdio.h>

#include <sqlite3.h>

#include "fw_internal.h"

static sqlite3 *db;
static sqlite3_stmt *stmts[NUWA_FW_STMT_COUNT];

static const char schema[] =
	"PRAGMA journal_mode=MEMORY;"
	"CREATE TABLE contacts(id INTEGER PRIMARY KEY, name TEXT NOT NULL, number TEXT, sort_key BLOB);"
	"CREATE INDEX contacts_sort ON contacts(sort_key);"
	"CREATE TABLE messages(id INTEGER PRIMARY KEY, thread INTEGER NOT NULL, sender TEXT,"
	" body TEXT, ts INTEGER);"
	"CREATE INDEX messages_thread ON messages(thread, ts);"
	"CREATE TABLE settings(key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;"
	"CREATE TABLE notes(id INTEGER PRIMARY KEY, title TEXT, body TEXT, words INTEGER, ts INTEGER);"
	"CREATE INDEX notes_title ON notes(title);"
	"CREATE TABLE media(id INTEGER PRIMARY KEY, kind TEXT, title TEXT, artist TEXT, duration INTEGER);"
	"CREATE INDEX media_kind ON media(kind, title);"
	"CREATE TABLE alarms(id INTEGER PRIMARY KEY, at INTEGER, label TEXT, enabled INTEGER);";

static const char *const stmt_sql[NUWA_FW_STMT_COUNT] = {
	[NUWA_FW_STMT_MSG_INSERT] = "INSERT INTO messages(thread, sender, body, ts) VALUES(?,?,?,?)",
	[NUWA_FW_STMT_MSG_RECENT] = "SELECT sender, body, ts FROM messages WHERE thread=? ORDER BY ts DESC LIMIT ?",
	[NUWA_FW_STMT_MSG_TRIM] = "DELETE FROM messages WHERE id <= (SELECT max(id) FROM messages) - ?",
	[NUWA_FW_STMT_SETTING_GET] = "SELECT value FROM settings WHERE key=?",
	[NUWA_FW_STMT_SETTING_PUT] = "INSERT OR REPLACE INTO settings(key, value) VALUES(?,?)",
	[NUWA_FW_STMT_NOTE_PUT] = "INSERT OR REPLACE INTO notes(id, title, body, words, ts) VALUES(?,?,?,?,?)",
	[NUWA_FW_STMT_NOTE_SEARCH] = "SELECT id, title FROM notes WHERE body LIKE ? ORDER BY title LIMIT 20",
	[NUWA_FW_STMT_MEDIA_PUT] = "INSERT OR REPLACE INTO media(id, kind, title, artist, duration) VALUES(?,?,?,?,?)",
	[NUWA_FW_STMT_MEDIA_BY_KIND] = "SELECT id, title, artist FROM media WHERE kind=? ORDER BY title",
};

/* Default settings a device ships with (seeded at start-up). */
static const char *const default_settings[][2] = {
	{"display.brightness", "70"}, {"display.timeout", "30"}, {"sound.volume", "8"},
	{"sound.vibrate", "1"}, {"locale", "en_US"}, {"clock.24h", "1"},
	{"clock.zones", "Europe/Berlin,America/New_York,Asia/Tokyo"}, {"network.wifi", "1"},
	{"privacy.location", "0"}, {"battery.saver", "0"}, {"theme", "nuwa-default"},
};

sqlite3 *nuwa_fw_db(void) { return db; }

sqlite3_stmt *nuwa_fw_stmt(enum nuwa_fw_stmt_id id)
{
	sqlite3_stmt *s = stmts[id];
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

int fw_db_init(int *n_tables, int *n_stmts)
{
	char *err = NULL;
	if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		FW_LOG("cannot open database: %s\n", db ? sqlite3_errmsg(db) : "out of memory");
		return -1;
	}
	if (sqlite3_exec(db, schema, NULL, NULL, &err) != SQLITE_OK) {
		FW_LOG("schema: %s\n", err);
		sqlite3_free(err);
		return -1;
	}
	for (int i = 0; i < NUWA_FW_STMT_COUNT; i++) {
		if (sqlite3_prepare_v3(db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &stmts[i], NULL) != SQLITE_OK) {
			FW_LOG("prepare %s: %s\n", stmt_sql[i], sqlite3_errmsg(db));
			return -1;
		}
	}
	for (size_t i = 0; i < sizeof default_settings / sizeof default_settings[0]; i++) {
		sqlite3_stmt *s = nuwa_fw_stmt(NUWA_FW_STMT_SETTING_PUT);
		sqlite3_bind_text(s, 1, default_settings[i][0], -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, default_settings[i][1], -1, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_DONE) {
			FW_LOG("seed settings: %s\n", sqlite3_errmsg(db));
			return -1;
		}
	}
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_schema WHERE type='table'", -1, &q, NULL) != SQLITE_OK ||
	    sqlite3_step(q) != SQLITE_ROW) {
		FW_LOG("schema check: %s\n", sqlite3_errmsg(db));
		return -1;
	}
	*n_tables = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	*n_stmts = NUWA_FW_STMT_COUNT;
	return 0;
}

void fw_db_release(void)
{
	if (db)
		sqlite3_db_release_memory(db);
	sqlite3_release_memory(INT_MAX);
}
