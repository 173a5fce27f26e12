"""Launch phases (nuwactl launch --json `phases_ms`): the median of each phase per pool and
app, and the table of them (docs/runtime.md "Where a launch's time goes")."""
from __future__ import annotations

from typing import Any

from nuwa.bench import stats
from nuwa.bench.results import LaunchSample, ModeResult

Row = list[str]


def _pool(s: LaunchSample) -> str:
    return s.pool or ("spare" if s.spare else "no_spare")


def phase_medians(result: ModeResult) -> dict[str, dict[str, dict[str, float | None]]]:
    """{pool: {app: {phase: median ms}}}, phases in the order the launches ran them."""
    samples: dict[str, dict[str, dict[str, list[float]]]] = {}
    for s in [*result.launches, *result.launches_no_spare]:
        per_app = samples.setdefault(_pool(s), {}).setdefault(s.app, {})
        for name, ms in s.phases_ms.items():
            per_app.setdefault(name, []).append(float(ms))
    return {pool: {app: {name: stats.median(v) for name, v in phases.items()}
                   for app, phases in apps.items()}
            for pool, apps in samples.items()}


def phase_tables(summary: dict[str, Any]) -> list[tuple[str, Row, list[Row]]]:
    """One table per mode and pool: a row per phase, a column per app (median ms)."""
    out = []
    for mode, pools in summary.get("launch_phases_ms", {}).items():
        for pool, apps in pools.items():
            names: list[str] = []
            for phases in apps.values():
                names += [n for n in phases if n not in names]
            if not names:
                continue
            header = ["phase", *apps]
            rows = [[n, *(_ms(apps[a].get(n)) for a in apps)] for n in names]
            rows.append(["sum", *(_ms(sum(v for v in apps[a].values() if v is not None))
                                  for a in apps)])
            out.append((f"{mode}, {pool}", header, rows))
    return out


def _ms(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.2f} ms"
