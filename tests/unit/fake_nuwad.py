"""A scripted device shell for the bench's unit tests: answers the nuwactl commands the
runner sends, kill, smaps reads, KSM and the raw fork as the device's nuwad would (the real
guest runs in the system tests and the benchmarks).

The device has the C framework (`default`, started at boot: clock, notes, and the main
config's echo) and, with `python=True`, the Python framework (`python`, start =
first-use: weather, todo, feeds, sensorlog), whose template starts at its apps' first
template launch. The killer fires at the kill_at-th running app.
"""
from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

from nuwa.target.base import Result

SMAPS = (Path(__file__).parent / "data" / "smaps_app.txt").read_text()
KSM_COUNTERS = "12\n340\n56\n3\n"
KSMD_STAT = "31 (ksmd) S 2 0 0 0 -1 2129984 0 0 0 0 250 50 0 0 25 5 1 0 40 0 0 429"
C_APPS = ("clock", "notes")
PY_APPS = ("weather", "todo", "feeds", "sensorlog")
MEM = {"uss_kb": 600, "pss_kb": 900, "rss_kb": 3000}  # every C process
PY_TEMPLATE = {"pid": 20, "uss_kb": 700, "pss_kb": 1400, "rss_kb": 5600}
PY_SPARE = {"pid": 21, "uss_kb": 300, "pss_kb": 600, "rss_kb": 5000}


def py_app_mem(template: bool) -> dict[str, int]:
    uss = 1500 if template else 8000
    return {"uss_kb": uss, "pss_kb": 2 * uss, "rss_kb": 8 * uss}


class FakeNuwad:
    """The device shell; `template=False`: a nuwad started with `template = off`."""

    def __init__(self, kill_at: int = 4, template: bool = True, python: bool = False) -> None:
        self.template = template
        self.python = python
        self.py_started = False
        self.apps: dict[int, str] = {}
        self.next_pid = 100
        self.kills = 0
        self.kill_at = kill_at
        self.commands: list[str] = []
        self.signals: list[str] = []
        self.launches: list[tuple[str, str]] = []  # (app, mode) of every launch answered
        self.fail_launches_after: int | None = None

    # -- the Python framework ------------------------------------------------------------
    def py_status(self) -> dict[str, Any]:
        state = "off" if not self.template else ("ready" if self.py_started else "idle")
        running = state == "ready"
        return {"framework": "python", "start": "first-use", "state": state,
                "pid": PY_TEMPLATE["pid"] if running else None,
                "spare_pid": PY_SPARE["pid"] if running else None,
                "spare_enabled": self.template}

    def py_stats(self) -> dict[str, Any]:
        running = self.template and self.py_started
        return {"framework": "python", "state": self.py_status()["state"],
                "template": dict(PY_TEMPLATE) if running else None,
                "spare": dict(PY_SPARE) if running else None}

    def app_mem(self, app: str) -> dict[str, int]:
        return py_app_mem(self.template) if app in PY_APPS else dict(MEM)

    # -- nuwactl ---------------------------------------------------------------------------
    def answer(self, argv: list[str]) -> object:
        cmd = argv[1]
        if cmd == "template-status":
            if not self.template:
                top: dict[str, Any] = {"state": "off", "pid": None, "spare_pid": None,
                                       "spare_enabled": False}
            else:
                top = {"state": "ready", "pid": 2, "spare_pid": 3, "spare_enabled": True}
            if self.python:
                top["frameworks"] = [{"framework": "default", "start": "boot", **top},
                                     self.py_status()]
            return top
        if cmd == "launch":
            if self.fail_launches_after is not None and self.next_pid >= self.fail_launches_after:
                return None
            app, mode = argv[2], argv[4]
            if mode == "template" and app in PY_APPS:
                assert self.template, "template launch on a nuwad with template = off"
                self.py_started = True  # a first-use launch waits for it, then forks
            pid = self.next_pid
            self.next_pid += 1
            self.apps[pid] = app
            self.launches.append((app, mode))
            if len(self.apps) >= self.kill_at:
                del self.apps[min(self.apps)]
                self.kills += 1
            if mode == "exec":
                return {"app": app, "pid": pid, "mode": "exec", "launch_ms": 200.0,
                        "spare": False}
            if "--no-spare" in argv:
                return {"app": app, "pid": pid, "mode": "template", "launch_ms": 30.0,
                        "spare": False, "fork_ms": 1.5, "fork_rtt_ms": 2.0}
            return {"app": app, "pid": pid, "mode": "template", "launch_ms": 12.5,
                    "spare": True, "specialise_ms": 0.5}
        if cmd == "apps":
            out = [{"name": a, "mode": "template", "framework": "default",
                    "defined_at": f"/etc/nuwa/apps.d/{a}.conf:5"} for a in C_APPS]
            out.append({"name": "echo", "mode": "template",
                        "defined_at": "/etc/nuwa/nuwad.conf:22"})
            if self.python:
                out += [{"name": a, "mode": "template", "framework": "python", "module": a,
                         "defined_at": f"/etc/nuwa/apps.d/{a}.conf:3"} for a in PY_APPS]
            return out
        if cmd == "kill":
            assert int(argv[2]) in self.apps, "only apps are killed, never the spare"
            self.apps.pop(int(argv[2]))
            return {"ok": True}
        running = [{"app": a, "pid": p, "mode": "template" if self.template else "exec",
                    "state": "running", "launch_ms": 1, **self.app_mem(a)}
                   for p, a in self.apps.items()]
        if cmd == "list":
            spare = [{"app": "", "pid": 3, "mode": "template", "state": "spare", "launch_ms": 0,
                      **MEM}] if self.template else []
            return spare + running
        if cmd == "stats":
            fixed = ({"template": {"pid": 2, **MEM}, "spare": {"pid": 3, **MEM}}
                     if self.template else {"template": None, "spare": None})
            out = {"mem_total_kb": 120000, "mem_available_kb": 80000 - 1000 * len(running),
                   **fixed,
                   "nuwad": {"pid": 1, **MEM}, "lmk_kills": self.kills,
                   "apps": [{"app": "", "pid": 3, **MEM}] + running}
            if self.python:
                out["frameworks"] = [{"framework": "default", "state": "ready", **fixed},
                                     self.py_stats()]
            return out
        raise AssertionError(f"unexpected nuwactl {argv}")

    def run(self, command: str, timeout: float = 60) -> Result:
        self.commands.append(command)
        if "/sys/kernel/mm/ksm" in command:
            if command.startswith("test -d"):
                return Result(command, "", 0)
            if "@@" in command:
                return Result(command, KSM_COUNTERS + "@@\n" + KSMD_STAT + "\n", 0)
            if "pages_to_scan" in command and "echo" not in command:
                return Result(command, "1\n100\n20\n", 0)
            return Result(command, "", 0)
        if command.startswith("/usr/libexec/nuwa/nuwa-raw-fork"):
            rss = int(command.split()[1])
            return Result(command, json.dumps({"rss_kb": rss + 4, "fork_ms": [4.0, 5.0, 6.0]}),
                          0)
        if "launch" in command and self.fail_launches_after is not None \
                and self.next_pid >= self.fail_launches_after:
            return Result(command, "", 1, "nuwactl: launch failed: no ready message")
        if command.startswith("kill -"):
            self.signals.append(command)
            if command.startswith("kill -KILL"):
                for pid in re.match(r"kill -KILL ([\d ]+)", command)[1].split():
                    self.apps.pop(int(pid), None)
            return Result(command, "", 0)
        if command.startswith("for p in"):
            pids = re.search(r"for p in ([\d ]+);", command)[1].split()
            return Result(command, "".join(f"==> {p} <==\n{SMAPS}\n" for p in pids), 0)
        out = []
        for part in command.split("; "):
            if part.startswith("echo @@"):
                out.append(part.removeprefix("echo ") + "\n")
                continue
            argv = shlex.split(part.removesuffix(" || exit $?"))
            out.append(json.dumps(self.answer(argv)) + "\n")
        return Result(command, "".join(out), 0)
