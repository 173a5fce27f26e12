/* Framework start-up: runs the four library start-ups and the threads, and
 * records what they built (the start-up profile). The hosts' entry point
 * that calls it is fw_entry.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fw_internal.h"

#ifndef NUWA_FW_DEFAULT_DATA_DIR
#define NUWA_FW_DEFAULT_DATA_DIR "/usr/share/nuwa"
#endif
#define CA_BUNDLE_DEFAULT "/etc/ssl/certs/ca-certificates.crt"
/* Where the concatenated bundle was never generated, the certificates. */
#define CA_DIR_DEFAULT "/usr/share/ca-certificates"
#define POOL_WORKERS 3

static struct nuwa_fw_profile profile;
static int initialised;

const struct nuwa_fw_profile *nuwa_fw_profile(void) { return &profile; }

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

int nuwa_fw_init(const char *data_dir, const char *ca)
{
	if (initialised) {
		FW_LOG("nuwa_fw_init called twice\n");
		return -1;
	}
	double t0 = now_ms();
	if (!data_dir)
		data_dir = getenv("NUWA_FW_DATA_DIR");
	if (!data_dir || !*data_dir)
		data_dir = NUWA_FW_DEFAULT_DATA_DIR;
	if (!ca)
		ca = getenv("NUWA_FW_CA_BUNDLE");
	if (!ca || !*ca)
		ca = access(CA_BUNDLE_DEFAULT, R_OK) == 0 ? CA_BUNDLE_DEFAULT : CA_DIR_DEFAULT;
	char theme_path[4096];
	if ((size_t)snprintf(theme_path, sizeof theme_path, "%s/theme.xml", data_dir) >= sizeof theme_path) {
		FW_LOG("data directory path too long\n");
		return -1;
	}
	if (fw_tls_init(ca, &profile.ca_certs) < 0 ||
	    fw_db_init(&profile.db_tables, &profile.db_statements) < 0 ||
	    fw_theme_init(theme_path, &profile.theme_styles, &profile.theme_strings) < 0 ||
	    fw_text_init() < 0 ||
	    fw_threads_init(POOL_WORKERS) < 0)
		return -1;
	profile.workers = POOL_WORKERS;
	profile.init_ms = now_ms() - t0;
	initialised = 1;
	return 0;
}
