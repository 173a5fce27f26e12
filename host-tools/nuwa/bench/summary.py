"""Turn one repeat's raw results into the comparison figures of report.json's `summary`.

Ratios are template ÷ exec (the fair baseline: a guest whose nuwad runs no template and no
spare) and template ÷ exec+ksm, always between modes of the same repeat.
"""
from __future__ import annotations

from typing import Any

from nuwa.bench import busy, pressure, pressure_psi, stats
from nuwa.bench.phases import phase_medians
from nuwa.bench.results import EXEC, EXEC_KSM, TEMPLATE, LaunchSample, ModeResult
from nuwa.bench.smaps import CATEGORIES


def per_app_mean(result: ModeResult, key: str) -> float | None:
    return stats.mean([getattr(a, key) for a in result.apps])


def category_means(result: ModeResult, counter: str = "uss_kb") -> dict[str, float | None]:
    """Mean per-app KiB of each mapping category (from the apps' smaps breakdowns)."""
    out: dict[str, float | None] = {}
    for cat in CATEGORIES:
        values = [
            a.breakdown["by_category"][cat][counter]
            for a in result.apps
            if a.breakdown.get("by_category", {}).get(cat)
        ]
        out[cat] = stats.mean(values)
    return out


COST_METHODS = {
    "uss_kb": "USS of template + spare (no app running)",
    "pss_kb": "PSS of template + spare (no app running)",
    "written_kb": "written pages: Anonymous of the template + Private_Dirty of the spare",
}


def template_costs(result: ModeResult, saving_kb: float | None) -> dict[str, dict[str, Any]]:
    """The three costs of the template (what only template mode holds whatever the number
    of apps), each with the number of apps whose per-app USS saving pays for it.

    - uss_kb: USS of template + spare. Pages the two share with each other but with no app
      are in neither's USS, so this is still a lower bound of what they hold alone.
    - pss_kb: PSS of template + spare: also charges them their share of library code that
      exec-mode apps map too (an upper bound).
    - written_kb: the template's written (Anonymous) pages plus the spare's dirty pages:
      what start-up wrote, which exec-mode apps would each write again (the kindest).
    """
    tpl, spare = result.overhead.get("template"), result.overhead.get("spare")
    values: dict[str, float | None] = {k: None for k in COST_METHODS}
    if tpl is not None:
        values["uss_kb"] = float(tpl.uss_kb + (spare.uss_kb if spare else 0))
        values["pss_kb"] = float(tpl.pss_kb + (spare.pss_kb if spare else 0))
    smaps_of = result.overhead_breakdown
    if "template" in smaps_of:
        dirty = smaps_of.get("spare", {}).get("total", {}).get("private_dirty_kb", 0)
        values["written_kb"] = float(smaps_of["template"]["total"]["anonymous_kb"] + dirty)
    out = {}
    for key, method in COST_METHODS.items():
        cost = values[key]
        be = None if cost is None or saving_kb is None else stats.break_even_apps(cost, saving_kb)
        out[key] = {"kb": cost, "break_even_apps": be, "method": method}
    return out


def _launch_ms(samples: list[LaunchSample]) -> list[float]:
    return [s.launch_ms for s in samples]


def _values(samples: list[LaunchSample], key: str) -> list[float]:
    return [v for v in (getattr(s, key) for s in samples) if v is not None]


def fork_figures(result: ModeResult) -> dict[str, Any]:
    """The template's own fork() timing (launches without the spare), nuwad's round trip,
    the specialise latency of launches through the spare, and a raw fork() of a process of
    the template's RSS in the same guest."""
    fork = stats.describe(_values(result.launches_no_spare, "fork_ms"))
    raw = stats.describe(result.raw_fork.get("fork_ms", []))
    return {
        "fork_ms": fork,
        "fork_rtt_ms": stats.describe(_values(result.launches_no_spare, "fork_rtt_ms")),
        "specialise_ms": stats.describe(_values(result.launches, "specialise_ms")),
        "raw_fork_ms": raw,
        "raw_fork_rss_kb": result.raw_fork.get("rss_kb"),
        "fork_vs_raw_ratio": stats.ratio(fork["median"], raw["median"]),
    }


def latency_by_app(result: ModeResult) -> dict[str, dict[str, float | None]]:
    """Median launch_ms per pool and app (the balanced plan makes every cell equally large)."""
    out: dict[str, dict[str, float | None]] = {}
    for s in [*result.launches, *result.launches_no_spare]:
        pool = s.pool or ("spare" if s.spare else "no_spare")
        out.setdefault(pool, {}).setdefault(s.app, None)
    for pool, apps in out.items():
        for app in apps:
            apps[app] = stats.median([s.launch_ms for s in [*result.launches,
                                                             *result.launches_no_spare]
                                      if (s.pool or ("spare" if s.spare else "no_spare"))
                                      == pool and s.app == app])
    return out


def drift_figures(result: ModeResult) -> dict[str, float | None]:
    values = [
        d for d in (stats.drift(s.uss_before_kb, s.uss_after_kb) for s in result.drift)
        if d is not None
    ]
    return {"median": stats.median(values), "max": max(values) if values else None}


def drift_series(result: ModeResult) -> dict[str, dict[str, float | None]]:
    """Mean per-app USS/PSS and median drift at each checkpoint (seconds as keys)."""
    by_t: dict[float, list[Any]] = {}
    for p in result.drift_series:
        by_t.setdefault(p.seconds, []).append(p)
    start = {p.pid: p.uss_kb for p in by_t.get(0.0, [])}
    out = {}
    for t, points in sorted(by_t.items()):
        drifts = [d for d in (stats.drift(start.get(p.pid, 0), p.uss_kb) for p in points)
                  if d is not None]
        out[f"{t:g}"] = {"uss_kb": stats.mean([p.uss_kb for p in points]),
                         "pss_kb": stats.mean([p.pss_kb for p in points]),
                         "drift_median": stats.median(drifts),
                         "drift_max": max(drifts) if drifts else None}
    return out


def converged_uss(result: ModeResult) -> float | None:
    """Mean per-app USS at the last drift checkpoint (KSM has merged what it will)."""
    if not result.drift_series:
        return per_app_mean(result, "uss_kb")
    last = max(p.seconds for p in result.drift_series)
    return stats.mean([p.uss_kb for p in result.drift_series if p.seconds == last])


def ksm_figures(result: ModeResult) -> dict[str, Any]:
    series = [vars(k) for k in result.ksm_series]
    last = series[-1] if series else {}
    return {"settings": result.ran.get("ksm"), "series": series,
            "pages_shared": last.get("pages_shared"), "pages_sharing": last.get("pages_sharing"),
            "ksmd_cpu_s": last.get("ksmd_cpu_s"), "seconds": last.get("seconds")}


def summarize(results: dict[str, ModeResult]) -> dict[str, Any]:
    """The `summary` object of one repeat."""
    empty = {m: ModeResult(mode=m) for m in (TEMPLATE, EXEC)}
    results = {**empty, **results}
    tpl = results[TEMPLATE]
    uss = {m: per_app_mean(r, "uss_kb") for m, r in results.items()}
    pss = {m: per_app_mean(r, "pss_kb") for m, r in results.items()}
    rss = {m: per_app_mean(r, "rss_kb") for m, r in results.items()}
    launch = {m: stats.describe(_launch_ms(r.launches)) for m, r in results.items()}
    no_spare = {m: stats.describe(_launch_ms(r.launches_no_spare)) for m, r in results.items()}
    saving = None
    if uss[TEMPLATE] is not None and uss[EXEC] is not None:
        saving = uss[EXEC] - uss[TEMPLATE]
    costs = template_costs(tpl, saving)
    lmk = {m: r.apps_until_lmk for m, r in results.items()}
    summary: dict[str, Any] = {
        "modes": list(results),
        "uss_ratio": stats.ratio(uss[TEMPLATE], uss[EXEC]),
        "pss_ratio": stats.ratio(pss[TEMPLATE], pss[EXEC]),
        "launch_ratio": stats.ratio(launch[TEMPLATE]["median"], launch[EXEC]["median"]),
        "apps_until_lmk": lmk,
        "lmk_reached": {m: r.lmk_reached for m, r in results.items()},
        "lmk_ratio": stats.ratio(lmk[TEMPLATE], lmk[EXEC]),
        "template_costs": costs,
        # the goal's cost: USS of template + spare (template_uss_kb is its alias)
        "template_uss_kb": costs["uss_kb"]["kb"],
        "template_cost_method": costs["uss_kb"]["method"],
        "break_even_apps": costs["uss_kb"]["break_even_apps"],
        "per_app_uss_kb": uss,
        "per_app_pss_kb": pss,
        "per_app_rss_kb": rss,
        "per_app_uss_saving_kb": saving,
        "category_uss_kb": {m: category_means(r) for m, r in results.items()},
        "launch_ms": launch,
        "launch_no_spare_ms": no_spare,
        "launch_by_app_ms": {m: latency_by_app(r) for m, r in results.items()},
        "launch_phases_ms": {m: phase_medians(r) for m, r in results.items()},
        "fork": fork_figures(tpl),
        "spare_ratio": stats.ratio(launch[TEMPLATE]["median"], no_spare[TEMPLATE]["median"]),
        "overhead_kb": {
            m: {k: (v.uss_kb if v is not None else None) for k, v in r.overhead.items()}
            for m, r in results.items()
        },
        "idle_mem_available_kb": {m: r.idle_mem_available_kb for m, r in results.items()},
        "drift_seconds": {m: r.drift_seconds for m, r in results.items()},
        "uss_drift": {m: drift_figures(r) for m, r in results.items()},
        "drift_series": {m: drift_series(r) for m, r in results.items()},
        "fill_drift_seconds": {m: r.fill_drift_seconds for m, r in results.items()},
        "apps_measured": {m: len(r.apps) for m, r in results.items()},
        "launches_measured": {m: len(r.launches) + len(r.launches_no_spare)
                              for m, r in results.items()},
        "ran": {m: r.ran for m, r in results.items()},
        "pressure": pressure.summarize(results),
        "pressure_psi": pressure_psi.summarize(results),
        "launch_under_load": busy.summarize(results),
        "errors": {m: list(r.errors) for m, r in results.items() if r.errors},
    }
    summary["fork_ms"] = {TEMPLATE: summary["fork"]["fork_ms"]}
    if EXEC_KSM in results:
        k = results[EXEC_KSM]
        ksm_uss = converged_uss(k)
        summary["ksm"] = ksm_figures(k)
        summary["per_app_uss_converged_kb"] = {m: converged_uss(r) for m, r in results.items()}
        summary["vs_ksm"] = {
            "uss_ratio": stats.ratio(converged_uss(tpl), ksm_uss),
            "lmk_ratio": stats.ratio(lmk[TEMPLATE], lmk.get(EXEC_KSM)),
            "launch_ratio": stats.ratio(launch[TEMPLATE]["median"],
                                        launch[EXEC_KSM]["median"]),
        }
    return summary
