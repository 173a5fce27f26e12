"""Small statistics used by the bench: medians, nearest-rank percentiles, ratios."""
from __future__ import annotations

import math
import statistics
from collections.abc import Sequence


def median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def mean(values: Sequence[float]) -> float | None:
    return float(statistics.fmean(values)) if values else None


def percentile(values: Sequence[float], pct: float) -> float | None:
    """Nearest-rank percentile: the smallest sample with at least pct % of samples at or below it.

    Nearest-rank never invents a latency that was not observed.
    """
    if not values:
        return None
    if not 0 < pct <= 100:
        raise ValueError(f"percentile must be in (0, 100], got {pct}")
    ordered = sorted(values)
    rank = math.ceil(pct / 100 * len(ordered))
    return float(ordered[max(rank, 1) - 1])


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator; None when either is missing or the denominator is not positive."""
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return numerator / denominator


def describe(values: Sequence[float]) -> dict[str, float | int | None]:
    """Count, median, p95, min, max and mean of a sample."""
    return {
        "n": len(values),
        "median": median(values),
        "p95": percentile(values, 95),
        "min": float(min(values)) if values else None,
        "max": float(max(values)) if values else None,
        "mean": mean(values),
    }


def break_even_apps(template_fixed_kb: float, per_app_saving_kb: float) -> int | None:
    """Smallest number of apps whose USS savings pay for the template's fixed cost.

    None when template mode saves nothing per app (it never breaks even).
    """
    if per_app_saving_kb <= 0:
        return None
    if template_fixed_kb <= 0:
        return 1
    return max(1, math.ceil(template_fixed_kb / per_app_saving_kb))


def drift(before: float, after: float) -> float | None:
    """Relative growth from before to after (0.1 = grew by 10 %)."""
    if before <= 0:
        return None
    return (after - before) / before
