"""Life under memory pressure, natively, with the sample apps: foreground and
background apps (their oom_score_adj and CPU share), the killer's order, and
trim before kill.

As in test_framework_lmk.py, MemAvailable comes from a file the test writes
(NUWAD_LMK_MEMINFO); the apps, the messages and the kills are real.
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fw_harness import fw_build, write_fw_config
from nuwad_harness import Nuwad, wait_for
from test_framework_lmk import may_lower_oom_score_adj, oom_adj, set_available

THRESHOLD_KB = 50000


@pytest.fixture
def daemon(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Nuwad, Path]]:
    build = fw_build("host")
    meminfo = tmp_path / "meminfo"
    set_available(meminfo, 4 * THRESHOLD_KB)
    monkeypatch.setenv("NUWAD_LMK_MEMINFO", str(meminfo))
    # psi = no: the test alone decides when memory is short (test_psi_* below).
    conf = write_fw_config(tmp_path, build,
                           daemon=f"tick_ms = 100\nlmk_threshold_kb = {THRESHOLD_KB}\npsi = no")
    d = Nuwad(build, tmp_path, conf)
    try:
        d.wait_ready(timeout=60, spare=True)
        yield d, meminfo
    finally:
        d.stop()


def apps(d: Nuwad) -> dict[int, dict]:  # type: ignore[type-arg]
    return {a["pid"]: a for a in d.json("list")  # type: ignore[union-attr]
            if a.get("state") == "running"}


def nice_of(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat[stat.rindex(")") + 2:].split()[16])


def cpu_share(d: Nuwad, a: dict) -> tuple[str, int]:  # type: ignore[type-arg]
    """The app's CPU share as the kernel has it (not as nuwad says)."""
    if a["cpu_control"] == "cpu.weight":
        cg = Path(f"/proc/{a['pid']}/cgroup").read_text()
        rel = next(line[3:] for line in cg.splitlines() if line.startswith("0::"))
        mnt = next(line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()
                   if " - cgroup2 " in line)
        return "cpu.weight", int(Path(f"{mnt}{rel}/cpu.weight").read_text())
    assert a["cpu_control"] == "nice", a
    return "nice", nice_of(a["pid"])


def test_foreground_and_background(daemon: tuple[Nuwad, Path]) -> None:
    d, _ = daemon
    # The first launch is served by the spare (a fork of the template at -800).
    first = d.json("launch", "clock")
    assert first["spare"] is True  # type: ignore[index]
    pids = [int(first["pid"])] + [  # type: ignore[index]
        int(d.json("launch", app)["pid"]) for app in ("notes", "settings")]  # type: ignore[index]
    listed = apps(d)
    for pid in pids:
        # New apps start in the background with their config's oom_score_adj.
        assert listed[pid]["importance"] == "background"
        assert oom_adj(pid) == 800 == listed[pid]["oom_score_adj"]
    bg_share = cpu_share(d, listed[pids[0]])

    d.ctl("foreground", "clock")
    listed = apps(d)
    assert [p for p in pids if listed[p]["importance"] == "foreground"] == [pids[0]]
    fg_share = cpu_share(d, listed[pids[0]])
    assert fg_share[0] == bg_share[0] and fg_share[1] != bg_share[1]
    # A higher share: a larger cpu.weight, or a lower nice value.
    assert (fg_share[1] > bg_share[1]) == (fg_share[0] == "cpu.weight")
    assert cpu_share(d, listed[pids[1]]) == bg_share
    lowered = may_lower_oom_score_adj()
    if lowered:
        assert oom_adj(pids[0]) < oom_adj(pids[1]) == 800

    # One foreground app at a time: the previous one goes to the background
    # with its last use.
    d.ctl("foreground", str(pids[1]))
    listed = apps(d)
    assert listed[pids[0]]["importance"] == "background"
    assert listed[pids[1]]["importance"] == "foreground"
    assert cpu_share(d, listed[pids[0]]) == bg_share
    assert oom_adj(pids[0]) == 800
    assert listed[pids[0]]["idle_ms"] < listed[pids[2]]["idle_ms"]
    text = d.ctl("list").stdout
    assert "foreground" in text and "background" in text

    d.ctl("background")
    assert all(a["importance"] == "background" for a in apps(d).values())
    res = d.ctl("background", check=False)
    assert res.returncode != 0 and "no foreground app" in res.stderr

    # Unknown targets: one clear error each; nuwad carries on.
    for target in ("no-such-app", "999999"):
        res = d.ctl("foreground", target, check=False)
        assert res.returncode != 0 and f"no running app '{target}'" in res.stderr
    assert d.ctl("foreground", check=False).returncode != 0
    d.ctl("ping")
    print("cpu share via", bg_share[0], "; lower oom_score_adj allowed:", lowered)


def lmk_events(d: Nuwad) -> list[tuple[str, str, int]]:
    """('trim'|'killed', app, pid) in the order nuwad logged them."""
    events = []
    for line in d.log.read_text().splitlines():
        if m := re.search(r"lmk: asked (\S+) \(pid (\d+)", line):
            events.append(("trim", m[1], int(m[2])))
        elif m := re.search(r"lmk: killed (\S+) \(pid (\d+)\)", line):
            events.append(("killed", m[1], int(m[2])))
    return events


def test_trim_before_kill_then_background_oldest_first(daemon: tuple[Nuwad, Path]) -> None:
    d, meminfo = daemon
    names = ["clock", "gallery", "notes", "settings"]
    pid = {n: int(d.json("launch", n)["pid"]) for n in names}  # type: ignore[index]
    # clock, the oldest launch, is in use: the others are background, in
    # launch order of last use.
    d.ctl("foreground", "clock")
    template_pid = d.json("stats")["template"]["pid"]  # type: ignore[index]

    set_available(meminfo, THRESHOLD_KB - 1)
    wait_for(lambda: d.json("stats")["lmk_kills"] >= 4, 30, "every app killed")  # type: ignore[index]
    events = lmk_events(d)
    trims = [(n, p) for kind, n, p in events if kind == "trim"]
    kills = [(n, p) for kind, n, p in events if kind == "killed"]
    order = [(n, pid[n]) for n in ["gallery", "notes", "settings", "clock"]]
    # Trimmed before any kill, background least recently used first, the
    # foreground app last; then killed in the same order.
    assert trims == order, events
    assert events[:4] == [("trim", n, p) for n, p in order], events
    assert kills == order, events
    st = d.json("stats")
    assert isinstance(st, dict)
    assert st["lmk_trims"] == st["lmk_trims_answered"] == 4
    assert st["lmk_foreground_kills"] == 1  # clock, once no background app was left
    text = d.log.read_text()
    assert re.search(r"lmk: asked clock \(pid \d+, foreground\) to trim \(running-low\)", text)
    # What gallery said it freed (its photo cache) reached nuwad.
    m = re.search(rf"lmk: gallery \(pid {pid['gallery']}\) trimmed: freed (\d+) kB", text)
    assert m, text[-3000:]
    app_said = re.search(r"gallery: trim background: app freed (\d+) kB", d.ctl("logs", "gallery").stdout
                         + text)
    assert app_said and int(app_said[1]) > 0 and int(m[1]) >= int(app_said[1])
    assert st["lmk_trimmed_kb"] >= int(m[1])
    # The template, the spare and nuwad survive.
    d.ctl("ping")
    assert st["template"]["pid"] == template_pid and Path(f"/proc/{template_pid}").exists()
    assert st["spare"] is not None
    assert "killed by the seccomp filter" not in text


def test_trim_off_kills_without_asking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build = fw_build("host")
    meminfo = tmp_path / "meminfo"
    set_available(meminfo, 4 * THRESHOLD_KB)
    monkeypatch.setenv("NUWAD_LMK_MEMINFO", str(meminfo))
    conf = write_fw_config(tmp_path, build, daemon=f"tick_ms = 100\nlmk_threshold_kb = {THRESHOLD_KB}\n"
                           "lmk_trim = no\npsi = no")
    d = Nuwad(build, tmp_path, conf)
    try:
        d.wait_ready(timeout=60)
        first = int(d.json("launch", "gallery")["pid"])  # type: ignore[index]
        second = int(d.json("launch", "notes")["pid"])  # type: ignore[index]
        d.ctl("foreground", str(first))
        set_available(meminfo, THRESHOLD_KB - 1)
        wait_for(lambda: d.json("stats")["lmk_kills"] >= 1, 10, "a kill")  # type: ignore[index]
        set_available(meminfo, 4 * THRESHOLD_KB)
        # The background app goes, although launched later; nothing trimmed.
        assert [p for _, _, p in lmk_events(d)] == [second]
        assert d.json("stats")["lmk_trims"] == 0  # type: ignore[index]
        assert first in apps(d)
    finally:
        d.stop()


@pytest.mark.parametrize("line", ["lmk_trim = maybe", "trim_timeout_ms = 5", "trim_timeout_ms = soon",
                                  "psi = perhaps", "psi_window_ms = 100", "psi_some_ms = -1",
                                  "apps_memory_high_kb = -1", "apps_memory_high_kb = 8M"])
def test_bad_pressure_config_is_one_error_with_its_line(tmp_path: Path, line: str) -> None:
    build = fw_build("host")
    conf = write_fw_config(tmp_path, build, daemon=line)
    lineno = conf.read_text().splitlines().index(line) + 1
    with pytest.raises(AssertionError) as err:
        Nuwad(build, tmp_path, conf).stop()
    assert f"{conf}:{lineno}" in str(err.value), err.value


def psi_daemon(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, psi_file: Path | None) -> Nuwad:
    build = fw_build("host")
    meminfo = tmp_path / "meminfo"
    set_available(meminfo, 4 * THRESHOLD_KB)
    monkeypatch.setenv("NUWAD_LMK_MEMINFO", str(meminfo))
    if psi_file is not None:
        monkeypatch.setenv("NUWAD_PSI_FILE", str(psi_file))
    conf = write_fw_config(tmp_path, build, daemon=f"tick_ms = 100\nlmk_threshold_kb = {THRESHOLD_KB}")
    d = Nuwad(build, tmp_path, conf)
    d.wait_ready(timeout=60)
    return d


def test_psi_triggers_where_the_kernel_has_them(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    d = psi_daemon(tmp_path, monkeypatch, None)
    try:
        st = d.json("stats")
        assert isinstance(st, dict)
        log = d.log.read_text()
        # The apps' cgroup's memory.pressure where nuwad has one (the apps'
        # stalls), else the system-wide file.
        cg = re.search(r"apps get their own cgroup in (\S+) ", log)
        want = [f"{cg.group(1)}/memory.pressure"] if cg else []
        want.append("/proc/pressure/memory")
        have = [f for f in want if Path(f).exists()]
        if have:
            assert st["psi"] == {"file": have[0], "some_ms": 300, "full_ms": 100,
                                 "window_ms": 2000, "events": st["psi"]["events"]}, log[-2000:]
            assert f"lmk: PSI triggers on {have[0]}" in log
        else:
            assert st["psi"] is None and log.count("MemAvailable polling every") == 1
    finally:
        d.stop()


def test_apps_memory_budget_without_memory_controller_is_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The budget needs the memory controller in the apps' cgroup's parent;
    where it cannot have it (no cgroup, a v1 memory hierarchy as on this
    host) one log line says so and nuwad runs on."""
    build = fw_build("host")
    conf = write_fw_config(tmp_path, build, daemon="lmk_threshold_kb = 1000\napps_memory_high_kb = 8192")
    d = Nuwad(build, tmp_path, conf)
    try:
        d.wait_ready(timeout=60)
        log = d.log.read_text()
        cg = re.search(r"apps get their own cgroup in (\S+) ", log)
        if cg and Path(f"{cg.group(1)}/memory.high").exists():
            assert int(Path(f"{cg.group(1)}/memory.high").read_text()) == 8192 * 1024
            assert "lmk: apps' memory budget 8192 kB" in log
        else:
            assert len(re.findall(r"lmk: .*no memory budget", log)) == 1, log[-2000:]
        d.ctl("launch", "clock")
        d.ctl("ping")
    finally:
        d.stop()


def test_missing_psi_file_falls_back_to_memavailable(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    d = psi_daemon(tmp_path, monkeypatch, tmp_path / "no-pressure-here")
    try:
        assert d.json("stats")["psi"] is None  # type: ignore[index]
        pid = int(d.json("launch", "clock")["pid"])  # type: ignore[index]
        set_available(tmp_path / "meminfo", THRESHOLD_KB - 1)
        wait_for(lambda: pid not in apps(d), 10, "the MemAvailable path's kill")
        log = d.log.read_text()
        assert log.count("lmk: no PSI trigger on") == 1
        assert "MemAvailable polling every 100 ms only" in log
        d.ctl("ping")
    finally:
        d.stop()


def test_late_trim_answer_makes_a_kill_candidate(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    build = fw_build("host")
    meminfo = tmp_path / "meminfo"
    set_available(meminfo, 4 * THRESHOLD_KB)
    monkeypatch.setenv("NUWAD_LMK_MEMINFO", str(meminfo))
    conf = write_fw_config(tmp_path, build, daemon=f"tick_ms = 100\nlmk_threshold_kb = {THRESHOLD_KB}\n"
                           "psi = no\ntrim_timeout_ms = 300")
    d = Nuwad(build, tmp_path, conf)
    try:
        d.wait_ready(timeout=60)
        frozen = int(d.json("launch", "gallery")["pid"])  # type: ignore[index]
        fg = int(d.json("launch", "notes")["pid"])  # type: ignore[index]
        d.ctl("foreground", "notes")
        # A stopped app cannot answer: nuwad waits trim_timeout_ms, says so
        # once, and goes on (SIGKILL still ends a stopped process).
        os.kill(frozen, signal.SIGSTOP)
        set_available(meminfo, THRESHOLD_KB - 1)
        wait_for(lambda: d.json("stats")["lmk_kills"] >= 1, 10, "a kill")  # type: ignore[index]
        set_available(meminfo, 4 * THRESHOLD_KB)
        log = d.log.read_text()
        late = f"lmk: gallery (pid {frozen}) did not answer the trim within 300 ms"
        assert log.count(late) == 1, log[-3000:]
        assert log.index(late) < log.index(f"lmk: asked notes (pid {fg}")
        assert [e[2] for e in lmk_events(d) if e[0] == "killed"] == [frozen]
        assert fg in apps(d)
        d.ctl("ping")
    finally:
        d.stop()


@pytest.mark.parametrize("mode", ["template", "exec"])
def test_every_trim_handler_frees_memory_and_the_app_works_on(tmp_path: Path, mode: str) -> None:
    """`nuwactl trim APP` sends what the killer sends: each app with a trim
    handler (and the framework under it) gives back some memory, says how
    much in TRIMMED, and still answers requests afterwards."""
    build = fw_build("host")
    conf = write_fw_config(tmp_path, build, daemon="psi = no")
    d = Nuwad(build, tmp_path, conf)
    try:
        d.wait_ready(timeout=60)
        names = ["clock", "notes", "messages", "gallery"]
        pid = {n: int(d.json("launch", n, "--mode", mode)["pid"]) for n in names}  # type: ignore[index]
        time.sleep(2)  # a few ticks: caches filled, the open note written, messages in
        for n in names:
            got = d.json("trim", n)
            assert isinstance(got, dict) and got["pid"] == pid[n], got
            assert got["freed_kb"] > 0, (n, got, d.ctl("logs", n).stdout[-1000:])
            if n == "gallery":
                # In the background nothing rebuilds it: its periodic work is parked
                # until the app is used again (a request), so the cache stays empty.
                time.sleep(2.5)
                d.json("app-ping", n)
                assert "cached=0 " in d.json("call", n, "status")["reply"]  # type: ignore[index]
            status = d.json("call", n, "status")["reply"]  # type: ignore[index]
            assert status.startswith(n + " "), status
            d.json("app-ping", n)
        # What each handler did, as its status tells.
        assert re.search(r"now=\"[^\"]+\" .*trims=1", d.json("call", "clock", "status")["reply"])  # type: ignore[index]
        assert "keep=500 trims=1" in d.json("call", "messages", "status")["reply"]  # type: ignore[index]
        assert "trims=1" in d.json("call", "notes", "status")["reply"]  # type: ignore[index]
        time.sleep(2)  # used again (the status requests): gallery decodes again
        assert re.search(r"cached=[1-9]", d.json("call", "gallery", "status")["reply"])  # type: ignore[index]
        # Nothing was killed or counted as the killer's.
        st = d.json("stats")
        assert isinstance(st, dict) and st["lmk_trims"] == 0 and st["lmk_kills"] == 0, st
        assert set(pid.values()) <= set(apps(d))
        # Bad input: one clear error each; nuwad stays up.
        for args, why in ((("trim", "clock", "critical"), "unknown trim level"),
                          (("trim", "no-such-app"), "no running app"),
                          (("trim",), "usage: trim")):
            res = d.ctl(*args, check=False)
            assert res.returncode != 0 and why in res.stderr, res.stderr
        d.ctl("ping")
    finally:
        d.stop()
