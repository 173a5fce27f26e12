"""Native tests of the realistic app framework and the six sample apps.

A private nuwad runs the shipped app configs (rootfs-overlay/etc/nuwa/apps.d)
with library paths pointed at the native build, and every app is launched in
template and in exec mode. Also: our USS/PSS agree with smem's.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fw_harness import APPS, MODES, fw_build, fw_daemon, write_fw_config
from nuwad_harness import FRAMEWORK_BUILDS, SANITIZER_ENV, TOP, Nuwad, wait_for


@pytest.fixture(scope="module", params=sorted(FRAMEWORK_BUILDS))
def daemon(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nuwad]:
    """One nuwad per build (plain, ASan+UBSan) running the sample apps."""
    with fw_daemon(request.param, tmp_path_factory.mktemp(f"fw-{request.param}")) as d:
        yield d


def launch(d: Nuwad, app: str, mode: str) -> dict[str, object]:
    res = d.json("launch", app, "--mode", mode)
    assert isinstance(res, dict)
    assert res["app"] == app and res["mode"] == mode
    return res


def app_request(d: Nuwad, pid: int, text: str) -> str:
    res = d.json("call", str(pid), text)
    assert isinstance(res, dict) and res["pid"] == pid
    return str(res["reply"])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("app", APPS)
def test_app_launches_and_answers_ping(daemon: Nuwad, app: str, mode: str) -> None:
    res = launch(daemon, app, mode)
    pid = int(res["pid"])  # type: ignore[arg-type]
    try:
        assert float(res["launch_ms"]) > 0  # type: ignore[arg-type]
        os.kill(pid, 0)
        daemon.ctl("app-ping", str(pid))
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
        assert comm == app[:15]
        listed = [a for a in daemon.json("list") if a["pid"] == pid]  # type: ignore[union-attr]
        assert listed and listed[0]["app"] == app and listed[0]["mode"] == mode
    finally:
        daemon.ctl("kill", str(pid))


@pytest.mark.parametrize("mode", MODES)
def test_framework_state_and_periodic_work(daemon: Nuwad, mode: str) -> None:
    """The start-up state is there in the app (whether built in the template
    or from scratch) and the app's periodic work runs on recreated threads."""
    pid = int(launch(daemon, "music", mode)["pid"])  # type: ignore[arg-type]
    try:
        prof = app_request(daemon, pid, "profile")
        fields = dict(kv.split("=", 1) for kv in prof.split())
        assert int(fields["ca_certs"]) > 50
        assert int(fields["db_tables"]) == 6
        assert int(fields["theme_styles"]) > 100 and int(fields["theme_strings"]) > 100
        assert int(fields["workers"]) == 3
        assert app_request(daemon, pid, "words the quick brown fox") == "4"
        first = int(re.search(r"chunks=(\d+)", app_request(daemon, pid, "status")).group(1))  # type: ignore[union-attr]
        time.sleep(1.0)
        later = int(re.search(r"chunks=(\d+)", app_request(daemon, pid, "status")).group(1))  # type: ignore[union-attr]
        # The pool synthesises a chunk every 100 ms: several in a second.
        assert later >= first + 3
        threads = {p.name: (p / "comm").read_text().strip()
                   for p in Path(f"/proc/{pid}/task").iterdir()}
        names = set(threads.values())
        # Threads start on first use (docs/runtime.md "Fork"): the timer
        # and one pool thread (music keeps one job at a time), no I/O
        # thread (music does no I/O), in both modes.
        assert {"fw-timer", "fw-pool0"} <= names, names
        assert "fw-io" not in names and "fw-pool2" not in names, names
    finally:
        daemon.ctl("kill", str(pid))


def smem_rows(pids: set[int]) -> dict[int, tuple[int, int, int]]:
    out = subprocess.run(["smem", "-H", "-c", "pid uss pss rss"], capture_output=True,
                         text=True, check=True, timeout=60).stdout
    rows = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4 and int(parts[0]) in pids:
            rows[int(parts[0])] = (int(parts[1]), int(parts[2]), int(parts[3]))
    return rows


@pytest.mark.skipif(shutil.which("smem") is None, reason="smem not installed")
def test_uss_pss_agree_with_smem(daemon: Nuwad) -> None:
    pids = [int(launch(daemon, app, mode)["pid"])  # type: ignore[arg-type]
            for app, mode in (("clock", "template"), ("settings", "exec"), ("notes", "template"))]
    try:
        time.sleep(1.0)
        # Live processes: read ours before and after smem's reading; smem's
        # must lie between them, give or take max(256 KiB, 5 %).
        first = {a["pid"]: a for a in daemon.json("list")}  # type: ignore[union-attr]
        theirs = smem_rows(set(pids))
        last = {a["pid"]: a for a in daemon.json("list")}  # type: ignore[union-attr]
        assert set(theirs) == set(pids)
        for pid in pids:
            for i, name in enumerate(("uss_kb", "pss_kb", "rss_kb")):
                lo = min(first[pid][name], last[pid][name])
                hi = max(first[pid][name], last[pid][name])
                tol = max(256, 0.05 * hi)
                assert lo - tol <= theirs[pid][i] <= hi + tol, \
                    f"pid {pid} {name}: ours {lo}..{hi}, smem {theirs[pid][i]}"
    finally:
        for pid in pids:
            daemon.ctl("kill", str(pid))


@pytest.mark.parametrize("theme", ["missing", "malformed"])
def test_framework_start_failure_is_one_clear_error(tmp_path: Path, theme: str) -> None:
    """A framework that cannot start (theme missing or malformed) gives one
    message naming the file; launches fail with an error; nuwad stays up."""
    build = fw_build("host")
    data = tmp_path / "data"
    data.mkdir()
    if theme == "malformed":
        (data / "theme.xml").write_text('<theme><styles><style id="a">\n</theme>\n')
    d = Nuwad(build, tmp_path, write_fw_config(tmp_path, build, data))
    try:
        wait_for(lambda: "nuwafw: " in d.log.read_text(), 30, "the framework error")
        for mode in MODES:
            res = d.ctl("launch", "clock", "--mode", mode, check=False)
            assert res.returncode != 0 and res.stderr.strip()
        d.ctl("ping")
        log = d.log.read_text()
        errors = [ln for ln in log.splitlines() if ln.startswith("nuwafw: ")]
        assert errors and all(str(data / "theme.xml") in ln for ln in errors)
        # One line per failed start-up: no second copy from libxml2.
        assert "I/O warning" not in log and "parser error" not in log
    finally:
        d.stop()


@pytest.mark.parametrize("name", sorted(FRAMEWORK_BUILDS))
def test_start_up_profile_tool(name: str, tmp_path: Path) -> None:
    build = fw_build(name)
    env = {**os.environ, **SANITIZER_ENV}
    res = subprocess.run([str(build / "nuwafw-profile"), str(build)], capture_output=True,
                         text=True, check=False, timeout=120, env=env)
    assert res.returncode == 0, res.stderr
    steps = {ln.split()[0]: ln.split() for ln in res.stdout.splitlines()[1:]}
    assert set(steps) == {"tls", "db", "theme", "text", "total"}
    assert int(steps["total"][1]) == sum(int(steps[s][1]) for s in ("tls", "db", "theme", "text"))
    if name == "host":  # ASan's allocator does not report mallinfo2()
        assert int(steps["theme"][1]) > 0 and int(steps["tls"][1]) > 0
    bad = subprocess.run([str(build / "nuwafw-profile"), str(tmp_path)], capture_output=True,
                         text=True, check=False, timeout=120, env=env)
    assert bad.returncode == 1 and f"{tmp_path}/theme.xml" in bad.stderr


def test_native_example_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """runtime/framework/host.conf, as docs/app-platform.md says to run it."""
    build = fw_build("host")
    monkeypatch.chdir(TOP)
    d = Nuwad(build, tmp_path, TOP / "runtime" / "framework" / "host.conf")
    try:
        d.wait_ready(timeout=60)
        assert sorted(a["name"] for a in d.json("apps")) == sorted(APPS)  # type: ignore[union-attr]
        for mode in MODES:
            pid = int(launch(d, "settings", mode)["pid"])  # type: ignore[arg-type]
            d.ctl("app-ping", str(pid))
            d.ctl("kill", str(pid))
    finally:
        d.stop()


def test_every_sample_app_works_10s_under_the_allowlist(daemon: Nuwad) -> None:
    """The seccomp allowlist kills a process on any call outside it: every
    sample app, in both modes (this build), does its periodic work for 10 s
    without a filter kill."""
    def ticks(pid: int) -> int:
        return int(re.search(r"ticks=(\d+)", app_request(daemon, pid, "status")).group(1))  # type: ignore[union-attr]

    pids = {(app, mode): int(launch(daemon, app, mode)["pid"])  # type: ignore[arg-type]
            for app in APPS for mode in MODES}
    try:
        first = {k: ticks(pid) for k, pid in pids.items()}
        time.sleep(10)
        for k, pid in pids.items():
            assert ticks(pid) > first[k], k
        listed = {(a["app"], a["mode"]) for a in daemon.json("list")}  # type: ignore[union-attr]
        assert set(pids) <= listed
        assert "seccomp" not in daemon.log.read_text()
    finally:
        for pid in pids.values():
            daemon.ctl("kill", str(pid), check=False)
