"""Check the issue's goals against a summary and say why a missed goal was missed.

The explanations are built from the measured breakdown only; nothing here is a fixed figure
except the goals themselves, which are the issue's.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from nuwa.bench.smaps import CATEGORIES
from nuwa.bench.summary_types import EMPTY, Drift, ForkFigures, KsmFigures, Summary, view

CATEGORY_NAMES = {
    "anon_heap": "anonymous memory/heap",
    "lib_written": "written pages of shared libraries",
    "lib_code": "code of shared libraries",
    "stack": "stack",
    "other": "other files",
}


@dataclass
class GoalCheck:
    figure: str
    goal: str
    measured: str
    met: bool | None  # None: not measured
    why: str = ""
    verdict: str = ""  # shown instead of met/MISSED (a figure only to be recorded)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x * 100:.0f} %"


def _kb(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.0f} KiB"


def _median(d: dict[str, Any] | None, mode: str) -> float | None:
    """The median of MODE in a {mode: Described} part (None when not measured)."""
    return (d or {}).get(mode, EMPTY).median


def explain_uss(summary: Summary) -> str:
    """Where template-mode apps' private memory still is, category by category."""
    cats = summary.category_uss_kb or {}
    tpl, exe = cats.get("template", {}), cats.get("exec", {})
    total = sum(v or 0 for v in tpl.values())
    if not total:
        return "no smaps breakdown was measured"
    parts = []
    for cat in sorted(CATEGORIES, key=lambda c: -(tpl.get(c) or 0)):
        t, e = tpl.get(cat) or 0, exe.get(cat) or 0
        if t <= 0 and e <= 0:
            continue
        parts.append(
            f"{CATEGORY_NAMES[cat]} {t:.0f} KiB ({t / total * 100:.0f} %, exec mode {e:.0f} KiB)"
        )
    largest = max(CATEGORIES, key=lambda c: tpl.get(c) or 0)
    why = WHY_PRIVATE.get(largest, "")
    return (
        f"a template-mode app still holds {total:.0f} KiB of private pages per app: "
        + "; ".join(parts)
        + f". The largest part is {CATEGORY_NAMES[largest]}{why}."
    )


WHY_PRIVATE = {
    "anon_heap": ", which the app writes after fork (copy-on-write of pages the template "
                 "built, or memory the app allocates itself)",
    "lib_written": ", which the app writes after fork (copy-on-write of relocated pages)",
    "lib_code": ": library code that only this app maps (its own library, opened after "
                "fork), so no other process shares those pages",
}


def explain_lmk(summary: Summary) -> str:
    pss = summary.per_app_pss_kb or {}
    idle = summary.idle_mem_available_kb or {}
    text = (
        f"each app costs {_kb(pss.get('template'))} PSS in template mode against "
        f"{_kb(pss.get('exec'))} in exec mode; MemAvailable with no app running was "
        f"{_kb(idle.get('template'))} (template mode) and {_kb(idle.get('exec'))} (exec mode), "
        f"the template's own cost being {_kb(summary.template_uss_kb)}"
    )
    if not (summary.lmk_reached or {}).get("template", True):
        text += "; template mode never reached the killer within the run's app limit"
    return text


def _ms(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.1f} ms"


def explain_launch(summary: Summary) -> str:
    launch = summary.launch_ms or {}
    tpl = launch.get("template", EMPTY)
    specialise = (summary.fork or ForkFigures()).specialise_ms
    return (
        f"median launch {_ms(tpl.median)} in template mode (p95 "
        f"{_ms(tpl.p95)}) against {_ms(_median(launch, 'exec'))} in exec "
        f"mode; without the spare {_ms(_median(summary.launch_no_spare_ms, 'template'))}; "
        f"fork {_ms(_median(summary.fork_ms, 'template'))}, specialise "
        f"{_ms(specialise.median)}. "
        "launch_ms runs until the app's ready message, so it includes the app's own "
        "start-up (opening its library, its sandbox, its initial work), which is the same "
        "in both modes and which the template cannot save; on an emulated CPU shared with "
        "other jobs it also varies with load"
    )


def explain_break_even(summary: Summary) -> str:
    costs = summary.template_costs or {}
    others = "; ".join(
        f"{c.method}: {_kb(c.kb)}, break-even {c.break_even_apps}"
        for k, c in costs.items() if k != "uss_kb")
    return (
        f"the template costs {_kb(summary.template_uss_kb)} "
        f"({summary.template_cost_method}) and saves "
        f"{_kb(summary.per_app_uss_saving_kb)} USS per app"
        + (f" (the other costs: {others})" if others else "")
    )


def explain_drift(summary: Summary) -> str:
    d = (summary.uss_drift or {}).get("template", Drift())
    return (
        f"template-mode apps grew by a median {_pct(d.median)} (largest "
        f"{_pct(d.max)}) over {(summary.drift_seconds or {}).get('template')} s: "
        "pages shared with the template are copied when the apps' periodic work writes them"
    )


def explain_vs_ksm(summary: Summary) -> str:
    apps = summary.apps_until_lmk or {}
    k = summary.ksm or KsmFigures()
    conv = summary.per_app_uss_converged_kb or {}
    return (
        f"apps before the first kill: template {apps.get('template')}, exec+ksm "
        f"{apps.get('exec+ksm')}; median launch {_ms(_median(summary.launch_ms, 'template'))}"
        f" against {_ms(_median(summary.launch_ms, 'exec+ksm'))}; per-app USS after "
        f"{k.seconds} s {_kb(conv.get('template'))} against {_kb(conv.get('exec+ksm'))}"
        f" (ksmd merged into {k.pages_shared} pages shared by {k.pages_sharing} "
        f"mappings, {k.ksmd_cpu_s} s of ksmd CPU)"
    )


COST_NAMES = {"uss_kb": "USS", "pss_kb": "PSS", "written_kb": "written pages"}


@dataclass(frozen=True)
class Targets:
    """One platform's goals (its issue's "Measure" table); None: not a goal there."""

    source: str                       # where the targets come from
    uss_ratio: float                  # per-app USS template ÷ fair exec, at most
    lmk_ratio: float                  # apps before the first kill template ÷ exec, at least
    launch_ratio: float               # median launch template ÷ exec, at most
    break_even_apps: int | None       # on USS of template + spare, at most (None: recorded)
    drift: float                      # template-mode USS drift after 600 s, at most
    drift_name: str = ""              # how the drift row names what ran (gc.freeze)
    # a figure the platform's issue asks for that this bench does not measure: (figure, why)
    elsewhere: tuple[tuple[str, str, str], ...] = ()


# issue 10's targets for the C apps
C_TARGETS = Targets("issue 10", uss_ratio=0.30, lmk_ratio=3.0, launch_ratio=0.05,
                    break_even_apps=3, drift=0.25)
# issue 11's targets for the Python apps; template cost and break-even are to be recorded
PYTHON_TARGETS = Targets(
    "issue 11", uss_ratio=0.25, lmk_ratio=3.0, launch_ratio=0.05, break_even_apps=None,
    drift=0.30, drift_name=", with gc.freeze",
    elsewhere=(("template-mode USS drift after 600 s, without gc.freeze", "the same figure",
                "the image's Python template runs gc_freeze=yes; `nuwa py-bench` measures "
                "both side by side (docs/benchmarks.md)"),))
TARGETS = {"c": C_TARGETS, "python": PYTHON_TARGETS}


def _fraction(x: float) -> str:
    return f"{x:.2f}"


def check_goals(summary: Summary | dict[str, Any], platform: str = "c") -> list[GoalCheck]:
    """The platform's goal table (TARGETS: the C apps' of issue 10, the Python apps' of
    issue 11), each row met, missed (with why) or not measured.

    With repeats, summary holds the medians over repeats: the goals are judged on those.
    """
    t = TARGETS[platform]
    s = view(summary)
    checks: list[GoalCheck] = []

    def add(figure: str, goal: str, value: float | None, limit: float, at_most: bool,
            shown: str, why: str) -> None:
        met = None if value is None else (value <= limit if at_most else value >= limit)
        checks.append(GoalCheck(figure, goal, shown, met, "" if met else why))

    uss = s.uss_ratio
    add("per-app USS, template ÷ fair exec", f"≤ {_fraction(t.uss_ratio)}", uss, t.uss_ratio,
        True, _pct(uss), explain_uss(s))

    lmk = s.lmk_ratio
    apps = s.apps_until_lmk or {}
    reached = s.lmk_reached or {}
    shown = f"{apps.get('template')} vs {apps.get('exec')} apps"
    if lmk is not None:
        shown += f" ({lmk:.2f}×)"
    if not reached.get("template", True):
        shown += ", template mode not reached"
    add("apps before the first low-memory kill, template ÷ fair exec",
        f"≥ {t.lmk_ratio:.1f}", lmk, t.lmk_ratio, False, shown, explain_lmk(s))
    if not reached.get("exec", True):
        # no kill in exec mode: there is nothing to compare with
        checks[-1].met, checks[-1].why = None, "exec mode never reached the killer"
    elif not reached.get("template", True) and checks[-1].met is False:
        # template mode ran out of apps to launch, not out of memory: only a lower bound
        checks[-1].met = None
        checks[-1].why = "the ratio is only a lower bound: " + checks[-1].why

    launch = s.launch_ratio
    add("median launch, template ÷ exec", f"≤ {_fraction(t.launch_ratio)}", launch,
        t.launch_ratio, True, _pct(launch), explain_launch(s))

    be = s.break_even_apps
    saving = s.per_app_uss_saving_kb
    if t.break_even_apps is not None:
        add("break-even on USS of template + spare", f"≤ {t.break_even_apps} apps",
            None if be is None else float(be), t.break_even_apps, True,
            "never" if be is None and saving is not None else str(be),
            explain_break_even(s))
        if be is None and saving is not None:
            checks[-1].met = False
    else:
        costs = s.template_costs or {}
        shown = "; ".join(f"{COST_NAMES.get(k, k)} {_kb(c.kb)}: break-even "
                          f"{c.break_even_apps}" for k, c in costs.items())
        measured = s.template_uss_kb is not None
        checks.append(GoalCheck("template cost and break-even (each cost)", "recorded",
                                shown or "n/a", True if measured else None,
                                "" if measured else "no template was measured",
                                verdict="recorded" if measured else ""))

    drift = (s.uss_drift or {}).get("template", Drift()).median
    seconds = (s.drift_seconds or {}).get("template")
    add(f"template-mode USS drift after {seconds} s{t.drift_name} (goal: 600 s)",
        f"≤ {t.drift * 100:.0f} %", drift, t.drift, True, _pct(drift), explain_drift(s))
    for figure, goal, why in t.elsewhere:
        checks.append(GoalCheck(figure, goal, "n/a", None, why))

    vs = s.vs_ksm
    if vs is not None:
        lmk_k, launch_k = vs.lmk_ratio, vs.launch_ratio
        met = None if lmk_k is None or launch_k is None else (lmk_k > 1 and launch_k < 1)
        shown = (f"apps {lmk_k:.2f}×, launch {launch_k:.2f}×"
                 if lmk_k is not None and launch_k is not None else "n/a")
        why = "" if met else explain_vs_ksm(s)
        if met is False and launch_k is not None and launch_k < 1 and not (
                reached.get("template", True) and reached.get("exec+ksm", True)):
            # a mode ran out of apps to launch, not out of memory: no verdict on apps
            met, why = None, "no low-memory kill within the run's app limit: " + why
        checks.append(GoalCheck("template versus exec+ksm",
                                "more apps before the first kill, and faster launches",
                                shown, met, why))
    return checks
