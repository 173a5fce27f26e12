"""nuwad's low-memory killer, natively, with the sample apps.

MemAvailable comes from a meminfo file the test writes (NUWAD_LMK_MEMINFO),
so the test decides when memory is short; the kill path, the app table and
the processes are the real ones. The guest test (tests/system) runs it on
real memory pressure.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fw_harness import fw_build, write_fw_config
from nuwad_harness import FRAMEWORK_BUILDS, Nuwad, wait_for

THRESHOLD_KB = 50000


def set_available(path: Path, kb: int) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(f"MemTotal:       131072 kB\nMemFree:         {kb} kB\n"
                   f"MemAvailable:    {kb} kB\nBuffers:            0 kB\n")
    tmp.replace(path)


@pytest.fixture(params=sorted(FRAMEWORK_BUILDS))
def lmk_daemon(request: pytest.FixtureRequest, tmp_path: Path,
               monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Nuwad, Path]]:
    build = fw_build(request.param)
    meminfo = tmp_path / "meminfo"
    set_available(meminfo, 4 * THRESHOLD_KB)
    monkeypatch.setenv("NUWAD_LMK_MEMINFO", str(meminfo))
    conf = write_fw_config(tmp_path, build,
                           daemon=f"tick_ms = 300\nlmk_threshold_kb = {THRESHOLD_KB}\n"
                           "psi = no")  # the test alone decides when memory is short
    d = Nuwad(build, tmp_path, conf)
    try:
        d.wait_ready(timeout=60)
        yield d, meminfo
    finally:
        d.stop()


def stats(d: Nuwad) -> dict:  # type: ignore[type-arg]
    st = d.json("stats")
    assert isinstance(st, dict)
    return st


def running(d: Nuwad) -> dict[int, str]:
    return {a["pid"]: a["app"] for a in d.json("list")  # type: ignore[union-attr]
            if a.get("state") == "running"}


def lmk_victims(d: Nuwad) -> list[int]:
    """Pids the killer took, in order; checks that each victim was reaped
    before the next was chosen (one at a time)."""
    victims: list[int] = []
    reaped: set[int] = set()
    for line in d.log.read_text().splitlines():
        if m := re.search(r"lmk: killed \S+ \(pid (\d+)\)", line):
            assert all(v in reaped for v in victims), f"killed before {victims} were reaped"
            victims.append(int(m[1]))
        elif m := re.search(r"app \S+ \(pid (\d+)\) killed by signal", line):
            reaped.add(int(m[1]))
    return victims


def oom_adj(pid: int) -> int:
    return int(Path(f"/proc/{pid}/oom_score_adj").read_text())


def test_kills_least_recently_launched_first(lmk_daemon: tuple[Nuwad, Path]) -> None:
    d, meminfo = lmk_daemon
    order = [("settings", "template"), ("clock", "exec"), ("notes", "template")]
    pids = [int(d.json("launch", app, "--mode", mode)["pid"])  # type: ignore[index]
            for app, mode in order]
    before = stats(d)
    assert before["lmk_kills"] == 0
    template_pid = before["template"]["pid"]

    set_available(meminfo, THRESHOLD_KB - 1)
    wait_for(lambda: stats(d)["lmk_kills"] >= 1, 10, "the first low-memory kill")
    set_available(meminfo, 4 * THRESHOLD_KB)
    wait_for(lambda: pids[0] not in running(d), 10, "the oldest app to go")
    # The test restores memory within a tick or so: the newest app survives.
    assert pids[2] in running(d), "the newest app was killed too"
    killed = lmk_victims(d)
    assert killed == pids[:len(killed)], f"not oldest first: {killed} of {pids}"
    assert stats(d)["lmk_kills"] == len(killed)

    # Still short: the next oldest go, one at a time, oldest first; the
    # template, the spare and nuwad are never taken.
    set_available(meminfo, THRESHOLD_KB - 1)
    wait_for(lambda: stats(d)["lmk_kills"] >= 3 and not running(d), 20, "every app killed")
    assert lmk_victims(d) == pids
    d.ctl("ping")
    after = stats(d)
    assert after["template"]["pid"] == template_pid and os.path.exists(f"/proc/{template_pid}")
    assert after["lmk_kills"] == 3
    # With no app left the killer has no candidate and waits.
    new_app = d.json("launch", "clock")
    assert isinstance(new_app, dict)
    wait_for(lambda: stats(d)["lmk_kills"] == 4, 10, "the new app to be killed too")
    assert stats(d)["template"]["pid"] == template_pid


def may_lower_oom_score_adj() -> bool:
    """Lowering oom_score_adj needs CAP_SYS_RESOURCE (containers often drop it)."""
    own = Path("/proc/self/oom_score_adj")
    cur = int(own.read_text())
    try:
        own.write_text(str(cur - 1))
    except PermissionError:
        return False
    own.write_text(str(cur))
    return True


def test_oom_score_adj_apps_first(lmk_daemon: tuple[Nuwad, Path]) -> None:
    d, _ = lmk_daemon
    tpl = d.json("launch", "gallery", "--mode", "template")
    exe = d.json("launch", "music", "--mode", "exec")
    st = stats(d)
    for app in (tpl, exe):
        assert oom_adj(int(app["pid"])) == 800  # type: ignore[index]
    if not may_lower_oom_score_adj():
        # Unprivileged: one clear line each, and nuwad carries on.
        mark = "lmk: cannot set nuwad's oom_score_adj"
        wait_for(lambda: mark in d.log.read_text(), 10, "the killer's first tick")
        time.sleep(0.7)  # two more ticks: still logged once
        assert d.log.read_text().count(mark) == 1
        d.ctl("ping")
        pytest.skip("no CAP_SYS_RESOURCE here: negative oom_score_adj checked in the guest")
    wait_for(lambda: oom_adj(st["template"]["pid"]) < 0, 5, "the template's oom_score_adj")
    assert oom_adj(st["nuwad"]["pid"]) < oom_adj(st["template"]["pid"]) < 0


@pytest.mark.parametrize("value", ["-1", "lots", "99999999999"])
def test_bad_threshold_is_a_clear_config_error(tmp_path: Path, value: str) -> None:
    build = fw_build("host")
    conf = write_fw_config(tmp_path, build, daemon=f"lmk_threshold_kb = {value}")
    with pytest.raises(AssertionError, match="lmk_threshold_kb|not a number"):
        d = Nuwad(build, tmp_path, conf)
        d.stop()


def test_unreadable_meminfo_is_logged_once_and_kills_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build = fw_build("host")
    monkeypatch.setenv("NUWAD_LMK_MEMINFO", str(tmp_path / "no-such-meminfo"))
    conf = write_fw_config(tmp_path, build,
                           daemon=f"tick_ms = 50\nlmk_threshold_kb = {THRESHOLD_KB}")
    d = Nuwad(build, tmp_path, conf)
    try:
        d.wait_ready(timeout=60)
        pid = int(d.json("launch", "clock")["pid"])  # type: ignore[index]
        time.sleep(0.5)  # ten ticks
        assert pid in running(d) and stats(d)["lmk_kills"] == 0
        assert d.log.read_text().count("lmk: cannot read MemAvailable") == 1
        # Readable again: the killer works again (and would log a new failure).
        set_available(tmp_path / "no-such-meminfo", THRESHOLD_KB - 1)
        wait_for(lambda: pid not in running(d), 10, "the kill once meminfo is readable")
    finally:
        d.stop()
