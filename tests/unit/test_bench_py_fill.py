"""nuwa py-bench --fill: the Python framework's template in the C bench's fill, against a
scripted nuwad (the real guest run is a benchmark, docs/benchmarks.md)."""
from __future__ import annotations

from fake_nuwad import PY_APPS, FakeNuwad
from nuwa.bench.guest import Guest
from nuwa.bench.plan import Plan
from nuwa.bench.progress import Progress
from nuwa.bench.py_fill import fill_runner, render_fill
from nuwa.bench.results import AppSample, ModeResult, ProcessMemory

PLAN = Plan(launches=1, launches_no_spare=1, drift_seconds=0, fill_limit=20, settle_seconds=0,
            lmk_wait_seconds=0, drift_checkpoints=())


def test_template_mode_measures_the_python_template_not_the_c_one() -> None:
    nuwad = FakeNuwad(python=True, kill_at=6)
    runner = fill_runner(Guest(nuwad), "template", PLAN, Progress(quiet=True),
                         sleep=lambda s: None)
    runner.result.lmk_threshold_kb = 1000
    result = runner.run(list(PY_APPS))
    assert result.errors == []
    # the first launch started the first-use template (ended at once); every launch is a
    # template launch of a Python app
    assert nuwad.launches[0] == ("weather", "template")
    assert {m for _, m in nuwad.launches} == {"template"}
    assert result.overhead["template"].uss_kb == 700 and result.overhead["spare"].uss_kb == 300
    assert [a.app for a in result.apps] == ["weather", "todo", "feeds", "sensorlog"]
    assert result.apps_until_lmk == 5 and result.lmk_reached
    assert all(p.template_pss_kb == 2000 for p in result.fill)  # Python's 1400 + 600
    assert not result.launches and not result.raw_fork  # not py-bench --fill's phases


def test_exec_mode_has_no_python_template() -> None:
    nuwad = FakeNuwad(python=True, template=False, kill_at=3)
    runner = fill_runner(Guest(nuwad), "exec", PLAN, Progress(quiet=True),
                         sleep=lambda s: None)
    runner.result.lmk_threshold_kb = 1000
    result = runner.run(list(PY_APPS))
    assert result.errors == [] and {m for _, m in nuwad.launches} == {"exec"}
    assert result.overhead["template"] is None and result.apps_until_lmk == 2
    assert all(p.template_pss_kb == 0 for p in result.fill)


def test_render_fill_ratio_verdict_and_break_even() -> None:
    tpl = ModeResult(mode="template", apps_until_lmk=30, lmk_reached=True,
                     lmk_threshold_kb=15000, idle_mem_available_kb=80000)
    tpl.overhead = {"template": ProcessMemory(1, 700, 4000, 16000),
                    "spare": ProcessMemory(2, 300, 1000, 9000)}
    tpl.apps = [AppSample("weather", 3, 50.0, 1500, 3000, 9000, {})]
    exe = ModeResult(mode="exec", apps_until_lmk=12, lmk_reached=False,
                     errors=["fill: guest gone"])
    exe.apps = [AppSample("weather", 4, 5000.0, 8000, 9000, 12000, {})]
    text = render_fill({"template": tpl, "exec": exe}, "nuwa py-bench --fill", "loaded")
    assert text.startswith("Command: `nuwa py-bench --fill`\n\nloaded\n")
    assert "| template | 30 | 1500 kB | 3000 kB | 80000 kB | 15000 kB |" in text
    assert "| exec | ≥ 12 (no kill) | 8000 kB |" in text
    assert "template ÷ exec: **2.50** (target ≥ 3.0: missed)" in text
    assert "saving 6500 kB per app" in text
    # USS 1000 kB pays back after 1 app; PSS 5000 kB after ceil(5000 / 6500) = 1 too
    assert "USS of template + spare (no app running): 1000 kB, break-even 1 apps" in text
    assert "- exec: error: fill: guest gone" in text
