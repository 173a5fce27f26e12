"""Python apps until the first low-memory kill, and the Python template's cost and
break-even (`nuwa py-bench --fill`, docs/measurement.md).

A short form of `nuwa bench --platform python` (one repeat, template and exec, the phases
idle, one of each app and the fill of the quick plan): the same sessions (bench.sessions:
the device's nuwad with the killer on; exec mode `template = off`), the same runner with
the Python framework as its platform (bench.runner: the Python template, started at first
use, is the one measured and waited for), the same summary; it prints one table for
docs/benchmarks.md.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from . import summary as bench_summary
from .guest import Guest
from .plan import QUICK, Plan
from .platforms import PYTHON
from .progress import Progress
from .py_bench import APPS
from .results import EXEC, TEMPLATE, ModeResult
from .runner import ModeRunner

FILL_MODES = (TEMPLATE, EXEC)
FILL_PHASES = {"apps", "fill"}  # besides idle
# The quick plan's fill (apps age 30 s before they are frozen), no drift checkpoints: the
# drift of Python apps is py-bench's own 10-minute run.
FILL_PLAN = replace(QUICK, drift_checkpoints=())


def fill_runner(guest: Guest, mode: str, plan: Plan, progress: Progress,
                sleep: Callable[[float], None] = time.sleep) -> ModeRunner:
    """bench.runner's ModeRunner on the Python platform, with py-bench --fill's phases."""
    return ModeRunner(guest, mode, plan, progress, sleep=sleep, only=set(FILL_PHASES),
                      framework=PYTHON.framework)


def measure_fill(board: str, url: str | None, mem: int | None, progress: Progress,
                 plan: Plan = FILL_PLAN, accept_new_host_key: bool = False
                 ) -> dict[str, ModeResult]:
    """Each mode on its own fresh guest (or the board at URL); a mode that fails to boot or
    prepare is recorded in its errors."""
    from .sessions import mode_session  # QEMU/SSH drivers: only when measuring

    results: dict[str, ModeResult] = {}
    for mode in FILL_MODES:
        progress(f"{mode}: {'connecting to' if url else 'booting'} the target")
        started = time.monotonic()
        try:
            with mode_session(board, mode, url, mem,
                              accept_new_host_key=accept_new_host_key) as session:
                runner = fill_runner(session.guest, mode, plan, progress)
                runner.result.lmk_threshold_kb = session.lmk_threshold_kb
                runner.result.ran = dict(session.ran)
                runner.result.notes.append(f"low-memory killer threshold "
                                           f"{session.lmk_threshold_kb} KiB ({session.lmk_source})")
                results[mode] = runner.run(list(APPS))
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
