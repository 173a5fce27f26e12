"""How much a bench run measures (the full run and the --quick one), and the launch plan.

The launch plan is balanced: every pool (template mode with the spare, template mode
without it, exec mode) launches every app the same number of times, so a pool's median is
never a median over a different mix of apps (their start-up costs differ severalfold).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

SPARE = "spare"        # template mode, through the pre-forked spare
NO_SPARE = "no_spare"  # template mode, the template forked on demand
EXEC = "exec"          # fork + exec of the app host
POOLS = (SPARE, NO_SPARE, EXEC)


@dataclass(frozen=True)
class Plan:
    launches: int            # timed launches per pool at least (>= 20: median and p95)
    launches_no_spare: int   # kept for old reports; the balanced plan uses `launches`
    drift_seconds: float     # how long each fill app runs its periodic work before freezing
    fill_limit: int          # most apps the round-robin fill launches before giving up
    settle_seconds: float    # pause after a launch before its memory is read
    lmk_wait_seconds: float  # pause after each fill launch: longer than nuwad's killer tick
    # Long drift: the one-of-each apps are measured again this long after launch (seconds).
    drift_checkpoints: tuple[float, ...] = (60.0,)
    raw_forks: int = 10      # raw fork() samples of a process of the template's RSS
    # The pressure scenario (pressure.py): at most this many steps per variant (0: not run),
    # this many after the first kill, each step's dwell in the foreground app.
    pressure_steps: int = 0
    pressure_after_kill: int = 8
    pressure_dwell_seconds: float = 1.0
    # Launches under load (busy.py): apps left running, timed launches beside them (0: not run).
    busy_apps: int = 0
    busy_launches: int = 0

    def to_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["drift_checkpoints"] = list(self.drift_checkpoints)
        return d

    @property
    def per_app(self) -> int:
        """Timed launches of each app in each pool (given the number of apps later)."""
        return self.launches


# nuwad's killer looks at MemAvailable once per tick (1 s by default): waiting a little
# longer after each fill launch lets a kill show up at the launch that caused it.
FULL = Plan(launches=40, launches_no_spare=40, drift_seconds=60.0, fill_limit=200,
            settle_seconds=1.0, lmk_wait_seconds=1.5,
            drift_checkpoints=(60.0, 300.0, 600.0), pressure_steps=60,
            busy_apps=20, busy_launches=12)
QUICK = Plan(launches=20, launches_no_spare=20, drift_seconds=30.0, fill_limit=120,
             settle_seconds=0.5, lmk_wait_seconds=1.5, drift_checkpoints=(30.0,),
             busy_apps=10, busy_launches=4)


def launches_per_app(total_at_least: int, n_apps: int) -> int:
    """Launches of each app in one pool so that the pool has at least total_at_least."""
    if n_apps <= 0:
        raise ValueError("no apps to launch")
    return max(1, math.ceil(total_at_least / n_apps))


def launch_plan(apps: list[str], pools: tuple[str, ...] | list[str],
                total_at_least: int) -> list[tuple[str, str]]:
    """(app, pool) pairs: each pool launches each app the same number of times.

    Rounds of len(apps) x len(pools) launches; within a round every app goes through every
    pool once, and the pool order rotates with the app and the round, so no pool sits at
    fixed positions (the host's load drifts over minutes; interleaving shares it out).
    """
    if not pools:
        raise ValueError("no launch pools")
    per_app = launches_per_app(total_at_least, len(apps))
    plan: list[tuple[str, str]] = []
    for rnd in range(per_app):
        for i, app in enumerate(apps):
            shift = (i + rnd) % len(pools)
            for pool in list(pools[shift:]) + list(pools[:shift]):
                plan.append((app, pool))
    return plan


def pools_for(launch_mode: str) -> tuple[str, ...]:
    """The pools a guest in this launch mode measures."""
    return (SPARE, NO_SPARE) if launch_mode == "template" else (EXEC,)
