"""Launch under load (host-tools/nuwa/bench/busy.py): what it launches, kills and reports."""
from __future__ import annotations

from typing import Any

from nuwa.bench import busy
from nuwa.bench.results import LaunchSample, ModeResult


def test_busy_apps_stay_up_while_each_timed_launch_is_killed() -> None:
    result = ModeResult(mode="template")
    pids = iter(range(100, 200))
    launched: list[tuple[str, int]] = []
    killed: list[int] = []
    spare_waits: list[int] = []

    def launch(app: str) -> dict[str, Any]:
        pid = next(pids)
        launched.append((app, pid))
        return {"pid": pid, "launch_ms": 10.0 + len(launched), "spare": True}

    busy.BusyRun(result, ["a", "b", "c"], 5, 4, launch, killed.append,
                 lambda: [pid for _, pid in launched[:4]],  # the 5th busy app was killed
                 lambda: spare_waits.append(1), lambda _m: None).run()
    assert [a for a, _ in launched] == ["a", "b", "c", "a", "b", "a", "b", "c", "a"]
    busy_pids = [p for _, p in launched[:5]]
    assert killed == [p for _, p in launched[5:]] and not set(killed) & set(busy_pids)
    assert len(spare_waits) == 9
    assert result.busy["busy_apps"] == 5 and result.busy["running_at_end"] == 4
    assert [s["launch_ms"] for s in result.busy["launches"]] == [16.0, 17.0, 18.0, 19.0]


def test_summary_has_median_and_nearest_rank_p95_beside_the_idle_median() -> None:
    r = ModeResult(mode="exec")
    r.busy = {"busy_apps": 20, "running_at_end": 18,
              "launches": [{"app": "x", "launch_ms": float(v), "spare": False}
                           for v in range(1, 21)]}
    r.launches = [LaunchSample("x", 2.0, False), LaunchSample("x", 4.0, False)]
    s = busy.summarize({"exec": r, "template": ModeResult(mode="template")})
    assert list(s) == ["exec"]
    assert s["exec"]["median_ms"] == 10.5 and s["exec"]["p95_ms"] == 19.0
    assert s["exec"]["idle_median_ms"] == 3.0 and s["exec"]["n"] == 20
    row = busy.rows({"launch_under_load": s})[0]
    assert row[:3] == ["exec", "20 (18)", "20"] and len(row) == len(busy.HEADER)
