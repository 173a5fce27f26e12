"""What one bench run measured in one mode, as plain data (saved verbatim in report.json)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

TEMPLATE, EXEC, EXEC_KSM = "template", "exec", "exec+ksm"
MODES = (TEMPLATE, EXEC, EXEC_KSM)  # every mode the bench knows, in report order
DEFAULT_MODES = (TEMPLATE, EXEC, EXEC_KSM)


def launch_mode(mode: str) -> str:
    """The nuwactl launch mode of a bench mode (exec+ksm launches in exec mode)."""
    return TEMPLATE if mode == TEMPLATE else EXEC


@dataclass
class ProcessMemory:
    """USS/PSS/RSS of one process, in KiB (from smaps_rollup via nuwactl, or from smaps)."""

    pid: int
    uss_kb: int
    pss_kb: int
    rss_kb: int

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> ProcessMemory:
        return cls(
            pid=int(obj["pid"]),
            uss_kb=int(obj["uss_kb"]),
            pss_kb=int(obj["pss_kb"]),
            rss_kb=int(obj["rss_kb"]),
        )


@dataclass
class AppSample:
    """One app measured after it became ready, with its smaps breakdown."""

    app: str
    pid: int
    launch_ms: float
    uss_kb: int
    pss_kb: int
    rss_kb: int
    breakdown: dict[str, Any] = field(default_factory=dict)


@dataclass
class LaunchSample:
    """One timed launch (the app is killed again right after)."""

    app: str
    launch_ms: float
    spare: bool
    fork_ms: float | None = None          # the template's own timing of fork()
    fork_rtt_ms: float | None = None      # nuwad: fork request -> the template's answer
    specialise_ms: float | None = None    # through the spare: request -> the spare read it
    pool: str = ""                        # spare, no_spare or exec (plan.POOLS)
    phases_ms: dict[str, float] = field(default_factory=dict)  # nuwad's phases_ms, in order


@dataclass
class FillPoint:
    """System memory after the n-th app of the round-robin fill."""

    n_apps: int
    app: str
    mem_available_kb: int
    apps_uss_kb: int
    apps_pss_kb: int
    lmk_kills: int
    template_pss_kb: int = 0  # template + spare, the memory only template mode needs


@dataclass
class DriftSample:
    """One app's memory when launched and after running for a fixed time."""

    app: str
    pid: int
    uss_before_kb: int
    uss_after_kb: int
    pss_before_kb: int
    pss_after_kb: int
    category_delta_kb: dict[str, int] = field(default_factory=dict)


@dataclass
class DriftPoint:
    """One app of the one-of-each phase, measured `seconds` after the first measurement."""

    seconds: float
    app: str
    pid: int
    uss_kb: int
    pss_kb: int
    category_uss_kb: dict[str, int] = field(default_factory=dict)


@dataclass
class KsmPoint:
    """/sys/kernel/mm/ksm and ksmd's CPU time, `seconds` after the apps were measured."""

    seconds: float
    pages_shared: int
    pages_sharing: int
    pages_unshared: int
    full_scans: int
    ksmd_cpu_s: float


@dataclass
class ModeResult:
    """Everything measured on one fresh guest in one launch mode."""

    mode: str
    mem_total_kb: int = 0
    idle_mem_available_kb: int = 0
    overhead: dict[str, ProcessMemory | None] = field(default_factory=dict)
    overhead_breakdown: dict[str, dict[str, Any]] = field(default_factory=dict)
    apps: list[AppSample] = field(default_factory=list)
    launches: list[LaunchSample] = field(default_factory=list)
    launches_no_spare: list[LaunchSample] = field(default_factory=list)
    fill: list[FillPoint] = field(default_factory=list)
    apps_until_lmk: int | None = None
    lmk_reached: bool = False
    drift_seconds: float = 0.0
    drift: list[DriftSample] = field(default_factory=list)
    lmk_threshold_kb: int = 0
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # what ran in this guest: template/spare state, nuwad config keys, KSM settings
    ran: dict[str, Any] = field(default_factory=dict)
    raw_fork: dict[str, Any] = field(default_factory=dict)  # {rss_kb, fork_ms: [...]}
    drift_series: list[DriftPoint] = field(default_factory=list)
    ksm_series: list[KsmPoint] = field(default_factory=list)
    fill_drift_seconds: float = 0.0  # each fill app ran this long before it was frozen
    # the pressure scenario (pressure.py): {variant: raw record}
    pressure: dict[str, Any] = field(default_factory=dict)
    # launches under load (busy.py): {busy_apps, running_at_end, launches: [...]}
    busy: dict[str, Any] = field(default_factory=dict)
    # PSI versus MemAvailable polling (pressure_psi.py): {detector: raw record}
    pressure_psi: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, obj: dict[str, Any]) -> ModeResult:
        overhead = {
            k: ProcessMemory(**v) if v is not None else None
            for k, v in obj.get("overhead", {}).items()
        }
        return cls(
            mode=obj["mode"],
            mem_total_kb=obj.get("mem_total_kb", 0),
            idle_mem_available_kb=obj.get("idle_mem_available_kb", 0),
            overhead=overhead,
            overhead_breakdown=obj.get("overhead_breakdown", {}),
            apps=[AppSample(**a) for a in obj.get("apps", [])],
            launches=[LaunchSample(**s) for s in obj.get("launches", [])],
            launches_no_spare=[LaunchSample(**s) for s in obj.get("launches_no_spare", [])],
            fill=[FillPoint(**p) for p in obj.get("fill", [])],
            apps_until_lmk=obj.get("apps_until_lmk"),
            lmk_reached=obj.get("lmk_reached", False),
            drift_seconds=obj.get("drift_seconds", 0.0),
            drift=[DriftSample(**d) for d in obj.get("drift", [])],
            lmk_threshold_kb=obj.get("lmk_threshold_kb", 0),
            notes=list(obj.get("notes", [])),
            errors=list(obj.get("errors", [])),
            ran=dict(obj.get("ran", {})),
            raw_fork=dict(obj.get("raw_fork", {})),
            drift_series=[DriftPoint(**d) for d in obj.get("drift_series", [])],
            ksm_series=[KsmPoint(**k) for k in obj.get("ksm_series", [])],
            fill_drift_seconds=obj.get("fill_drift_seconds", 0.0),
            pressure=dict(obj.get("pressure", {})),
            busy=dict(obj.get("busy", {})),
            pressure_psi=dict(obj.get("pressure_psi", {})),
        )
