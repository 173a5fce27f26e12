"""Turn the two modes' raw results into the comparison figures of report.json's `summary`."""
from __future__ import annotations

from typing import Any

from nuwa.bench import stats
from nuwa.bench.results import ModeResult
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


def template_cost(result: ModeResult) -> tuple[float | None, str]:
    """The memory template mode holds whatever the number of apps, and how it was measured.

    A template with live children shares most of its pages with them, so its USS is not its
    cost. What only template mode needs are the pages the template wrote (its Anonymous
    pages: heap and relocated library pages, counted once though the spare and the apps
    share them) plus the spare's own dirty pages. Clean file pages (code, read-only data)
    are left out: exec-mode apps map the same files. Without smaps of the template, the
    PSS of template plus spare is used (it also charges them their code pages).
    """
    solo = result.overhead.get("template_solo")
    if solo is not None:
        return float(solo.uss_kb), "USS of the template with no spare and no app"
    smaps_of = result.overhead_breakdown
    if "template" in smaps_of:
        spare = smaps_of.get("spare", {}).get("total", {}).get("private_dirty_kb", 0)
        return (float(smaps_of["template"]["total"]["anonymous_kb"] + spare),
                "written (Anonymous) pages of the template + dirty pages of the spare")
    parts = [result.overhead.get("template"), result.overhead.get("spare")]
    if parts[0] is None:
        return None, "not measured"
    return float(sum(p.pss_kb for p in parts if p is not None)), "PSS of template + spare, no app"


def _launch_ms(samples: list[Any]) -> list[float]:
    return [s.launch_ms for s in samples]


def fork_figures(result: ModeResult, launch: dict[str, Any],
                 no_spare: dict[str, Any]) -> dict[str, Any]:
    """Fork latency: nuwad's own figure when it reports one, else what the spare saves.

    Without the spare a launch waits for the template's fork; with it, it does not. The
    difference of the medians is the fork as a launch sees it.
    """
    reported = [s.fork_ms for s in result.launches if s.fork_ms is not None]
    if reported:
        return {**stats.describe(reported), "method": "reported by nuwad"}
    if launch["median"] is None or no_spare["median"] is None:
        return {"median": None, "method": "not measured"}
    return {"median": no_spare["median"] - launch["median"],
            "method": "median launch without the spare minus median launch with it"}


def drift_figures(result: ModeResult) -> dict[str, float | None]:
    values = [
        d for d in (stats.drift(s.uss_before_kb, s.uss_after_kb) for s in result.drift)
        if d is not None
    ]
    return {"median": stats.median(values), "max": max(values) if values else None}


def summarize(results: dict[str, ModeResult]) -> dict[str, Any]:
    """The `summary` object: ratios are template / exec, measured in the same run."""
    tpl = results["template"]
    uss = {m: per_app_mean(r, "uss_kb") for m, r in results.items()}
    pss = {m: per_app_mean(r, "pss_kb") for m, r in results.items()}
    rss = {m: per_app_mean(r, "rss_kb") for m, r in results.items()}
    launch = {m: stats.describe(_launch_ms(r.launches)) for m, r in results.items()}
    no_spare = {m: stats.describe(_launch_ms(r.launches_no_spare)) for m, r in results.items()}
    fork = {m: fork_figures(r, launch[m], no_spare[m]) for m, r in results.items()}
    cost_kb, cost_method = template_cost(tpl)
    saving = None
    if uss["template"] is not None and uss["exec"] is not None:
        saving = uss["exec"] - uss["template"]
    break_even = None
    if saving is not None and cost_kb is not None:
        break_even = stats.break_even_apps(cost_kb, saving)
    lmk = {m: r.apps_until_lmk for m, r in results.items()}
    return {
        "uss_ratio": stats.ratio(uss["template"], uss["exec"]),
        "pss_ratio": stats.ratio(pss["template"], pss["exec"]),
        "launch_ratio": stats.ratio(launch["template"]["median"], launch["exec"]["median"]),
        "apps_until_lmk": lmk,
        "lmk_reached": {m: r.lmk_reached for m, r in results.items()},
        "lmk_ratio": stats.ratio(lmk["template"], lmk["exec"]),
        "template_uss_kb": cost_kb,
        "template_cost_method": cost_method,
        "break_even_apps": break_even,
        "per_app_uss_kb": uss,
        "per_app_pss_kb": pss,
        "per_app_rss_kb": rss,
        "per_app_uss_saving_kb": saving,
        "category_uss_kb": {m: category_means(r) for m, r in results.items()},
        "launch_ms": launch,
        "launch_no_spare_ms": no_spare,
        "fork_ms": fork,
        "spare_ratio": stats.ratio(launch["template"]["median"], no_spare["template"]["median"]),
        "overhead_kb": {
            m: {k: (v.uss_kb if v is not None else None) for k, v in r.overhead.items()}
            for m, r in results.items()
        },
        "idle_mem_available_kb": {m: r.idle_mem_available_kb for m, r in results.items()},
        "drift_seconds": {m: r.drift_seconds for m, r in results.items()},
        "uss_drift": {m: drift_figures(r) for m, r in results.items()},
        "apps_measured": {m: len(r.apps) for m, r in results.items()},
        "launches_measured": {m: len(r.launches) for m, r in results.items()},
    }
