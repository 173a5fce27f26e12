"""The bench's tables as rows, rendered as Markdown (report.md and the terminal)."""
from __future__ import annotations

from typing import Any

from nuwa.bench import stats
from nuwa.bench.goals import CATEGORY_NAMES, GoalCheck
from nuwa.bench.results import ModeResult
from nuwa.bench.smaps import CATEGORIES

Row = list[str]


def markdown(header: Row, rows: list[Row]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def fmt(value: Any, unit: str = "", digits: int = 0) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        value = f"{value:.{digits}f}"
    return f"{value}{unit}"


def _ratio(t: float | None, e: float | None) -> str:
    r = stats.ratio(t, e)
    return "n/a" if r is None else f"{r:.2f}"


def summary_rows(s: dict[str, Any]) -> list[Row]:
    """figure | template | exec | template ÷ exec."""
    rows: list[Row] = []
    for label, key in (("per-app USS (mean)", "per_app_uss_kb"),
                       ("per-app PSS (mean)", "per_app_pss_kb"),
                       ("per-app RSS (mean)", "per_app_rss_kb")):
        t, e = s[key]["template"], s[key]["exec"]
        rows.append([label, fmt(t, " KiB"), fmt(e, " KiB"), _ratio(t, e)])
    for label, key, stat in (("launch, median", "launch_ms", "median"),
                             ("launch, p95", "launch_ms", "p95"),
                             ("launch without spare, median", "launch_no_spare_ms", "median"),
                             ("fork, median", "fork_ms", "median")):
        t, e = s[key]["template"][stat], s[key]["exec"][stat]
        rows.append([label, fmt(t, " ms", 1), fmt(e, " ms", 1), _ratio(t, e)])
    lmk, reached = s["apps_until_lmk"], s["lmk_reached"]
    rows.append([
        "apps before the first low-memory kill",
        fmt(lmk["template"]) + ("" if reached["template"] else " (no kill)"),
        fmt(lmk["exec"]) + ("" if reached["exec"] else " (no kill)"),
        _ratio(lmk["template"], lmk["exec"]),
    ])
    rows.append(["template cost (template_uss_kb)", fmt(s["template_uss_kb"], " KiB"), "-", "-"])
    rows.append(["break-even (apps)", fmt(s["break_even_apps"]), "-", "-"])
    drift = s["uss_drift"]
    rows.append([
        f"USS drift, median over {fmt(s['drift_seconds']['template'])} s",
        _pct(drift["template"]["median"]), _pct(drift["exec"]["median"]), "-",
    ])
    return rows


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x * 100:+.1f} %"


def goal_rows(goals: list[GoalCheck]) -> list[Row]:
    verdict = {True: "met", False: "**MISSED**", None: "not measured"}
    return [[g.figure, g.goal, g.measured, verdict[g.met], g.why] for g in goals]



def category_rows(s: dict[str, Any]) -> list[Row]:
    """Mean per-app USS per mapping category: where template mode saves."""
    t_cat, e_cat = s["category_uss_kb"]["template"], s["category_uss_kb"]["exec"]
    rows = []
    for cat in CATEGORIES:
        t, e = t_cat.get(cat), e_cat.get(cat)
        saving = None if t is None or e is None else e - t
        rows.append([CATEGORY_NAMES[cat], fmt(t, " KiB"), fmt(e, " KiB"), fmt(saving, " KiB")])
    return rows


def per_app_rows(results: dict[str, ModeResult]) -> list[Row]:
    names = sorted({a.app for r in results.values() for a in r.apps})
    rows = []
    for name in names:
        row = [name]
        for mode in ("template", "exec"):
            found = [a for a in results[mode].apps if a.app == name]
            if found:
                a = found[0]
                row += [f"{a.uss_kb}/{a.pss_kb}/{a.rss_kb}", fmt(a.launch_ms, " ms", 1)]
            else:
                row += ["n/a", "n/a"]
        rows.append(row)
    return rows


def overhead_rows(results: dict[str, ModeResult]) -> list[Row]:
    keys = sorted({k for r in results.values() for k in r.overhead})
    rows = []
    for key in keys:
        row = [key]
        for mode in ("template", "exec"):
            p = results[mode].overhead.get(key)
            row.append("n/a" if p is None else f"{p.uss_kb}/{p.pss_kb}/{p.rss_kb}")
        rows.append(row)
    return rows


def fill_rows(results: dict[str, ModeResult]) -> list[Row]:
    by_n: dict[int, dict[str, int]] = {}
    for mode, r in results.items():
        for p in r.fill:
            by_n.setdefault(p.n_apps, {})[mode] = p.mem_available_kb
    return [
        [str(n), fmt(v.get("template"), " KiB"), fmt(v.get("exec"), " KiB")]
        for n, v in sorted(by_n.items())
    ]


def library_rows(results: dict[str, ModeResult], limit: int = 12) -> list[Row]:
    """Mean per-app private written pages of each library, largest (exec mode) first."""
    def means(r: ModeResult) -> dict[str, float]:
        sums: dict[str, list[int]] = {}
        for a in r.apps:
            for path, use in a.breakdown.get("lib_written_by_path", {}).items():
                sums.setdefault(path, []).append(use["uss_kb"])
        n = max(len(r.apps), 1)
        return {p: sum(v) / n for p, v in sums.items()}

    t, e = means(results["template"]), means(results["exec"])
    paths = sorted(set(t) | set(e), key=lambda p: -e.get(p, 0.0))[:limit]
    return [[p, fmt(t.get(p, 0.0), " KiB"), fmt(e.get(p, 0.0), " KiB")] for p in paths]


def drift_rows(results: dict[str, ModeResult]) -> list[Row]:
    rows = []
    for mode, r in results.items():
        for d in r.drift:
            change = stats.drift(d.uss_before_kb, d.uss_after_kb)
            grew = sorted(d.category_delta_kb.items(), key=lambda kv: -kv[1])[:2]
            where = ", ".join(f"{CATEGORY_NAMES.get(k, k)} {v:+d} KiB" for k, v in grew if v)
            rows.append([mode, d.app, str(d.uss_before_kb), str(d.uss_after_kb),
                         _pct(change), where or "-"])
    return rows
