"""Write a bench run's report directory (report.json, report.md, plots) atomically.

Errors never lose data: a section (or plot) that cannot be rendered from what was measured
says so in its place, and the raw measurements are always saved. A report that records
errors never replaces a complete one: it goes to DIR-partial beside it instead.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nuwa.bench import busy, pressure, pressure_psi, tables
from nuwa.bench.goals import TARGETS, GoalCheck, check_goals
from nuwa.bench.phases import phase_tables
from nuwa.bench.platforms import C
from nuwa.bench.plots import write_plots
from nuwa.bench.repeats import aggregate
from nuwa.bench.results import ModeResult
from nuwa.bench.summary import summarize
from nuwa.bench.summary_types import view

FORMAT = 2


@dataclass
class Repeat:
    """One repeat: a guest per mode, in this order."""

    results: dict[str, ModeResult]
    order: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # outside any mode (e.g. a boot)


def _summary(results: dict[str, ModeResult]) -> dict[str, Any]:
    try:
        return summarize(results)
    except Exception as e:  # noqa: BLE001 - the raw data is still saved
        return {"modes": list(results), "errors": {"summary": [f"{type(e).__name__}: {e}"]}}


def run_errors(repeats: list[Repeat]) -> list[str]:
    out = []
    for i, rep in enumerate(repeats, 1):
        prefix = f"repeat {i}: " if len(repeats) > 1 else ""
        out += [f"{prefix}{e}" for e in rep.errors]
        out += [f"{prefix}{m}: {e}" for m, r in rep.results.items() for e in r.errors]
    return out


def build_report(repeats: list[Repeat] | dict[str, ModeResult],
                 meta: dict[str, Any]) -> dict[str, Any]:
    """The content of report.json: summary (medians over repeats), goal checks, and every
    raw measurement of every repeat."""
    if isinstance(repeats, dict):
        repeats = [Repeat(repeats, list(repeats))]
    summaries = [_summary(r.results) for r in repeats]
    summary = aggregate(summaries) if len(summaries) > 1 else {**summaries[0], "repeats": 1}
    platform = dict(meta.get("platform") or C.to_dict())
    summary["platform"] = platform["name"]
    try:
        goals = [g.to_dict() for g in check_goals(summary, platform["name"])]
    except Exception as e:  # noqa: BLE001
        goals = [GoalCheck("goals", "-", "n/a", None, f"not checked: {e}").to_dict()]
    return {
        "format": FORMAT,
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        **meta,
        "platform": platform,
        "summary": summary,
        "goals": goals,
        "errors": run_errors(repeats),
        "modes": {m: r.to_dict() for m, r in repeats[0].results.items()},
        "repeats": [{"order": r.order, "summary": s, "errors": r.errors,
                     "modes": {m: x.to_dict() for m, x in r.results.items()}}
                    for r, s in zip(repeats, summaries, strict=True)],
    }


def summary_table(report: dict[str, Any]) -> str:
    s = view(report["summary"])
    return tables.markdown(["figure", *s.modes, "template ÷ exec"], tables.summary_rows(s))


def error_lines(report: dict[str, Any]) -> list[str]:
    errors = [f"- {e}" for e in report.get("errors", [])]
    if not errors:
        return []
    return ["## Errors: this run is incomplete", "",
            "Every phase after a failure still ran; the tables show what was measured.", "",
            *errors, ""]


def _section(title: str, render: Callable[[], str]) -> list[str]:
    try:
        body = render()
    except Exception as e:  # noqa: BLE001 - a missing figure must not lose the others
        body = f"(not available from what was measured: {type(e).__name__}: {e})"
    return [f"## {title}", "", body, ""]


def render_markdown(report: dict[str, Any], results: dict[str, ModeResult]) -> str:
    s = view(report["summary"])
    goals = [GoalCheck(**g) for g in report["goals"]]
    missed = [g for g in goals if g.met is False]
    modes = list(results)
    n = 1 if s.repeats is None else s.repeats
    platform = report.get("platform") or C.to_dict()
    apps = sorted({a.app for r in results.values() for a in r.apps})
    parts = [
        "# Nuwa bench: template versus exec" + (" and exec+ksm" if "exec+ksm" in modes else "")
        + f" — {platform['title']}",
        "",
        f"Created {report['created']} by `{report.get('command', 'nuwa bench')}` "
        f"on {report.get('target', {}).get('description', 'unknown target')}.",
        f"Platform `{platform['name']}`: the apps of framework `{platform['framework']}`"
        + (f" ({', '.join(apps)})" if apps else "") + "; the template, spare, template cost "
        "and raw fork are that framework's; the goals are "
        f"{TARGETS[platform['name']].source}'s for it.",
        "Ratios are template ÷ exec (exec: a nuwad with `template = off`, no template and no "
        "spare), measured within one repeat; latencies are medians. Memory is in KiB "
        "(USS/PSS/RSS from smaps).",
        (f"{n} repeats (the modes' order alternates): every figure of the summary is the "
         "median over repeats, and the goals are judged on it; the detail tables below are "
         "repeat 1's." if n > 1 else "One repeat."),
        "",
        *error_lines(report),
    ]
    parts += _section("What ran in each guest", lambda: tables.markdown(
        ["mode", "nuwad config", "template", "processes at idle", "KSM"], tables.ran_rows(s)))
    parts += _section("Summary", lambda: summary_table(report))
    if n > 1:
        parts += _section("Spread over repeats", lambda: tables.markdown(
            ["figure", "median", "min–max", "per repeat"], tables.spread_rows(s)))
    parts += _section("Goals", lambda: (
        (f"{len(missed)} of {len(goals)} goals missed; the table says why."
         if missed else "Every measured goal is met.") + "\n\n"
        + tables.markdown(["figure", "goal", "measured", "verdict", "why (when missed)"],
                          tables.goal_rows(goals))))
    parts += _section("Launch latency per app (median per pool; every pool launches every "
                      "app equally often)",
                      lambda: tables.markdown(*tables.latency_by_app_rows(s)))
    parts += _section("Launch phases (median ms per app; each the time since the previous "
                      "mark, nuwactl launch --json phases_ms)", lambda: "\n\n".join(
                          f"{title}\n\n" + tables.markdown(header, rows)
                          for title, header, rows in phase_tables(s.raw)))
    parts += _section("Fork", lambda: tables.markdown(
        ["figure", "n", "median", "p95", "max"], tables.fork_rows(s)))
    parts += _section("Where the memory is (mean per app, USS by mapping category)",
                      lambda: tables.markdown(["category", *modes, "saved per app (exec − "
                                               "template)"], tables.category_rows(s)))
    parts += _section("Written pages of shared libraries (mean per app, USS)",
                      lambda: tables.markdown(["library", *modes],
                                              tables.library_rows(results)))
    parts += _section("Apps (USS/PSS/RSS KiB, launch)", lambda: tables.markdown(
        ["app", *[c for m in modes for c in (m, "launch")]], tables.per_app_rows(results)))
    parts += _section("Fixed overhead (USS/PSS/RSS KiB, no app running)",
                      lambda: tables.markdown(["process", *modes],
                                              tables.overhead_rows(results)))
    parts += _section("MemAvailable while filling the guest round-robin",
                      lambda: tables.markdown(["apps", *modes], tables.fill_rows(results)))
    parts += _section("USS over time (one of each app, mean per app)", lambda: tables.markdown(
        ["mode", "seconds", "USS", "PSS", "drift, median", "drift, max"],
        tables.drift_series_rows(s)))
    parts += _section("USS drift per app", lambda: tables.markdown(
        ["mode", "app", "USS before", "USS after", "drift", "grew most"],
        tables.drift_rows(results)))
    if s.raw.get("launch_under_load"):
        parts += _section("Launch under load (timed launches while other apps run their "
                          "periodic work)", lambda: tables.markdown(busy.HEADER, busy.rows(s.raw)))
    if s.raw.get("pressure"):
        parts += _section("Life under memory pressure (one foreground app at a time, "
                          "opening and switching until the killer acts; killer threshold "
                          "5/8 of MemTotal)", lambda: tables.markdown(pressure.HEADER,
                                                                   pressure.rows(s.raw)))
    if s.raw.get("pressure_psi"):
        parts += _section("Pressure onset to relief, PSI versus MemAvailable polling (the "
                          "same load: a file working set streamed beside apps opened under "
                          "the apps' memory budget; seconds since the load's start)",
                          lambda: tables.markdown(pressure_psi.HEADER, pressure_psi.rows(s.raw)))
    if s.ksm is not None:
        parts += _section("KSM (exec+ksm)", lambda: tables.markdown(
            ["seconds", "pages_shared", "pages_sharing", "pages_unshared", "full_scans",
             "ksmd CPU"], tables.ksm_rows(s)))
    parts += ["## Plots", ""]
    parts += [f"![{p}]({p})" for p in report.get("plots", [])]
    notes = [f"- {m}: {note}" for m, r in results.items() for note in r.notes]
    if notes:
        parts += ["", "## Notes", "", *notes]
    return "\n".join(parts) + "\n"


def is_complete(path: Path) -> bool:
    """A report directory whose report.json records no error."""
    try:
        return not json.loads((path / "report.json").read_text()).get("errors")
    except (OSError, ValueError):
        return False


def write_report_dir(out: Path, repeats: list[Repeat] | dict[str, ModeResult],
                     meta: dict[str, Any]) -> dict:
    """Write everything into a temporary sibling of out, then rename it into place.

    A reader never sees a half-written report. An existing complete report is replaced only
    by a complete one: a report with errors then goes to OUT-partial (report["path"]).
    """
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(repeats, dict):
        repeats = [Repeat(repeats, list(repeats))]
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        report = build_report(repeats, meta)
        try:
            report["plots"] = write_plots(repeats[0].results, tmp)
        except Exception as e:  # noqa: BLE001
            report["plots"] = []
            report["errors"].append(f"plots: {type(e).__name__}: {e}")
        if report["errors"] and out.exists() and is_complete(out):
            out = out.with_name(out.name + "-partial")
        report["path"] = str(out)
        (tmp / "report.json").write_text(json.dumps(report, indent=2) + "\n")
        (tmp / "report.md").write_text(render_markdown(report, repeats[0].results))
        os.chmod(tmp, 0o755)
        old = None
        if out.exists():
            old = out.with_name(f".{out.name}.old-{os.getpid()}")
            os.rename(out, old)
        os.rename(tmp, out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return report
