"""The measurement phases of one mode on one booted guest."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from nuwa.bench import busy, ksm, platforms, pressure, pressure_psi, smaps
from nuwa.bench.guest import Guest, parse_json
from nuwa.bench.plan import NO_SPARE, SPARE, Plan, launch_plan, pools_for
from nuwa.bench.progress import Progress
from nuwa.bench.results import (
    EXEC_KSM,
    TEMPLATE,
    AppSample,
    DriftPoint,
    DriftSample,
    FillPoint,
    LaunchSample,
    ModeResult,
    ProcessMemory,
    launch_mode,
)
from nuwa.errors import NuwaError

RAW_FORK = "/usr/libexec/nuwa/nuwa-raw-fork"
# `nuwa bench --phases`: what each phase is called there (idle always runs)
PHASE_KEYS = ("raw-fork", "apps", "launches", "fill", "busy", "pressure", "pressure-psi")
# phases only run when named in --phases (not part of the full run)
ON_REQUEST = ("pressure-psi",)
# The first start of a first-use template (CPython's start-up under TCG) and its spare.
START_TIMEOUT = 300.0


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


def _ms(answer: dict[str, Any], key: str) -> float | None:
    value = answer.get(key)
    return None if value is None else float(value)


class ModeRunner:
    """Runs every phase for one bench mode; the guest was booted for this mode alone."""

    def __init__(self, guest: Guest, mode: str, plan: Plan, progress: Progress,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep,
                 raw_fork_cmd: str = RAW_FORK, only: set[str] | None = None,
                 framework: str = platforms.DEFAULT_FRAMEWORK) -> None:
        self.guest = guest
        # the platform's framework: its template and spare are the ones measured and waited
        # for (also by the phases that restart nuwad: they wait through the guest, run()
        # tells it)
        self.framework = framework
        self.mode = mode
        self.launch_mode = launch_mode(mode)
        self.plan = plan
        self.progress = progress
        self.clock = clock
        self.sleep = sleep
        self.raw_fork_cmd = raw_fork_cmd
        self.only = only  # PHASE_KEYS to run besides idle; None: all
        self.result = ModeResult(mode=mode, drift_seconds=max(plan.drift_checkpoints,
                                                              default=plan.drift_seconds))

    def say(self, message: str) -> None:
        self.progress(f"{self.mode}: {message}")

    # -- helpers ---------------------------------------------------------------------------
    def launch(self, app: str, spare: bool = True) -> dict[str, Any]:
        answer = self.guest.nuwactl(*_launch_args(app, self.launch_mode, spare))
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
        deadline = self.clock() + self.guest.timeout
        while (left := self._app_pids()) and self.clock() < deadline:
            self.sleep(0.5)
        if left:
            raise NuwaError(f"apps still running after SIGKILL: {left}")

    def _app_pids(self) -> list[int]:
        return [int(a["pid"]) for a in self.guest.nuwactl("list") if is_app(a)]

    def wait_spare(self) -> None:
        if self.mode == TEMPLATE:
            self.guest.wait_ready(timeout=30, need_template=True)

    # -- phases ----------------------------------------------------------------------------
    def idle(self) -> None:
        """MemAvailable and the fixed overhead with no app running: nuwad, and the
        platform's template and spare (a first-use one is started first: its cost is what
        template mode pays once it runs)."""
        if self.mode == TEMPLATE:
            self.guest.wait_ready(START_TIMEOUT, need_template=True)
        stats = self.guest.nuwactl("stats")
        self.result.mem_total_kb = int(stats["mem_total_kb"])
        self.result.idle_mem_available_kb = int(stats["mem_available_kb"])
        mine = platforms.framework_memory(stats, self.framework)
        self.result.overhead = {"nuwad": _memory(stats.get("nuwad")),
                                "template": _memory(mine["template"]),
                                "spare": _memory(mine["spare"])}
        pids = {k: p.pid for k, p in self.result.overhead.items() if p is not None}
        found = self.guest.breakdowns(list(pids.values()))
        self.result.overhead_breakdown = {
            k: found[pid].to_dict() for k, pid in pids.items() if pid in found
        }
        held = [k for k in ("template", "spare") if self.result.overhead.get(k)]
        extra = self._other_templates(stats)
        others = list(extra)
        self.result.overhead.update(extra)
        self.result.ran["framework"] = self.framework
        self.result.ran["processes_at_idle"] = ["nuwad", *held, *others]
        status = platforms.framework_status(self.guest.nuwactl("template-status"),
                                            self.framework) or {}
        self.result.ran["template"] = status.get("state", self.result.ran.get("template"))
        self.say(f"idle: MemAvailable {self.result.idle_mem_available_kb} KiB; "
                 f"{' and '.join(held) or 'no template'} of framework {self.framework}"
                 + (f"; also running: {', '.join(others)}" if others else ""))
        if self.mode == TEMPLATE and "template" not in held:
            raise NuwaError(f"no template of framework {self.framework} runs in template mode")
        if self.mode != TEMPLATE and (held or others):
            raise NuwaError(f"this {self.mode} guest runs nuwad's "
                            f"{' and '.join([*held, *others])} "
                            "although its nuwad was started with template = off")

    def _other_templates(self, stats: dict[str, Any]) -> dict[str, ProcessMemory]:
        """Templates and spares of the other frameworks that run (template mode of the
        Python platform: the C framework's, started at boot): shown in the fixed overhead
        and paid from the fill's MemAvailable, but not the platform's template cost."""
        out: dict[str, ProcessMemory] = {}
        names = [platforms.DEFAULT_FRAMEWORK] + [
            str(fw.get("framework")) for fw in stats.get("frameworks") or []
            if isinstance(fw, dict) and fw.get("framework") != platforms.DEFAULT_FRAMEWORK]
        for name in names:
            if name == self.framework:
                continue
            mem = platforms.framework_memory(stats, name)
            for k in ("template", "spare"):
                found = _memory(mem[k])
                if found is not None:
                    out[f"{k} of framework {name}"] = found
        return out

    def raw_fork(self) -> None:
        """fork() of a process as large as the template is now (RSS), in this guest."""
        tpl = self.result.overhead.get("template")
        if tpl is None:
            raise NuwaError("no template running: its RSS is unknown")
        out = self.guest.sh(f"{self.raw_fork_cmd} {tpl.rss_kb} {self.plan.raw_forks}")
        answer = parse_json(out, self.raw_fork_cmd)
        self.result.raw_fork = {"target_rss_kb": tpl.rss_kb, "rss_kb": int(answer["rss_kb"]),
                                "fork_ms": [float(v) for v in answer["fork_ms"]]}

    def apps_and_drift(self, apps: list[str]) -> None:
        """Each app once: USS/PSS/RSS and smaps breakdown; again at every drift checkpoint
        (the apps keep running their periodic work); KSM's counters in exec+ksm mode."""
        launched: list[tuple[str, dict[str, Any]]] = []
        for i, app in enumerate(apps, 1):
            self.wait_spare()
            launched.append((app, self.launch(app)))
            self.progress.step(f"{self.mode}: one of each app", i, len(apps))
        self.sleep(self.plan.settle_seconds)
        before = self._measure_apps(launched)
        start = self.clock()
        names = {int(a["pid"]): app for app, a in launched}
        self._drift_point(0.0, names, before)
        for app, answer in launched:
            pid = int(answer["pid"])
            if pid not in before:
                self.result.notes.append(f"{app} (pid {pid}) was gone before it was measured")
                continue
            b, b_break = before[pid]
            self.result.apps.append(AppSample(app, pid, float(answer["launch_ms"]), b.uss_kb,
                                              b.pss_kb, b.rss_kb, b_break.to_dict()))
        after = before
        for checkpoint in self.plan.drift_checkpoints:
            self.say(f"apps running; measured again {checkpoint:.0f} s after the first time")
            self.sleep(max(0.0, start + checkpoint - self.clock()))
            after = self._measure_apps(launched)
            self._drift_point(checkpoint, names, after)
        last = max(self.plan.drift_checkpoints, default=0.0)
        for app, answer in launched:
            pid = int(answer["pid"])
            if pid not in before or pid not in after:
                continue
            (b, b_break), (a, a_break) = before[pid], after[pid]
            delta = {
                cat: a_break.by_category[cat].uss_kb - b_break.by_category[cat].uss_kb
                for cat in smaps.CATEGORIES
            }
            self.result.drift.append(DriftSample(app, pid, b.uss_kb, a.uss_kb, b.pss_kb,
                                                 a.pss_kb, delta))
        self.result.drift_seconds = last
        self.kill_all()

    def _drift_point(self, seconds: float, names: dict[int, str],
                     measured: dict[int, tuple[ProcessMemory, smaps.Breakdown]]) -> None:
        for pid, (mem, breakdown) in measured.items():
            self.result.drift_series.append(DriftPoint(
                seconds, names.get(pid, ""), pid, mem.uss_kb, mem.pss_kb,
                {c: breakdown.by_category[c].uss_kb for c in smaps.CATEGORIES}))
        if self.mode == EXEC_KSM:
            self.result.ksm_series.append(ksm.sample(self.guest, seconds))

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

    def timed_launches(self, apps: list[str]) -> None:
        """The balanced plan: every pool of this mode launches every app equally often.

        Each launched app is killed right after; a launch through the spare first waits for
        the spare's refill, so it never measures a launch that found no spare.
        """
        plan = launch_plan(apps, pools_for(self.launch_mode), self.plan.launches)
        for i, (app, pool) in enumerate(plan, 1):
            if pool == SPARE:
                self.wait_spare()
            answer = self.launch(app, spare=pool != NO_SPARE)
            sample = LaunchSample(app, float(answer["launch_ms"]), bool(answer.get("spare")),
                                  _ms(answer, "fork_ms"), _ms(answer, "fork_rtt_ms"),
                                  _ms(answer, "specialise_ms"), pool,
                                  {str(k): float(v) for k, v in
                                   (answer.get("phases_ms") or {}).items()})
            self.guest.nuwactl("kill", str(answer["pid"]))
            if pool == SPARE and not sample.spare:
                # the spare was gone again (e.g. dropped): not a launch of this pool
                self.result.notes.append(f"timed launch {i} ({app}) found no spare; "
                                         "left out of the with-spare figures")
                continue
            (self.result.launches_no_spare if pool == NO_SPARE
             else self.result.launches).append(sample)
            self.progress.step(f"{self.mode}: timed launches", i, len(plan))

    def fill(self, apps: list[str]) -> None:
        """Launch round-robin until the low-memory killer first fires.

        Honest fill: each app runs its periodic work for the drift period (plan.drift_seconds)
        before it is frozen with SIGSTOP, so it carries its copy-on-write growth (template
        mode) or its merging by ksmd (exec+ksm) as a cached app would. Freezing later keeps
        dozens of apps from saturating the emulated CPU; it changes none of their pages.
        Near the killer's threshold every app still young is given the rest of its drift
        period before the killer is consulted, so a kill is judged on apps that all carry
        their drift. "Near": after a launch, MemAvailable minus what could still come before
        the next check — the next app's largest drop so far (x1.25) and the growth the young
        apps have yet to make (each app's drift growth measured in the apps phase) — is at
        or below the threshold. A kill found with young apps (MemAvailable fell by more than
        predicted) is noted with how many were young.
        """
        drift = self.plan.drift_seconds
        self.result.fill_drift_seconds = drift
        stats = self.guest.nuwactl("stats")
        kills_at_start = int(stats.get("lmk_kills", 0))
        last_available = int(stats["mem_available_kb"])
        largest_drop = 0
        drop_by_app: dict[str, int] = {}  # largest MemAvailable drop a launch of each app made
        growth = self._drift_growth_kb()
        young: list[tuple[int, float, str]] = []  # (pid, launched at, app) of apps not frozen

        def freeze_aged() -> None:
            now = self.clock()
            aged = [pid for pid, t, _ in young if now - t >= drift]
            if aged:
                self.guest.sh(f"kill -STOP {' '.join(map(str, aged))} 2>/dev/null; true")
                young[:] = [y for y in young if y[0] not in aged]

        def still_to_grow() -> int:
            # an app whose growth was not measured: a tenth of its launch's drop
            return sum(growth.get(a, drop_by_app.get(a, largest_drop) // 10)
                       for _, _, a in young)

        for n in range(1, self.plan.fill_limit + 1):
            app = apps[(n - 1) % len(apps)]
            freeze_aged()
            try:
                pid = int(self.launch(app)["pid"])
            except NuwaError as e:
                self.result.notes.append(f"fill: launch {n} ({app}) failed: {e}")
                self.result.apps_until_lmk = n - 1
                break
            young.append((pid, self.clock(), app))
            stats = self.guest.nuwactl("stats")
            available = int(stats["mem_available_kb"])
            drop = last_available - available
            drop_by_app[app] = max(drop_by_app.get(app, 0), drop)
            largest_drop = max(largest_drop, drop)
            threshold = self.result.lmk_threshold_kb
            upcoming = apps[n % len(apps)]
            margin = drop_by_app.get(upcoming, largest_drop) * 5 // 4 + still_to_grow()
            killed = int(stats.get("lmk_kills", 0)) > kills_at_start
            if killed and len(young) > 1:
                self.result.notes.append(
                    f"fill: the first kill came at launch {n} with {len(young) - 1} earlier "
                    f"apps still younger than the drift period ({drift:.0f} s): MemAvailable "
                    "fell faster than predicted")
            if threshold <= 0 or available - margin <= threshold or killed:
                if young:
                    self.sleep(max(0.0, young[-1][1] + drift - self.clock()))
                    freeze_aged()
                self.sleep(self.plan.lmk_wait_seconds)
                stats = self.guest.nuwactl("stats")
                available = int(stats["mem_available_kb"])
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
        else:
            self.result.apps_until_lmk = self.plan.fill_limit
            self.result.notes.append(
                f"no low-memory kill within {self.plan.fill_limit} apps (a lower bound)")
        self.kill_all()

    def _drift_growth_kb(self) -> dict[str, int]:
        """Per app, the most its USS grew in the apps phase (over the longest drift period
        measured, at least the fill's): what a young fill app may still add."""
        out: dict[str, int] = {}
        for d in self.result.drift:
            out[d.app] = max(out.get(d.app, 0), d.uss_after_kb - d.uss_before_kb, 0)
        return out

    def _template_pss(self, stats: dict[str, Any]) -> int:
        if self.mode != TEMPLATE:
            return 0
        mine = platforms.framework_memory(stats, self.framework)
        return sum(int(m["pss_kb"]) for m in mine.values() if isinstance(m, dict))

    def phases(self, apps: list[str]) -> list[tuple[str, Callable[[], None]]]:
        """The phases to run (`idle` always: the others need its figures), in order;
        `only` (PHASE_KEYS) selects some."""
        out: list[tuple[str, Callable[[], None]]] = [("idle", self.idle)]
        chosen: list[tuple[str, str, Callable[[], None]]] = []
        if self.mode == TEMPLATE:
            chosen.append(("raw-fork", "raw fork", self.raw_fork))
        chosen += [("apps", "apps and drift", lambda: self.apps_and_drift(apps)),
                   ("launches", "launches", lambda: self.timed_launches(apps)),
                   ("fill", "fill", lambda: self.fill(apps))]
        if self.plan.busy_apps > 0 and self.plan.busy_launches > 0:
            chosen.append(("busy", "launches under load", lambda: self.busy(apps)))
        if self.plan.pressure_steps > 0:
            chosen.append(("pressure", "pressure", lambda: self.pressure(apps)))
        chosen.append(("pressure-psi", "PSI versus polling", lambda: self.pressure_psi(apps)))
        out += [(name, fn) for key, name, fn in chosen
                if (key in self.only if self.only is not None else key not in ON_REQUEST)]
        return out

    def busy(self, apps: list[str]) -> None:
        """Timed launches beside plan.busy_apps running apps (busy.py)."""
        try:
            busy.BusyRun(self.result, apps, self.plan.busy_apps, self.plan.busy_launches,
                         self.launch, lambda pid: self.guest.nuwactl("kill", str(pid)),
                         self._app_pids, self.wait_spare, self.say).run()
        finally:
            self.kill_all()

    def pressure(self, apps: list[str]) -> None:
        """The pressure scenario's variants (pressure.py), after everything else: it
        restarts nuwad."""
        pressure.PressureRun(self.guest, self.mode, self.result, apps,
                             self.plan.pressure_steps, self.plan.pressure_after_kill,
                             self.plan.pressure_dwell_seconds, self.say, self.clock,
                             self.sleep).run(self.kill_all)

    def pressure_psi(self, apps: list[str]) -> None:
        """PSI versus MemAvailable polling under the same load (pressure_psi.py); restarts
        nuwad."""
        pressure_psi.PsiComparison(self.guest, self.mode, self.result, apps, self.say,
                                   self.sleep).run(self.kill_all)

    def run(self, apps: list[str]) -> ModeResult:
        """Every phase; a phase that fails — whatever the exception — is recorded in errors
        and the next one still runs (a dead guest makes the rest fail quickly), so what was
        measured is reported."""
        self.guest.framework = self.framework
        self.guest.start_app = apps[0] if apps else None  # starts a first-use template
        for name, phase in self.phases(apps):
            try:
                phase()
            except Exception as e:  # noqa: BLE001 - any failure is data, not a crash
                self.result.errors.append(f"{name}: {type(e).__name__}: {e}"
                                          if not isinstance(e, NuwaError) else f"{name}: {e}")
                self.say(f"{name} failed: {e}")
                try:
                    self.kill_all()
                except Exception:  # noqa: BLE001
                    pass  # reported above; the next phase will say if the guest is gone
        return self.result
