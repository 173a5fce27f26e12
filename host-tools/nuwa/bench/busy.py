"""Launch under load (issue 13): timed launches while busy apps run their periodic work.

`plan.busy_apps` apps (round-robin over the bench's apps) are launched and left running —
not frozen, so their timers, workers and event loops compete for the CPU as on a device
with many apps open — then every app of the list is launched again, `plan.busy_launches`
launches in all, each killed right after, through the mode's usual path (template mode:
the spare, waited for as in the timed launches; exec modes: fork + exec). Reported: median
and p95 (nearest rank) of launch_ms, and how many busy apps still ran at the end (the
low-memory killer may end some on a small guest: counted, not hidden).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nuwa.bench import stats
from nuwa.bench.results import ModeResult
from nuwa.errors import NuwaError

HEADER = ["mode", "busy apps (running at end)", "launches", "median", "p95", "max",
          "idle median (timed launches)"]


class BusyRun:
    """One mode's launches under load; the busy apps are killed again afterwards."""

    def __init__(self, result: ModeResult, apps: list[str], busy_apps: int, launches: int,
                 launch: Callable[[str], dict[str, Any]], kill: Callable[[int], None],
                 running: Callable[[], list[int]], wait_spare: Callable[[], None],
                 say: Callable[[str], None]) -> None:
        if not apps:
            raise NuwaError("no apps to launch under load")
        self.result, self.apps = result, apps
        self.busy_apps, self.launches = busy_apps, launches
        self.launch, self.kill, self.running = launch, kill, running
        self.wait_spare, self.say = wait_spare, say

    def run(self) -> None:
        busy: list[int] = []
        for n in range(self.busy_apps):
            self.wait_spare()
            busy.append(int(self.launch(self.apps[n % len(self.apps)])["pid"]))
        self.say(f"{len(busy)} apps running; timing {self.launches} launches beside them")
        samples: list[dict[str, Any]] = []
        for n in range(self.launches):
            app = self.apps[n % len(self.apps)]
            self.wait_spare()
            answer = self.launch(app)
            samples.append({"app": app, "launch_ms": float(answer["launch_ms"]),
                            "spare": bool(answer.get("spare"))})
            self.kill(int(answer["pid"]))
        alive = set(self.running())
        self.result.busy = {"busy_apps": len(busy),
                            "running_at_end": sum(1 for p in busy if p in alive),
                            "launches": samples}


def summarize(results: dict[str, ModeResult]) -> dict[str, dict[str, Any]]:
    """{mode: figures} for the modes that ran it."""
    out = {}
    for mode, r in results.items():
        if not r.busy:
            continue
        ms = [float(s["launch_ms"]) for s in r.busy.get("launches", [])]
        idle = [s.launch_ms for s in r.launches]
        out[mode] = {"busy_apps": r.busy.get("busy_apps"),
                     "running_at_end": r.busy.get("running_at_end"),
                     "n": len(ms), "median_ms": stats.median(ms),
                     "p95_ms": stats.percentile(ms, 95), "max_ms": max(ms, default=None),
                     "idle_median_ms": stats.median(idle)}
    return out


def rows(summary: dict[str, Any]) -> list[list[str]]:
    def ms(v: float | None) -> str:
        return "n/a" if v is None else f"{v:.1f} ms"
    return [[mode, f"{b['busy_apps']} ({b['running_at_end']})", str(b["n"]),
             ms(b["median_ms"]), ms(b["p95_ms"]), ms(b["max_ms"]), ms(b["idle_median_ms"])]
            for mode, b in summary.get("launch_under_load", {}).items()]
