"""`[daemon] template = off` (the fair exec-only baseline), fork and specialise timing,
and `exec_mergeable` (the bench's exec+ksm mode)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from nuwad_harness import Nuwad, children, wait_for


def test_template_off_runs_no_template_and_refuses_template_launches(
        start_nuwad: Callable[..., Nuwad]) -> None:
    d = start_nuwad(daemon="template = off")
    status = d.template()
    assert status["state"] == "off" and status["template_enabled"] is False
    assert status["pid"] is None and status["spare_pid"] is None
    assert status["spare_enabled"] is False
    res = d.ctl("launch", "echo", "--mode", "template", check=False)
    assert res.returncode != 0 and "template launches are off" in res.stderr
    assert "template = off" in res.stderr and not res.stdout
    # The app's default mode (template) becomes exec: the only mode this nuwad has.
    a = d.json("launch", "echo")
    b = d.json("launch", "echo-exec")
    assert a["mode"] == "exec" and b["mode"] == "exec"  # type: ignore[index]
    assert "fork_ms" not in a  # type: ignore[operator]
    # Only the two exec'd apps are nuwad's children: no template, no spare.
    assert sorted(children(d.proc.pid)) == sorted([a["pid"], b["pid"]])  # type: ignore[index]
    stats = d.json("stats")
    assert stats["template"] is None and stats["spare"] is None  # type: ignore[index]
    assert d.json("ping")["template"] == "off"  # type: ignore[index]


def test_template_off_can_be_switched_back_on(start_nuwad: Callable[..., Nuwad]) -> None:
    d = start_nuwad(daemon="template = off\ntemplate = on")
    # "on" keeps the host named earlier (the harness's build) and starts it.
    d.wait_ready()
    assert d.json("launch", "echo", "--mode", "template")["mode"] == "template"  # type: ignore[index]


def test_fork_is_timed_by_the_template_and_spare_launches_report_specialise(
        nuwad: Nuwad) -> None:
    nuwad.wait_ready(spare=True)
    via_spare = nuwad.json("launch", "echo")
    assert via_spare["spare"] is True  # type: ignore[index]
    # Through the spare no fork is waited for: the figure is request -> the spare read it.
    assert "fork_ms" not in via_spare  # type: ignore[operator]
    assert 0 < via_spare["specialise_ms"] < via_spare["launch_ms"]  # type: ignore[index,operator]
    forked = nuwad.json("launch", "echo", "--no-spare")
    assert forked["spare"] is False and "specialise_ms" not in forked  # type: ignore[index,operator]
    # The template's own fork() timing is inside nuwad's round trip, which starts before
    # the request is sent (it used to start after, and could be shorter than the fork).
    assert 0 < forked["fork_ms"] <= forked["fork_rtt_ms"] < forked["launch_ms"]  # type: ignore[index,operator]


def test_exec_mergeable_marks_writable_private_mappings(
        start_nuwad: Callable[..., Nuwad], build: Path) -> None:
    d = start_nuwad(daemon="exec_mergeable = on")
    d.wait_ready()
    ksm = Path("/sys/kernel/mm/ksm").exists()
    res = d.ctl("launch", "echo", "--mode", "exec", "--json", check=False)
    if not ksm:
        assert res.returncode != 0 and "MADV_MERGEABLE" in res.stderr
        return
    assert res.returncode == 0, res.stderr
    import json
    pid = json.loads(res.stdout)["pid"]
    smaps = Path(f"/proc/{pid}/smaps").read_text()
    # VmFlags "mg": the mapping is mergeable. Some writable private mapping has it,
    # and a template launch (never marked) has none.
    assert " mg" in smaps
    t = d.json("launch", "echo", "--mode", "template")
    wait_for(lambda: os.path.exists(f"/proc/{t['pid']}/smaps"), 5, "app")  # type: ignore[index]
    assert " mg" not in Path(f"/proc/{t['pid']}/smaps").read_text()  # type: ignore[index]
