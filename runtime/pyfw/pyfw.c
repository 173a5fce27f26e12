/* libnuwapy: the CPython app framework (nuwa_app.h contract).
 *
 * Init (both modes) embeds CPython, runs the platform start-up in
 * nuwa_platform.py (preload imports and their work, gc.collect, gc.freeze)
 * and, in template mode, registers the fork handling CPython's embedding
 * rules ask for. The main thread holds the GIL from init to exit and no
 * other Python thread exists, so a fork from it is a fork CPython knows.
 *
 * run_app (in the child, after the sandbox) runs libnuwa's app loop
 * (nuwa_loop_run) with the app's fds and timers, each calling a Python
 * callable; the app is the Python module named like the app, whose
 * main(app) gets the object nuwa_platform.App wraps around _nuwa. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nuwa.h"
#include "nuwa_app.h"

#define PY_LOG(...) fprintf(stderr, "nuwapy: " __VA_ARGS__)
#define MAX_WATCH 32
#define MAX_TIMERS 32

#ifndef NUWAPY_DEFAULT_PATH
#define NUWAPY_DEFAULT_PATH "/usr/lib/nuwa/py"
#endif
#define DEFAULT_PRELOAD "json,sqlite3,ssl,xml.etree.ElementTree,selectors,re,datetime,logging,hashlib,html"

static PyObject *platform;          /* the nuwa_platform module */
static int fork_handling;           /* template: PyOS_*Fork around fork() */

/* ---- fork handling (template mode) -------------------------------- */

/* Registered with pthread_atfork after init, so the prepare handler runs
 * before libnuwa's (which take its locks) and the child handler after
 * libnuwa's. Only the template's forks count: an app that forks (the
 * sandbox refuses it) would go through os.fork's own calls. */
static void py_prepare(void)
{
	if (fork_handling)
		PyOS_BeforeFork();
}

static void py_parent(void)
{
	if (fork_handling)
		PyOS_AfterFork_Parent();
}

static void py_child(void)
{
	if (fork_handling) {
		PyOS_AfterFork_Child();
		fork_handling = 0;
	}
}

/* ---- the app's callables on libnuwa's loop -------------------------- */

/* The Python callable of each watched fd and timer (the loop holds the
 * fd or timer, this its callable). */
struct watch { int fd; PyObject *cb; };
struct timer { int id; int repeat; PyObject *cb; };

static struct watch watches[MAX_WATCH];
static struct timer timers[MAX_TIMERS];
static PyObject *request_cb, *trim_cb;
static struct nuwa_app *current;

/* A Python callback raised: the traceback goes to the app's log, the app
 * quits with status 1 (an app bug is not hidden by a loop that goes on). */
static void callback_failed(const char *what)
{
	PY_LOG("%s: %s raised:\n", current ? current->name : "?", what);
	PyErr_Print();
	nuwa_loop_quit(1);
}

/* A watched fd is ready: its callable gets (fd, revents). */
static void fd_ready(struct nuwa_app *app, int fd, uint32_t revents, void *arg)
{
	struct watch *w = arg;
	(void)app;
	if (!w->cb)
		return;
	PyObject *r = PyObject_CallFunction(w->cb, "iI", fd, revents);
	if (!r)
		callback_failed("an fd callback");
	Py_XDECREF(r);
}

/* A timer is due: its callable, with no arguments. */
static void timer_fired(struct nuwa_app *app, int id, void *arg)
{
	struct timer *t = arg;
	(void)app;
	(void)id;
	if (!t->cb)
		return;
	PyObject *cb = Py_NewRef(t->cb);
	if (!t->repeat)
		Py_CLEAR(t->cb); /* the loop forgot it too */
	PyObject *r = PyObject_CallNoArgs(cb);
	Py_DECREF(cb);
	if (!r)
		callback_failed("a timer callback");
	Py_XDECREF(r);
}

static PyObject *py_ready(PyObject *self, PyObject *args)
{
	(void)self;
	(void)args;
	if (!current) {
		PyErr_SetString(PyExc_RuntimeError, "no app is running");
		return NULL;
	}
	if (nuwa_loop_services.ready(current) < 0)
		return PyErr_SetFromErrno(PyExc_OSError);
	Py_RETURN_NONE;
}

static PyObject *py_add_timer(PyObject *self, PyObject *args)
{
	unsigned ms;
	int repeat;
	PyObject *cb;
	(void)self;
	if (!PyArg_ParseTuple(args, "IpO", &ms, &repeat, &cb))
		return NULL;
	if (!PyCallable_Check(cb)) {
		PyErr_SetString(PyExc_TypeError, "timer callback is not callable");
		return NULL;
	}
	for (int i = 0; i < MAX_TIMERS; i++) {
		if (timers[i].cb)
			continue;
		int id = nuwa_loop_add_timer(ms, repeat, timer_fired, &timers[i]);
		if (id < 0)
			break;
		timers[i] = (struct timer){id, repeat, Py_NewRef(cb)};
		return PyLong_FromLong(id);
	}
	PyErr_SetString(PyExc_RuntimeError, "too many timers");
	return NULL;
}

static PyObject *py_cancel_timer(PyObject *self, PyObject *args)
{
	int id;
	(void)self;
	if (!PyArg_ParseTuple(args, "i", &id))
		return NULL;
	for (int i = 0; i < MAX_TIMERS; i++)
		if (timers[i].cb && timers[i].id == id) {
			nuwa_loop_cancel_timer(id);
			Py_CLEAR(timers[i].cb);
			Py_RETURN_TRUE;
		}
	Py_RETURN_FALSE;
}

static PyObject *py_watch_fd(PyObject *self, PyObject *args)
{
	int fd;
	unsigned events;
	PyObject *cb;
	(void)self;
	if (!PyArg_ParseTuple(args, "iIO", &fd, &events, &cb))
		return NULL;
	for (int i = 0; i < MAX_WATCH; i++) {
		if (watches[i].cb)
			continue;
		if (nuwa_loop_watch(fd, events, fd_ready, &watches[i]) < 0) {
			if (errno == ENOSPC)
				break;
			return PyErr_SetFromErrno(PyExc_OSError);
		}
		Py_INCREF(cb);
		watches[i] = (struct watch){fd, cb};
		Py_RETURN_NONE;
	}
	PyErr_SetString(PyExc_RuntimeError, "too many watched fds");
	return NULL;
}

static PyObject *py_unwatch_fd(PyObject *self, PyObject *args)
{
	int fd;
	(void)self;
	if (!PyArg_ParseTuple(args, "i", &fd))
		return NULL;
	for (int i = 0; i < MAX_WATCH; i++)
		if (watches[i].cb && watches[i].fd == fd) {
			Py_CLEAR(watches[i].cb);
			if (nuwa_loop_unwatch(fd) < 0)
				return PyErr_SetFromErrno(PyExc_OSError);
			Py_RETURN_TRUE;
		}
	Py_RETURN_FALSE;
}

static PyObject *set_handler(PyObject **slot, PyObject *args)
{
	PyObject *cb;
	if (!PyArg_ParseTuple(args, "O", &cb))
		return NULL;
	if (cb != Py_None && !PyCallable_Check(cb)) {
		PyErr_SetString(PyExc_TypeError, "handler is not callable");
		return NULL;
	}
	Py_XSETREF(*slot, cb == Py_None ? NULL : Py_NewRef(cb));
	Py_RETURN_NONE;
}

static PyObject *py_on_request(PyObject *self, PyObject *args)
{
	(void)self;
	return set_handler(&request_cb, args);
}

static PyObject *py_on_trim(PyObject *self, PyObject *args)
{
	(void)self;
	return set_handler(&trim_cb, args);
}

static PyObject *py_quit(PyObject *self, PyObject *args)
{
	int status = 0;
	(void)self;
	if (!PyArg_ParseTuple(args, "|i", &status))
		return NULL;
	nuwa_loop_quit(status);
	Py_RETURN_NONE;
}

static PyMethodDef nuwa_methods[] = {
	{"ready", py_ready, METH_NOARGS, "Report the app ready to nuwad (once)."},
	{"add_timer", py_add_timer, METH_VARARGS, "add_timer(ms, repeat, cb) -> id"},
	{"cancel_timer", py_cancel_timer, METH_VARARGS, "cancel_timer(id) -> bool"},
	{"watch_fd", py_watch_fd, METH_VARARGS, "watch_fd(fd, epoll_events, cb(fd, revents))"},
	{"unwatch_fd", py_unwatch_fd, METH_VARARGS, "unwatch_fd(fd) -> bool"},
	{"on_request", py_on_request, METH_VARARGS, "on_request(cb(text) -> str)"},
	{"on_trim", py_on_trim, METH_VARARGS, "on_trim(cb(level) -> kB freed)"},
	{"quit", py_quit, METH_VARARGS, "quit(status=0)"},
	{NULL, NULL, 0, NULL},
};

static struct PyModuleDef nuwa_module = {
	PyModuleDef_HEAD_INIT, "_nuwa", "The Nuwa app loop (libnuwapy).", -1, nuwa_methods,
	NULL, NULL, NULL, NULL,
};

static PyObject *init_nuwa_module(void) { return PyModule_Create(&nuwa_module); }

/* NUWA_APP_MSG_REQUEST: the app's handler gets the text, returns a str. */
static int request_trampoline(struct nuwa_app *app, const char *req, size_t len, char *reply,
			      size_t cap, void *arg)
{
	(void)app;
	(void)arg;
	if (!request_cb) {
		snprintf(reply, cap, "no request handler");
		return -1;
	}
	PyObject *r = PyObject_CallFunction(request_cb, "s#", req, (Py_ssize_t)len);
	if (!r || !PyUnicode_Check(r)) {
		if (!r)
			PyErr_Print();
		Py_XDECREF(r);
		snprintf(reply, cap, "request handler failed (see the app's log)");
		return -1;
	}
	Py_ssize_t n;
	const char *s = PyUnicode_AsUTF8AndSize(r, &n);
	int out = -1;
	if (s) {
		out = (int)((size_t)n < cap ? (size_t)n : cap - 1);
		memcpy(reply, s, (size_t)out);
		reply[out] = 0;
	} else {
		PyErr_Print();
	}
	Py_DECREF(r);
	return out;
}

/* NUWA_APP_MSG_TRIM: the app's handler, then a full collection. */
static long trim_trampoline(struct nuwa_app *app, const char *level, void *arg)
{
	(void)app;
	(void)arg;
	long kb = 0;
	if (trim_cb) {
		PyObject *r = PyObject_CallFunction(trim_cb, "s", level);
		if (r && PyLong_Check(r))
			kb = PyLong_AsLong(r);
		if (!r || PyErr_Occurred())
			PyErr_Print();
		Py_XDECREF(r);
	}
	PyGC_Collect();
	return kb > 0 ? kb : 0;
}

/* The app entry the config names for a Python app (default symbol). The
 * module is [app] module (default: the app's name); nuwa_platform.launch imports it and calls its
 * main(app); an exception there fails the launch with the exception's last
 * line, the traceback going to the app's log. */
int nuwa_app_main(struct nuwa_app *app)
{
	PyObject *argv = PyList_New(0);
	if (!argv)
		return 1;
	for (int i = 0; i < app->argc; i++) {
		PyObject *s = PyUnicode_DecodeFSDefault(app->argv[i]);
		if (!s || PyList_Append(argv, s) < 0) {
			Py_XDECREF(s);
			Py_DECREF(argv);
			PyErr_Print();
			return 1;
		}
		Py_DECREF(s);
	}
	/* [app] module = NAME; an app without one is the module of its name. */
	PyObject *r = PyObject_CallMethod(platform, "launch", "sOss", app->name, argv,
					  app->mode == NUWA_MODE_TEMPLATE ? "template" : "exec",
					  app->module ? app->module : app->name);
	Py_DECREF(argv);
	if (!r) {
		PyErr_Print();
		return 1;
	}
	int rc = 0;
	if (r != Py_None) {
		/* The launch failed: r is the error text for nuwad. */
		const char *why = PyUnicode_Check(r) ? PyUnicode_AsUTF8(r) : NULL;
		if (!why)
			why = "python app failed to start";
		if (nuwa_msg_send(app->channel_fd, NUWA_APP_MSG_ERROR, 0, why, (uint32_t)strlen(why), -1) < 0)
			PY_LOG("%s: cannot report the failure: %s\n", app->name, strerror(errno));
		rc = 2;
	}
	Py_DECREF(r);
	return rc;
}

/* Requests and trims go to the app's Python handlers; nuwa_app_main
 * reports its own failure (the exception's last line). */
static const struct nuwa_loop_hooks hooks = {
	.request = request_trampoline,
	.trim = trim_trampoline,
	.entry_reports_failure = 1,
};

static int py_run_app(struct nuwa_app *app, nuwa_app_entry_fn entry)
{
	current = app;
	return nuwa_loop_run(app, entry, &hooks);
}

/* ---- init ----------------------------------------------------------- */

static int py_status_failed(PyStatus st, const char *what)
{
	PY_LOG("%s: %s%s%s\n", what, st.func ? st.func : "", st.func ? ": " : "",
	       st.err_msg ? st.err_msg : "failed");
	return -1;
}

static int embed(const char *home)
{
	PyConfig config;
	PyStatus st;

	if (PyImport_AppendInittab("_nuwa", init_nuwa_module) < 0) {
		PY_LOG("cannot register the _nuwa module\n");
		return -1;
	}
	/* Isolated: no environment variables, no user site, no signal handlers
	 * (the host owns signals), and nothing writes __pycache__ (read-only
	 * root on the device). */
	PyConfig_InitIsolatedConfig(&config);
	config.write_bytecode = 0;
	config.site_import = 0;
	config.install_signal_handlers = 0;
	if (home && *home) {
		st = PyConfig_SetBytesString(&config, &config.home, home);
		if (PyStatus_Exception(st)) {
			PyConfig_Clear(&config);
			return py_status_failed(st, "home");
		}
	}
	st = Py_InitializeFromConfig(&config);
	PyConfig_Clear(&config);
	if (PyStatus_Exception(st))
		return py_status_failed(st, "Py_InitializeFromConfig");
	return 0;
}

/* Put each ':'-separated directory of PATH first on sys.path. */
static int add_path(const char *path)
{
	PyObject *sys_path = PySys_GetObject("path"); /* borrowed */
	char *copy = strdup(path), *save = NULL, *dir;
	Py_ssize_t at = 0;
	if (!copy || !sys_path)
		return -1;
	for (dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		PyObject *s = PyUnicode_DecodeFSDefault(dir);
		if (!s || PyList_Insert(sys_path, at++, s) < 0) {
			Py_XDECREF(s);
			free(copy);
			return -1;
		}
		Py_DECREF(s);
	}
	free(copy);
	return 0;
}

/* The entry point the hosts call ([framework] init). Args (all optional):
 * path=DIR:DIR (modules: the platform's and the apps'), home=PREFIX
 * (CPython's), preload=mod,mod,..., gc_freeze=yes|no, data_dir=DIR
 * (theme.xml), ca_bundle=FILE. */
int nuwa_framework_init(const struct nuwa_framework_env *env, struct nuwa_framework *fw)
{
	const char *path = NUWAPY_DEFAULT_PATH, *home = NUWAPY_HOME, *preload = DEFAULT_PRELOAD;
	const char *data_dir = "", *ca = "";
	int gc_freeze = 1;

	if (!env || env->abi_version != NUWA_APP_ABI_VERSION) {
		PY_LOG("host ABI version mismatch (want %d)\n", NUWA_APP_ABI_VERSION);
		return -1;
	}
	if (platform) {
		PY_LOG("initialised twice\n");
		return -1;
	}
	for (int i = 0; i < env->argc; i++) {
		const char *a = env->argv[i];
		if (!strncmp(a, "path=", 5))
			path = a + 5;
		else if (!strncmp(a, "home=", 5))
			home = a + 5;
		else if (!strncmp(a, "preload=", 8))
			preload = a + 8;
		else if (!strncmp(a, "data_dir=", 9))
			data_dir = a + 9;
		else if (!strncmp(a, "ca_bundle=", 10))
			ca = a + 10;
		else if (!strcmp(a, "gc_freeze=yes"))
			gc_freeze = 1;
		else if (!strcmp(a, "gc_freeze=no"))
			gc_freeze = 0;
		else {
			PY_LOG("unknown framework argument '%s' (want path=, home=, preload=, "
			       "gc_freeze=yes|no, data_dir= or ca_bundle=)\n", a);
			return -1;
		}
	}
	if (embed(home) < 0)
		return -1;
	if (add_path(path) < 0) {
		PyErr_Print();
		return -1;
	}
	platform = PyImport_ImportModule("nuwa_platform");
	if (!platform) {
		PY_LOG("cannot import nuwa_platform (path=%s):\n", path);
		PyErr_Print();
		return -1;
	}
	PyObject *r = PyObject_CallMethod(platform, "startup", "sssN", preload, data_dir, ca,
					  PyBool_FromLong(gc_freeze));
	if (!r) {
		PY_LOG("platform start-up failed:\n");
		PyErr_Print();
		return -1;
	}
	Py_DECREF(r);
	if (env->mode == NUWA_MODE_TEMPLATE) {
		if (pthread_atfork(py_prepare, py_parent, py_child) != 0) {
			PY_LOG("pthread_atfork failed\n");
			return -1;
		}
		fork_handling = 1;
	}
	fw->abi_version = NUWA_APP_ABI_VERSION;
	fw->name = "nuwapy";
	fw->run_app = py_run_app;
	fw->data = platform;
	return 0;
}
