/* nuwa-exec-host: the baseline. fork+exec'd by nuwad for every exec-mode
 * launch; runs the same framework init and app code as a template child,
 * from scratch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_runner.h"
#include "nuwa.h"
#include "util.h"

static void usage(void)
{
	fprintf(stderr, "usage: nuwa-exec-host --config FILE --app NAME --channel-fd N\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *config = NULL, *app = NULL;
	int channel = -1, i;
	struct runner r;
	char err[4096];

	runner_keep_argv(argc, argv);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--config") && i + 1 < argc)
			config = argv[++i];
		else if (!strcmp(argv[i], "--app") && i + 1 < argc)
			app = argv[++i];
		else if (!strcmp(argv[i], "--channel-fd") && i + 1 < argc)
			channel = atoi(argv[++i]);
		else
			usage();
	}
	if (!config || !app || channel < 0)
		usage();
	config = strdup(config);
	app = strdup(app);
	if (!config || !app)
		return 1;
	if (runner_load(&r, config, NUWA_MODE_EXEC, err, sizeof err) < 0) {
		nuwa_logf("nuwa-exec-host", "%s", err);
		nuwa_msg_send(channel, NUWA_APP_MSG_ERROR, 0, err, (uint32_t)strlen(err), -1);
		return 1;
	}
	return runner_run_app(&r, app, channel);
}
