"""The pressure scenario's pattern and analysis (the scenario itself runs in `nuwa bench`)."""
import json
from dataclasses import replace

import pytest
from nuwa.bench import pressure
from nuwa.bench.pressure import OPEN, SWITCH, Sample
from nuwa.bench.report import build_report, render_markdown
from nuwa.bench.results import ModeResult

APPS = ["clock", "gallery", "notes"]


def test_pattern_opens_round_robin_and_switches_back_within_the_recent_apps() -> None:
    steps = pressure.session_pattern(APPS, 200)
    assert steps == pressure.session_pattern(APPS, 200)  # the same in every mode and variant
    assert steps != pressure.session_pattern(APPS, 200, seed=1)
    opened = [s.app for s in steps if s.action == OPEN]
    assert opened == [APPS[i % 3] for i in range(len(opened))]
    switches = [s for s in steps if s.action == SWITCH]
    assert 0.2 < len(switches) / len(steps) < 0.5, len(switches)
    n_open = 0
    for s in steps:
        if s.action == OPEN:
            n_open += 1
        else:  # back to one opened before the current one, among the last RECENT
            assert 1 <= s.back <= min(pressure.RECENT, n_open - 1)
    assert steps[0].action == steps[1].action == OPEN
    with pytest.raises(ValueError):
        pressure.session_pattern([], 3)


def test_the_threshold_is_the_same_share_of_memory_in_every_mode() -> None:
    assert pressure.scenario_threshold(111188) == 69492
    assert pressure.scenario_threshold(0) == 0


def test_samples_parse_and_torn_lines_are_skipped() -> None:
    text = "10.00 90000 100\n10.25 80000 -\n10.5 700\nnot a sample x\n10.75 60000 5100\n"
    assert pressure.parse_samples(text) == [Sample(10.0, 90000, 100), Sample(10.25, 80000, None),
                                            Sample(10.75, 60000, 5100)]


def samples(available: list[int], step: float = 0.25) -> list[Sample]:
    return [Sample(100 + i * step, kb, 1000 * i) for i, kb in enumerate(available)]


def test_shortages_from_onset_to_relief() -> None:
    s = samples([90, 80, 40, 30, 45, 60, 70, 20, 10])
    # below 50 from sample 2 to 4, relieved at 5; short again from 7 to the end
    assert pressure.shortages(s, 50) == [(0.5, 1.25), (1.75, None)]
    assert pressure.shortages(s, 5) == []
    assert pressure.shortages([], 50) == []
    # exactly at the threshold is not short (nuwad: MemAvailable < threshold)
    assert pressure.shortages(samples([50, 49, 50]), 50) == [(0.25, 0.5)]


def test_stall_is_the_growth_of_psi_some_total() -> None:
    assert pressure.stall_ms(samples([1, 1, 1])) == 2.0  # 2000 us
    assert pressure.stall_ms([Sample(1, 1, None), Sample(2, 1, None)]) is None
    assert pressure.stall_ms([Sample(1, 1, 5)]) is None


def raw_variant(fg_kills: int = 0) -> dict:
    return {
        "threshold_kb": 50,
        "steps": [{"step": 1, "action": OPEN, "launched": True},
                  {"step": 2, "action": SWITCH, "launched": False},
                  {"step": 3, "action": OPEN, "launched": True}],
        "first_kill_step": 3,
        "end": {"apps_alive": 2, "lmk_kills": 1, "lmk_foreground_kills": fg_kills,
                "lmk_trims": 3, "lmk_trims_answered": 2, "lmk_trimmed_kb": 2100,
                "psi_events": 4},
        "samples": [[s.seconds, s.available_kb, s.stall_us]
                    for s in samples([90, 40, 30, 60, 40, 45, 45, 70])],
    }


def test_variant_figures() -> None:
    f = pressure.variant_figures(raw_variant())
    assert f["steps"] == 3 and f["launches"] == 2 and f["first_kill_step"] == 3
    assert (f["apps_alive"], f["kills"], f["foreground_kills"]) == (2, 1, 0)
    assert (f["trims"], f["trims_answered"], f["trimmed_kb"]) == (3, 2, 2100)
    assert f["shortages"] == 2 and f["unrelieved"] == 0
    assert f["relief_s"]["median"] == pytest.approx(0.625)  # 0.5 s and 0.75 s
    assert f["relief_s"]["max"] == pytest.approx(0.75)
    assert f["stall_ms"] == 7.0 and f["psi_events"] == 4
    empty = pressure.variant_figures({})
    assert empty["steps"] == 0 and empty["apps_alive"] is None and empty["shortages"] == 0


def test_summary_and_report_section() -> None:
    tpl = ModeResult(mode="template", pressure={"trim+psi": raw_variant(),
                                                 "no-trim+psi": raw_variant(fg_kills=2)})
    results = {"template": tpl, "exec": ModeResult(mode="exec")}
    s = pressure.summarize(results)
    assert list(s) == ["template"] and list(s["template"]) == ["trim+psi", "no-trim+psi"]
    report = build_report(results, {})
    assert report["summary"]["pressure"]["template"]["trim+psi"]["kills"] == 1
    rows = pressure.rows(report["summary"])
    assert len(rows) == 2 and len(rows[0]) == len(pressure.HEADER)
    assert rows[0][:8] == ["template", "trim+psi", "2", "2", "2/3", "2100", "1", "no"]
    assert rows[1][7] == "yes (2 times)"
    md = render_markdown(report, results)
    assert "## Life under memory pressure" in md and "| template | no-trim+psi |" in md
    # what report.json holds comes back as it was
    again = ModeResult.from_dict(json.loads(json.dumps(tpl.to_dict())))
    assert again.pressure == tpl.pressure
    assert "Life under memory pressure" not in render_markdown(
        build_report({"template": ModeResult(mode="template"), "exec": ModeResult(mode="exec")},
                     {}),
        {"template": ModeResult(mode="template"), "exec": ModeResult(mode="exec")})


def test_phases_option_selects_phases_and_names_unknown_ones() -> None:
    from nuwa.bench.options import parse_phases
    from nuwa.bench.plan import QUICK
    from nuwa.bench.progress import Progress
    from nuwa.bench.runner import ModeRunner
    from nuwa.errors import NuwaError

    assert parse_phases(None) is None and parse_phases("") is None
    assert parse_phases("pressure, fill") == {"pressure", "fill"}
    for bad in ("pressur", "fill,nope", ","):
        with pytest.raises(NuwaError, match="--phases"):
            parse_phases(bad)
    plan = replace(QUICK, pressure_steps=5)
    runner = ModeRunner(None, "template", plan, Progress(), only={"pressure"})  # type: ignore[arg-type]
    assert [n for n, _ in runner.phases(APPS)] == ["idle", "pressure"]
    everything = ModeRunner(None, "exec", plan, Progress())  # type: ignore[arg-type]
    names = [n for n, _ in everything.phases(APPS)]
    assert names[0] == "idle" and names[-1] == "pressure" and "fill" in names, names
    quick = ModeRunner(None, "exec", QUICK, Progress())  # type: ignore[arg-type]
    assert "pressure" not in [n for n, _ in quick.phases(APPS)]
