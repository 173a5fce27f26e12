"""Pure parts of `nuwa sandbox-bench`: the private nuwad's config and the table."""

from __future__ import annotations

import json
import shlex

import pytest
from nuwa.bench.sandbox import (
    LaunchSamples,
    SandboxBench,
    SnapshotFigure,
    config_text,
    render,
)
from nuwa.target.base import Result


def test_config_has_a_sandboxed_and_an_unconfined_section_per_app() -> None:
    text = config_text(["clock", "notes"], lib_dir="/L")
    assert "[app clock]\nlibrary = /L/app-clock.so\nuid = 30001\ngid = 30001" in text
    assert "[app notes]\nlibrary = /L/app-notes.so\nuid = 30002" in text
    assert "[app clock-nosb]\nlibrary = /L/app-clock.so\nsandbox = no" in text
    assert text.count("sandbox = no") == 2
    assert "library = /L/libnuwafw.so" in text


def test_cost_is_the_difference_of_medians() -> None:
    s = LaunchSamples()
    for ms in (10.0, 12.0, 30.0):
        s.add("template", True, ms)
    for ms in (9.0, 10.0, 11.0):
        s.add("template", False, ms)
    assert s.median("template", True) == 12.0
    assert s.cost_ms("template") == 2.0


def test_render_lists_modes_and_apps_largest_first() -> None:
    s = LaunchSamples()
    s.add("exec", True, 100.0)
    s.add("exec", False, 90.0)
    snaps = [SnapshotFigure("small", 1000, 2048, 3.0, 1010, 300, 304),
             SnapshotFigure("big", 9000, 4096, 7.5, None)]
    text = render(s, snaps, "nuwa sandbox-bench")
    assert "`nuwa sandbox-bench`" in text
    assert "| exec | 100.0 (100.0) | 90.0 (90.0) | +10.0 (+10.0) ms | 1 |" in text
    assert "template" not in text.split("| app |")[0]
    assert text.index("| big |") < text.index("| small |")
    assert "| small | 1000 | 2 | 3.0 | 1010 | 10 | 300 → 304 |" in text
    assert "| big | 9000 | 4 | 7.5 | - | - | - |" in text


class ScriptedGuest:
    """The private nuwad's side of `nuwa sandbox-bench`: launch, kill, snapshot."""

    def __init__(self) -> None:
        self.commands: list[str] = []
        self.pid = 100

    def run(self, cmd: str, timeout: float = 60) -> Result:
        self.commands.append(cmd)
        if "nuwactl" not in cmd:
            return Result(cmd, "", 0)
        words = shlex.split(cmd)
        answer: object = {}
        if "template-status" in words:
            answer = {"state": "ready", "spare_pid": 7}
        elif "launch" in words:
            self.pid += 1
            answer = {"pid": self.pid, "launch_ms": 20.0 if words[4].endswith("-nosb") else 25.0}
        elif "snapshot" in words:
            answer = {"rss_before_kb": 3000, "bytes": 8192, "write_ms": 4.0, "peak_rss_kb": 3100}
        return Result(cmd, json.dumps(answer), 0)


def test_the_bench_runs_its_private_nuwad_and_ends_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("time.sleep", lambda s: None)
    guest = ScriptedGuest()
    bench = SandboxBench(guest, runs=2, apps=["clock"])  # type: ignore[arg-type]
    bench.start()
    launches, snaps = bench.launches(), bench.snapshots()
    bench.stop()
    assert launches.cost_ms("template") == 5.0 and len(launches.samples[("exec", False)]) == 2
    assert snaps == [SnapshotFigure("clock", 3000, 8192, 4.0, 3100)]
    assert all("--socket /tmp/nuwa-sandbox-bench/nuwad.sock" in c
               for c in guest.commands if "nuwactl" in c)
    assert guest.commands[-1].endswith("rm -rf /tmp/nuwa-sandbox-bench")
