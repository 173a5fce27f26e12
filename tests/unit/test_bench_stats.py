"""Statistics used by the bench."""
import pytest
from nuwa.bench import stats


def test_median_and_mean() -> None:
    assert stats.median([3, 1, 2]) == 2
    assert stats.median([4, 1, 2, 3]) == 2.5
    assert stats.mean([1, 2, 3, 6]) == 3
    assert stats.median([]) is None and stats.mean([]) is None


def test_nearest_rank_percentile_is_an_observed_value() -> None:
    samples = list(range(1, 21))  # 1..20
    assert stats.percentile(samples, 95) == 19
    assert stats.percentile(samples, 100) == 20
    assert stats.percentile([7.5], 95) == 7.5
    assert stats.percentile(list(reversed(samples)), 50) == 10
    with pytest.raises(ValueError):
        stats.percentile(samples, 0)


def test_ratio() -> None:
    assert stats.ratio(1, 4) == 0.25
    assert stats.ratio(None, 4) is None
    assert stats.ratio(1, 0) is None


def test_break_even() -> None:
    assert stats.break_even_apps(4500, 4500) == 1
    assert stats.break_even_apps(4501, 4500) == 2
    assert stats.break_even_apps(10000, 3000) == 4
    assert stats.break_even_apps(0, 100) == 1
    assert stats.break_even_apps(100, 0) is None
    assert stats.break_even_apps(100, -5) is None


def test_describe_and_drift() -> None:
    d = stats.describe([10.0, 30.0, 20.0])
    assert d == {"n": 3, "median": 20.0, "p95": 30.0, "min": 10.0, "max": 30.0, "mean": 20.0}
    assert stats.describe([])["median"] is None
    assert stats.drift(100, 120) == pytest.approx(0.2)
    assert stats.drift(0, 10) is None
