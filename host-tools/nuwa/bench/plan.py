"""How much a bench run measures: the full run and the --quick one."""
from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Plan:
    launches: int            # timed launches per mode, with the spare (>= 20: median and p95)
    launches_no_spare: int   # timed launches per mode with the spare disabled
    drift_seconds: float     # how long the apps run between the two drift measurements
    fill_limit: int          # most apps the round-robin fill launches before giving up
    settle_seconds: float    # pause after a launch before its memory is read
    lmk_wait_seconds: float  # pause after each fill launch: longer than nuwad's killer tick

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


# nuwad's killer looks at MemAvailable once per tick (1 s by default): waiting a little
# longer after each fill launch lets a kill show up at the launch that caused it.
FULL = Plan(launches=40, launches_no_spare=20, drift_seconds=60.0, fill_limit=200,
            settle_seconds=1.0, lmk_wait_seconds=1.5)
QUICK = Plan(launches=20, launches_no_spare=6, drift_seconds=30.0, fill_limit=120,
             settle_seconds=0.5, lmk_wait_seconds=1.5)
