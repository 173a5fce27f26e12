"""Bench smoke test on the build host: the real runner, a real native nuwad, real apps.

The guest side is the native runtime build (no QEMU), reached through a local shell; the
counts are tiny so it stays well under a minute. It checks the whole host pipeline (nuwactl
JSON, smaps breakdowns, summary, report directory) against real processes.
"""
from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from nuwa.bench.guest import Guest
from nuwa.bench.plan import Plan
from nuwa.bench.progress import Progress
from nuwa.bench.report import write_report_dir
from nuwa.bench.runner import ModeRunner
from nuwa.target.base import Result, Target

TOP = Path(__file__).resolve().parents[2]
BUILD = TOP / "runtime" / "build" / "host"
APPS_D = TOP / "rootfs-overlay" / "etc" / "nuwa" / "apps.d"
TINY = Plan(launches=3, launches_no_spare=3, drift_seconds=1, fill_limit=3, settle_seconds=0.3,
            lmk_wait_seconds=0.1, drift_checkpoints=(1.0,), raw_forks=3)

pytestmark = pytest.mark.skipif(
    not (BUILD / "nuwad").exists() or not (BUILD / "libnuwafw.so").exists(),
    reason="native runtime not built (make -C runtime)",
)


class LocalTarget(Target):
    """This host as a target: commands run with /bin/sh."""

    def run(self, cmd: str, timeout: float = 60) -> Result:
        r = subprocess.run(["sh", "-c", cmd], capture_output=True, text=True, timeout=timeout,
                           check=False)
        return Result(cmd, r.stdout, r.returncode, r.stderr)

    def put(self, local: str | Path, remote: str) -> None:
        raise NotImplementedError

    def get(self, remote: str, local: str | Path) -> None:
        raise NotImplementedError


def native_nuwad(tmp: Path, daemon: str = "") -> Iterator[Guest]:
    apps_d = tmp / "apps.d"
    apps_d.mkdir()
    for conf in sorted(APPS_D.glob("*.conf")):
        (apps_d / conf.name).write_text(conf.read_text().replace("/usr/lib/nuwa/", f"{BUILD}/"))
    (tmp / "nuwad.conf").write_text(
        f"[daemon]\ntemplate = {BUILD}/nuwa-template\nexec_host = {BUILD}/nuwa-exec-host\n"
        f"{daemon}\n"
        f"include = {apps_d}\n[framework]\nlibrary = {BUILD}/libnuwafw.so\n"
        f"args = data_dir={BUILD}\n")
    sock = tmp / "nuwad.sock"
    with open(tmp / "nuwad.log", "wb") as log:
        proc = subprocess.Popen(
            [str(BUILD / "nuwad"), "--foreground", "--config", str(tmp / "nuwad.conf"),
             "--socket", str(sock), "--state-dir", str(tmp / "state")],
            stdout=log, stderr=subprocess.STDOUT, cwd=TOP)
    try:
        g = Guest(LocalTarget(), timeout=60, nuwactl=f"{BUILD}/nuwactl --socket {sock}")
        deadline = time.monotonic() + 30
        while not sock.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        g.wait_ready(60, need_template="template = off" not in daemon)
        yield g
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def guest(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Guest]:
    yield from native_nuwad(tmp_path_factory.mktemp("bench-native"))


@pytest.fixture(scope="module")
def exec_guest(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Guest]:
    """The fair baseline: a nuwad that runs no template and no spare."""
    yield from native_nuwad(tmp_path_factory.mktemp("bench-native-exec"), "template = off")


def test_native_bench_pipeline(guest: Guest, exec_guest: Guest, tmp_path: Path) -> None:
    apps = ["clock", "notes", "gallery"]
    results = {mode: ModeRunner(g, mode, TINY, Progress(quiet=True),
                                raw_fork_cmd=f"{BUILD}/nuwa-raw-fork").run(apps)
               for mode, g in (("template", guest), ("exec", exec_guest))}
    for mode, r in results.items():
        assert r.errors == [], (mode, r.errors)
    for mode, r in results.items():
        assert [a.app for a in r.apps] == apps, mode
        assert len(r.launches) == 3 and all(s.launch_ms > 0 for s in r.launches)
        # the balanced plan: each app once per pool
        assert sorted(s.app for s in r.launches) == sorted(apps)
        for a in r.apps:
            cats = a.breakdown["by_category"]
            # the smaps categories add up to the smaps_rollup figure nuwad reported
            # (the app runs between the two reads: allow a little drift)
            total = sum(c["uss_kb"] for c in cats.values())
            assert abs(total - a.uss_kb) <= max(256, a.uss_kb // 20)
            assert cats["lib_code"]["rss_kb"] > 0
        assert r.overhead["nuwad"] is not None
    assert results["template"].overhead["template"] is not None
    assert results["exec"].overhead["template"] is None  # template = off
    assert results["exec"].overhead["spare"] is None
    assert len(results["template"].launches_no_spare) == 3
    tpl = results["template"]
    assert all(s.specialise_ms is not None and s.fork_ms is None for s in tpl.launches)
    assert all(0 < s.fork_ms <= s.fork_rtt_ms for s in tpl.launches_no_spare)  # type: ignore[operator]
    raw = tpl.raw_fork
    # the raw fork's process is at least as large as the template was
    assert raw["rss_kb"] >= raw["target_rss_kb"] and len(raw["fork_ms"]) == 3
    tpl_written = results["template"].apps[0].breakdown["by_category"]["lib_written"]["uss_kb"]
    exec_written = results["exec"].apps[0].breakdown["by_category"]["lib_written"]["uss_kb"]
    # relocated library pages are shared with the template, private after exec
    assert tpl_written < exec_written

    report = write_report_dir(tmp_path / "r", results, {"command": "test"})
    s = report["summary"]
    assert s["uss_ratio"] is not None and s["uss_ratio"] < 1.0
    assert s["template_uss_kb"] > 0
    costs = s["template_costs"]
    # USS <= PSS for the same two processes; each cost has its own break-even
    assert 0 < costs["uss_kb"]["kb"] <= costs["pss_kb"]["kb"]
    assert all(c["break_even_apps"] is not None for c in costs.values())
    assert s["fork"]["fork_vs_raw_ratio"] is not None
    saved = json.loads((tmp_path / "r" / "report.json").read_text())
    assert saved["summary"]["apps_until_lmk"] == s["apps_until_lmk"]
