"""PSI versus MemAvailable polling: the analysis of a detector's record (the load itself
runs in `nuwa bench --phases pressure-psi`)."""
import json

from nuwa.bench import pressure_psi
from nuwa.bench.plan import FULL
from nuwa.bench.pressure import Sample
from nuwa.bench.pressure_psi import Action
from nuwa.bench.report import build_report, render_markdown
from nuwa.bench.results import ModeResult
from nuwa.bench.runner import ModeRunner

LOG = """\
1000.100 nuwad[7]: lmk: apps' memory budget 40000 kB (memory.high of /sys/fs/cgroup/nuwad-7/apps)
1003.500 nuwad[7]: lmk: asked gallery (pid 11, background) to trim (background): MemAvailable 60000 kB, threshold 1 kB, PSI trigger fired
1004.000 nuwad[7]: lmk: asked music (pid 12, background) to trim (background): MemAvailable 50000 kB, threshold 55000 kB
1005.250 nuwad[7]: lmk: killed gallery (pid 11), background, idle 3000 ms, freeing 900 kB (USS); memory pressure: PSI some trigger fired (event 2), MemAvailable 59000 kB; 1 trims answered, 80 kB trimmed so far
1006.000 nuwad[7]: lmk: killed music (pid 12), background, idle 1 ms, freeing 900 kB (USS); low memory: MemAvailable 50000 kB < 55000 kB; 1 trims answered, 80 kB trimmed so far
1006.500 nuwad[7]: launched clock (pid 13)
not a log line: lmk: killed x (pid 1)
"""


def test_actions_and_what_detected_them_come_from_the_log() -> None:
    assert pressure_psi.parse_actions(LOG) == [
        Action(1003.5, "trim", "psi"), Action(1004.0, "trim", "memavailable"),
        Action(1005.25, "kill", "psi"), Action(1006.0, "kill", "memavailable")]
    assert pressure_psi.apps_cgroup(LOG) == "/sys/fs/cgroup/nuwad-7/apps"
    assert pressure_psi.apps_cgroup("1.0 nuwad[1]: started\n") is None


def stalls(per_interval_ms: list[float], t0: float = 100.0, step: float = 0.25) -> list[Sample]:
    """Samples every `step` s whose PSI some total grows by these ms per interval."""
    out, total = [Sample(t0, 50000, 0)], 0.0
    for i, ms in enumerate(per_interval_ms, 1):
        total += ms * 1000
        out.append(Sample(t0 + i * step, 50000, int(total)))
    return out


def test_stall_onset_and_relief_after_a_quiet_spell() -> None:
    # quiet 1 s, stalling 1 s (30 ms per 250 ms: 12 %), a sub-threshold blip, quiet 2.5 s
    s = stalls([0] * 4 + [30] * 4 + [1] + [0] * 9)
    assert pressure_psi.stall_relief(s, 100.0) == (1.0, 2.0)
    # measured from a later start: onset and relief move with it
    assert pressure_psi.stall_relief(s, 100.5) == (0.5, 1.5)
    # a stall that lasts to the last sample, or one that comes back before the quiet spell
    # is over, is not relieved
    assert pressure_psi.stall_relief(stalls([0] * 4 + [30] * 8), 100.0) == (1.0, None)
    assert pressure_psi.stall_relief(stalls([30] * 2 + [0] * 4 + [30] * 2 + [0] * 8),
                                     100.0) == (0.0, 2.0)
    assert pressure_psi.stall_relief(stalls([0] * 12), 100.0) == (None, None)
    assert pressure_psi.stall_relief([Sample(100, 1, None), Sample(101, 1, None)],
                                     100.0) == (None, None)


def test_memavailable_below_the_threshold_and_back() -> None:
    s = [Sample(100 + i, kb, None) for i, kb in enumerate([90, 40, 60, 30, 60, 70, 80, 20])]
    # short from 101; back at 102 only briefly; back at 104 for 2 s (quiet_s)
    assert pressure_psi.below(s, 100.0, 50) == (1.0, 4.0)
    assert pressure_psi.below(s, 106.5, 50) == (0.5, None)  # short from 107 on, never back
    assert pressure_psi.below(s[:6], 100.0, 50) == (1.0, None)  # back at 104, but not 2 s yet
    assert pressure_psi.below(s, 100.0, 10) == (None, None)


def record(log: str = LOG) -> dict:
    # realtime 1000.0 is uptime 200.0; the load starts at uptime 201.0 for 10 s
    samples = [[200.0 + i * 0.5, 80000 if i < 6 or i > 14 else 40000, 0] for i in range(30)]
    return {"load_start_uptime": 201.0, "load_seconds": 10, "realtime_minus_uptime": 800.0,
            "polling_threshold_kb": 55000, "apps_opened": 8, "apps_alive": 6,
            "load": {"budget_kb": 40000}, "log": log, "samples": samples}


def test_detector_figures_are_seconds_since_the_load_start() -> None:
    f = pressure_psi.detector_figures(record())
    assert f["first_trim_s"] == 2.5 and f["first_kill_s"] == 4.25 and f["first_action_s"] == 2.5
    assert (f["trims"], f["kills"], f["by"]) == (2, 2, ["memavailable", "psi"])
    assert (f["below_threshold_s"], f["threshold_back_s"]) == (2.0, 6.5)
    assert f["stall_onset_s"] is None and f["stall_ms"] == 0.0
    # actions outside the load's window (before it, or after the thrasher stopped) are not its
    late = LOG.replace("1003.500", "1020.000").replace("1004.000", "990.000")
    g = pressure_psi.detector_figures(record(late))
    assert g["trims"] == 0 and g["first_trim_s"] is None and g["first_action_s"] == 4.25


def test_the_comparison_runs_only_when_named_and_is_reported() -> None:
    def phase_names(only: set[str] | None) -> list[str]:
        runner = ModeRunner(None, "template", FULL, print, only=only)  # type: ignore[arg-type]
        return [name for name, _ in runner.phases(["clock"])]
    assert "PSI versus polling" not in phase_names(None)
    assert phase_names({"pressure-psi"}) == ["idle", "PSI versus polling"]
    assert "PSI versus polling" not in phase_names({"pressure", "fill"})

    results = {m: ModeResult(mode=m, pressure_psi={"psi": record(), "polling": record()})
               for m in ("template", "exec")}
    report = build_report(results, {})
    psi = report["summary"]["pressure_psi"]
    assert set(psi) == {"template", "exec"} and set(psi["exec"]) == {"psi", "polling"}
    rows = pressure_psi.rows(report["summary"])
    assert len(rows) == 4 and all(len(r) == len(pressure_psi.HEADER) for r in rows)
    assert rows[0][:6] == ["template", "psi", "2.5", "4.2", "2", "2"]
    assert rows[0][-1] == "6/8"
    md = render_markdown(report, results)
    assert "PSI versus MemAvailable polling" in md and "| exec | polling |" in md
    # what report.json holds comes back as it was; without the comparison, no section
    again = ModeResult.from_dict(json.loads(json.dumps(results["exec"].to_dict())))
    assert again.pressure_psi == results["exec"].pressure_psi
    empty = {m: ModeResult(mode=m) for m in ("template", "exec")}
    assert "PSI versus MemAvailable" not in render_markdown(build_report(empty, {}), empty)
