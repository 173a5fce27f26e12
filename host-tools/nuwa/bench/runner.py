"""The measurement phases of one mode on one booted guest."""
from __future__ import annotations

import time
from typing import Any

from nuwa.bench import smaps
from nuwa.bench.guest import Guest
from nuwa.bench.plan import Plan
from nuwa.bench.progress import Progress
from nuwa.bench.results import (
    AppSample,
    DriftSample,
    FillPoint,
    LaunchSample,
    ModeResult,
    ProcessMemory,
)
from nuwa.errors import NuwaError


def _memory(entry: dict[str, Any] | None) -> ProcessMemory | None:
    if not entry or entry.get("pid") in (None, 0):
        return None
    return ProcessMemory.from_json(entry)


def _launch_args(app: str, mode: str, spare: bool) -> list[str]:
    args = ["launch", app, "--mode", mode]
    if not spare:
        args.append("--no-spare")
    return args


SPARE_STATES = ("spare", "spare-forking")


def is_app(entry: dict[str, Any]) -> bool:
    """nuwad lists its spare among the apps (unnamed, in a spare state); it is no app."""
    return bool(entry.get("app")) and entry.get("state") not in SPARE_STATES


def _fork_ms(answer: dict[str, Any]) -> float | None:
    value = answer.get("fork_ms")
    return None if value is None else float(value)


class ModeRunner:
    """Runs every phase for one launch mode; the guest was booted for this mode alone."""

    def __init__(self, guest: Guest, mode: str, plan: Plan, progress: Progress) -> None:
        self.guest = guest
        self.mode = mode
        self.plan = plan
        self.progress = progress
        self.result = ModeResult(mode=mode, drift_seconds=plan.drift_seconds)

    def say(self, message: str) -> None:
        self.progress(f"{self.mode}: {message}")

    # -- helpers ---------------------------------------------------------------------------
    def launch(self, app: str, spare: bool = True) -> dict[str, Any]:
        answer = self.guest.nuwactl(*_launch_args(app, self.mode, spare))
        if not isinstance(answer, dict) or "pid" not in answer or "launch_ms" not in answer:
            raise NuwaError(f"launch {app}: unexpected answer {answer!r}")
        return answer

    def kill_all(self) -> None:
        """SIGKILL every app at once and wait until nuwad has reaped them all.

        `nuwactl kill` (SIGTERM, SIGKILL later, answer when reaped) one app after the other
        takes minutes for the dozens of apps of a fill, and thawing frozen apps near the
        killer's threshold makes the guest thrash; a cleanup needs neither.
        """
        pids = self._app_pids()
        if not pids:
            return
        self.guest.sh(f"kill -KILL {' '.join(map(str, pids))} 2>/dev/null; true")
        deadline = time.monotonic() + self.guest.timeout
        while (left := self._app_pids()) and time.monotonic() < deadline:
            time.sleep(0.5)
        if left:
            raise NuwaError(f"apps still running after SIGKILL: {left}")

    def _app_pids(self) -> list[int]:
        return [int(a["pid"]) for a in self.guest.nuwactl("list") if is_app(a)]

    def wait_spare(self) -> None:
        if self.mode == "template":
            self.guest.wait_ready(timeout=30, need_template=True)

    # -- phases ----------------------------------------------------------------------------
    def idle(self) -> None:
        stats = self.guest.nuwactl("stats")
        self.result.mem_total_kb = int(stats["mem_total_kb"])
        self.result.idle_mem_available_kb = int(stats["mem_available_kb"])
        self.result.overhead = {k: _memory(stats.get(k)) for k in ("nuwad", "template", "spare")}
        pids = {k: p.pid for k, p in self.result.overhead.items() if p is not None}
        found = self.guest.breakdowns(list(pids.values()))
        self.result.overhead_breakdown = {
            k: found[pid].to_dict() for k, pid in pids.items() if pid in found
        }
        self.say(f"idle: MemAvailable {self.result.idle_mem_available_kb} KiB")
        held = [k for k in ("template", "spare") if self.result.overhead.get(k)]
        if self.mode == "exec" and held:
            pss = sum(self.result.overhead[k].pss_kb for k in held)  # type: ignore[union-attr]
            self.result.notes.append(
                f"this guest also ran nuwad's {' and '.join(held)} ({pss} KiB PSS at idle): "
                "nuwad has no switch to run without them, so exec mode had that much less "
                "memory for apps than a system without Nuwa")

    def apps_and_drift(self, apps: list[str]) -> None:
        """Each app once: USS/PSS/RSS and smaps breakdown; again after drift_seconds."""
        launched: list[tuple[str, dict[str, Any]]] = []
        for i, app in enumerate(apps, 1):
            self.wait_spare()
            launched.append((app, self.launch(app)))
            self.progress.step(f"{self.mode}: one of each app", i, len(apps))
        time.sleep(self.plan.settle_seconds)
        before = self._measure_apps(launched)
        self.say(f"apps running; drift measured after {self.plan.drift_seconds:.0f} s")
        time.sleep(self.plan.drift_seconds)
        after = self._measure_apps(launched)
        for app, answer in launched:
            pid = int(answer["pid"])
            if pid not in before or pid not in after:
                self.result.notes.append(f"{app} (pid {pid}) was gone before it was measured")
                continue
            b, b_break = before[pid]
            self.result.apps.append(AppSample(app, pid, float(answer["launch_ms"]), b.uss_kb,
                                              b.pss_kb, b.rss_kb, b_break.to_dict()))
            a, a_break = after[pid]
            delta = {
                cat: a_break.by_category[cat].uss_kb - b_break.by_category[cat].uss_kb
                for cat in smaps.CATEGORIES
            }
            self.result.drift.append(DriftSample(app, pid, b.uss_kb, a.uss_kb, b.pss_kb,
                                                 a.pss_kb, delta))
        self.kill_all()

    def _measure_apps(
        self, launched: list[tuple[str, dict[str, Any]]]
    ) -> dict[int, tuple[ProcessMemory, smaps.Breakdown]]:
        pids = [int(a["pid"]) for _, a in launched]
        listed = {int(e["pid"]): e for e in self.guest.nuwactl("list") if is_app(e)}
        breakdowns = self.guest.breakdowns(pids)
        return {
            pid: (ProcessMemory.from_json(listed[pid]), breakdowns[pid])
            for pid in pids
            if pid in listed and pid in breakdowns
        }

    def timed_launches(self, apps: list[str], with_spare: int, without: int) -> None:
        """Launch and kill, round-robin; with the spare, wait for its refill each time.

        Launches without the spare are spread among the others, so that both see the same
        load on the host (a shared build machine's load drifts over minutes).
        """
        total = with_spare + without
        every = total / without if without else 0.0
        plan = [bool(without) and int(i / every) != int((i + 1) / every) for i in range(total)]
        plan = [not p for p in plan]  # True: with the spare
        for i, spare in enumerate(plan):
            app = apps[i % len(apps)]
            if spare:
                self.wait_spare()
            answer = self.launch(app, spare=spare)
            sample = LaunchSample(app, float(answer["launch_ms"]), spare, _fork_ms(answer))
            (self.result.launches if spare else self.result.launches_no_spare).append(sample)
            self.guest.nuwactl("kill", str(answer["pid"]))
            self.progress.step(f"{self.mode}: timed launches", i + 1, total)

    def fill(self, apps: list[str]) -> None:
        """Launch round-robin until the low-memory killer first fires.

        Each app is frozen (SIGSTOP) once measured, as a cached-app freezer would: dozens of
        apps doing periodic work would otherwise saturate the emulated CPU and make every
        later launch slow, while freezing changes no page of their memory. The killer only
        acts below its threshold, so the wait for its tick is only needed once MemAvailable
        comes within two launches' worth of it.
        """
        stats = self.guest.nuwactl("stats")
        kills_at_start = int(stats.get("lmk_kills", 0))
        last_available = int(stats["mem_available_kb"])
        largest_drop = 0
        for n in range(1, self.plan.fill_limit + 1):
            app = apps[(n - 1) % len(apps)]
            try:
                pid = int(self.launch(app)["pid"])
            except NuwaError as e:
                self.result.notes.append(f"fill: launch {n} ({app}) failed: {e}")
                self.result.apps_until_lmk = n - 1
                break
            stats = self.guest.nuwactl("stats")
            available = int(stats["mem_available_kb"])
            threshold = self.result.lmk_threshold_kb
            if threshold <= 0 or available - 2 * largest_drop <= threshold \
                    or int(stats.get("lmk_kills", 0)) > kills_at_start:
                time.sleep(self.plan.lmk_wait_seconds)
                stats = self.guest.nuwactl("stats")
                available = int(stats["mem_available_kb"])
            largest_drop = max(largest_drop, last_available - available)
            last_available = available
            running = [a for a in stats.get("apps", []) if is_app(a)]
            kills = int(stats.get("lmk_kills", 0)) - kills_at_start
            self.result.fill.append(FillPoint(
                n_apps=len(running), app=app,
                mem_available_kb=available,
                apps_uss_kb=sum(int(a["uss_kb"]) for a in running),
                apps_pss_kb=sum(int(a["pss_kb"]) for a in running),
                lmk_kills=kills,
                template_pss_kb=self._template_pss(stats),
            ))
            self.progress.step(f"{self.mode}: filling until the first low-memory kill", n,
                               self.plan.fill_limit)
            if kills > 0:
                # the n-th launch made the killer fire: n - 1 apps ran without a kill
                self.result.apps_until_lmk = n - 1
                self.result.lmk_reached = True
                self.say(f"first low-memory kill at app {n}")
                break
            self.guest.sh(f"kill -STOP {pid} 2>/dev/null; true")
        else:
            self.result.apps_until_lmk = self.plan.fill_limit
            self.result.notes.append(
                f"no low-memory kill within {self.plan.fill_limit} apps (a lower bound)")
        self.kill_all()

    def _template_pss(self, stats: dict[str, Any]) -> int:
        if self.mode != "template":
            return 0
        return sum(int(stats[k]["pss_kb"]) for k in ("template", "spare") if stats.get(k))

    def run(self, apps: list[str]) -> ModeResult:
        """Every phase; a phase that fails is noted in errors and the next one still runs
        (a dead guest makes the rest fail quickly), so what was measured is reported."""
        phases = [("idle", self.idle), ("apps and drift", lambda: self.apps_and_drift(apps)),
                  ("launches", lambda: self._launches(apps)), ("fill", lambda: self.fill(apps))]
        for name, phase in phases:
            try:
                phase()
            except NuwaError as e:
                self.result.errors.append(f"{name}: {e}")
                self.say(f"{name} failed: {e}")
                try:
                    self.kill_all()
                except NuwaError:
                    pass  # reported above; the next phase will say if the guest is gone
        return self.result

    def _launches(self, apps: list[str]) -> None:
        without = self.plan.launches_no_spare if self.mode == "template" else 0
        self.timed_launches(apps, self.plan.launches, without)
