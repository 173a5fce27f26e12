"""nuwa py-bench --fill: the Python framework's template in the C bench's fill, against a
scripted nuwad (the real guest run is a benchmark, docs/benchmarks.md)."""
from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

from nuwa.bench.guest import Guest
from nuwa.bench.plan import Plan
from nuwa.bench.progress import Progress
from nuwa.bench.results import AppSample, ModeResult, ProcessMemory
from nuwa.py_fill import PyModeRunner, framework_entry, framework_ready, render_fill
from nuwa.target.base import Result

PLAN = Plan(launches=1, launches_no_spare=1, drift_seconds=0, fill_limit=20, settle_seconds=0,
            lmk_wait_seconds=0, drift_checkpoints=())
SMAPS = (Path(__file__).parent / "data" / "smaps_app.txt").read_text()
C_MEM = {"uss_kb": 500, "pss_kb": 800, "rss_kb": 3000}


def mem(pid: int, uss: int) -> dict[str, int]:
    return {"pid": pid, "uss_kb": uss, "pss_kb": 2 * uss, "rss_kb": 8 * uss}


class PythonNuwad:
    """A device nuwad: the C template at boot, the Python one at its first launch (that
    launch falls back to exec); the killer fires at the kill_at-th running app."""

    def __init__(self, template: bool = True, kill_at: int = 6) -> None:
        self.template = template
        self.py_started = False
        self.apps: dict[int, str] = {}
        self.next_pid = 100
        self.kills = 0
        self.kill_at = kill_at
        self.launch_modes: list[str] = []

    def py_fw(self, status: bool) -> dict[str, Any]:
        if not self.template:
            return {"framework": "python", "state": "off", "template": None, "spare": None,
                    "spare_pid": None, "spare_enabled": False}
        if not self.py_started:
            return {"framework": "python", "state": "idle", "template": None, "spare": None,
                    "spare_pid": None, "spare_enabled": True}
        if status:
            return {"framework": "python", "state": "ready", "pid": 20, "spare_pid": 21,
                    "spare_enabled": True}
        return {"framework": "python", "state": "ready", "template": mem(20, 700),
                "spare": mem(21, 300)}

    def answer(self, argv: list[str]) -> object:
        cmd = argv[1]
        if cmd == "template-status":
            return {"state": "ready" if self.template else "off", "spare_pid": 3,
                    "frameworks": [{"framework": "default", "state": "ready"},
                                   self.py_fw(status=True)]}
        if cmd == "launch":
            mode = argv[4]
            if mode == "template" and not self.py_started:
                self.py_started, mode = True, "exec"  # fallback = exec while it starts
            self.launch_modes.append(mode)
            pid = self.next_pid
            self.next_pid += 1
            self.apps[pid] = argv[2]
            if len(self.apps) >= self.kill_at:
                del self.apps[min(self.apps)]
                self.kills += 1
            return {"app": argv[2], "pid": pid, "mode": mode, "launch_ms": 50.0}
        uss = 1500 if self.template else 8000
        running = [{"app": a, "pid": p, "mode": "template", "state": "running",
                    **mem(p, uss)} for p, a in self.apps.items()]
        if cmd == "list":
            return running
        if cmd == "stats":
            c = ({"template": {"pid": 2, **C_MEM}, "spare": {"pid": 3, **C_MEM}}
                 if self.template else {"template": None, "spare": None})
            return {"mem_total_kb": 120000, "mem_available_kb": 80000 - uss * len(self.apps),
                    "nuwad": {"pid": 1, **C_MEM}, **c, "lmk_kills": self.kills,
                    "apps": running, "frameworks": [self.py_fw(status=False)]}
        raise AssertionError(f"unexpected nuwactl {argv}")

    def run(self, command: str, timeout: float = 60) -> Result:
        if command.startswith("kill -"):
            if command.startswith("kill -KILL"):
                for pid in re.match(r"kill -KILL ([\d ]+)", command)[1].split():
                    self.apps.pop(int(pid), None)
            return Result(command, "", 0)
        if command.startswith("for p in"):
            pids = re.search(r"for p in ([\d ]+);", command)[1].split()
            return Result(command, "".join(f"==> {p} <==\n{SMAPS}\n" for p in pids), 0)
        return Result(command, json.dumps(self.answer(shlex.split(command))) + "\n", 0)


def test_framework_entry_and_readiness() -> None:
    status = {"state": "ready", "frameworks": [
        {"framework": "default", "state": "ready", "spare_pid": 3},
        {"framework": "python", "state": "starting", "spare_pid": None}]}
    assert framework_entry(status)["state"] == "starting"
    assert not framework_ready(status)
    status["frameworks"][1].update(state="ready", spare_pid=9)
    assert framework_ready(status)
    assert framework_entry({"frameworks": []}) is None and framework_entry(None) is None


def test_template_mode_measures_the_python_template_not_the_c_one() -> None:
    nuwad = PythonNuwad()
    runner = PyModeRunner(Guest(nuwad), "template", PLAN, Progress(quiet=True),
                          sleep=lambda s: None)
    runner.result.lmk_threshold_kb = 1000
    result = runner.run_fill()
    assert result.errors == []
    # the first launch started the first-use template (and ran in exec mode); every
    # measured launch after it is a template launch
    assert nuwad.launch_modes[0] == "exec" and set(nuwad.launch_modes[1:]) == {"template"}
    assert result.overhead["template"].uss_kb == 700 and result.overhead["spare"].uss_kb == 300
    assert [a.app for a in result.apps] == ["weather", "todo", "feeds", "sensorlog"]
    assert result.apps_until_lmk == 5 and result.lmk_reached
    assert all(p.template_pss_kb == 2000 for p in result.fill)  # Python's 1400 + 600


def test_exec_mode_has_no_python_template() -> None:
    nuwad = PythonNuwad(template=False, kill_at=3)
    runner = PyModeRunner(Guest(nuwad), "exec", PLAN, Progress(quiet=True),
                          sleep=lambda s: None)
    runner.result.lmk_threshold_kb = 1000
    result = runner.run_fill()
    assert result.errors == [] and set(nuwad.launch_modes) == {"exec"}
    assert result.overhead["template"] is None and result.apps_until_lmk == 2
    assert all(p.template_pss_kb == 0 for p in result.fill)


def test_render_fill_ratio_verdict_and_break_even() -> None:
    tpl = ModeResult(mode="template", apps_until_lmk=30, lmk_reached=True,
                     lmk_threshold_kb=15000, idle_mem_available_kb=80000)
    tpl.overhead = {"template": ProcessMemory(1, 700, 4000, 16000),
                    "spare": ProcessMemory(2, 300, 1000, 9000)}
    tpl.apps = [AppSample("weather", 3, 50.0, 1500, 3000, 9000, {})]
    exe = ModeResult(mode="exec", apps_until_lmk=12, lmk_reached=False,
                     errors=["fill: guest gone"])
    exe.apps = [AppSample("weather", 4, 5000.0, 8000, 9000, 12000, {})]
    text = render_fill({"template": tpl, "exec": exe}, "nuwa py-bench --fill", "loaded")
    assert text.startswith("Command: `nuwa py-bench --fill`\n\nloaded\n")
    assert "| template | 30 | 1500 kB | 3000 kB | 80000 kB | 15000 kB |" in text
    assert "| exec | ≥ 12 (no kill) | 8000 kB |" in text
    assert "template ÷ exec: **2.50** (target ≥ 3.0: missed)" in text
    assert "saving 6500 kB per app" in text
    # USS 1000 kB pays back after 1 app; PSS 5000 kB after ceil(5000 / 6500) = 1 too
    assert "USS of template + spare (no app running): 1000 kB, break-even 1 apps" in text
    assert "- exec: error: fill: guest gone" in text
