"""Crash records: an app that dereferences NULL leaves a record (signal, fault address,
frames with the app's function) listed by `nuwactl crashes`, in both modes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from nuwad_harness import Nuwad, wait_for


@pytest.mark.parametrize("mode", ["template", "exec"])
def test_null_dereference_leaves_a_crash_record(nuwad: Nuwad, build: Path, mode: str) -> None:
    if build.name == "asan":
        pytest.skip("UBSan reports the NULL load and exits before the fault: the sanitizer "
                    "is that build's crash reporter")
    pid = nuwad.call("launch", "echo", "--mode", mode, "--no-spare")["pid"]  # type: ignore[index]
    status, _ = nuwad.request("call", str(pid), "crash null")
    assert status != 0  # the app died before answering
    records = wait_for(lambda: [r for r in json.loads(nuwad.ctl("crashes", "--json").stdout)
                                if r["pid"] == pid], 10, "a crash record")
    rec = records[0]  # type: ignore[index]
    assert rec["app"] == "echo" and rec["mode"] == mode, rec
    assert rec["exit_signal"] == 11 and rec["signal_name"] == "SEGV", rec
    assert rec["handler"] is True and rec["signal"] == 11, rec
    assert rec["fault_addr"] == "0x0", rec
    assert any("nuwa_echo_crash_null" in f for f in rec["frames"]), rec["frames"]
    text = nuwad.ctl("crashes").stdout
    assert "nuwa_echo_crash_null" in text and "SEGV" in text, text
    assert "crashed with SIGSEGV" in nuwad.log_tail()
    assert nuwad.request("ping")[0] == 0


def test_kill_by_nuwad_is_not_a_crash(nuwad: Nuwad) -> None:
    pid = nuwad.call("launch", "echo")["pid"]  # type: ignore[index]
    nuwad.call("kill", str(pid))
    assert json.loads(nuwad.ctl("crashes", "--json").stdout) == []


def test_crash_handler_that_faults_still_leaves_a_record(nuwad: Nuwad, build: Path) -> None:
    if build.name == "asan":
        pytest.skip("UBSan reports the NULL load itself")
    pid = nuwad.call("launch", "echo", "--no-spare")["pid"]  # type: ignore[index]
    status, _ = nuwad.request("call", str(pid), "crash handler")
    assert status != 0
    records = wait_for(lambda: [r for r in json.loads(nuwad.ctl("crashes", "--json").stdout)
                                if r["pid"] == pid], 10, "a crash record")
    rec = records[0]  # type: ignore[index]
    assert rec["exit_signal"] == 11 and rec["handler"] is False, rec
    assert "no report from its crash handler" in nuwad.log_tail()
    assert nuwad.request("ping")[0] == 0
