/* clock: world clock and alarms. Small working set: a few ICU date
 * formatters; every second it formats the time in each zone and checks the
 * alarms table. A TRIM closes the formatters: the alarms are still checked
 * every second, the zones' times are formatted again (formatters opened
 * again) when someone asks for the status (the clock is looked at). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <unicode/udat.h>
#include <unicode/ustring.h>

#include "nuwa_app.h"
#include "nuwa_fw.h"

#define MAX_ZONES 4

static UDateFormat *fmt[MAX_ZONES];
static char zone[MAX_ZONES][64];
static int n_zones, formatters_open;
static char last[MAX_ZONES][64];
static unsigned long alarms_checked, trims;

/* One ICU date formatter per zone; 0, or -1 with a message. */
static int open_formatters(void)
{
	for (int i = 0; i < n_zones; i++) {
		UChar tz[64];
		u_uastrcpy(tz, zone[i]);
		UErrorCode st = U_ZERO_ERROR;
		fmt[i] = udat_open(UDAT_MEDIUM, UDAT_MEDIUM, "en_US", tz, -1, NULL, 0, &st);
		if (U_FAILURE(st)) {
			fprintf(stderr, "clock: udat_open %s: %s\n", zone[i], u_errorName(st));
			for (int j = 0; j < i; j++)
				udat_close(fmt[j]);
			return -1;
		}
	}
	formatters_open = 1;
	return 0;
}

static void format_zones(void)
{
	UDate now = (UDate)time(NULL) * 1000.0;
	for (int i = 0; i < n_zones; i++) {
		UChar buf[64];
		UErrorCode st = U_ZERO_ERROR;
		int32_t n = udat_format(fmt[i], now, buf, 64, NULL, &st);
		if (U_SUCCESS(st))
			u_strToUTF8(last[i], sizeof last[i], NULL, buf, n, &st);
	}
}

static void tick(void *arg)
{
	(void)arg;
	if (formatters_open)
		format_zones();
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(nuwa_fw_db(), "SELECT count(*) FROM alarms WHERE enabled AND at <= ?", -1, &s, NULL) ==
	    SQLITE_OK) {
		sqlite3_bind_int64(s, 1, (sqlite3_int64)time(NULL) % 86400);
		if (sqlite3_step(s) == SQLITE_ROW)
			alarms_checked++;
		sqlite3_finalize(s);
	}
}

static int start(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	sqlite3_stmt *s = nuwa_fw_stmt(NUWA_FW_STMT_SETTING_GET);
	sqlite3_bind_text(s, 1, "clock.zones", -1, SQLITE_STATIC);
	char zones[256] = "UTC";
	if (sqlite3_step(s) == SQLITE_ROW)
		snprintf(zones, sizeof zones, "%s", (const char *)sqlite3_column_text(s, 0));
	char *save = NULL;
	for (char *z = strtok_r(zones, ",", &save); z && n_zones < MAX_ZONES; z = strtok_r(NULL, ",", &save))
		snprintf(zone[n_zones++], sizeof zone[0], "%s", z);
	if (open_formatters() < 0)
		return -1;
	char *err = NULL;
	if (sqlite3_exec(nuwa_fw_db(),
			 "INSERT INTO alarms(at, label, enabled) VALUES(25200,'Wake up',1),(43200,'Lunch',0),"
			 "(64800,'Gym',1)",
			 NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "clock: %s\n", err);
		sqlite3_free(err);
		return -1;
	}
	tick(NULL);
	return nuwa_fw_every(1000, tick, NULL);
}

static void status(char *buf, size_t len)
{
	/* Looked at: the formatters again (after a trim), the time now. */
	if (!formatters_open && open_formatters() == 0)
		format_zones();
	snprintf(buf, len, "zones=%d now=\"%s\" alarm_checks=%lu trims=%lu", n_zones, last[0], alarms_checked,
		 trims);
}

/* What a TRIM frees is the formatters' heap, which the framework measures
 * (ICU does not say how large they are): 0 here. */
static long trim(const char *level)
{
	(void)level;
	trims++;
	if (formatters_open)
		for (int i = 0; i < n_zones; i++)
			udat_close(fmt[i]);
	formatters_open = 0;
	return 0;
}

static const struct nuwa_fw_app app_desc = {"clock", start, status, trim};

int nuwa_app_main(struct nuwa_app *app)
{
	return nuwa_fw_app_main(app, &app_desc);
}
