"""The balanced launch plan: every pool launches every app the same number of times."""
from collections import Counter

import pytest
from nuwa.bench.plan import EXEC, NO_SPARE, POOLS, SPARE, launch_plan, pools_for

APP_NAMES = ["clock", "gallery", "messages", "music", "notes", "settings", "alarm", "maps"]


@pytest.mark.parametrize("n_apps", range(1, 9))
@pytest.mark.parametrize("pools", [(SPARE, NO_SPARE), (EXEC,), POOLS])
@pytest.mark.parametrize("at_least", [1, 6, 20, 40])
def test_every_pool_launches_every_app_equally_often(n_apps: int, pools: tuple[str, ...],
                                                     at_least: int) -> None:
    apps = APP_NAMES[:n_apps]
    plan = launch_plan(apps, pools, at_least)
    counts = Counter(plan)
    assert set(counts) == {(a, p) for a in apps for p in pools}  # every cell is present
    assert len(set(counts.values())) == 1  # ... equally often
    per_pool = Counter(p for _, p in plan)
    assert all(n >= at_least for n in per_pool.values())
    assert all(n < at_least + n_apps for n in per_pool.values())  # no more than needed


@pytest.mark.parametrize("n_apps", range(1, 9))
def test_pools_are_interleaved_not_at_fixed_positions(n_apps: int) -> None:
    """Each stretch of one round holds each pool equally often, so a drift of the host's
    load is shared by the pools; and no pool owns the same positions in every round."""
    apps = APP_NAMES[:n_apps]
    pools = (SPARE, NO_SPARE)
    plan = launch_plan(apps, pools, 20)
    width = n_apps * len(pools)
    for start in range(0, len(plan), width):
        window = Counter(p for _, p in plan[start:start + width])
        assert window[SPARE] == window[NO_SPARE] == n_apps
    # the old plan put the no-spare launches at every third position, so pools took
    # different apps; here the i-th launch of each app alternates between pools
    for app in apps:
        seq = [p for a, p in plan if a == app]
        assert seq.count(SPARE) == seq.count(NO_SPARE)


def test_pools_per_launch_mode() -> None:
    assert pools_for("template") == (SPARE, NO_SPARE)
    assert pools_for("exec") == (EXEC,)


def test_no_apps_is_an_error() -> None:
    with pytest.raises(ValueError):
        launch_plan([], (SPARE,), 10)
