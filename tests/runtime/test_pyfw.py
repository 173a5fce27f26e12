"""Native tests of the CPython framework (libnuwapy) and the Python sample apps.

A private nuwad runs libnuwapy as its framework; every Python app is
launched in template and in exec mode, sandboxed like the C apps (own uid,
Landlock, seccomp). Plain and ASan+UBSan builds, each once with
gc_freeze=yes and once with gc_freeze=no.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from nuwad_harness import FRAMEWORK_BUILDS, Nuwad, wait_for

PY_APPS = ["weather", "todo", "feeds", "sensorlog"]
MODES = ["template", "exec"]
BROKEN_APPS = {
    # module name: (source, text the launch error must carry)
    "pybroken_raise": ("def main(app):\n    raise RuntimeError('no sensor attached')\n",
                       "RuntimeError: no sensor attached"),
    "pybroken_syntax": ("def main(app)\n    pass\n", "SyntaxError"),
    "pybroken_nomain": ("x = 1\n", "module has no main(app)"),
    "pybroken_import": ("raise OSError('no config file')\n", "OSError: no config file"),
}
# Configured, but no module of that name anywhere on the path.
MISSING_APP = ("pymissing", "ModuleNotFoundError: No module named 'pymissing'")
# The hostile Python app (runtime/pyfw/testapps/pyhostile.py) gets ctypes
# preloaded: the worst case, a framework that imported it for the app.
PRELOAD = "json,sqlite3,ssl,xml.etree.ElementTree,selectors,re,datetime,logging,hashlib,html,ctypes"
HOSTILE = "pyhostile"


def py_build(name: str) -> Path:
    build = FRAMEWORK_BUILDS[name]
    if not (build / "libnuwapy.so").exists():
        pytest.skip(f"libnuwapy.so not in build '{name}' (make -C runtime [sanitize]; "
                    "needs python3.11-config)")
    return build


def py_home() -> str:
    out = subprocess.run(["python3.11-config", "--prefix"], capture_output=True, text=True,
                         check=True)
    return out.stdout.strip()


def write_py_config(tmp: Path, build: Path, extra_dir: Path, gc_freeze: str) -> Path:
    stdlib = f"{py_home()}/lib/python3.11"
    apps = f"[app pyapi]\nlibrary = {build}/libnuwapy.so\nargs = --units metric\n" + "".join(
        f"[app {a}]\nlibrary = {build}/libnuwapy.so\n" for a in
                   [*PY_APPS, *sorted(BROKEN_APPS), MISSING_APP[0], HOSTILE])
    conf = tmp / "nuwad.conf"
    conf.write_text(
        "[daemon]\n"
        f"template = {build}/nuwa-template\n"
        f"exec_host = {build}/nuwa-exec-host\n"
        "spare_delay_ms = 50\n"
        "app_uids = 63000-63999\n"
        "lmk_threshold_kb = 0\n"
        "[framework]\n"
        f"library = {build}/libnuwapy.so\n"
        f"args = path={extra_dir}:{build}/py:{build}/py-tests data_dir={build} "
        f"gc_freeze={gc_freeze} preload={PRELOAD}\n"
        f"sandbox_read = {stdlib} {build}/py {build}/py-tests {extra_dir} /etc/ssl/certs\n"
        + apps)
    return conf


@pytest.fixture(scope="module",
                params=[(b, f) for b in sorted(FRAMEWORK_BUILDS) for f in ("yes", "no")],
                ids=lambda p: f"{p[0]}-gc_freeze={p[1]}")
def daemon(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nuwad]:
    """One nuwad per build (plain, ASan+UBSan) and gc_freeze value."""
    build_name, gc_freeze = request.param
    build = py_build(build_name)
    tmp = tmp_path_factory.mktemp(f"pyfw-{build_name}-{gc_freeze}")
    # The failing app modules, where an app uid can read them.
    extra = Path(tempfile.mkdtemp(prefix="nuwa-pyapps-", dir="/tmp"))
    extra.chmod(0o755)
    for name, (src, _) in BROKEN_APPS.items():
        (extra / f"{name}.py").write_text(src)
        (extra / f"{name}.py").chmod(0o644)
    # The hostile app's own module, world-writable: only the sandbox can
    # refuse writing it (first on the path, before the build's copy).
    shutil.copy(build / "py-tests" / f"{HOSTILE}.py", extra)
    (extra / f"{HOSTILE}.py").chmod(0o666)
    d = Nuwad(build, tmp, write_py_config(tmp, build, extra, gc_freeze))
    d.gc_freeze = gc_freeze  # type: ignore[attr-defined]
    try:
        d.wait_ready(timeout=60)
        yield d
    finally:
        d.stop()
        shutil.rmtree(extra, ignore_errors=True)


def launch(d: Nuwad, app: str, mode: str) -> int:
    res = d.json("launch", app, "--mode", mode)
    assert isinstance(res, dict) and res["app"] == app and res["mode"] == mode
    return int(res["pid"])


def call(d: Nuwad, pid: int, text: str) -> str:
    res = d.json("call", str(pid), text)
    assert isinstance(res, dict)
    return str(res["reply"])


def fields(text: str) -> dict[str, str]:
    return dict(w.split("=", 1) for w in text.split() if "=" in w)


def status_count(d: Nuwad, pid: int, key: str) -> int:
    return int(fields(call(d, pid, "status"))[key])


def weather_works(d: Nuwad, pid: int) -> None:
    # Periodic work: the 100 ms timer keeps sampling.
    wait_for(lambda: status_count(d, pid, "ticks") >= 3, 10, "weather's timer")
    assert '"city": "Oslo"' in call(d, pid, "forecast Oslo")


def todo_works(d: Nuwad, pid: int) -> None:
    item = call(d, pid, "add buy milk")
    assert '"text": "buy milk"' in call(d, pid, "list")
    assert call(d, pid, f"done {item}") == "ok"
    wait_for(lambda: fields(call(d, pid, "status"))["swept"] == "1", 10, "todo's sweep timer")


def feeds_works(d: Nuwad, pid: int) -> None:
    # Periodic work: every refresh parses a feed; old items are not kept twice.
    wait_for(lambda: status_count(d, pid, "refreshes") >= 3, 10, "feeds' refresh timer")
    st = fields(call(d, pid, "status"))
    assert int(st["items"]) == int(st["seen"]) > 10
    items = json.loads(call(d, pid, "items 3"))
    assert len(items) == 3 and all(i["id"].startswith("item-") for i in items)
    assert "<" not in items[0]["text"] and items[0]["text"]  # the HTML stripped by re
    word = items[0]["title"].split()[0]
    assert items[0]["id"] in json.loads(call(d, pid, f"search {word}"))
    assert int(call(d, pid, "links")) >= 1
    # Its working set is bounded: 30 more refreshes (300 new items) keep 200
    # items and only their digests (nuwa py-bench saw the set grow before).
    call(d, pid, "refresh 30")
    st = fields(call(d, pid, "status"))
    assert st["items"] == "200" and int(st["seen"]) == 200, st


def sensorlog_works(d: Nuwad, pid: int) -> None:
    # Periodic work: the 100 ms sampler and the 1 s roll-up.
    wait_for(lambda: status_count(d, pid, "rollups") >= 2, 10, "sensorlog's roll-up timer")
    summary = json.loads(call(d, pid, "summary"))
    assert set(summary["sensors"]) == {"temp_c", "humidity_pct", "pressure_hpa"}
    assert all(s["n"] >= 1 and s["min"] <= s["mean"] <= s["max"]
               for s in summary["sensors"].values())
    assert int(call(d, pid, "query temp_c")) >= 5  # rows in its sqlite3 table
    assert len(json.loads(call(d, pid, "history 2"))) == 2


APP_WORK = {"weather": weather_works, "todo": todo_works, "feeds": feeds_works,
            "sensorlog": sensorlog_works}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("app", PY_APPS)
def test_python_app_answers_ping_and_works(daemon: Nuwad, app: str, mode: str) -> None:
    pid = launch(daemon, app, mode)
    try:
        daemon.ctl("app-ping", str(pid))
        assert Path(f"/proc/{pid}/comm").read_text().strip() == app
        # Sandboxed like a C app: its own uid, not root.
        status = Path(f"/proc/{pid}/status").read_text()
        assert int(status.split("Uid:")[1].split()[0]) >= 63000
        assert status.split("NoNewPrivs:")[1].split()[0] == "1"
        assert status.split("Seccomp:")[1].split()[0] == "2"  # the allowlist filter
        assert f"mode={mode}" in call(daemon, pid, "status")
        APP_WORK[app](daemon, pid)
        daemon.ctl("app-ping", str(pid))
    finally:
        daemon.ctl("kill", str(pid))


@pytest.mark.parametrize("mode", MODES)
def test_platform_state_and_gc_freeze(daemon: Nuwad, mode: str) -> None:
    """The platform's start-up objects are in the app; frozen per config."""
    pid = launch(daemon, "weather", mode)
    try:
        p = fields(call(daemon, pid, "platform"))
        assert int(p["ca_certs"]) > 0 and int(p["db_tables"]) == 2
        assert int(p["theme_elements"]) > 1 and int(p["preloaded"]) >= 9
        tpl = daemon.template()
        # Built in the template (module-level state) or in this very process.
        expect = str(tpl["pid"]) if mode == "template" else str(pid)
        assert p["template_pid"] == expect
        frozen = int(p["gc_frozen"])
        assert (frozen > 1000) if daemon.gc_freeze == "yes" else frozen == 0  # type: ignore[attr-defined]
        # The platform's own requests, answered for every Python app.
        before = json.loads(call(daemon, pid, "nuwa:gc"))
        assert (before["frozen"] > 1000) == (frozen > 0)  # some frozen objects die in the app
        after = json.loads(call(daemon, pid, "nuwa:collect"))
        assert after["collections"][2] == before["collections"][2] + 1  # a full collection
        assert "unknown platform request" in daemon.ctl(
            "call", str(pid), "nuwa:bogus", check=False).stderr + app_log(daemon, "weather")
    finally:
        daemon.ctl("kill", str(pid))


def test_random_differs_between_children(daemon: Nuwad) -> None:
    pids = [launch(daemon, "weather", "template") for _ in range(2)]
    try:
        draws = [call(daemon, pid, "random") for pid in pids]
        assert draws[0] != draws[1]
    finally:
        for pid in pids:
            daemon.ctl("kill", str(pid))


def app_log(d: Nuwad, app: str) -> str:
    res = d.json("logs", app)
    assert isinstance(res, dict)
    return "\n".join(str(line["text"]) for line in res["lines"])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("module", [*sorted(BROKEN_APPS), MISSING_APP[0]])
def test_launch_error_carries_the_exception(daemon: Nuwad, module: str, mode: str) -> None:
    """An exception at import or in main(app) fails the launch: its last line
    is the error, its traceback is in the app's own log."""
    expect = MISSING_APP[1] if module == MISSING_APP[0] else BROKEN_APPS[module][1]
    res = daemon.ctl("launch", module, "--mode", mode, check=False)
    assert res.returncode != 0
    assert f"python app {module}: {expect}" in res.stderr
    if module in ("pybroken_raise", "pybroken_import", MISSING_APP[0]):
        wait_for(lambda: "Traceback (most recent call last)" in app_log(daemon, module)
                 and expect in app_log(daemon, module), 5, "the traceback in the app's log")
    if module == "pybroken_raise":
        assert "in main" in app_log(daemon, module)  # the frame that raised
    # The daemon and template stay up.
    pid = launch(daemon, "todo", mode)
    daemon.ctl("app-ping", str(pid))
    daemon.ctl("kill", str(pid))
    assert daemon.template()["state"] == "ready"


@pytest.mark.parametrize("mode", MODES)
def test_app_api(daemon: Nuwad, mode: str) -> None:
    """main(app)'s object: name, args, mode, timers (one-shot, cancelled,
    repeating), fd watches, quit(status); pings answered by the loop."""
    pid = launch(daemon, "pyapi", mode)
    assert json.loads(call(daemon, pid, "info")) == {
        "name": "pyapi", "args": ["pyapi", "--units", "metric"], "mode": mode}  # like sys.argv
    assert json.loads(call(daemon, pid, "timers")) == {"cancel": True, "cancel_again": False}
    wait_for(lambda: json.loads(call(daemon, pid, "fired"))["repeats"] >= 3, 10,
             "the repeating timer")
    daemon.ctl("app-ping", str(pid))  # answered by the loop between callbacks
    assert json.loads(call(daemon, pid, "fired"))["fired"] == ["once"]
    stopped = json.loads(call(daemon, pid, "stop-repeat"))
    assert stopped["cancel"] is True
    time.sleep(0.2)
    assert json.loads(call(daemon, pid, "fired"))["repeats"] == stopped["repeats"]
    assert call(daemon, pid, "pipe hello") == "written"
    wait_for(lambda: call(daemon, pid, "read") == "hello", 10, "the fd watch callback")
    assert json.loads(call(daemon, pid, "unwatch")) == {"unwatch": True, "again": False}
    assert call(daemon, pid, "quit 3") == "bye"
    wait_for(lambda: f"app pyapi (pid {pid}) exited with status 3" in daemon.log_tail(), 10,
             "the app's exit with the status it gave quit()")


@pytest.fixture
def listener() -> Iterator[int]:
    """A TCP port something listens on (the probe must not reach it)."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


@pytest.mark.parametrize("mode", MODES)
def test_python_sandbox_probes_fail(daemon: Nuwad, mode: str, listener: int) -> None:
    """The hostile Python app (pyhostile) tries what docs/security.md's attack
    table lists; every attempt fails as the C apps' do (Landlock ABI >= 4
    here, so TCP too)."""
    victim = launch(daemon, "todo", mode)
    hostile = launch(daemon, HOSTILE, mode)
    nuwad, template = daemon.proc.pid, int(daemon.template()["pid"])  # type: ignore[arg-type]
    target = Path(tempfile.mkdtemp(prefix="nuwa-pyhostile-", dir="/tmp"))
    try:
        assert call(daemon, hostile, "status") == f"ctypes=True uid={uid_of(hostile)}"
        target.chmod(0o777)  # only the sandbox can refuse these
        (target / "victim").write_text("original")
        (target / "victim").chmod(0o666)

        def probe(what: str, arg: object = "") -> str:
            return call(daemon, hostile, f"probe {what} {arg}".strip())

        # Files: its own module (world-writable) and the stdlib are read-only,
        # nothing is created, nothing outside its grants is read or run.
        for what in ("create-in-stdlib", "modify-stdlib", "modify-own-module",
                     "create-beside-module"):
            assert probe(what) == "EACCES", what
        assert probe("chmod-own-module") == "EPERM"  # seccomp: the chmod family
        assert probe("create", target / "new") == "EACCES"
        assert probe("write", target / "victim") == "EACCES"
        assert (target / "victim").read_text() == "original" and not (target / "new").exists()
        assert probe("read", "/etc/passwd") == "EACCES"
        assert probe("listdir", "/") == "EACCES"
        assert probe("exec", "/bin/sh") in ("EACCES", "EPERM")  # Landlock or seccomp
        # Network: net = none (the default).
        assert probe("connect", listener) == "EACCES"
        assert probe("bind", 0) == "EACCES"
        # Other processes: nuwad, the template, another app.
        for pid in (nuwad, template, victim):
            assert probe("kill", pid) == "EPERM", pid
            assert probe("mem", pid) in ("EACCES", "EPERM"), pid
            assert probe("environ", pid) in ("EACCES", "EPERM"), pid
            assert probe("ptrace", pid) == "EPERM", pid
            assert probe("process_vm_readv", pid) == "EPERM", pid
        assert probe("kill-all") == "EPERM"
        # Privileges.
        assert probe("setuid") == "EPERM" and probe("setgid") == "EPERM"
        daemon.ctl("app-ping", str(victim))
        assert daemon.template()["state"] == "ready"
        # A system call outside the allowlist: the process is killed, named.
        daemon.ctl("call", str(hostile), "probe forbidden", check=False)

        def killed_and_named() -> bool:
            # The call is named on the kill line or, when the kernel's audit
            # record comes late, on a line of its own.
            lines = [ln for ln in daemon.log_tail().splitlines() if f"(pid {hostile})" in ln]
            return (any("killed by the seccomp filter (SIGSYS)" in ln for ln in lines)
                    and any("msgget" in ln for ln in lines))
        wait_for(killed_and_named, 20, "the seccomp kill, naming msgget, in nuwad's log")
        daemon.ctl("app-ping", str(victim))
    finally:
        daemon.ctl("kill", str(hostile), check=False)
        daemon.ctl("kill", str(victim))
        shutil.rmtree(target)


def uid_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/status").read_text().split("Uid:")[1].split()[0])


def test_killed_python_template_is_restarted(daemon: Nuwad) -> None:
    old = int(daemon.template()["pid"])  # type: ignore[arg-type]
    os.kill(old, signal.SIGKILL)
    wait_for(lambda: daemon.template()["state"] == "ready" and daemon.template()["pid"] != old,
             30, "a new Python template")
    pid = launch(daemon, "weather", "template")
    daemon.ctl("app-ping", str(pid))
    daemon.ctl("kill", str(pid))


def test_missing_preload_module_fails_the_template_clearly(tmp_path: Path) -> None:
    """A preload module that does not exist: one clear line, nuwad stays up and
    the exec host says the same."""
    build = py_build("host")
    conf = tmp_path / "nuwad.conf"
    conf.write_text(
        "[daemon]\n"
        f"template = {build}/nuwa-template\nexec_host = {build}/nuwa-exec-host\n"
        "app_uids = 63000-63999\nlmk_threshold_kb = 0\n"
        f"[framework]\nlibrary = {build}/libnuwapy.so\n"
        f"args = path={build}/py preload=json,no_such_module\n"
        f"[app todo]\nlibrary = {build}/libnuwapy.so\n")
    d = Nuwad(build, tmp_path, conf)
    try:
        wait_for(lambda: "preload module 'no_such_module'" in d.log_tail(), 30,
                 "the preload error in the log")
        res = d.ctl("launch", "todo", "--mode", "exec", check=False)
        assert res.returncode != 0
        assert d.json("ping")
    finally:
        d.stop()
