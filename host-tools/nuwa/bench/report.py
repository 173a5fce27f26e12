"""Write a bench run's report directory (report.json, report.md, plots) atomically."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nuwa.bench import tables
from nuwa.bench.goals import GoalCheck, check_goals
from nuwa.bench.plots import write_plots
from nuwa.bench.results import ModeResult
from nuwa.bench.summary import summarize

FORMAT = 1


def build_report(results: dict[str, ModeResult], meta: dict[str, Any]) -> dict[str, Any]:
    """The content of report.json: summary, goal checks, and every raw measurement."""
    summary = summarize(results)
    return {
        "format": FORMAT,
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        **meta,
        "summary": summary,
        "goals": [g.to_dict() for g in check_goals(summary)],
        "modes": {m: r.to_dict() for m, r in results.items()},
    }


def summary_table(report: dict[str, Any]) -> str:
    return tables.markdown(["figure", "template", "exec", "template ÷ exec"],
                           tables.summary_rows(report["summary"]))


def error_lines(results: dict[str, ModeResult]) -> list[str]:
    errors = [f"- {m}: {e}" for m, r in results.items() for e in r.errors]
    if not errors:
        return []
    return ["## Errors: this run is incomplete", "", *errors, ""]


def render_markdown(report: dict[str, Any], results: dict[str, ModeResult]) -> str:
    s = report["summary"]
    goals = [GoalCheck(**g) for g in report["goals"]]
    missed = [g for g in goals if g.met is False]
    parts = [
        "# Nuwa bench: template versus exec",
        "",
        f"Created {report['created']} by `{report.get('command', 'nuwa bench')}` "
        f"on {report.get('target', {}).get('description', 'unknown target')}.",
        "Ratios are template ÷ exec, both measured in this run; latencies are medians. "
        "Memory is in KiB (USS/PSS/RSS from smaps).",
        "",
        *error_lines(results),
        "## Summary",
        "",
        summary_table(report),
        "",
        "## Goals",
        "",
        (f"{len(missed)} of {len(goals)} goals missed; the table says why."
         if missed else "Every measured goal is met."),
        "",
        tables.markdown(["figure", "goal", "measured", "verdict", "why (when missed)"],
                        tables.goal_rows(goals)),
        "",
        "## Where the memory is (mean per app, USS by mapping category)",
        "",
        tables.markdown(["category", "template", "exec", "saved per app"],
                        tables.category_rows(s)),
        "",
        "## Written pages of shared libraries (mean per app, USS)",
        "",
        tables.markdown(["library", "template", "exec"], tables.library_rows(results)),
        "",
        "## Apps (USS/PSS/RSS KiB, launch)",
        "",
        tables.markdown(["app", "template", "launch", "exec", "launch"],
                        tables.per_app_rows(results)),
        "",
        "## Fixed overhead (USS/PSS/RSS KiB, no app running)",
        "",
        tables.markdown(["process", "template mode", "exec mode"], tables.overhead_rows(results)),
        "",
        "## MemAvailable while filling the guest round-robin",
        "",
        tables.markdown(["apps", "template", "exec"], tables.fill_rows(results)),
        "",
        "## USS drift",
        "",
        tables.markdown(["mode", "app", "USS before", "USS after", "drift", "grew most"],
                        tables.drift_rows(results)),
        "",
        "## Plots",
        "",
    ]
    parts += [f"![{p}]({p})" for p in report.get("plots", [])]
    notes = [f"- {m}: {n}" for m, r in results.items() for n in r.notes]
    if notes:
        parts += ["", "## Notes", "", *notes]
    return "\n".join(parts) + "\n"


def write_report_dir(out: Path, results: dict[str, ModeResult], meta: dict[str, Any]) -> dict:
    """Write everything into a temporary sibling of out, then rename it into place.

    A reader never sees a half-written report; an existing out is replaced only at the end.
    """
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        report = build_report(results, meta)
        report["plots"] = write_plots(results, tmp)
        (tmp / "report.json").write_text(json.dumps(report, indent=2) + "\n")
        (tmp / "report.md").write_text(render_markdown(report, results))
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
