/* settings: the settings screen. It builds its page tree (libxml2) from the
 * stored settings and theme styles, and every two seconds applies a change
 * and re-serialises the tree, as a settings UI re-renders. Small, steady
 * working set. */
#include <stdio.h>
#include <string.h>

#include <libxml/tree.h>

#include "nuwa_app.h"
#include "nuwa_fw.h"

static xmlDocPtr page;
static unsigned long changes;
static int last_len;

static int build_page(void)
{
	xmlDocPtr d = xmlNewDoc((const xmlChar *)"1.0");
	if (!d)
		return -1;
	xmlNodePtr root = xmlNewDocNode(d, NULL, (const xmlChar *)"page", NULL);
	xmlDocSetRootElement(d, root);
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(nuwa_fw_db(), "SELECT key, value FROM settings ORDER BY key", -1, &s, NULL) != SQLITE_OK) {
		xmlFreeDoc(d);
		return -1;
	}
	while (sqlite3_step(s) == SQLITE_ROW) {
		xmlNodePtr row = xmlNewChild(root, NULL, (const xmlChar *)"row", NULL);
		xmlNewProp(row, (const xmlChar *)"key", sqlite3_column_text(s, 0));
		xmlNewProp(row, (const xmlChar *)"value", sqlite3_column_text(s, 1));
		const char *fg = nuwa_fw_style_attr("listitem.3", changes % 2 ? "selected" : "normal", "fg");
		xmlNewProp(row, (const xmlChar *)"fg", (const xmlChar *)(fg ? fg : "p0.c0"));
	}
	sqlite3_finalize(s);
	if (page)
		xmlFreeDoc(page);
	page = d;
	return 0;
}

static void tick(void *arg)
{
	(void)arg;
	char v[16];
	snprintf(v, sizeof v, "%lu", 30 + changes % 70);
	sqlite3_stmt *s = nuwa_fw_stmt(NUWA_FW_STMT_SETTING_PUT);
	sqlite3_bind_text(s, 1, "display.brightness", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, v, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(s) == SQLITE_DONE)
		changes++;
	if (build_page() == 0) {
		xmlChar *out = NULL;
		xmlDocDumpMemory(page, &out, &last_len);
		xmlFree(out);
	}
}

static int start(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (build_page() < 0) {
		fprintf(stderr, "settings: cannot build the page\n");
		return -1;
	}
	return nuwa_fw_every(2000, tick, NULL);
}

static void status(char *buf, size_t len)
{
	snprintf(buf, len, "changes=%lu page_bytes=%d", changes, last_len);
}

static const struct nuwa_fw_app app_desc = {"settings", start, status, NULL}; /* holds nothing to trim beyond the framework's caches */

int nuwa_app_main(struct nuwa_app *app)
{
	return nuwa_fw_app_main(app, &app_desc);
}
