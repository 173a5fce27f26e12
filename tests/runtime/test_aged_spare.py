"""A spare that waited 60 s becomes any sample app (issue 13): it waited
single-threaded (its workers start only once it is confined as the app), so
after the wait the app's threads must all come up, confined, and do the
app's periodic work. One nuwad per sample app and build, all aged at once."""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fw_harness import APPS, fw_build, write_fw_config
from nuwad_harness import FRAMEWORK_BUILDS, Nuwad, wait_for

AGE_S = 60


@pytest.fixture(scope="module")
def aged() -> Iterator[dict[tuple[str, str], tuple[Nuwad, int]]]:
    """{(build, app): (its nuwad, the spare's pid)} once every spare is AGE_S old."""
    started: dict[tuple[str, str], tuple[Nuwad, int]] = {}
    root = Path(tempfile.mkdtemp(prefix="nuwa-aged-"))
    try:
        for name in sorted(FRAMEWORK_BUILDS):
            build = fw_build(name)
            for app in APPS:
                work = root / f"{name}-{app}"
                work.mkdir()
                started[(name, app)] = (Nuwad(build, work, write_fw_config(work, build)), 0)
        for key, (d, _) in started.items():
            spare = int(d.wait_ready(timeout=120, spare=True)["spare_pid"])  # type: ignore[arg-type]
            started[key] = (d, spare)
        time.sleep(AGE_S)
        yield started
    finally:
        for d, _ in started.values():
            d.stop()
        shutil.rmtree(root, ignore_errors=True)


def status_ticks(d: Nuwad, pid: int) -> int:
    reply = str(d.call("call", str(pid), "status")["reply"])  # type: ignore[index]
    m = re.search(r"ticks=(\d+)", reply)
    assert m, reply
    return int(m.group(1))


@pytest.mark.parametrize("build", sorted(FRAMEWORK_BUILDS))
@pytest.mark.parametrize("app", APPS)
def test_spare_that_waited_becomes_the_app(aged: dict[tuple[str, str], tuple[Nuwad, int]],
                                           build: str, app: str) -> None:
    d, spare = aged[(build, app)]
    assert len(list(Path(f"/proc/{spare}/task").iterdir())) == 1, "the spare waits alone"
    a = d.call("launch", app)
    assert isinstance(a, dict) and a["spare"] is True and int(a["pid"]) == spare, a  # type: ignore[arg-type]
    first = status_ticks(d, spare)
    wait_for(lambda: status_ticks(d, spare) > first, 10, f"{app}'s periodic work")
    d.ctl("app-ping", str(spare))
    names = set()
    for task in Path(f"/proc/{spare}/task").iterdir():
        status = (task / "status").read_text()
        names.add((task / "comm").read_text().strip())
        assert re.search(r"^Seccomp:\s+2$", status, re.MULTILINE), (task.name, status)
        assert re.search(r"^NoNewPrivs:\s+1$", status, re.MULTILINE), (task.name, status)
    # Threads start on first use: every sample app's periodic work runs on
    # the timer thread (the I/O and pool threads only where the app uses them).
    assert "fw-timer" in names and len(names) > 1, names
    d.ctl("kill", str(spare))
