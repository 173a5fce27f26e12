"""One template per framework: [framework NAME] sections, apps naming their
framework (framework =) and module (module =), C and Python apps side by
side on one nuwad, each forked from its own framework's template."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from nuwad_harness import (
    FRAMEWORK_BUILDS,
    Nuwad,
    assert_refused_config,
    children,
    wait_for,
)

BAD_FRAMEWORK_CONFIGS = [
    # (config text, line of the error, what the error says)
    ("[framework]\nlibrary = x.so\n[app a]\nlibrary = a.so\nframework = python\n", 5,
     "unknown framework 'python'"),
    ("[framework py]\nlibrary = p.so\n[framework py]\n", 3, "framework 'py' defined twice"),
    ("[framework]\nlibrary = x.so\n[framework]\n", 3, "framework 'default' defined twice"),
    ("[framework]\nlibrary = x.so\n[app a]\nmodule = a\n", 3,
     "module = is for a framework with apps = modules"),
    ("[framework py]\nlibrary = p.so\napps = modules\n[app a]\nframework = py\n", 4,
     "has no module"),
    (("[framework py]\nlibrary = p.so\napps = modules\n[app a]\nframework = py\nmodule = a\n"
     "library = a.so\n"), 4, "names a library and a module"),
    ("[framework py]\nlibrary = p.so\napps = modules\n[app a]\nmodule = 9lives\n", 5,
     "not a module name"),
    ("[framework py]\nstart = later\n", 2, "start must be 'boot' or 'first-use'"),
    ("[framework py]\napps = scripts\n", 2, "apps must be 'libraries' or 'modules'"),
    ("[framework py]\nstart = first-use\n", 1, "[framework py] has no library"),
    ("[framework py]\nbogus = 1\n", 2, "unknown key 'bogus' in [framework py]"),
    ("[framework py]\nspare = maybe\n", 2, "not a boolean"),
    ("[framework bad/name]\n", 1, "bad framework name"),
]


@pytest.mark.parametrize(("text", "line", "message"), BAD_FRAMEWORK_CONFIGS)
def test_bad_framework_config_is_one_clear_error(build: Path, tmp_path: Path, text: str,
                                                 line: int, message: str) -> None:
    assert_refused_config(build, tmp_path, text, line, message)


# ---- C and Python apps on one nuwad ----------------------------------------

def py_build(name: str) -> Path:
    build = FRAMEWORK_BUILDS[name]
    if not (build / "libnuwapy.so").exists() or not (build / "libnuwa-minifw.so").exists():
        pytest.skip(f"libnuwapy.so or libnuwa-minifw.so not in build '{name}' "
                    "(make -C runtime [sanitize]; needs python3.11-config)")
    return build


def py_stdlib() -> str:
    out = subprocess.run(["python3.11-config", "--prefix"], capture_output=True, text=True,
                         check=True)
    return f"{out.stdout.strip()}/lib/python3.11"


def two_framework_config(path: Path, build: Path, *, start: str = "first-use",
                         py_library: str = "", daemon: str = "", py_extra: str = "") -> Path:
    """The minimal C framework as the default (app echo, unchanged keys) and
    the CPython framework as [framework python] (apps weather and forecast,
    the latter a second app of the module weather)."""
    path.write_text(f"""\
[daemon]
template = {build}/nuwa-template
exec_host = {build}/nuwa-exec-host
spare_delay_ms = 50
app_uids = 64000-64999
lmk_threshold_kb = 0
{daemon}

[framework]
library = {build}/libnuwa-minifw.so
args = waiters

[framework python]
library = {py_library or f"{build}/libnuwapy.so"}
apps = modules
start = {start}
args = path={build}/py data_dir={build} gc_freeze=yes
sandbox_read = {py_stdlib()} {build}/py /etc/ssl/certs
{py_extra}

[app echo]
library = {build}/app-echo.so

[app weather]
framework = python
module = weather

[app forecast]
framework = python
module = weather
""")
    return path


def frameworks(d: Nuwad, what: str = "template-status") -> dict[str, dict[str, Any]]:
    res = d.call(what)
    assert isinstance(res, dict)
    return {f["framework"]: f for f in res["frameworks"]}


def ppid(pid: int) -> int:
    return int(Path(f"/proc/{pid}/status").read_text().split("PPid:")[1].split()[0])


def launch(d: Nuwad, app: str, mode: str = "template") -> dict[str, Any]:
    res = d.json("launch", app, "--mode", mode)
    assert isinstance(res, dict) and res["app"] == app and res["mode"] == mode
    return res


def wait_template(d: Nuwad, fw: str, timeout: float = 60, not_pid: int = 0) -> dict[str, Any]:
    def ready() -> dict[str, Any] | None:
        t = frameworks(d)[fw]
        return t if t["state"] == "ready" and t["pid"] != not_pid else None
    return wait_for(ready, timeout, f"template {fw} ready")  # type: ignore[return-value]


@pytest.fixture(params=sorted(FRAMEWORK_BUILDS))
def both(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Nuwad]:
    """nuwad with the C framework (boot) and the Python one (first-use)."""
    build = py_build(request.param)
    d = Nuwad(build, tmp_path, two_framework_config(tmp_path / "nuwad.conf", build))
    try:
        d.wait_ready()
        yield d
    finally:
        d.stop()


def test_first_use_template_starts_at_its_first_launch(both: Nuwad) -> None:
    fws = frameworks(both)
    assert fws["default"]["state"] == "ready" and fws["default"]["start"] == "boot"
    assert fws["python"]["state"] == "idle" and fws["python"]["pid"] is None
    assert fws["python"]["start"] == "first-use"
    assert frameworks(both, "stats")["python"]["template"] is None
    # Not started meanwhile by anything but a launch.
    time.sleep(0.5)
    assert frameworks(both)["python"]["state"] == "idle"
    first = launch(both, "weather")  # waits for the start, then forks
    py = frameworks(both)["python"]
    assert py["state"] == "ready" and ppid(first["pid"]) == py["pid"]
    assert first["fallback"] is None
    both.ctl("kill", str(first["pid"]))


def test_c_and_python_apps_side_by_side(both: Nuwad) -> None:
    """Each app is a child of its own framework's template; status and stats
    report each framework; the top-level fields stay the default's."""
    c_app = launch(both, "echo")
    py_app = launch(both, "weather")
    py_app2 = launch(both, "forecast")  # another app of the same module
    fws = frameworks(both)
    assert fws["default"]["pid"] != fws["python"]["pid"]
    assert ppid(c_app["pid"]) == fws["default"]["pid"]
    assert ppid(py_app["pid"]) == fws["python"]["pid"]
    assert ppid(py_app2["pid"]) == fws["python"]["pid"]
    assert Path(f"/proc/{py_app2['pid']}/comm").read_text().strip() == "forecast"
    reply = both.json("call", str(py_app2["pid"]), "status")
    assert "mode=template" in reply["reply"]  # type: ignore[index]
    both.ctl("app-ping", str(c_app["pid"]))
    listed = {a["app"]: a for a in both.json("list")}  # type: ignore[union-attr]
    assert listed["echo"]["framework"] == "default"
    assert listed["weather"]["framework"] == "python"
    # Top level: the default framework's, as before.
    status = both.template()
    assert status["pid"] == fws["default"]["pid"] and status["state"] == "ready"
    stats = both.call("stats")
    assert isinstance(stats, dict)
    assert stats["template"]["pid"] == fws["default"]["pid"]
    per = {f["framework"]: f for f in stats["frameworks"]}
    assert per["python"]["template"]["pid"] == fws["python"]["pid"]
    assert per["python"]["template"]["uss_kb"] > 0
    assert per["python"]["apps"] == 2 and per["default"]["apps"] == 1
    assert frameworks(both)["python"]["launches"] >= 2
    configured = {a["name"]: a for a in both.json("apps")}  # type: ignore[union-attr]
    assert configured["forecast"]["module"] == "weather"
    assert configured["forecast"]["framework"] == "python"
    assert configured["echo"]["module"] is None
    # Each template keeps its own spare.
    wait_for(lambda: all(f["spare_pid"] for f in frameworks(both).values()), 20,
             "a spare per template")
    fws = frameworks(both)
    assert ppid(fws["python"]["spare_pid"]) == fws["python"]["pid"]
    assert ppid(fws["default"]["spare_pid"]) == fws["default"]["pid"]
    for app in (c_app, py_app, py_app2):
        both.ctl("kill", str(app["pid"]))


@pytest.mark.parametrize("victim", ["python", "default"])
def test_killed_template_restarts_alone(both: Nuwad, victim: str) -> None:
    """kill -9 one framework's template: it restarts; the other's apps keep
    running and its launches keep working meanwhile."""
    other = "default" if victim == "python" else "python"
    app_of = {"default": "echo", "python": "weather"}
    running = {fw: launch(both, app_of[fw])["pid"] for fw in ("default", "python")}
    fws = frameworks(both)
    old, other_pid = fws[victim]["pid"], fws[other]["pid"]
    os.kill(old, signal.SIGKILL)
    # The other framework's launches work at once (its template untouched).
    extra = launch(both, app_of[other])
    assert ppid(extra["pid"]) == other_pid
    new = wait_template(both, victim, not_pid=old)
    assert new["restarts"] >= 1 and frameworks(both)[other]["restarts"] == 0
    assert frameworks(both)[other]["pid"] == other_pid
    for pid in running.values():  # the victim's app was re-parented, not killed
        both.ctl("app-ping", str(pid))
    fresh = launch(both, app_of[victim])
    assert ppid(fresh["pid"]) == new["pid"]
    for pid in [*running.values(), extra["pid"], fresh["pid"]]:
        both.ctl("kill", str(pid))


@pytest.mark.parametrize("start", ["first-use", "boot"])
def test_broken_python_library_fails_only_python_launches(tmp_path: Path, start: str) -> None:
    build = py_build("host")
    conf = two_framework_config(tmp_path / "nuwad.conf", build, start=start,
                                py_library=str(tmp_path / "no-such-libnuwapy.so"))
    d = Nuwad(build, tmp_path, conf)
    try:
        d.wait_ready()
        res = d.ctl("launch", "weather", check=False)
        assert res.returncode != 0
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1, res.stderr
        assert "(framework python)" in lines[0] and "no-such-libnuwapy.so" in lines[0], lines[0]
        # C launches work; nuwad and the C template stay up.
        d.ctl("app-ping", str(launch(d, "echo")["pid"]))
        assert frameworks(d)["default"]["state"] == "ready"
        assert frameworks(d)["python"]["state"] in ("idle", "down", "starting")
        assert "no-such-libnuwapy.so" in frameworks(d)["python"]["last_error"]
        assert d.json("ping")
        assert d.proc.poll() is None
    finally:
        d.stop()


def test_template_off_means_no_template_for_any_framework(tmp_path: Path) -> None:
    build = py_build("host")
    conf = two_framework_config(tmp_path / "nuwad.conf", build, start="boot",
                                daemon="template = off")
    d = Nuwad(build, tmp_path, conf)
    try:
        fws = frameworks(d)
        assert {f["state"] for f in fws.values()} == {"off"}
        assert all(f["pid"] is None and f["spare_pid"] is None for f in fws.values())
        res = launch(d, "weather", "exec")
        assert ppid(res["pid"]) == d.proc.pid
        assert launch(d, "echo", "exec")["mode"] == "exec"
        time.sleep(0.3)
        kids = [Path(f"/proc/{p}/comm").read_text().strip() for p in children(d.proc.pid)]
        assert "nuwa-template" not in kids, kids
    finally:
        d.stop()


def test_shipped_apps_d_runs_c_and_python_apps(tmp_path: Path) -> None:
    """The image's apps.d (with this build's paths): the C sample apps on the
    default framework, weather and todo on [framework python], started at
    the first Python launch; each app a child of its own template."""
    from fw_harness import PY_APPS, write_fw_config

    build = py_build("host")
    if not (build / "libnuwafw.so").exists():
        pytest.skip("libnuwafw.so not built")
    # The device's [daemon] app_uids gives the Python apps their uids.
    d = Nuwad(build, tmp_path, write_fw_config(tmp_path, build, daemon="app_uids = 64000-64999"))
    try:
        d.wait_ready(timeout=60)
        configured = {a["name"]: a for a in d.json("apps")}  # type: ignore[union-attr]
        assert {configured[a]["framework"] for a in PY_APPS} == {"python"}
        assert configured["clock"]["framework"] == "default"
        assert frameworks(d)["python"]["state"] == "idle"
        pids = {app: launch(d, app)["pid"] for app in ["clock", *PY_APPS]}
        fws = frameworks(d)
        assert ppid(pids["clock"]) == fws["default"]["pid"]
        for app in PY_APPS:
            assert ppid(pids[app]) == fws["python"]["pid"]
            d.ctl("app-ping", str(pids[app]))
        exec_pid = launch(d, "weather", "exec")["pid"]
        assert ppid(exec_pid) == d.proc.pid
        for pid in [*pids.values(), exec_pid]:
            d.ctl("kill", str(pid))
    finally:
        d.stop()


def test_exec_fallback_is_per_framework(tmp_path: Path) -> None:
    """fallback = exec (the device's): the first-use template's first start
    is waited for; a launch while it restarts runs in exec mode and is
    counted for its framework only, while the C template keeps forking."""
    build = py_build("host")
    d = Nuwad(build, tmp_path, two_framework_config(tmp_path / "nuwad.conf", build,
                                                    daemon="fallback = exec"))
    try:
        d.wait_ready()
        first = launch(d, "weather")
        assert first["fallback"] is None
        old = frameworks(d)["python"]["pid"]
        assert ppid(first["pid"]) == old
        os.kill(old, signal.SIGKILL)
        fell = d.json("launch", "weather")
        assert isinstance(fell, dict) and fell["mode"] == "exec" and fell["fallback"], fell
        c_app = launch(d, "echo")
        assert c_app["fallback"] is None and ppid(c_app["pid"]) == frameworks(d)["default"]["pid"]
        fws = frameworks(d)
        assert fws["python"]["fallback_launches"] == 1
        assert fws["default"]["fallback_launches"] == 0
        wait_template(d, "python", not_pid=old)
        for pid in (first["pid"], fell["pid"], c_app["pid"]):
            d.ctl("kill", str(pid))
    finally:
        d.stop()


def test_spare_per_framework(tmp_path: Path) -> None:
    """[framework python] spare = no: its template keeps no spare (its launches
    fork), the C template keeps its own."""
    build = py_build("host")
    d = Nuwad(build, tmp_path, two_framework_config(tmp_path / "nuwad.conf", build,
                                                    py_extra="spare = no"))
    try:
        d.wait_ready(spare=True)
        apps = [launch(d, "weather"), launch(d, "weather"), launch(d, "echo")]
        assert not apps[1]["spare"] and "fork_ms" in apps[1]
        wait_for(lambda: frameworks(d)["default"]["spare_pid"], 20, "the C spare")
        time.sleep(0.5)  # several spare_delay_ms: no Python spare comes
        py = frameworks(d)["python"]
        assert py["spare_enabled"] is False and py["spare_pid"] is None
        assert frameworks(d)["default"]["spare_enabled"] is True
        for app in apps:
            d.ctl("kill", str(app["pid"]))
    finally:
        d.stop()
