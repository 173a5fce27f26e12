/* Test driver of the config loader's retired-key rows (not installed):
 * loads FILE as nuwad does, with one test-only row besides the built-in
 * ones — [daemon] tick_period_ms, renamed to tick_ms — so that the test of
 * a renamed key (tests/runtime/test_config_keys.py) does not wait for a
 * real rename. Prints "ok tick_ms=N" and exits 0, or prints the loader's
 * one error line and exits 1. */
#include <stdio.h>

#include "conf_keys.h"

static const struct conf_retired test_rows[] = {
	{ CONF_DAEMON, "tick_period_ms", "tick_ms", NULL },
};

int main(int argc, char **argv)
{
	struct nuwa_conf c;
	char err[1024];
	if (argc != 2) {
		fprintf(stderr, "usage: nuwa-conf-check FILE\n");
		return 2;
	}
	if (conf_load_retired(argv[1], &c, err, sizeof err, test_rows,
			      sizeof test_rows / sizeof test_rows[0]) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	printf("ok tick_ms=%d\n", c.tick_ms);
	nuwa_conf_free(&c);
	return 0;
}
