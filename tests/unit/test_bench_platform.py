"""`nuwa bench --platform`: the apps of one framework, measured with that framework's
template (its overhead, readiness, raw fork, template cost) and judged on its issue's goals;
against the scripted device of fake_nuwad (the real runs are benchmarks)."""
from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fake_nuwad import C_APPS, PY_APPS, FakeNuwad
from nuwa.bench.goals import check_goals
from nuwa.bench.guest import Guest
from nuwa.bench.plan import Plan
from nuwa.bench.platforms import (
    check_apps,
    framework_memory,
    framework_ready,
    parse_platform,
    platform_apps,
)
from nuwa.bench.progress import Progress
from nuwa.bench.runner import ModeRunner
from nuwa.bench.summary import summarize
from nuwa.errors import NuwaError

PLAN = Plan(launches=4, launches_no_spare=4, drift_seconds=0, fill_limit=12, settle_seconds=0,
            lmk_wait_seconds=0, drift_checkpoints=(0.0,), raw_forks=3)


def test_platform_selects_the_apps_of_its_framework() -> None:
    answer = FakeNuwad(python=True).answer(["nuwactl", "apps"])
    assert platform_apps(answer, "python") == list(PY_APPS)
    assert platform_apps(answer) == list(C_APPS)  # the C platform: no Python app, no echo
    only_c = FakeNuwad().answer(["nuwactl", "apps"])
    with pytest.raises(NuwaError, match="no apps of framework 'python'"):
        platform_apps(only_c, "python")


def test_apps_of_another_framework_are_refused_naming_the_platform() -> None:
    answer = FakeNuwad(python=True).answer(["nuwactl", "apps"])
    check_apps(answer, ["weather", "feeds"], "python")
    with pytest.raises(NuwaError, match=r"clock \(framework default\) not on framework "
                       r"'python'.*--platform c"):
        check_apps(answer, ["weather", "clock"], "python")
    with pytest.raises(NuwaError, match=r"weather \(framework python\).*--platform python"):
        check_apps(answer, ["weather"], "default")
    with pytest.raises(NuwaError, match="no app 'nope'"):
        check_apps(answer, ["nope"], "python")


def test_parse_platform() -> None:
    assert parse_platform(None).framework == "default"
    assert parse_platform("python").framework == "python"
    with pytest.raises(NuwaError, match=r"--platform 'rust': unknown platform \(known: c, "
                       r"python\)"):
        parse_platform("rust")


def test_framework_figures_top_level_for_default_frameworks_entry_otherwise() -> None:
    nuwad = FakeNuwad(python=True)
    status = nuwad.answer(["nuwactl", "template-status"])
    assert framework_ready(status, "default") and not framework_ready(status, "python")
    nuwad.py_started = True
    status = nuwad.answer(["nuwactl", "template-status"])
    assert framework_ready(status, "python")
    stats = nuwad.answer(["nuwactl", "stats"])
    assert framework_memory(stats, "python")["template"]["uss_kb"] == 700
    assert framework_memory(stats, "default")["template"]["uss_kb"] == 600


def test_python_platform_measures_the_python_template_in_every_phase() -> None:
    nuwad = FakeNuwad(python=True, kill_at=7)
    runner = ModeRunner(Guest(nuwad), "template", PLAN, Progress(quiet=True),
                        sleep=lambda s: None, framework="python")
    runner.result.lmk_threshold_kb = 1000
    result = runner.run(list(PY_APPS))
    assert result.errors == []
    # idle started the first-use Python template before it measured anything
    assert nuwad.launches[0] == ("weather", "template")
    assert result.overhead["template"].uss_kb == 700 and result.overhead["spare"].uss_kb == 300
    assert result.ran["framework"] == "python" and result.ran["template"] == "ready"
    # the C framework's template and spare run too (started at boot): named, not charged
    assert result.ran["processes_at_idle"] == ["nuwad", "template", "spare",
                                               "template of framework default",
                                               "spare of framework default"]
    assert result.overhead["template of framework default"].uss_kb == 600  # shown, and
    assert summarize({"template": result})["template_uss_kb"] == 1000.0  # not charged
    assert result.raw_fork["target_rss_kb"] == 5600  # the Python template's RSS
    assert {a.app for a in result.apps} == set(PY_APPS)
    assert len(result.launches) == len(result.launches_no_spare) == 4
    assert result.apps_until_lmk == 6 and all(p.template_pss_kb == 2000 for p in result.fill)
    assert result.busy == {} or result.busy["busy_apps"] == PLAN.busy_apps


def test_c_platform_on_the_same_device_measures_the_c_template() -> None:
    nuwad = FakeNuwad(python=True, kill_at=1000)
    result = ModeRunner(Guest(nuwad), "template", PLAN, Progress(quiet=True),
                        sleep=lambda s: None).run(list(C_APPS))
    assert result.errors == [] and result.overhead["template"].uss_kb == 600
    assert not nuwad.py_started  # no Python app launched: its first-use template stays down
    assert result.ran["processes_at_idle"] == ["nuwad", "template", "spare"]


def test_a_restarted_nuwad_gets_its_first_use_template_started_again() -> None:
    """The pressure phases restart nuwad and wait through the guest: the Python template
    must be running again before they launch."""
    nuwad = FakeNuwad(python=True)
    guest = Guest(nuwad)
    guest.framework, guest.start_app = "python", "todo"
    guest.wait_ready(10, need_template=True)
    assert nuwad.launches == [("todo", "template")] and nuwad.apps == {}
    nuwad.py_started = False  # nuwad restarted
    guest.wait_ready(10, need_template=True)
    assert nuwad.launches == [("todo", "template")] * 2
    guest.wait_ready(10, need_template=True)  # ready: nothing launched
    assert len(nuwad.launches) == 2


def test_a_framework_nuwad_does_not_have_is_a_clear_error() -> None:
    guest = Guest(FakeNuwad(python=False))
    guest.framework = "python"
    with pytest.raises(NuwaError, match="nuwad has no framework 'python'"):
        guest.wait_ready(10, need_template=True)


def summary(uss_ratio: float, break_even: int | None = 2) -> dict[str, Any]:
    return {"uss_ratio": uss_ratio, "lmk_ratio": 3.5, "launch_ratio": 0.04,
            "apps_until_lmk": {"template": 35, "exec": 10},
            "lmk_reached": {"template": True, "exec": True},
            "break_even_apps": break_even, "per_app_uss_saving_kb": 6000.0,
            "template_uss_kb": 9000.0, "template_cost_method": "USS of template + spare",
            "template_costs": {"uss_kb": {"kb": 9000.0, "break_even_apps": break_even,
                                          "method": "USS"},
                               "pss_kb": {"kb": 20000.0, "break_even_apps": 4, "method": "PSS"}},
            "uss_drift": {"template": {"median": 0.27, "max": 0.4}},
            "drift_seconds": {"template": 600.0}}


def test_each_platform_is_judged_on_its_own_targets() -> None:
    s = summary(uss_ratio=0.28, break_even=4)
    c = {g.figure: g for g in check_goals(s, "c")}
    py = {g.figure: g for g in check_goals(s, "python")}
    # USS 0.28: within the C apps' 0.30, not within the Python apps' 0.25
    assert c["per-app USS, template ÷ fair exec"].met is True
    assert py["per-app USS, template ÷ fair exec"].met is False
    assert py["per-app USS, template ÷ fair exec"].goal == "≤ 0.25"
    # drift 27 %: over the C apps' 25 %, within the Python apps' 30 % (with gc.freeze)
    assert c["template-mode USS drift after 600.0 s (goal: 600 s)"].met is False
    assert py["template-mode USS drift after 600.0 s, with gc.freeze (goal: 600 s)"].met
    # break-even 4: a goal for C (≤ 3), only recorded for Python, with every cost
    assert c["break-even on USS of template + spare"].met is False
    recorded = py["template cost and break-even (each cost)"]
    assert recorded.verdict == "recorded" and "PSS 20000 KiB: break-even 4" in recorded.measured
    assert py["template-mode USS drift after 600 s, without gc.freeze"].met is None


@contextmanager
def scripted_session(board: str, mode: str, url: str | None, mem: int | None = None,
                     lmk_threshold_kb: int | None = None, **_: object):
    from nuwa.bench import sessions

    ran = {"mode": mode, "template": "ready" if mode == "template" else "off"}
    yield sessions.Session(Guest(FakeNuwad(template=mode == "template", python=True,
                                           kill_at=7)), 12345, "test", ran)


def test_bench_platform_python_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    from nuwa import cli
    from nuwa.bench import plan, sessions

    monkeypatch.setattr(sessions, "mode_session", scripted_session)
    monkeypatch.setattr(sessions, "describe_target", lambda *a: {"description": "scripted"})
    monkeypatch.setattr(plan, "QUICK", PLAN)
    monkeypatch.setattr("nuwa.commands.bench.QUICK", PLAN)
    monkeypatch.setattr("time.sleep", lambda s: None)
    out = tmp_path / "report"
    assert cli.main(["bench", "--platform", "python", "--quick", "--json", "--repeat", "2",
                     "--modes", "template,exec", "--out", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["platform"] == "python" and summary["repeats"] == 2
    # the Python template's cost; the Python apps' memory (1500 against 8000 KiB)
    assert summary["template_costs"]["uss_kb"]["kb"] == 1000.0
    assert summary["uss_ratio"] == pytest.approx(1500 / 8000)
    assert summary["fork"]["raw_fork_rss_kb"] == 5604
    saved = json.loads((out / "report.json").read_text())
    assert saved["command"] == "nuwa bench --quick --repeat 2 --modes template,exec " \
        "--platform python"
    assert saved["platform"]["framework"] == "python"
    assert {a["app"] for a in saved["modes"]["template"]["apps"]} == set(PY_APPS)
    assert [r["order"][0] for r in saved["repeats"]] == ["template", "exec"]
    goals = {g["figure"]: g for g in saved["goals"]}
    assert goals["per-app USS, template ÷ fair exec"]["goal"] == "≤ 0.25"
    md = (out / "report.md").read_text()
    assert "Python apps (framework python, libnuwapy)" in md.splitlines()[0]
    assert "Platform `python`: the apps of framework `python` (feeds, sensorlog, todo, " \
        "weather)" in md


def test_bench_platform_with_apps_of_another_framework_is_an_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from nuwa import cli
    from nuwa.bench import plan, sessions

    monkeypatch.setattr(sessions, "mode_session", scripted_session)
    monkeypatch.setattr(sessions, "describe_target", lambda *a: {"description": "scripted"})
    monkeypatch.setattr(plan, "QUICK", PLAN)
    monkeypatch.setattr("nuwa.commands.bench.QUICK", PLAN)
    out = tmp_path / "report"
    assert cli.main(["bench", "--platform", "python", "--apps", "weather,clock", "--quick",
                     "--modes", "template,exec", "--out", str(out)]) == 1
    saved = json.loads((out / "report.json").read_text())
    assert saved["errors"] and all("clock (framework default) not on framework 'python'" in e
                                   for e in saved["errors"])


def test_bad_platform_is_one_clear_error_before_booting(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from nuwa import cli
    from nuwa.bench import sessions

    booted: list[str] = []
    monkeypatch.setattr(sessions, "mode_session", lambda *a, **k: booted.append("boot"))
    out = tmp_path / "report"
    assert cli.main(["bench", "--platform", "rust", "--out", str(out)]) != 0
    err = capsys.readouterr().err
    assert err.count("nuwa: error:") == 1
    assert "--platform 'rust': unknown platform (known: c, python)" in err
    assert not booted and not out.exists()
