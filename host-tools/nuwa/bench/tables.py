"""The bench's tables as rows, rendered as Markdown (report.md and the terminal)."""
from __future__ import annotations

from typing import Any

from nuwa.bench import stats
from nuwa.bench.goals import CATEGORY_NAMES, GoalCheck
from nuwa.bench.results import ModeResult
from nuwa.bench.smaps import CATEGORIES
from nuwa.bench.summary_types import ForkFigures, Summary, need, view

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


def _modes(s: Summary | dict[str, Any]) -> list[str]:
    return view(s).modes


def summary_rows(summary: Summary | dict[str, Any]) -> list[Row]:
    """figure | each mode | template ÷ exec (the fair baseline)."""
    s = view(summary)
    modes = s.modes
    rows: list[Row] = []

    def row(label: str, values: dict[str, Any], unit: str, digits: int = 0,
            ratio: bool = True) -> None:
        t, e = values.get("template"), values.get("exec")
        rows.append([label, *(fmt(values.get(m), unit, digits) for m in modes),
                     _ratio(t, e) if ratio else "-"])

    for label, key, values in (("per-app USS (mean)", "per_app_uss_kb", s.per_app_uss_kb),
                               ("per-app PSS (mean)", "per_app_pss_kb", s.per_app_pss_kb),
                               ("per-app RSS (mean)", "per_app_rss_kb", s.per_app_rss_kb)):
        row(label, need(values, key), " KiB")
    if s.per_app_uss_converged_kb is not None:
        secs = s.ksm.seconds if s.ksm else None
        row(f"per-app USS after {fmt(secs)} s (mean)", s.per_app_uss_converged_kb, " KiB")
    for label, key, described, stat in (
            ("launch, median", "launch_ms", s.launch_ms, "median"),
            ("launch, p95", "launch_ms", s.launch_ms, "p95"),
            ("launch without spare, median", "launch_no_spare_ms", s.launch_no_spare_ms,
             "median")):
        row(label, {m: getattr(d, stat) for m, d in need(described, key).items()}, " ms", 1)
    fork = s.fork or ForkFigures()
    rows.append(["fork() in the template / raw fork(), median",
                 fmt(fork.fork_ms.median, " ms", 2) + " / "
                 + fmt(fork.raw_fork_ms.median, " ms", 2),
                 *["-"] * (len(modes) - 1), fmt(fork.fork_vs_raw_ratio, "×", 2)
                 + " (fork ÷ raw)"])
    lmk, reached = need(s.apps_until_lmk, "apps_until_lmk"), need(s.lmk_reached, "lmk_reached")
    rows.append([
        "apps before the first low-memory kill",
        *(fmt(lmk.get(m)) + ("" if reached.get(m, True) else " (no kill)") for m in modes),
        _ratio(lmk.get("template"), lmk.get("exec")),
    ])
    for c in (s.template_costs or {}).values():
        rows.append([f"template cost: {c.method}", fmt(c.kb, " KiB"),
                     *["-"] * (len(modes) - 1), f"break-even {fmt(c.break_even_apps)} apps"])
    drift = need(s.uss_drift, "uss_drift")
    seconds = need(s.drift_seconds, "drift_seconds")
    rows.append([
        f"USS drift, median over {fmt(seconds.get('template'))} s",
        *(_pct(drift[m].median if m in drift else None) for m in modes), "-",
    ])
    return rows


def spread_rows(summary: Summary | dict[str, Any]) -> list[Row]:
    """figure | median | min–max | per repeat (only with --repeat > 1)."""
    rows = []
    for key, sp in (view(summary).spread or {}).items():
        values = ", ".join(fmt(v, "", 2) if isinstance(v, float) else fmt(v)
                           for v in sp.values)
        rows.append([key, fmt(sp.median, "", 2),
                     f"{fmt(sp.min, '', 2)}–{fmt(sp.max, '', 2)}", values])
    return rows


def ran_rows(summary: Summary | dict[str, Any]) -> list[Row]:
    """What ran in each guest: nuwad's config, template/spare, KSM."""
    rows = []
    for mode, ran in (view(summary).ran or {}).items():
        if ran is None:
            rows.append([mode, "not measured", "-", "-", "-"])
            continue
        keys = ", ".join(f"{k} = {v}" for k, v in ran.daemon_keys.items())
        ksm = ran.ksm
        rows.append([mode, f"{ran.nuwad_config} ({keys})",
                     f"{ran.template}, spare {'on' if ran.spare_enabled else 'off'}",
                     ", ".join(ran.processes_at_idle) or "-",
                     ", ".join(f"{k} {v}" for k, v in ksm.items()) if ksm else "off"])
    return rows


POOL_NAMES = {"spare": "template, with the spare", "no_spare": "template, without the spare",
              "exec": "exec"}


def latency_by_app_rows(summary: Summary | dict[str, Any]) -> tuple[Row, list[Row]]:
    """Median launch per app (rows) and pool (columns), every mode."""
    by_app = view(summary).launch_by_app_ms
    columns: list[tuple[str, str]] = []
    for mode, pools in (by_app or {}).items():
        for pool in pools:
            columns.append((mode, pool))
    apps = sorted({a for pools in (by_app or {}).values()
                   for per_app in pools.values() for a in per_app})
    header = ["app", *(f"{m}: {POOL_NAMES.get(p, p)}" if m != p else m for m, p in columns)]
    rows = [[app, *(fmt(need(by_app, "launch_by_app_ms")[m][p].get(app), " ms", 1)
                    for m, p in columns)]
            for app in apps]
    return header, rows


def fork_rows(summary: Summary | dict[str, Any]) -> list[Row]:
    f = view(summary).fork or ForkFigures()
    out = []
    for label, d in (("fork() timed by the template (launches without the spare)", f.fork_ms),
                     ("nuwad's fork round trip", f.fork_rtt_ms),
                     ("specialise: request to the spare reading it (launches with it)",
                      f.specialise_ms),
                     (f"raw fork() of a process of {fmt(f.raw_fork_rss_kb)} KiB RSS",
                      f.raw_fork_ms)):
        out.append([label, fmt(d.n), fmt(d.median, " ms", 2),
                    fmt(d.p95, " ms", 2), fmt(d.max, " ms", 2)])
    return out


def drift_series_rows(summary: Summary | dict[str, Any]) -> list[Row]:
    rows = []
    for mode, series in (view(summary).drift_series or {}).items():
        for t, v in series.items():
            rows.append([mode, t, fmt(v.uss_kb, " KiB"), fmt(v.pss_kb, " KiB"),
                         _pct(v.drift_median), _pct(v.drift_max)])
    return rows


def ksm_rows(summary: Summary | dict[str, Any]) -> list[Row]:
    ksm = view(summary).ksm
    return [[fmt(k.seconds), fmt(k.pages_shared), fmt(k.pages_sharing),
             fmt(k.pages_unshared), fmt(k.full_scans), fmt(k.ksmd_cpu_s, " s", 2)]
            for k in (ksm.series if ksm else [])]


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x * 100:+.1f} %"


def goal_rows(goals: list[GoalCheck]) -> list[Row]:
    verdict = {True: "met", False: "**MISSED**", None: "not measured"}
    return [[g.figure, g.goal, g.measured, g.verdict or verdict[g.met], g.why] for g in goals]



def category_rows(summary: Summary | dict[str, Any]) -> list[Row]:
    """Mean per-app USS per mapping category: where template mode saves."""
    s = view(summary)
    cats = need(s.category_uss_kb, "category_uss_kb")
    rows = []
    for cat in CATEGORIES:
        values = {m: (cats.get(m) or {}).get(cat) for m in s.modes}
        t, e = values.get("template"), values.get("exec")
        saving = None if t is None or e is None else e - t
        rows.append([CATEGORY_NAMES[cat], *(fmt(values[m], " KiB") for m in s.modes),
                     fmt(saving, " KiB")])
    return rows


def per_app_rows(results: dict[str, ModeResult]) -> list[Row]:
    names = sorted({a.app for r in results.values() for a in r.apps})
    rows = []
    for name in names:
        row = [name]
        for mode in results:
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
        for mode in results:
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
        [str(n), *(fmt(v.get(m), " KiB") for m in results)]
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

    m = {mode: means(r) for mode, r in results.items()}
    e = m.get("exec", {})
    paths = sorted(set().union(*m.values()), key=lambda p: -e.get(p, 0.0))[:limit]
    return [[p, *(fmt(m[mode].get(p, 0.0), " KiB") for mode in results)] for p in paths]


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
