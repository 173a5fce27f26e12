"""Python apps until the first low-memory kill, and the Python template's cost and
break-even (`nuwa py-bench --fill`, docs/measurement.md).

The C bench's machinery on the Python apps: a fresh guest per mode prepared by
bench.sessions (the device's nuwad with the killer on; exec mode `template = off`),
bench.runner's one-of-each and round-robin fill phases, bench.summary's ratios and
break-even. What differs is whose template is measured: the Python framework's
(`stats` → `frameworks`), not the default one's, and the first-use Python template is
started (and its spare forked) before anything is measured.
"""
from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from .bench import summary as bench_summary
from .bench.plan import QUICK, Plan
from .bench.progress import Progress
from .bench.results import EXEC, TEMPLATE, ModeResult, ProcessMemory
from .bench.runner import ModeRunner
from .errors import NuwaError
from .py_bench import APPS

FRAMEWORK = "python"
FILL_MODES = (TEMPLATE, EXEC)
# The quick plan's fill (apps age 30 s before they are frozen), no drift checkpoints: the
# drift of Python apps is py-bench's own 10-minute run.
FILL_PLAN = replace(QUICK, drift_checkpoints=())
READY_TIMEOUT = 300.0


def framework_entry(answer: Any, name: str = FRAMEWORK) -> dict[str, Any] | None:
    """The `frameworks` object of framework NAME in a `stats` or `template-status` answer."""
    if not isinstance(answer, dict):
        return None
    for fw in answer.get("frameworks") or []:
        if isinstance(fw, dict) and fw.get("framework") == name:
            return fw
    return None


def framework_ready(status: Any, name: str = FRAMEWORK) -> bool:
    """template-status: framework NAME's template is ready and its spare forked (if on)."""
    fw = framework_entry(status, name)
    if not fw or fw.get("state") != "ready":
        return False
    return fw.get("spare_pid") is not None or not fw.get("spare_enabled", True)


def _memory(entry: Any) -> ProcessMemory | None:
    if not isinstance(entry, dict) or entry.get("pid") in (None, 0):
        return None
    return ProcessMemory.from_json(entry)


class PyModeRunner(ModeRunner):
    """ModeRunner whose template and spare are the Python framework's."""

    def wait_spare(self) -> None:
        if self.mode != TEMPLATE:
            return
        deadline = self.clock() + READY_TIMEOUT
        while True:
            status = self.guest.nuwactl("template-status")
            if framework_ready(status):
                return
            if self.clock() > deadline:
                raise NuwaError(f"the {FRAMEWORK} template is not ready after "
                                f"{READY_TIMEOUT:.0f} s: {framework_entry(status)}")
            self.sleep(1)

    def start_template(self) -> None:
        """A first-use template starts at the first launch (which, with `fallback = exec`,
        runs in exec mode meanwhile): launch one app, end it, wait for template and spare."""
        if self.mode != TEMPLATE:
            return
        if not framework_ready(self.guest.nuwactl("template-status")):
            self.say(f"starting the {FRAMEWORK} template (first use)")
            self.launch(APPS[0])
            self.kill_all()
        self.wait_spare()

    def idle(self) -> None:
        self.start_template()
        stats = self.guest.nuwactl("stats")
        self.result.mem_total_kb = int(stats["mem_total_kb"])
        self.result.idle_mem_available_kb = int(stats["mem_available_kb"])
        fw = framework_entry(stats) or {}
        self.result.overhead = {"nuwad": _memory(stats.get("nuwad")),
                                "template": _memory(fw.get("template")),
                                "spare": _memory(fw.get("spare"))}
        pids = {k: p.pid for k, p in self.result.overhead.items() if p is not None}
        found = self.guest.breakdowns(list(pids.values()))
        self.result.overhead_breakdown = {
            k: found[pid].to_dict() for k, pid in pids.items() if pid in found}
        held = [k for k in ("template", "spare") if self.result.overhead.get(k)]
        self.result.ran["processes_at_idle"] = ["nuwad", *held]
        self.say(f"idle: MemAvailable {self.result.idle_mem_available_kb} KiB, "
                 f"{FRAMEWORK} template and spare: {', '.join(held) or 'none'}")
        if self.mode == TEMPLATE and "template" not in held:
            raise NuwaError(f"no {FRAMEWORK} template running in template mode")
        if self.mode != TEMPLATE and held:
            raise NuwaError(f"this {self.mode} guest runs the {FRAMEWORK} {' and '.join(held)}"
                            " although its nuwad was started with template = off")

    def _template_pss(self, stats: dict[str, Any]) -> int:
        if self.mode != TEMPLATE:
            return 0
        fw = framework_entry(stats) or {}
        return sum(int(fw[k]["pss_kb"]) for k in ("template", "spare")
                   if isinstance(fw.get(k), dict))

    def run_fill(self) -> ModeResult:
        """idle (the template's cost), one of each app (per-app USS), the fill."""
        apps = list(APPS)
        for name, phase in (("idle", self.idle), ("apps", lambda: self.apps_and_drift(apps)),
                            ("fill", lambda: self.fill(apps))):
            try:
                phase()
            except Exception as e:  # noqa: BLE001 - what was measured is still reported
                self.result.errors.append(f"{name}: {e}")
                self.say(f"{name} failed: {e}")
                try:
                    self.kill_all()
                except Exception:  # noqa: BLE001
                    pass
        return self.result


def measure_fill(board: str, url: str | None, mem: int | None, progress: Progress,
                 plan: Plan = FILL_PLAN, accept_new_host_key: bool = False
                 ) -> dict[str, ModeResult]:
    """Each mode on its own fresh guest (or the board at URL); a mode that fails to boot or
    prepare is recorded in its errors."""
    from .bench.sessions import mode_session  # QEMU/SSH drivers: only when measuring

    results: dict[str, ModeResult] = {}
    for mode in FILL_MODES:
        progress(f"{mode}: {'connecting to' if url else 'booting'} the target")
        started = time.monotonic()
        try:
            with mode_session(board, mode, url, mem,
                              accept_new_host_key=accept_new_host_key) as session:
                runner = PyModeRunner(session.guest, mode, plan, progress)
                runner.result.lmk_threshold_kb = session.lmk_threshold_kb
                runner.result.ran = dict(session.ran)
                runner.result.notes.append(f"low-memory killer threshold "
                                           f"{session.lmk_threshold_kb} KiB ({session.lmk_source})")
                results[mode] = runner.run_fill()
        except Exception as e:  # noqa: BLE001 - the other mode's result must survive
            results[mode] = ModeResult(mode=mode, errors=[f"guest: {e}"])
            progress(f"{mode}: failed: {e}")
        progress(f"{mode}: done in {time.monotonic() - started:.0f} s")
    return results


def _kb(v: float | None) -> str:
    return "-" if v is None else f"{v:.0f} kB"


def _ratio(v: float | None, digits: int = 2) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def render_fill(results: dict[str, ModeResult], command: str, note: str = "") -> str:
    """Markdown for docs/benchmarks.md: apps before the first kill per mode and their ratio
    (target ≥ 3.0), per-app USS/PSS, the Python template's cost and break-even."""
    s = bench_summary.summarize(results)
    out = [f"Command: `{command}`", ""]
    if note:
        out += [note, ""]
    out += ["| mode | apps before the first low-memory kill | per-app USS | per-app PSS "
            "| MemAvailable at idle | killer threshold |", "|---|---|---|---|---|---|"]
    for mode in FILL_MODES:
        r = results.get(mode, ModeResult(mode=mode))
        n = r.apps_until_lmk
        count = "-" if n is None else (f"{n}" if r.lmk_reached or n == 0 else f"≥ {n} (no kill)")
        out.append(f"| {mode} | {count} | {_kb(s['per_app_uss_kb'].get(mode))} | "
                   f"{_kb(s['per_app_pss_kb'].get(mode))} | {r.idle_mem_available_kb} kB | "
                   f"{r.lmk_threshold_kb} kB |")
    lmk = s.get("lmk_ratio")
    verdict = "-" if lmk is None else ("met" if lmk >= 3.0 else "missed")
    out += ["", f"Apps before the first low-memory kill, template ÷ exec: **{_ratio(lmk)}** "
            f"(target ≥ 3.0: {verdict}); per-app USS template ÷ exec {_ratio(s['uss_ratio'])}, "
            f"saving {_kb(s['per_app_uss_saving_kb'])} per app."]
    costs = s["template_costs"]
    parts = []
    for key in ("uss_kb", "pss_kb"):
        c = costs[key]
        be = c["break_even_apps"]
        parts.append(f"{c['method']}: {_kb(c['kb'])}, break-even "
                     f"{'never' if be is None and c['kb'] is not None else be} apps")
    out.append(f"Python template cost: {'; '.join(parts)}.")
    for mode in FILL_MODES:
        r = results.get(mode)
        if r is None:
            continue
        for line in r.notes + [f"error: {e}" for e in r.errors]:
            out.append(f"- {mode}: {line}")
    return "\n".join(out) + "\n"


def fill_errors(results: dict[str, ModeResult]) -> list[str]:
    return [f"{m}: {e}" for m, r in results.items() for e in r.errors]
