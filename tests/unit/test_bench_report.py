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
    if mode == "template":
        r.launches = [LaunchSample(APPS[i % 3], ms, True, specialise_ms=ms / 20, pool="spare")
                      for i, ms in enumerate(launch_ms)]
        r.launches_no_spare = [LaunchSample(APPS[i % 3], ms * 2, False, fork_ms=ms / 10,
                                            fork_rtt_ms=ms / 5, pool="no_spare")
                               for i, ms in enumerate(launch_ms)]
        r.raw_fork = {"target_rss_kb": 9000, "rss_kb": 9010, "fork_ms": [0.25, 0.25, 0.3]}
    else:
        r.launches = [LaunchSample(APPS[i % 3], ms, False, pool="exec")
                      for i, ms in enumerate(launch_ms)]
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
    # the goal's template cost: USS of template + spare with no app running (an alias)
    assert s["template_uss_kb"] == 300 == s["template_costs"]["uss_kb"]["kb"]
    assert s["break_even_apps"] == 1  # 300 / 4000 KiB saved per app
    assert s["launch_ms"]["template"]["p95"] == 5.0
    assert s["spare_ratio"] == pytest.approx(0.5)
    assert s["uss_drift"]["template"]["median"] == pytest.approx(0.1)


def test_fork_figures_come_from_the_template_and_a_raw_fork(
        results: dict[str, ModeResult]) -> None:
    f = summarize(results)["fork"]
    assert f["fork_ms"]["median"] == 0.5  # the template's own timing, launches without spare
    assert f["fork_rtt_ms"]["median"] == 1.0
    assert f["specialise_ms"]["median"] == 0.25  # launches through the spare: no fork
    assert f["raw_fork_ms"]["median"] == 0.25 and f["raw_fork_rss_kb"] == 9010
    assert f["fork_vs_raw_ratio"] == pytest.approx(2.0)


def test_three_template_costs_each_with_its_break_even(results: dict[str, ModeResult]) -> None:
    tpl = results["template"]
    tpl.overhead["template"] = ProcessMemory(2, 5000, 9000, 12000)
    tpl.overhead["spare"] = ProcessMemory(3, 3000, 4000, 12000)
    tpl.overhead_breakdown = {
        "template": {"total": {"anonymous_kb": 3000, "private_dirty_kb": 100}},
        "spare": {"total": {"anonymous_kb": 2900, "private_dirty_kb": 40}},
    }
    s = summarize(results)  # 4000 KiB USS saved per app
    c = s["template_costs"]
    assert (c["uss_kb"]["kb"], c["uss_kb"]["break_even_apps"]) == (8000, 2)
    assert (c["pss_kb"]["kb"], c["pss_kb"]["break_even_apps"]) == (13000, 4)
    assert (c["written_kb"]["kb"], c["written_kb"]["break_even_apps"]) == (3040, 1)
    # the goal is judged on USS of template + spare, not on the kindest cost
    assert s["break_even_apps"] == 2 and s["template_uss_kb"] == 8000
    assert s["template_cost_method"].startswith("USS of template + spare")
    be = next(g for g in check_goals(s) if g.figure.startswith("break-even"))
    assert be.met is True and be.measured == "2"
    tpl.overhead["spare"] = ProcessMemory(3, 7000, 8000, 12000)  # 12000 KiB: 3 apps
    s = summarize(results)
    assert s["break_even_apps"] == 3
    tpl.overhead["spare"] = ProcessMemory(3, 8000, 8000, 12000)  # 13000 KiB: 4 apps
    be = next(g for g in check_goals(summarize(results)) if g.figure.startswith("break-even"))
    assert be.met is False and "PSS of template + spare" in be.why


def test_goals_met(results: dict[str, ModeResult]) -> None:
    results["template"].launches = [
        LaunchSample(APPS[i % 3], 5.0 if i < 19 else 50.0, True, pool="spare") for i in range(20)]
    goals = check_goals(summarize(results))
    assert [g.met for g in goals] == [True, True, True, True, True]
    assert all(g.why == "" for g in goals)


def test_missed_goals_say_why_with_the_breakdown() -> None:
    results = {
        "template": make_mode("template", 3000, [150.0] * 20, 10, 2500, 400, 4000),
        "exec": make_mode("exec", 5000, [200.0] * 20, 8, 3000, 1500, 5100),
    }
    goals = {g.figure.split(" (")[0]: g for g in check_goals(summarize(results))}
    uss = goals["per-app USS, template ÷ fair exec"]
    assert uss.met is False
    assert "anonymous memory/heap" in uss.why and "largest part" in uss.why
    assert goals["apps before the first low-memory kill, template ÷ fair exec"].met is False
    assert goals["median launch, template ÷ exec"].met is False
    assert "spare" in goals["median launch, template ÷ exec"].why
    results["template"].overhead["spare"] = ProcessMemory(3, 7000, 8000, 9000)
    goals = {g.figure.split(" (")[0]: g for g in check_goals(summarize(results))}
    assert goals["break-even on USS of template + spare"].met is False  # 7200 / 2000 -> 4
    drift = next(g for g in goals.values() if g.figure.startswith("template-mode USS drift"))
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
    assert names == ["launch_latency.png", "launch_phases.png", "memory_vs_apps.png",
                     "report.json", "report.md", "uss_over_time.png"]
    for png in ("launch_latency.png", "launch_phases.png", "memory_vs_apps.png",
                "uss_over_time.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    saved = json.loads((out / "report.json").read_text())
    assert saved["summary"]["uss_ratio"] == report["summary"]["uss_ratio"]
    assert set(saved["modes"]) == {"template", "exec"}
    assert ModeResult.from_dict(saved["modes"]["exec"]) == results["exec"]
    md = (out / "report.md").read_text()
    assert "## Goals" in md and "| per-app USS (mean) |" in md and "libx.so.1" in md
    assert "## Launch latency per app" in md and "## What ran in each guest" in md
    # no temporary directories left next to it
    assert [p.name for p in out.parent.iterdir()] == ["run1"]


def test_report_replaces_existing_dir_only_when_complete(
        tmp_path: Path, results: dict[str, ModeResult], monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "run"
    write_report_dir(out, results, {})
    before = (out / "report.json").read_text()

    # a run with errors never replaces a complete report: it goes beside it
    results["exec"].errors.append("guest: did not boot")
    report = write_report_dir(out, results, {})
    assert (out / "report.json").read_text() == before
    assert report["path"] == str(tmp_path / "run-partial")
    assert json.loads((tmp_path / "run-partial" / "report.json").read_text())["errors"] == [
        "exec: guest: did not boot"]

    # an interrupted write leaves nothing half-written
    def interrupted(*_: object) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr("nuwa.bench.report.render_markdown", interrupted)
    results["exec"].errors.clear()
    with pytest.raises(KeyboardInterrupt):
        write_report_dir(out, results, {})
    assert (out / "report.json").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run", "run-partial"]


def test_an_exception_anywhere_still_writes_the_report(
        tmp_path: Path, results: dict[str, ModeResult], monkeypatch: pytest.MonkeyPatch) -> None:
    """A failing plot or a summary that cannot be computed loses no measurement."""
    def broken(*_: object) -> list[str]:
        raise RuntimeError("plotting failed")

    monkeypatch.setattr("nuwa.bench.report.write_plots", broken)
    results["template"].apps[0].breakdown = {"by_category": "garbage"}  # a bad value
    out = tmp_path / "run"
    report = write_report_dir(out, results, {})
    saved = json.loads((out / "report.json").read_text())
    assert "plots: RuntimeError: plotting failed" in saved["errors"]
    assert saved["modes"]["template"]["apps"]  # the raw data is there
    md = (out / "report.md").read_text()
    assert "## Errors: this run is incomplete" in md and report["path"] == str(out)


def test_template_results_survive_an_exec_boot_failure(
        tmp_path: Path, results: dict[str, ModeResult]) -> None:
    results["exec"] = ModeResult("exec", errors=["guest: QEMU did not boot"])
    report = write_report_dir(tmp_path / "r", results, {})
    s = report["summary"]
    assert s["per_app_uss_kb"]["template"] == pytest.approx(1001)
    assert s["uss_ratio"] is None and report["errors"] == ["exec: guest: QEMU did not boot"]


def test_summary_table_lists_both_modes(results: dict[str, ModeResult]) -> None:
    report = {"summary": summarize(results)}
    table = summary_table(report)
    assert table.splitlines()[0] == "| figure | template | exec | template ÷ exec |"
    assert "| template cost: USS of template + spare (no app running) | 300 KiB |" in table
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


def test_launch_phases_median_per_pool_and_app() -> None:
    """The report's phase table: the median of each phase per mode, pool and app."""
    from nuwa.bench.phases import phase_medians, phase_tables
    r = ModeResult(mode="template")
    r.launches = [LaunchSample("clock", 3.0 + i, True, pool="spare",
                               phases_ms={"specialise_sent": 0.1, "sandbox_seccomp": 1.0 + i,
                                          "ready": 2.0})
                  for i in range(3)]
    r.launches_no_spare = [LaunchSample("clock", 4.0, False, pool="no_spare",
                                        phases_ms={"fork_sent": 0.2, "ready": 3.8})]
    medians = phase_medians(r)
    assert medians["spare"]["clock"] == {"specialise_sent": 0.1, "sandbox_seccomp": 2.0,
                                         "ready": 2.0}
    assert list(medians["no_spare"]["clock"]) == ["fork_sent", "ready"]
    tables = phase_tables({"launch_phases_ms": {"template": medians}})
    title, header, rows = tables[0]
    assert title == "template, spare" and header == ["phase", "clock"]
    assert [row[0] for row in rows] == ["specialise_sent", "sandbox_seccomp", "ready", "sum"]
    assert rows[-1] == ["sum", "4.10 ms"]
    # and a saved result keeps its phases
    assert ModeResult.from_dict(r.to_dict()) == r
