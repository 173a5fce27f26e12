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
	fprintf(stderr, "usage: nuwa-exec-host --config FILE [--framework NAME] --app NAME "
		"--channel-fd N [-- ARG...]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *config = NULL, *app = NULL, *framework = NULL;
	int channel = -1, i, first_extra = argc, nextra;
	char **extra;
	struct runner r;
	char err[4096];

	nuwa_phase_mark("exec_main"); /* the loader's work ends here */
	runner_keep_argv(argc, argv);
	runner_drop_bounding("nuwa-exec-host");
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--config") && i + 1 < argc)
			config = argv[++i];
		else if (!strcmp(argv[i], "--framework") && i + 1 < argc)
			framework = argv[++i];
		else if (!strcmp(argv[i], "--app") && i + 1 < argc)
			app = argv[++i];
		else if (!strcmp(argv[i], "--channel-fd") && i + 1 < argc)
			channel = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--")) {
			first_extra = i + 1; /* the launch's extra app arguments */
			break;
		} else
			usage();
	}
	if (!config || !app || channel < 0)
		usage();
	config = strdup(config);
	app = strdup(app);
	if (!config || !app || (framework && !(framework = strdup(framework))))
		return 1;
	if (runner_load(&r, config, framework, NUWA_MODE_EXEC, err, sizeof err) < 0) {
		nuwa_logf("nuwa-exec-host", "%s", err);
		nuwa_msg_send(channel, NUWA_APP_MSG_ERROR, 0, err, (uint32_t)strlen(err), -1);
		return 1;
	}
	/* Copies: renaming the process for ps overwrites the argv strings. */
	nextra = argc - first_extra;
	extra = calloc((size_t)nextra + 1, sizeof *extra);
	for (i = 0; extra && i < nextra; i++)
		if (!(extra[i] = strdup(argv[first_extra + i])))
			return 1;
	if (!extra)
		return 1;
	return runner_run_app(&r, app, nextra, extra, channel);
}
