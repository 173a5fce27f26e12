"""Saved reports render as they did: report.md, the terminal's summary table and the goal
checks of each report.json in data/reports/ equal the outputs saved beside it.

The outputs were made by data/reports/make_golden.py from the code before the summary was
read through bench/summary_types.py; they hold whatever that code printed, errors in a
section's place included. The reports: a failed summary, no exec launches, two repeats with
exec+ksm, one repeat with exec+ksm, an older report lacking the parts added since, and the
Python platform.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from nuwa.bench.goals import check_goals
from nuwa.bench.report import render_markdown, summary_table
from nuwa.bench.results import ModeResult

DATA = Path(__file__).parent / "data" / "reports"
NAMES = ("failed", "noexec", "scripted", "synthetic", "old", "python")


def load(name: str) -> dict:
    return json.loads((DATA / f"report_{name}.json").read_text())


@pytest.mark.parametrize("name", NAMES)
def test_report_md_is_unchanged(name: str) -> None:
    report = load(name)
    results = {m: ModeResult.from_dict(v) for m, v in report["modes"].items()}
    assert render_markdown(report, results) == (DATA / f"report_{name}.md").read_text()


@pytest.mark.parametrize("name", NAMES)
def test_summary_table_is_unchanged(name: str) -> None:
    try:
        table = summary_table(load(name)) + "\n"
    except Exception as e:  # noqa: BLE001 - a summary without its figures fails the same way
        table = f"{type(e).__name__}: {e}\n"
    assert table == (DATA / f"report_{name}.summary.md").read_text()


@pytest.mark.parametrize("name", NAMES)
def test_goal_checks_are_unchanged(name: str) -> None:
    report = load(name)
    platform = (report.get("platform") or {}).get("name", "c")
    goals = [g.to_dict() for g in check_goals(report["summary"], platform)]
    assert goals == json.loads((DATA / f"report_{name}.goals.json").read_text())
