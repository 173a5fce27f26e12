"""`nuwa bench --repeat N`: the order of the modes per repeat and the aggregation.

Every figure of the aggregated summary is the median over repeats of that figure (a ratio
is the median of the per-repeat ratios, each measured within one repeat); `spread` gives
median, min and max of the headline ratios. The goals are judged on the medians.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nuwa.bench import stats

SPREAD_KEYS = (
    "uss_ratio", "pss_ratio", "launch_ratio", "lmk_ratio", "spare_ratio", "break_even_apps",
    "template_costs.uss_kb.break_even_apps", "template_costs.pss_kb.break_even_apps",
    "template_costs.written_kb.break_even_apps", "fork.fork_vs_raw_ratio",
    "uss_drift.template.median", "vs_ksm.uss_ratio", "vs_ksm.lmk_ratio", "vs_ksm.launch_ratio",
    # the counts and costs behind the ratios
    "apps_until_lmk.template", "apps_until_lmk.exec", "apps_until_lmk.exec+ksm",
    "template_costs.uss_kb.kb", "template_costs.pss_kb.kb",
)


def mode_order(modes: Sequence[str], repeat: int) -> list[str]:
    """Repeat 0 runs the modes in the given order, repeat 1 reversed, and so on: which mode
    goes first alternates, so a drift in the host's load is not always charged to one."""
    return list(modes) if repeat % 2 == 0 else list(reversed(modes))


def _number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def merge(values: list[Any]) -> Any:
    """The median of numbers, recursively through dicts; booleans: all of them; anything
    else (text, lists of samples): the first repeat's."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    if all(isinstance(v, dict) for v in present):
        keys: list[str] = []
        for v in present:
            keys += [k for k in v if k not in keys]
        return {k: merge([v.get(k) for v in present]) for k in keys}
    if all(isinstance(v, bool) for v in present):
        return all(present)
    if all(_number(v) for v in present):
        return stats.median([float(v) for v in present])
    return present[0]


def lookup(summary: dict[str, Any], dotted: str) -> Any:
    value: Any = summary
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def spread(values: list[Any]) -> dict[str, Any]:
    numbers = [float(v) for v in values if _number(v)]
    return {"median": stats.median(numbers), "min": min(numbers) if numbers else None,
            "max": max(numbers) if numbers else None, "values": values, "n": len(numbers)}


def aggregate(summaries: list[dict[str, Any]]) -> dict[str, Any]:
    """One summary for all repeats: medians, plus `spread` and `repeats`."""
    if not summaries:
        raise ValueError("no repeats to aggregate")
    out = merge(summaries)
    out["repeats"] = len(summaries)
    out["spread"] = {k: spread([lookup(s, k) for s in summaries]) for k in SPREAD_KEYS
                     if any(lookup(s, k) is not None for s in summaries)}
    out["errors"] = {f"repeat {i + 1}: {m}": e for i, s in enumerate(summaries)
                     for m, e in s.get("errors", {}).items()}
    return out
