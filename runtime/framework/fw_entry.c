/* The framework's entry point, the one the hosts call ([framework] init):
 * reads the [framework] args, runs the start-up (fw_core.c) and names
 * run_app (fw_app.c). Kept apart so that start-up and running an app do
 * not call each other. */
#include <string.h>

#include "fw_internal.h"

/* The entry point the hosts call ([framework] init). Args: data_dir=DIR,
 * ca_bundle=FILE (both optional). */
int nuwa_framework_init(const struct nuwa_framework_env *env, struct nuwa_framework *fw)
{
	if (!env || env->abi_version != NUWA_APP_ABI_VERSION) {
		FW_LOG("host ABI version mismatch (want %d)\n", NUWA_APP_ABI_VERSION);
		return -1;
	}
	const char *data_dir = NULL, *ca = NULL;
	for (int i = 0; i < env->argc; i++) {
		const char *a = env->argv[i];
		if (!strncmp(a, "data_dir=", 9))
			data_dir = a + 9;
		else if (!strncmp(a, "ca_bundle=", 10))
			ca = a + 10;
		else {
			FW_LOG("unknown framework argument '%s' (want data_dir=DIR or ca_bundle=FILE)\n", a);
			return -1;
		}
	}
	if (nuwa_fw_init(data_dir, ca) < 0)
		return -1;
	fw->abi_version = NUWA_APP_ABI_VERSION;
	fw->name = "nuwafw";
	fw->run_app = fw_run_app;
	fw->data = (void *)nuwa_fw_profile();
	return 0;
}
