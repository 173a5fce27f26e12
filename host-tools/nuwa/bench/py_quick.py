"""The Python apps' quick comparison of `nuwa demo`: py-bench's launches and memory phases
with a couple of launches per app and mode and no drift run, printed as one small table."""
from __future__ import annotations

import statistics
from collections.abc import Callable

from ..target import Target
from .py_bench import APPS, Figures, PyBench

QUICK_RUNS = 2  # launches per app and mode: make demo's time budget


def measure_quick(t: Target, say: Callable[[str], None], runs: int = QUICK_RUNS) -> Figures:
    """py-bench's private nuwads on T: timed launches, then the four apps' memory per mode."""
    bench = PyBench(t, runs=runs, drift_s=0)
    say("python: starting py-bench's private nuwads (their Python templates)")
    bench.start()
    try:
        say(f"python: {runs} launches per app and mode ({len(APPS)} apps, template and exec)")
        bench.launches()
        say("python: the four apps running together, per mode: USS/PSS")
        bench.memory()
    finally:
        bench.stop()
    return bench.f


def _median(xs: list[float]) -> float | None:
    return statistics.median(xs) if xs else None


def _ms(v: float | None) -> str:
    return "-" if v is None else f"{v:.0f} ms"


def _ratio(a: float | None, b: float | None, digits: int) -> str:
    return "-" if a is None or not b else f"{a / b:.{digits}f}"


def quick_table(f: Figures) -> str:
    """Template versus exec per Python app: launch median, USS, and their ratios; a last
    row over all apps (launch median of every launch, mean USS)."""
    mem = {m: {str(r["app"]): int(r["uss_kb"]) for r in f.memory.get(m, [])}
           for m in ("template", "exec")}
    head = ("| Python app | launch template | launch exec | ratio | USS template | USS exec "
            "| ratio |")
    out = [head, "|---|---|---|---|---|---|---|"]
    for app in APPS:
        lt = _median(f.launch_ms.get((app, "template"), []))
        le = _median(f.launch_ms.get((app, "exec"), []))
        ut, ue = mem["template"].get(app), mem["exec"].get(app)
        out.append(f"| {app} | {_ms(lt)} | {_ms(le)} | {_ratio(lt, le, 3)} | "
                   f"{'-' if ut is None else f'{ut} kB'} | {'-' if ue is None else f'{ue} kB'} "
                   f"| {_ratio(ut, ue, 2)} |")
    lt = _median([x for a in APPS for x in f.launch_ms.get((a, "template"), [])])
    le = _median([x for a in APPS for x in f.launch_ms.get((a, "exec"), [])])
    ut_all = [mem["template"][a] for a in APPS if a in mem["template"]]
    ue_all = [mem["exec"][a] for a in APPS if a in mem["exec"]]
    ut = statistics.mean(ut_all) if ut_all else None
    ue = statistics.mean(ue_all) if ue_all else None
    out.append(f"| all | {_ms(lt)} | {_ms(le)} | {_ratio(lt, le, 3)} | "
               f"{'-' if ut is None else f'{ut:.0f} kB'} | {'-' if ue is None else f'{ue:.0f} kB'}"
               f" | {_ratio(ut, ue, 2)} |")
    return "\n".join(out) + "\n"
