"""report.json's `summary` as typed dataclasses, for the modules that read it (tables.py,
goals.py, report.py).

summary.py writes the summary as JSON and its format stays as it is; `Summary.from_json`
reads it back, from a report of today or an older one. Numbers are kept as the JSON has
them (a count is an int in one repeat's summary, the float median over repeats in an
aggregated one: the tables print the two differently). A part of the summary that is an
object is None when the JSON lacks it, which is not the same as an empty one: a table that
needs it says so in report.md in its place (`need`). The parts other modules own
(pressure, pressure_psi, launch_under_load, launch_phases_ms) stay JSON, in `raw`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

Number = float | int
PerMode = dict[str, Any]  # {mode: figure}; the figure a number, None or (lmk_reached) a bool
T = TypeVar("T")


def need(part: T | None, key: str) -> T:
    """PART, or KeyError(KEY) when the summary lacks it."""
    if part is None:
        raise KeyError(key)
    return part


def _obj(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


@dataclass(frozen=True)
class Described:
    """stats.describe of a sample: count, median, nearest-rank p95, min, max, mean."""

    n: Number | None = None
    median: Number | None = None
    p95: Number | None = None
    min: Number | None = None
    max: Number | None = None
    mean: Number | None = None

    @classmethod
    def from_json(cls, v: Any) -> Described:
        o = _obj(v)
        return cls(o.get("n"), o.get("median"), o.get("p95"), o.get("min"), o.get("max"),
                   o.get("mean"))


EMPTY = Described()


def _described(v: Any) -> dict[str, Described] | None:
    return None if v is None else {k: Described.from_json(x) for k, x in _obj(v).items()}


@dataclass(frozen=True)
class TemplateCost:
    """One of the template's costs and the number of apps whose saving pays for it."""

    kb: Number | None
    break_even_apps: Number | None
    method: str

    @classmethod
    def from_json(cls, v: Any) -> TemplateCost:
        o = _obj(v)
        return cls(o.get("kb"), o.get("break_even_apps"), o.get("method", ""))


@dataclass(frozen=True)
class ForkFigures:
    """The template's fork(), nuwad's round trip, specialise through the spare, raw fork."""

    fork_ms: Described = EMPTY
    fork_rtt_ms: Described = EMPTY
    specialise_ms: Described = EMPTY
    raw_fork_ms: Described = EMPTY
    raw_fork_rss_kb: Number | None = None
    fork_vs_raw_ratio: Number | None = None

    @classmethod
    def from_json(cls, v: Any) -> ForkFigures:
        o = _obj(v)
        return cls(*(Described.from_json(o.get(k)) for k in
                     ("fork_ms", "fork_rtt_ms", "specialise_ms", "raw_fork_ms")),
                   o.get("raw_fork_rss_kb"), o.get("fork_vs_raw_ratio"))


@dataclass(frozen=True)
class Drift:
    """USS drift of the apps over the drift period: median and largest."""

    median: Number | None = None
    max: Number | None = None


@dataclass(frozen=True)
class DriftCheckpoint:
    """Mean per-app USS/PSS and the drift since the start, at one checkpoint."""

    uss_kb: Number | None = None
    pss_kb: Number | None = None
    drift_median: Number | None = None
    drift_max: Number | None = None


@dataclass(frozen=True)
class GuestRan:
    """What ran in one mode's guest (sessions.py and runner.py fill it in)."""

    nuwad_config: str | None = None
    daemon_keys: dict[str, Any] = field(default_factory=dict)
    template: str | None = None
    spare_enabled: bool = False
    processes_at_idle: list[str] = field(default_factory=list)
    ksm: dict[str, Any] | None = None

    @classmethod
    def from_json(cls, v: Any) -> GuestRan | None:
        """None: nothing ran (the mode was not measured)."""
        if not v:
            return None
        o = _obj(v)
        return cls(o.get("nuwad_config"), o.get("daemon_keys", {}), o.get("template"),
                   bool(o.get("spare_enabled")), o.get("processes_at_idle", []), o.get("ksm"))


@dataclass(frozen=True)
class KsmPoint:
    """/sys/kernel/mm/ksm and ksmd's CPU time at one checkpoint."""

    seconds: Number | None
    pages_shared: Number | None
    pages_sharing: Number | None
    pages_unshared: Number | None
    full_scans: Number | None
    ksmd_cpu_s: Number | None


@dataclass(frozen=True)
class KsmFigures:
    """exec+ksm: KSM's counters at each checkpoint and the last ones."""

    series: list[KsmPoint] = field(default_factory=list)
    pages_shared: Number | None = None
    pages_sharing: Number | None = None
    ksmd_cpu_s: Number | None = None
    seconds: Number | None = None

    @classmethod
    def from_json(cls, v: Any) -> KsmFigures:
        o = _obj(v)
        series = [KsmPoint(p.get("seconds"), p.get("pages_shared"), p.get("pages_sharing"),
                           p.get("pages_unshared"), p.get("full_scans"), p.get("ksmd_cpu_s"))
                  for p in o.get("series", [])]
        return cls(series, o.get("pages_shared"), o.get("pages_sharing"),
                   o.get("ksmd_cpu_s"), o.get("seconds"))


@dataclass(frozen=True)
class VsKsm:
    """Template ÷ exec+ksm."""

    uss_ratio: Number | None = None
    lmk_ratio: Number | None = None
    launch_ratio: Number | None = None


@dataclass(frozen=True)
class Spread:
    """One figure over the repeats: median, min–max, each repeat's value."""

    median: Any
    min: Any
    max: Any
    values: list[Any]


@dataclass(frozen=True)
class Summary:
    """report.json's `summary` (docs/measurement.md, "The `summary` contract")."""

    raw: dict[str, Any]
    modes: list[str]
    uss_ratio: Number | None
    pss_ratio: Number | None
    launch_ratio: Number | None
    lmk_ratio: Number | None
    apps_until_lmk: PerMode | None
    lmk_reached: dict[str, bool] | None
    template_costs: dict[str, TemplateCost] | None
    template_uss_kb: Number | None
    template_cost_method: str | None
    break_even_apps: Number | None
    per_app_uss_kb: PerMode | None
    per_app_pss_kb: PerMode | None
    per_app_rss_kb: PerMode | None
    per_app_uss_saving_kb: Number | None
    per_app_uss_converged_kb: PerMode | None
    category_uss_kb: dict[str, dict[str, Number | None]] | None
    launch_ms: dict[str, Described] | None
    launch_no_spare_ms: dict[str, Described] | None
    fork_ms: dict[str, Described] | None
    launch_by_app_ms: dict[str, dict[str, dict[str, Number | None]]] | None
    fork: ForkFigures | None
    idle_mem_available_kb: PerMode | None
    drift_seconds: PerMode | None
    uss_drift: dict[str, Drift] | None
    drift_series: dict[str, dict[str, DriftCheckpoint]] | None
    ran: dict[str, GuestRan | None] | None
    ksm: KsmFigures | None
    vs_ksm: VsKsm | None
    spread: dict[str, Spread] | None
    repeats: int | None

    @classmethod
    def from_json(cls, s: dict[str, Any]) -> Summary:
        """The summary of a report.json, of today's format or an older one."""
        def per(key: str, make: Any) -> Any:
            v = s.get(key)
            return None if v is None else {k: make(x) for k, x in _obj(v).items()}

        def opt(key: str, make: Any) -> Any:
            return None if key not in s else make(s[key])

        return cls(
            raw=s,
            modes=list(s.get("modes") or ["template", "exec"]),
            uss_ratio=s.get("uss_ratio"), pss_ratio=s.get("pss_ratio"),
            launch_ratio=s.get("launch_ratio"), lmk_ratio=s.get("lmk_ratio"),
            apps_until_lmk=s.get("apps_until_lmk"), lmk_reached=s.get("lmk_reached"),
            template_costs=per("template_costs", TemplateCost.from_json),
            template_uss_kb=s.get("template_uss_kb"),
            template_cost_method=s.get("template_cost_method"),
            break_even_apps=s.get("break_even_apps"),
            per_app_uss_kb=s.get("per_app_uss_kb"), per_app_pss_kb=s.get("per_app_pss_kb"),
            per_app_rss_kb=s.get("per_app_rss_kb"),
            per_app_uss_saving_kb=s.get("per_app_uss_saving_kb"),
            per_app_uss_converged_kb=s.get("per_app_uss_converged_kb"),
            category_uss_kb=per("category_uss_kb", lambda v: dict(_obj(v))),
            launch_ms=_described(s.get("launch_ms")),
            launch_no_spare_ms=_described(s.get("launch_no_spare_ms")),
            fork_ms=_described(s.get("fork_ms")),
            launch_by_app_ms=s.get("launch_by_app_ms"),
            fork=opt("fork", ForkFigures.from_json),
            idle_mem_available_kb=s.get("idle_mem_available_kb"),
            drift_seconds=s.get("drift_seconds"),
            uss_drift=per("uss_drift", lambda v: Drift(_obj(v).get("median"),
                                                       _obj(v).get("max"))),
            drift_series=per("drift_series", lambda v: {
                t: DriftCheckpoint(p.get("uss_kb"), p.get("pss_kb"), p.get("drift_median"),
                                   p.get("drift_max"))
                for t, p in _obj(v).items()}),
            ran=per("ran", GuestRan.from_json),
            ksm=opt("ksm", KsmFigures.from_json),
            vs_ksm=opt("vs_ksm", lambda v: None if v is None else VsKsm(
                _obj(v).get("uss_ratio"), _obj(v).get("lmk_ratio"),
                _obj(v).get("launch_ratio"))),
            spread=per("spread", lambda v: Spread(v["median"], v["min"], v["max"],
                                                  v["values"])),
            repeats=s.get("repeats"),
        )


def view(s: Summary | dict[str, Any]) -> Summary:
    """S as a Summary (the JSON object read once)."""
    return s if isinstance(s, Summary) else Summary.from_json(s)
