"""Summary figures, goal checks and the report directory, from synthetic measurements."""
import json
from pathlib import Path

import pytest
from nuwa.bench import smaps
from nuwa.bench.goals import check_goals
from nuwa.bench.report import summary_table, write_report_dir
from nuwa.bench.results import (
    AppSample,
    DriftSample,
    FillPoint,
    LaunchSample,
    ModeResult,
    ProcessMemory,
)
from nuwa.bench.summary import summarize

APPS = ["clock", "messages", "settings"]


def _breakdown(anon: int, lib_written: int) -> dict:
    by_cat = {c: smaps.Usage().to_dict() for c in smaps.CATEGORIES}
    by_cat["anon_heap"]["uss_kb"] = anon
    by_cat["lib_written"]["uss_kb"] = lib_written
    lib = smaps.Usage(uss_kb=lib_written).to_dict()
    return {"total": {}, "by_category": by_cat,
            "lib_written_by_path": {"/usr/lib/libx.so.1": lib}}


def make_mode(mode: str, uss: int, launch_ms: list[float], lmk: int, anon: int,
              lib_written: int, drift_after: int) -> ModeResult:
    r = ModeResult(mode=mode, mem_total_kb=120000, idle_mem_available_kb=90000)
    r.overhead = {"nuwad": ProcessMemory(1, 300, 350, 900)}
    if mode == "template":
        r.overhead["template"] = ProcessMemory(2, 200, 3000, 9000)
        r.overhead["spare"] = ProcessMemory(3, 100, 1500, 9000)
    for i, app in enumerate(APPS):
        r.apps.append(AppSample(app, 100 + i, launch_ms[0], uss + i, uss * 2 + i, uss * 4,
                                _breakdown(anon + i, lib_written)))
        r.drift.append(DriftSample(app, 100 + i, uss, drift_after, 2 * uss, 2 * drift_after,
                                   {"anon_heap": drift_after - uss}))
    r.launches = [LaunchSample(APPS[i % 3], ms, True, fork_ms=ms / 10)
                  for i, ms in enumerate(launch_ms)]
    r.launches_no_spare = [LaunchSample("clock", ms * 2, False) for ms in launch_ms[:5]]
    r.fill = [FillPoint(n, APPS[(n - 1) % 3], 90000 - n * uss * 2, n * uss, n * uss * 2, 0)
              for n in range(1, lmk + 1)]
    r.apps_until_lmk, r.lmk_reached = lmk, True
    r.drift_seconds = 60
    return r


@pytest.fixture
def results() -> dict[str, ModeResult]:
    return {
        "template": make_mode("template", 1000, [5.0] * 19 + [50.0], 30, 700, 100, 1100),
        "exec": make_mode("exec", 5000, [200.0] * 20, 8, 3000, 1500, 5100),
    }


def test_summary_has_the_contract_keys(results: dict[str, ModeResult]) -> None:
    s = summarize(results)
    assert s["uss_ratio"] == pytest.approx(1001 / 5001)
    assert s["pss_ratio"] == pytest.approx(2001 / 10001)
    assert s["launch_ratio"] == pytest.approx(5 / 200)
    assert s["apps_until_lmk"] == {"template": 30, "exec": 8}
    # template cost: PSS of template + spare with no app running
    assert s["template_uss_kb"] == 4500
    assert s["break_even_apps"] == 2  # 4500 / 4000 KiB saved per app
    assert s["launch_ms"]["template"]["p95"] == 5.0
    assert s["fork_ms"]["template"]["median"] == 0.5
    assert s["fork_ms"]["template"]["method"] == "reported by nuwad"
    assert s["spare_ratio"] == pytest.approx(0.5)
    assert s["uss_drift"]["template"]["median"] == pytest.approx(0.1)


def test_fork_from_spare_difference(results: dict[str, ModeResult]) -> None:
    for r in results.values():
        for launch in r.launches:
            launch.fork_ms = None
    s = summarize(results)
    assert s["fork_ms"]["template"]["median"] == 5.0  # 10 ms without the spare, 5 with
    assert s["fork_ms"]["template"]["method"].startswith("median launch without the spare")


def test_template_alone_is_preferred_cost(results: dict[str, ModeResult]) -> None:
    results["template"].overhead["template_solo"] = ProcessMemory(2, 2500, 2600, 9000)
    s = summarize(results)
    assert s["template_uss_kb"] == 2500 and s["break_even_apps"] == 1


def test_goals_met(results: dict[str, ModeResult]) -> None:
    goals = check_goals(summarize(results))
    assert [g.met for g in goals] == [True, True, True, True, True]
    assert all(g.why == "" for g in goals)


def test_missed_goals_say_why_with_the_breakdown() -> None:
    results = {
        "template": make_mode("template", 3000, [150.0] * 20, 10, 2500, 400, 4000),
        "exec": make_mode("exec", 5000, [200.0] * 20, 8, 3000, 1500, 5100),
    }
    goals = {g.figure.split(" (")[0]: g for g in check_goals(summarize(results))}
    uss = goals["per-app USS, template mode"]
    assert uss.met is False
    assert "anonymous memory/heap" in uss.why and "largest part" in uss.why
    assert goals["apps before the first low-memory kill"].met is False
    assert goals["median launch latency, template mode"].met is False
    assert "spare" in goals["median launch latency, template mode"].why
    assert goals["break-even"].met is False  # 4500 / 2000 -> 3 apps
    drift = next(g for g in goals.values() if g.figure.startswith("USS drift"))
    assert drift.met is False and "33 %" in drift.measured


def test_no_saving_means_never_breaks_even() -> None:
    results = {
        "template": make_mode("template", 5000, [5.0] * 20, 8, 3000, 100, 5000),
        "exec": make_mode("exec", 5000, [200.0] * 20, 8, 3000, 1500, 5000),
    }
    s = summarize(results)
    assert s["break_even_apps"] is None
    be = next(g for g in check_goals(s) if g.figure.startswith("break-even"))
    assert be.met is False and be.measured == "never"


def test_unmeasured_goal_is_not_reported_as_met() -> None:
    empty = {"template": ModeResult("template"), "exec": ModeResult("exec")}
    goals = check_goals(summarize(empty))
    assert all(g.met is None for g in goals)


def test_report_directory(tmp_path: Path, results: dict[str, ModeResult]) -> None:
    out = tmp_path / "bench" / "run1"
    report = write_report_dir(out, results, {"command": "nuwa bench --quick",
                                             "target": {"description": "test"}})
    names = sorted(p.name for p in out.iterdir())
    assert names == ["launch_latency.png", "memory_vs_apps.png", "report.json", "report.md"]
    for png in ("launch_latency.png", "memory_vs_apps.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    saved = json.loads((out / "report.json").read_text())
    assert saved["summary"]["uss_ratio"] == report["summary"]["uss_ratio"]
    assert set(saved["modes"]) == {"template", "exec"}
    assert ModeResult.from_dict(saved["modes"]["exec"]) == results["exec"]
    md = (out / "report.md").read_text()
    assert "## Goals" in md and "| per-app USS (mean) |" in md and "libx.so.1" in md
    assert "Every measured goal is met." in md
    # no temporary directories left next to it
    assert [p.name for p in out.parent.iterdir()] == ["run1"]


def test_report_replaces_existing_dir_only_when_complete(
        tmp_path: Path, results: dict[str, ModeResult], monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "run"
    write_report_dir(out, results, {})
    before = (out / "report.json").read_text()

    def broken(*_: object) -> list[str]:
        raise RuntimeError("plotting failed")

    monkeypatch.setattr("nuwa.bench.report.write_plots", broken)
    with pytest.raises(RuntimeError):
        write_report_dir(out, results, {})
    assert (out / "report.json").read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_summary_table_lists_both_modes(results: dict[str, ModeResult]) -> None:
    report = {"summary": summarize(results)}
    table = summary_table(report)
    assert table.splitlines()[0] == "| figure | template | exec | template ÷ exec |"
    assert "| apps before the first low-memory kill | 30 | 8 | 3.75 |" in table


def test_lmk_goal_without_kills_is_not_measured(results: dict[str, ModeResult]) -> None:
    results["exec"].lmk_reached = False
    lmk = check_goals(summarize(results))[1]
    assert lmk.met is None and "exec mode never reached" in lmk.why
    results["exec"].lmk_reached = True
    results["template"].lmk_reached = False
    results["template"].apps_until_lmk = 10  # the run's limit, 1.25x: only a lower bound
    lmk = check_goals(summarize(results))[1]
    assert lmk.met is None and "lower bound" in lmk.why


def test_template_cost_from_written_pages(results: dict[str, ModeResult]) -> None:
    tpl = results["template"]
    tpl.overhead_breakdown = {
        "template": {"total": {"anonymous_kb": 3000, "private_dirty_kb": 100}},
        "spare": {"total": {"anonymous_kb": 2900, "private_dirty_kb": 40}},
    }
    s = summarize(results)
    assert s["template_uss_kb"] == 3040
    assert s["template_cost_method"].startswith("written (Anonymous) pages")
    assert s["break_even_apps"] == 1  # 3040 KiB cost, 4000 KiB saved per app
