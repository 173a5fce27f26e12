"""Leaks over many launch/kill cycles, and the template's death."""

from __future__ import annotations

import os
import signal
import time

import pytest
from nuwad_harness import Nuwad, children, fd_count, proc_state, wait_for


def snapshot(d: Nuwad) -> dict[str, object]:
    """fd counts of nuwad and the template, and the process tree under nuwad,
    once two readings in a row agree (a spare refill may be under way)."""
    last: dict[str, object] = {}
    for _ in range(100):
        now = reading(d)
        if now == last:
            return now
        last = now
        time.sleep(0.05)
    return last


def reading(d: Nuwad) -> dict[str, object]:
    t = d.wait_ready(spare=True)
    tpid = int(t["pid"])  # type: ignore[arg-type]
    kids = children(d.proc.pid)
    grandkids = children(tpid)
    zombies = [p for p in kids + grandkids if proc_state(p) == "Z"]
    return {"nuwad_fds": fd_count(d.proc.pid), "template_fds": fd_count(tpid),
            "template": tpid, "children": len(kids), "template_children": len(grandkids),
            "zombies": zombies, "listed": len(d.call("list"))}  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", ["template", "exec"])
def test_no_leaks_after_500_launch_kill_cycles(nuwad: Nuwad, mode: str) -> None:
    cycles = 500
    before = snapshot(nuwad)
    for i in range(cycles):
        # Alternate spare and direct forks in template mode.
        extra = ["--no-spare"] if mode == "template" and i % 2 else []
        pid = nuwad.call("launch", "echo", "--mode", mode, *extra)["pid"]
        killed = nuwad.call("kill", str(pid))
        assert killed["killed"] == [pid]
    # Launches that fail also must not leak.
    for _ in range(20):
        status, _ = nuwad.request("launch", "broken", "--mode", mode)
        assert status != 0
    after = snapshot(nuwad)
    assert after == before, f"before {before}\nafter  {after}"


def test_template_death_restarts_it_and_apps_keep_running(nuwad: Nuwad) -> None:
    old = nuwad.wait_ready(spare=True)
    apps = [nuwad.call("launch", "echo", *x)["pid"] for x in ([], ["--no-spare"])]
    exec_app = nuwad.call("launch", "echo", "--mode", "exec")["pid"]
    os.kill(int(old["pid"]), signal.SIGKILL)  # type: ignore[arg-type]
    new = wait_for(lambda: (t := nuwad.template())["state"] == "ready"
                   and t["pid"] != old["pid"] and t, 30, "template restart")
    assert new["restarts"] == 1  # type: ignore[index]
    # The orphans are nuwad's now (child subreaper), still listed, still answering.
    for pid in apps:
        assert pid in children(nuwad.proc.pid)
        assert nuwad.call("app-ping", str(pid))["pid"] == pid
    listed = {a["pid"] for a in nuwad.call("list")}  # type: ignore[union-attr]
    assert set(apps) | {exec_app} <= listed
    # The next launch works, from the new template.
    fresh = nuwad.call("launch", "echo", "--no-spare")["pid"]
    assert fresh in children(int(new["pid"]))  # type: ignore[index]
    assert "generation=2" in nuwad.call("call", str(fresh), "fw:waiters")["reply"]
    # Orphans are reaped by nuwad: no zombies, gone from the list.
    for pid in apps + [exec_app, fresh]:
        nuwad.call("kill", str(pid))
    time.sleep(0.1)
    assert not [p for p in children(nuwad.proc.pid) if proc_state(p) == "Z"]
    assert nuwad.call("list") == []


def test_template_deadlock_is_detected(start_nuwad) -> None:  # type: ignore[no-untyped-def]
    d = start_nuwad(daemon="fork_timeout_ms = 300\nspare = 0")
    t = d.wait_ready()
    os.kill(int(t["pid"]), signal.SIGSTOP)  # a template that never answers
    status, body = d.request("launch", "echo")
    assert status != 0, body
    status = wait_for(lambda: (s := d.template())["state"] == "ready"
                      and s["pid"] != t["pid"] and s, 30, "restart after deadlock")
    assert status["restarts"] >= 1  # type: ignore[index]
    assert "deadlock" in d.log_tail()
    assert d.call("launch", "echo")["pid"] > 0


def test_launch_right_after_start_waits_for_the_template(
        start_nuwad) -> None:  # type: ignore[no-untyped-def]
    d = start_nuwad()
    # No wait_ready: the first launch may arrive while the template starts.
    assert d.call("launch", "echo", "--no-spare")["pid"] > 0
