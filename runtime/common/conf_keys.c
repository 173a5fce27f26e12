/* Every config key, one row each: the table conf.c parses, defaults and
 * frees by, and its listing (nuwad --config-keys [--json]), against which
 * tests/runtime/test_config_keys.py checks docs/runtime.md "Config file".
 *
 * KEY(SECTION, field, TYPE) names the key after the field it sets, and the
 * build fails when the field's C type is not the one TYPE stores; the few
 * keys whose field has another name (args -> argv, [app] framework ->
 * framework_name, net -> net_connect and net_bind) spell both with KEY_AT.
 * A key that goes away moves to conf_retired[] below: removed (why, and
 * what instead) or renamed (its successor in the same section); a config
 * still using it gets one file:line error naming the replacement. */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>

#include "conf_keys.h"

#define STRUCT_DAEMON struct nuwa_conf
#define STRUCT_FRAMEWORK struct nuwa_fw_conf
#define STRUCT_APP struct nuwa_app_conf

/* Whether field F of T has the C type TYPE stores. */
#define IS(T, f, ctype) __builtin_types_compatible_p(__typeof__(((T *)0)->f), ctype)
#define OK_BOOL(T, f) IS(T, f, int)
#define OK_INT(T, f) IS(T, f, int)
#define OK_LONG(T, f) IS(T, f, long)
#define OK_ENUM(T, f) (sizeof(((T *)0)->f) == sizeof(int))
#define OK_STR(T, f) IS(T, f, char *)
#define OK_PATH(T, f) IS(T, f, char *)
#define OK_WORDS(T, f) IS(T, f, char **)
#define OK_PATHS(T, f) IS(T, f, char **)
#define OK_GROUP(T, f) IS(T, f, long)
#define OK_CUSTOM(T, f) 1
/* offsetof(T, f), or a compile error (a negative array size) when !OK. */
#define CHECKED(T, f, ok) (offsetof(T, f) + 0 * sizeof(char[(ok) ? 1 : -1]))

#define KEY_AT(sec, k, f, T)                                                             \
	.section = CONF_##sec, .key = k, .field_name = #f, .type = CONF_##T,             \
	.field = CHECKED(STRUCT_##sec, f, OK_##T(STRUCT_##sec, f))
#define KEY(sec, f, T) KEY_AT(sec, #f, f, T)
#define COUNT(sec, f) .count = CHECKED(STRUCT_##sec, f, IS(STRUCT_##sec, f, int))
#define RANGE(l, h) .lo = (l), .hi = (h)
#define MAX_ID 2147483647L

/* The enum keys' words, in the order their errors name them. */
static const struct conf_word landlock_words[] = {
	{ "required", NUWA_LANDLOCK_REQUIRED }, { "best-effort", NUWA_LANDLOCK_BEST_EFFORT }, { NULL, 0 }
};
static const struct conf_word fallback_words[] = {
	{ "exec", NUWA_FALLBACK_EXEC }, { "wait", NUWA_FALLBACK_WAIT }, { NULL, 0 }
};
static const struct conf_word start_words[] = {
	{ "boot", NUWA_START_BOOT }, { "first-use", NUWA_START_FIRST_USE }, { NULL, 0 }
};
static const struct conf_word apps_words[] = {
	{ "libraries", NUWA_APPS_LIBRARIES }, { "modules", NUWA_APPS_MODULES }, { NULL, 0 }
};
static const struct conf_word mode_words[] = {
	{ "template", NUWA_MODE_TEMPLATE }, { "exec", NUWA_MODE_EXEC }, { NULL, 0 }
};

const struct conf_key conf_keys[] = {
	/* [daemon] */
	{ KEY(DAEMON, template, CUSTOM), .value = "path|on|off", .parse = conf_parse_template,
	  .release = conf_release_template, .def = "/usr/libexec/nuwa/nuwa-template",
	  .doc = "template host executable; off: no template and no spare, exec launches only; on: the default host" },
	{ KEY(DAEMON, exec_host, PATH), .def = "/usr/libexec/nuwa/nuwa-exec-host",
	  .doc = "exec-mode host executable" },
	{ KEY(DAEMON, exec_mergeable, BOOL), .def = "no",
	  .doc = "the exec host marks its writable private mappings MADV_MERGEABLE (KSM)" },
	{ KEY(DAEMON, spare, BOOL), .def = "yes", .doc = "keep one pre-forked spare" },
	{ KEY(DAEMON, spare_delay_ms, INT), RANGE(0, 600000), .def = "1000",
	  .doc = "idle delay after a launched app is ready before refilling the spare" },
	{ KEY(DAEMON, freeze_timeout_ms, INT), RANGE(1, 600000), .def = "5000",
	  .doc = "freeze watchdog" },
	{ KEY(DAEMON, fork_timeout_ms, INT), RANGE(1, 600000), .def = "2000",
	  .doc = "an unanswered fork request this long is a template deadlock" },
	{ KEY(DAEMON, ready_timeout_ms, INT), RANGE(1, 600000), .def = "10000",
	  .doc = "launch request to ready" },
	{ KEY(DAEMON, kill_timeout_ms, INT), RANGE(1, 600000), .def = "2000",
	  .doc = "SIGTERM to SIGKILL for kill" },
	{ KEY(DAEMON, tick_ms, INT), RANGE(10, 600000), .def = "1000",
	  .doc = "period of the low-memory-killer tick" },
	{ KEY(DAEMON, lmk_threshold_kb, INT), RANGE(0, INT_MAX), .def = "0",
	  .doc = "low-memory killer: below this MemAvailable (KiB) apps are trimmed, then killed; 0: off" },
	{ KEY(DAEMON, lmk_trim, BOOL), .def = "yes",
	  .doc = "ask apps to trim before killing any; no: kill at once" },
	{ KEY(DAEMON, trim_timeout_ms, INT), RANGE(10, 60000), .def = "1000",
	  .doc = "a trim answer later than this counts as none" },
	{ KEY(DAEMON, psi, BOOL), .def = "yes",
	  .doc = "PSI triggers besides MemAvailable (only with the killer on)" },
	/* lmkd's proportions in a 2 s window: without CAP_SYS_RESOURCE the
	 * kernel takes only windows of whole multiples of 2 s. */
	{ KEY(DAEMON, psi_some_ms, INT), RANGE(0, 10000), .def = "300",
	  .doc = "PSI: some tasks stalled on memory this long within the window; 0: no such trigger" },
	{ KEY(DAEMON, psi_full_ms, INT), RANGE(0, 10000), .def = "100",
	  .doc = "PSI: all tasks stalled on memory this long within the window; 0: no such trigger" },
	{ KEY(DAEMON, psi_window_ms, INT), RANGE(500, 10000), .def = "2000",
	  .doc = "the PSI window" },
	{ KEY(DAEMON, apps_memory_high_kb, INT), RANGE(0, INT_MAX), .def = "0",
	  .doc = "the apps' memory budget: memory.high (KiB) of the apps' cgroup; 0: none" },
	{ KEY(DAEMON, max_clients, INT), RANGE(1, 4096), .def = "512",
	  .doc = "control connections; more are closed at once" },
	{ KEY(DAEMON, rate_limit, INT), RANGE(1, 1000000), .def = "1000",
	  .doc = "control requests per second per connection (burst the same)" },
	{ KEY(DAEMON, socket_group, STR),
	  .doc = "socket mode 0660 for this group instead of 0600" },
	{ KEY(DAEMON, control_group, GROUP), .unset = -1,
	  .doc = "group (name or gid) whose members may use every control command" },
	{ KEY(DAEMON, status_group, GROUP), .unset = -1, .any = "any",
	  COUNT(DAEMON, status_any),
	  .doc = "group whose members may use the read-only commands; any: every local user" },
	{ KEY(DAEMON, app_uids, CUSTOM), .value = "LO-HI", .parse = conf_parse_app_uids,
	  .doc = "uids for app sections without uid, stable per app name (STATE_DIR/app-uids)" },
	{ KEY(DAEMON, app_cgroups, BOOL), .def = "yes",
	  .doc = "every app in its own cgroup v2; no: its own process group only" },
	{ .section = CONF_DAEMON, .key = "include", .type = CONF_CUSTOM, .value = "dir",
	  .parse = conf_parse_include,
	  .doc = "read every DIR/*.conf in sorted order ([app] and [framework] sections only)" },
	{ KEY(DAEMON, fallback, ENUM), .words = fallback_words, .def = "wait",
	  .doc = "exec: a template launch while the template is not ready runs in exec mode; wait: it waits" },
	{ KEY(DAEMON, crash_records, INT), RANGE(1, 10000), .def = "32",
	  .doc = "crash records kept in STATE_DIR/crashes" },
	{ KEY(DAEMON, core_dir, PATH), .check = conf_check_core_dir,
	  .doc = "core dumps of crashing apps go here (nuwa-core-writer); no spaces or %" },
	{ KEY(DAEMON, core_max_kb, LONG), RANGE(64, 4L * 1024 * 1024), .def = "65536",
	  .doc = "a longer core (KiB) is cut and named ....truncated" },
	{ KEY(DAEMON, snapshot_dir, PATH), .shown = "STATE_DIR/snapshots",
	  .doc = "where accepted snapshots are written" },
	{ KEY(DAEMON, snapshot_max_kb, LONG), RANGE(4, 4L * 1024 * 1024), .def = "16384",
	  .doc = "size limit of one snapshot (KiB); also every app's RLIMIT_FSIZE" },
	{ KEY(DAEMON, snapshot_quota_kb, LONG), RANGE(4, 64L * 1024 * 1024), .def = "65536",
	  .doc = "all snapshots together (KiB), at least snapshot_max_kb" },
	{ KEY(DAEMON, snapshot_timeout_ms, INT), RANGE(10, 600000), .def = "10000",
	  .doc = "snapshot request to answer" },
	{ KEY(DAEMON, snapshot_tmpfs, BOOL), .def = "no",
	  .doc = "mount a tmpfs of snapshot_quota_kb on the snapshot dir" },
	{ KEY(DAEMON, landlock, ENUM), .words = landlock_words, .def = "best-effort",
	  .doc = "required: an app fails to start on a kernel without Landlock; best-effort: it runs without" },

	/* [framework] and [framework NAME] */
	{ KEY(FRAMEWORK, library, PATH),
	  .doc = "the framework's shared object (required for a named one, and for the default when an app runs on it)" },
	{ KEY(FRAMEWORK, init, STR), .def = NUWA_FRAMEWORK_INIT_SYMBOL, .doc = "its init symbol" },
	{ KEY(FRAMEWORK, preload, PATHS), COUNT(FRAMEWORK, npreload),
	  .doc = "libraries dlopen'ed first, in order; PATH:SYMBOL also calls int SYMBOL(void)" },
	{ KEY_AT(FRAMEWORK, "args", argv, WORDS), COUNT(FRAMEWORK, argc),
	  .doc = "words passed to its init (the framework's own settings)" },
	{ KEY(FRAMEWORK, start, ENUM), .words = start_words, .def = "boot",
	  .doc = "first-use: its template starts at the first launch of one of its apps" },
	{ KEY(FRAMEWORK, spare, BOOL), .unset = -1, .shown = "[daemon] spare",
	  .doc = "whether its template keeps a spare" },
	{ KEY(FRAMEWORK, apps, ENUM), .words = apps_words, .def = "libraries",
	  .doc = "libraries: its apps name a library; modules: they name a module it loads" },
	{ KEY(FRAMEWORK, sandbox_read, PATHS), COUNT(FRAMEWORK, nsandbox_read),
	  .doc = "paths its sandboxed apps may read" },
	{ KEY(FRAMEWORK, fd_allow, WORDS), COUNT(FRAMEWORK, nfd_allow), .check = conf_check_fd_allow,
	  .doc = "fd numbers or absolute paths the fd inventory shares with every app as they are" },
	{ KEY(FRAMEWORK, fd_readonly_prefixes, WORDS), COUNT(FRAMEWORK, nfd_readonly_prefixes),
	  .check = conf_check_readonly_prefix, .shown = "/usr/ /lib/ /etc/",
	  .doc = "prefixes of read-only files reopened in every child" },

	/* [app NAME] */
	{ KEY_AT(APP, "framework", framework_name, CUSTOM), .value = "name",
	  .parse = conf_parse_framework, .release = conf_release_framework,
	  .shown = NUWA_DEFAULT_FRAMEWORK, .doc = "the framework it runs on" },
	{ KEY(APP, library, PATH),
	  .doc = "the app's shared object (required on a framework with apps = libraries)" },
	{ KEY(APP, module, STR), .check = conf_check_module,
	  .doc = "the module it is (required on a framework with apps = modules, and only there)" },
	{ KEY(APP, entry, STR), .def = NUWA_APP_ENTRY_SYMBOL, .doc = "entry symbol" },
	{ KEY(APP, mode, ENUM), .words = mode_words, .def = "template", .doc = "default launch mode" },
	{ KEY_AT(APP, "args", argv, WORDS), COUNT(APP, argc), .doc = "words passed to it as argv[1..]" },
	{ KEY(APP, oom_score_adj, INT), RANGE(-1000, 1000), .def = "0",
	  .doc = "its oom_score_adj in the background" },
	{ KEY(APP, sandbox, BOOL), .def = "yes", .doc = "no: the app runs unconfined (measurements)" },
	{ KEY(APP, uid, LONG), RANGE(0, MAX_ID), .unset = -1, .shown = "from app_uids",
	  .doc = "the app's uid (never 0 when nuwad is root)" },
	{ KEY(APP, gid, LONG), RANGE(0, MAX_ID), .unset = -1, .shown = "the uid", .doc = "the app's gid" },
	{ KEY(APP, groups, CUSTOM), .value = "groups", .parse = conf_parse_groups,
	  .release = conf_release_groups, .doc = "supplementary groups (names or gids, at most 32)" },
	{ KEY(APP, read, PATHS), COUNT(APP, nread), .doc = "extra paths this app may read" },
	{ KEY(APP, nofile, LONG), RANGE(16, 65536), .def = "256", .doc = "its RLIMIT_NOFILE" },
	{ KEY_AT(APP, "net", net_connect, CUSTOM), .value = "none|connect:PORT,...|bind:PORT,...",
	  .parse = conf_parse_net, .release = conf_release_net, .shown = "none",
	  .doc = "TCP ports it may connect to or bind (Landlock ABI >= 4); none: no IP socket" },
};
const size_t conf_nkeys = sizeof conf_keys / sizeof conf_keys[0];

const struct conf_retired conf_retired[] = {
	{ CONF_FRAMEWORK, "skip_threads", NULL,
	  "a library thread is stopped and restarted by hooks it registers "
	  "(nuwa_thread_register, docs/runtime.md)" },
};
const size_t conf_nretired = sizeof conf_retired / sizeof conf_retired[0];

static const char *const section_names[] = {
	[CONF_DAEMON] = "daemon", [CONF_FRAMEWORK] = "framework", [CONF_APP] = "app"
};
static const char *const type_names[] = {
	[CONF_BOOL] = "bool", [CONF_INT] = "int", [CONF_LONG] = "long", [CONF_ENUM] = "enum",
	[CONF_STR] = "string", [CONF_PATH] = "path", [CONF_WORDS] = "words",
	[CONF_PATHS] = "paths", [CONF_GROUP] = "group", [CONF_CUSTOM] = "custom"
};

static const char *shown_default(const struct conf_key *k)
{
	return k->def ? k->def : k->shown ? k->shown : "none";
}

static void json_str(FILE *out, const char *name, const char *s, const char *after)
{
	fprintf(out, "\"%s\": ", name);
	if (!s) {
		fprintf(out, "null%s", after);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		fputc(*s, out);
	}
	fprintf(out, "\"%s", after);
}

static void print_json(FILE *out)
{
	char shape[256];
	size_t i;
	fputs("{\"keys\": [", out);
	for (i = 0; i < conf_nkeys; i++) {
		const struct conf_key *k = &conf_keys[i];
		fputs(i ? ",\n {" : "\n {", out);
		json_str(out, "section", section_names[k->section], ", ");
		json_str(out, "key", k->key, ", ");
		json_str(out, "field", k->field_name, ", ");
		json_str(out, "type", type_names[k->type], ", ");
		json_str(out, "value", conf_value_shape(k, shape, sizeof shape), ", ");
		if (k->type == CONF_INT || k->type == CONF_LONG)
			fprintf(out, "\"range\": [%ld, %ld], ", k->lo, k->hi);
		else
			fputs("\"range\": null, ", out);
		json_str(out, "default", shown_default(k), ", ");
		json_str(out, "doc", k->doc, "}");
	}
	fputs("],\n\"retired\": [", out);
	for (i = 0; i < conf_nretired; i++) {
		const struct conf_retired *r = &conf_retired[i];
		fputs(i ? ",\n {" : "\n {", out);
		json_str(out, "section", section_names[r->section], ", ");
		json_str(out, "key", r->key, ", ");
		json_str(out, "renamed_to", r->renamed_to, ", ");
		json_str(out, "why", r->why, "}");
	}
	fputs("]}\n", out);
}

void nuwa_conf_keys_print(FILE *out, int json)
{
	char shape[256];
	size_t i;
	int sec = -1;
	if (json) {
		print_json(out);
		return;
	}
	for (i = 0; i < conf_nkeys; i++) {
		const struct conf_key *k = &conf_keys[i];
		if ((int)k->section != sec) {
			sec = (int)k->section;
			fprintf(out, "%s[%s]\n", i ? "\n" : "", section_names[sec]);
		}
		fprintf(out, "  %s = %s  (default: %s)\n      %s\n", k->key,
			conf_value_shape(k, shape, sizeof shape), shown_default(k), k->doc);
	}
	for (i = 0; i < conf_nretired; i++) {
		const struct conf_retired *r = &conf_retired[i];
		fprintf(out, "%s[%s] %s: %s %s\n", i ? "" : "\nretired keys:\n",
			section_names[r->section], r->key, r->renamed_to ? "renamed to" : "removed:",
			r->renamed_to ? r->renamed_to : r->why);
	}
}
