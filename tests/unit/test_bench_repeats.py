"""--repeat N: alternating mode order, medians with min–max, goals judged on the medians."""

import pytest
from nuwa.bench.goals import check_goals
from nuwa.bench.options import BenchOptions
from nuwa.bench.repeats import aggregate, merge, mode_order
from nuwa.bench.results import ModeResult
from nuwa.commands import bench
from nuwa.errors import Terminated


def test_the_first_mode_alternates() -> None:
    modes = ["template", "exec", "exec+ksm"]
    assert mode_order(modes, 0) == modes
    assert mode_order(modes, 1) == ["exec+ksm", "exec", "template"]
    assert mode_order(modes, 2) == modes
    firsts = [mode_order(["template", "exec"], i)[0] for i in range(4)]
    assert firsts == ["template", "exec", "template", "exec"]


def _summary(uss: float, launch: float, lmk: int, be: int) -> dict:
    return {"modes": ["template", "exec"], "uss_ratio": uss, "launch_ratio": launch,
            "lmk_ratio": lmk / 10, "apps_until_lmk": {"template": lmk, "exec": 10},
            "lmk_reached": {"template": True, "exec": lmk != 31},
            "break_even_apps": be, "template_cost_method": "USS of template + spare",
            "per_app_uss_kb": {"template": 1000.0 * uss, "exec": 1000.0}}


def test_median_with_min_and_max() -> None:
    agg = aggregate([_summary(0.2, 0.04, 30, 2), _summary(0.4, 0.02, 31, 4),
                     _summary(0.25, 0.09, 35, 3)])
    assert agg["repeats"] == 3
    assert agg["uss_ratio"] == pytest.approx(0.25)
    assert agg["spread"]["uss_ratio"] == {"median": 0.25, "min": 0.2, "max": 0.4,
                                          "values": [0.2, 0.4, 0.25], "n": 3}
    assert agg["spread"]["launch_ratio"]["median"] == pytest.approx(0.04)
    assert agg["apps_until_lmk"] == {"template": 31.0, "exec": 10.0}
    # the counts behind the ratio get their spread too
    assert agg["spread"]["apps_until_lmk.template"] == {"median": 31.0, "min": 30.0,
                                                        "max": 35.0, "values": [30, 31, 35],
                                                        "n": 3}
    assert agg["lmk_reached"] == {"template": True, "exec": False}  # all of them
    assert agg["template_cost_method"] == "USS of template + spare"
    assert agg["per_app_uss_kb"]["template"] == pytest.approx(250.0)
    # an even number of repeats: the median is the mean of the middle two
    assert aggregate([_summary(0.2, 0.04, 30, 2),
                      _summary(0.4, 0.02, 31, 4)])["uss_ratio"] == pytest.approx(0.3)


def test_goals_are_judged_on_the_median() -> None:
    # one repeat misses the USS goal, two meet it: the median meets it
    agg = aggregate([_summary(0.2, 0.04, 30, 2), _summary(0.5, 0.04, 30, 2),
                     _summary(0.25, 0.04, 30, 2)])
    uss = next(g for g in check_goals(agg) if g.figure.startswith("per-app USS"))
    assert uss.met is True and uss.measured == "25 %"
    agg = aggregate([_summary(0.2, 0.04, 30, 2), _summary(0.5, 0.04, 30, 2),
                     _summary(0.45, 0.04, 30, 2)])
    uss = next(g for g in check_goals(agg) if g.figure.startswith("per-app USS"))
    assert uss.met is False


def test_missing_figures_are_left_out_of_the_median() -> None:
    assert merge([None, 2.0, 4.0]) == 3.0
    assert merge([None, None]) is None
    agg = aggregate([_summary(0.2, 0.04, 30, 2), {"modes": ["template", "exec"],
                                                   "errors": {"exec": ["guest: no boot"]}}])
    assert agg["uss_ratio"] == pytest.approx(0.2)
    assert agg["errors"] == {"repeat 2: exec": ["guest: no boot"]}


def test_no_repeats_is_an_error() -> None:
    with pytest.raises(ValueError):
        aggregate([])


@pytest.mark.parametrize("signal_exc", [KeyboardInterrupt, Terminated])
def test_an_interrupt_keeps_the_complete_repeats(monkeypatch: pytest.MonkeyPatch,
                                                 signal_exc: type[BaseException]) -> None:
    """Ctrl-C or SIGTERM in repeat 3 of 3: the two complete repeats are returned, with an
    error that sends the report to DIR-partial beside a complete one."""
    calls: list[str] = []

    def fake_measure_mode(opts: BenchOptions, mode: str, plan: object,
                          progress: object) -> ModeResult:
        calls.append(mode)
        if len(calls) > 4:
            raise signal_exc
        return ModeResult(mode=mode)

    monkeypatch.setattr(bench, "measure_mode", fake_measure_mode)
    opts = BenchOptions(repeat=3, modes="template,exec", quick=True)
    repeats = bench.measure(opts, lambda *a, **k: None)
    assert len(repeats) == 2 and len(calls) == 5
    assert "after 2 of 3 repeats" in repeats[-1].errors[0]
    assert not repeats[0].errors
    # nothing complete: the interrupt goes on up (the CLI exits 130/143)
    calls.clear()
    monkeypatch.setattr(bench, "measure_mode", lambda *a: (_ for _ in ()).throw(signal_exc()))
    with pytest.raises(signal_exc):
        bench.measure(opts, lambda *a, **k: None)
