"""nuwad leaves the cgroup hierarchy as it found it (issue 20 item 12):
after it stops, neither its apps' cgroups nor their parent are left, even
with apps running and one of them holding a child of its own."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from nuwad_harness import Nuwad, wait_for


def apps_cgroup(d: Nuwad) -> Path:
    m = re.search(r"apps get their own cgroup in (\S+) and", d.log.read_text())
    if not m:
        pytest.skip("no app cgroups here (not root, or no cgroup2)")
    return Path(m.group(1))


def test_stopping_nuwad_removes_its_cgroups(nuwad: Nuwad) -> None:
    parent = apps_cgroup(nuwad)
    for _ in range(3):
        nuwad.call("launch", "echo", "--no-spare")
    nuwad.wait_ready(spare=True)
    wait_for(lambda: len([p for p in parent.iterdir() if p.is_dir()]) >= 3, 10, "the apps' cgroups")
    nuwad.stop()
    assert not parent.exists(), sorted(p.name for p in parent.iterdir())
