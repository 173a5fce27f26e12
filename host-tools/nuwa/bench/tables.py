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


def _modes(s: dict[str, Any]) -> list[str]:
    return list(s.get("modes") or ["template", "exec"])


def summary_rows(s: dict[str, Any]) -> list[Row]:
    """figure | each mode | template ÷ exec (the fair baseline)."""
    modes = _modes(s)
    rows: list[Row] = []

    def row(label: str, values: dict[str, Any], unit: str, digits: int = 0,
            ratio: bool = True) -> None:
        t, e = values.get("template"), values.get("exec")
        rows.append([label, *(fmt(values.get(m), unit, digits) for m in modes),
                     _ratio(t, e) if ratio else "-"])

    for label, key in (("per-app USS (mean)", "per_app_uss_kb"),
                       ("per-app PSS (mean)", "per_app_pss_kb"),
                       ("per-app RSS (mean)", "per_app_rss_kb")):
        row(label, s[key], " KiB")
    if "per_app_uss_converged_kb" in s:
        secs = s.get("ksm", {}).get("seconds")
        row(f"per-app USS after {fmt(secs)} s (mean)", s["per_app_uss_converged_kb"], " KiB")
    for label, key, stat in (("launch, median", "launch_ms", "median"),
                             ("launch, p95", "launch_ms", "p95"),
                             ("launch without spare, median", "launch_no_spare_ms", "median")):
        row(label, {m: v.get(stat) for m, v in s[key].items() if v}, " ms", 1)
    fork = s.get("fork", {})
    rows.append(["fork() in the template / raw fork(), median",
                 fmt(fork.get("fork_ms", {}).get("median"), " ms", 2) + " / "
                 + fmt(fork.get("raw_fork_ms", {}).get("median"), " ms", 2),
                 *["-"] * (len(modes) - 1), fmt(fork.get("fork_vs_raw_ratio"), "×", 2)
                 + " (fork ÷ raw)"])
    lmk, reached = s["apps_until_lmk"], s["lmk_reached"]
    rows.append([
        "apps before the first low-memory kill",
        *(fmt(lmk.get(m)) + ("" if reached.get(m, True) else " (no kill)") for m in modes),
        _ratio(lmk.get("template"), lmk.get("exec")),
    ])
    for c in s.get("template_costs", {}).values():
        rows.append([f"template cost: {c['method']}", fmt(c["kb"], " KiB"),
                     *["-"] * (len(modes) - 1), f"break-even {fmt(c['break_even_apps'])} apps"])
    drift = s["uss_drift"]
    rows.append([
        f"USS drift, median over {fmt(s['drift_seconds'].get('template'))} s",
        *(_pct(drift.get(m, {}).get("median")) for m in modes), "-",
    ])
    return rows


def spread_rows(s: dict[str, Any]) -> list[Row]:
    """figure | median | min–max | per repeat (only with --repeat > 1)."""
    rows = []
    for key, sp in s.get("spread", {}).items():
        values = ", ".join(fmt(v, "", 2) if isinstance(v, float) else fmt(v)
                           for v in sp["values"])
        rows.append([key, fmt(sp["median"], "", 2),
                     f"{fmt(sp['min'], '', 2)}–{fmt(sp['max'], '', 2)}", values])
    return rows


def ran_rows(s: dict[str, Any]) -> list[Row]:
    """What ran in each guest: nuwad's config, template/spare, KSM."""
    rows = []
    for mode, ran in s.get("ran", {}).items():
        if not ran:
            rows.append([mode, "not measured", "-", "-", "-"])
            continue
        keys = ", ".join(f"{k} = {v}" for k, v in ran.get("daemon_keys", {}).items())
        ksm = ran.get("ksm")
        rows.append([mode, f"{ran.get('nuwad_config')} ({keys})",
                     f"{ran.get('template')}, spare "
                     f"{'on' if ran.get('spare_enabled') else 'off'}",
                     ", ".join(ran.get("processes_at_idle", [])) or "-",
                     ", ".join(f"{k} {v}" for k, v in ksm.items()) if ksm else "off"])
    return rows


POOL_NAMES = {"spare": "template, with the spare", "no_spare": "template, without the spare",
              "exec": "exec"}


def latency_by_app_rows(s: dict[str, Any]) -> tuple[Row, list[Row]]:
    """Median launch per app (rows) and pool (columns), every mode."""
    columns: list[tuple[str, str]] = []
    for mode, pools in s.get("launch_by_app_ms", {}).items():
        for pool in pools:
            columns.append((mode, pool))
    apps = sorted({a for pools in s.get("launch_by_app_ms", {}).values()
                   for per_app in pools.values() for a in per_app})
    header = ["app", *(f"{m}: {POOL_NAMES.get(p, p)}" if m != p else m for m, p in columns)]
    rows = [[app, *(fmt(s["launch_by_app_ms"][m][p].get(app), " ms", 1) for m, p in columns)]
            for app in apps]
    return header, rows


def fork_rows(s: dict[str, Any]) -> list[Row]:
    f = s.get("fork", {})
    out = []
    for label, key in (("fork() timed by the template (launches without the spare)", "fork_ms"),
                       ("nuwad's fork round trip", "fork_rtt_ms"),
                       ("specialise: request to the spare reading it (launches with it)",
                        "specialise_ms"),
                       (f"raw fork() of a process of {fmt(f.get('raw_fork_rss_kb'))} KiB RSS",
                        "raw_fork_ms")):
        d = f.get(key) or {}
        out.append([label, fmt(d.get("n")), fmt(d.get("median"), " ms", 2),
                    fmt(d.get("p95"), " ms", 2), fmt(d.get("max"), " ms", 2)])
    return out


def drift_series_rows(s: dict[str, Any]) -> list[Row]:
    rows = []
    for mode, series in s.get("drift_series", {}).items():
        for t, v in (series or {}).items():
            rows.append([mode, t, fmt(v.get("uss_kb"), " KiB"), fmt(v.get("pss_kb"), " KiB"),
                         _pct(v.get("drift_median")), _pct(v.get("drift_max"))])
    return rows


def ksm_rows(s: dict[str, Any]) -> list[Row]:
    return [[fmt(k["seconds"]), fmt(k["pages_shared"]), fmt(k["pages_sharing"]),
             fmt(k["pages_unshared"]), fmt(k["full_scans"]), fmt(k["ksmd_cpu_s"], " s", 2)]
            for k in s.get("ksm", {}).get("series", [])]


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x * 100:+.1f} %"


def goal_rows(goals: list[GoalCheck]) -> list[Row]:
    verdict = {True: "met", False: "**MISSED**", None: "not measured"}
    return [[g.figure, g.goal, g.measured, g.verdict or verdict[g.met], g.why] for g in goals]



def category_rows(s: dict[str, Any]) -> list[Row]:
    """Mean per-app USS per mapping category: where template mode saves."""
    cats = s["category_uss_kb"]
    rows = []
    for cat in CATEGORIES:
        values = {m: (cats.get(m) or {}).get(cat) for m in _modes(s)}
        t, e = values.get("template"), values.get("exec")
        saving = None if t is None or e is None else e - t
        rows.append([CATEGORY_NAMES[cat], *(fmt(values[m], " KiB") for m in _modes(s)),
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
