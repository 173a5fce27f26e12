"""nuwa demo's Python table (py_quick.quick_table)."""
from __future__ import annotations

import json
import shlex

import pytest
from nuwa.bench.py_bench import APPS, Figures
from nuwa.bench.py_quick import measure_quick, quick_table
from nuwa.target.base import Result


def test_quick_table_per_app_and_over_all_apps() -> None:
    f = Figures()
    for i, app in enumerate(APPS):
        f.launch_ms[(app, "template")] = [40.0 + i, 60.0 + i]
        f.launch_ms[(app, "exec")] = [5000.0, 5000.0]
    f.memory = {"template": [{"app": a, "uss_kb": 1500 + 100 * i, "pss_kb": 1, "rss_kb": 1}
                             for i, a in enumerate(APPS)],
                "exec": [{"app": a, "uss_kb": 8000, "pss_kb": 1, "rss_kb": 1} for a in APPS]}
    lines = quick_table(f).splitlines()
    assert lines[0].startswith("| Python app | launch template | launch exec | ratio |")
    assert "| weather | 50 ms | 5000 ms | 0.010 | 1500 kB | 8000 kB | 0.19 |" in lines
    # all apps: the median of all 8 template launches (43 and 60 around it: 51.5) and
    # the mean USS (1650 kB)
    assert lines[-1] == "| all | 52 ms | 5000 ms | 0.010 | 1650 kB | 8000 kB | 0.21 |"


def test_quick_table_marks_what_was_not_measured() -> None:
    f = Figures()
    f.launch_ms[("todo", "template")] = [50.0]
    lines = quick_table(f).splitlines()
    assert "| todo | 50 ms | - | - | - | - | - |" in lines
    assert lines[-1] == "| all | 50 ms | - | - | - | - | - |"


class ScriptedGuest:
    """py-bench's two private nuwads: launch, kill, list, stats (by socket)."""

    def __init__(self) -> None:
        self.commands: list[str] = []
        self.running: dict[int, tuple[str, str]] = {}
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
            self.running[self.pid] = (words[4], words[6])
            answer = {"pid": self.pid, "launch_ms": 50.0 if words[6] == "template" else 900.0}
        elif "kill" in words:
            self.running.pop(int(words[4]), None)
        elif "list" in words:
            answer = [{"app": a, "pid": p, "uss_kb": 1500 if m == "template" else 8000,
                       "pss_kb": 1, "rss_kb": 1} for p, (a, m) in self.running.items()]
        elif "stats" in words:
            answer = {"template": {"uss_kb": 9000, "pss_kb": 5000, "rss_kb": 12000}}
        return Result(cmd, json.dumps(answer), 0)


def test_the_quick_run_drives_both_private_nuwads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("time.sleep", lambda s: None)
    guest = ScriptedGuest()
    f = measure_quick(guest, lambda line: None, runs=1)  # type: ignore[arg-type]
    assert quick_table(f).splitlines()[-1] == (
        "| all | 50 ms | 900 ms | 0.056 | 1500 kB | 8000 kB | 0.19 |")
    starts = [c for c in guest.commands if c.startswith("nuwad --foreground")]
    assert len(starts) == 2 and "gc_freeze" not in starts[0]
    assert any("gc_freeze=no" in c for c in guest.commands if "nuwad.conf <<" in c)
    assert not guest.running
    assert guest.commands[-1].endswith("rm -rf /tmp/nuwa-pybench-gcno")
