"""Crash records: an app that dereferences NULL leaves a record (signal, fault address,
frames with the app's function) listed by `nuwactl crashes`, in both modes."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from nuwad_harness import Nuwad, wait_for, write_config


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


@pytest.mark.parametrize("mode", ["template", "exec"])
def test_a_forged_crash_report_cannot_rewrite_the_record(nuwad: Nuwad, build: Path, mode: str) -> None:
    """issue 20 item 8: the app's report cannot set nuwad's fields (app, pid,
    mode, time, exit_signal) nor add keys of its own; only the handler's own
    keys, each in its form, pass (frames are the app's word, as always)."""
    if build.name == "asan":
        pytest.skip("UBSan reports the NULL load itself")
    pid = nuwad.call("launch", "echo", "--mode", mode, "--no-spare")["pid"]  # type: ignore[index]
    status, _ = nuwad.request("call", str(pid), "crash forged")
    assert status != 0
    records = wait_for(lambda: [r for r in json.loads(nuwad.ctl("crashes", "--json").stdout)
                                if r["pid"] == pid], 10, "a crash record")
    rec = records[0]  # type: ignore[index]
    assert rec["app"] == "echo" and rec["pid"] == pid and rec["mode"] == mode, rec
    assert rec["exit_signal"] == 11 and rec["time"] > 0, rec
    assert rec["signal"] == 9 and "owner" not in rec and "fault_addr" not in rec, rec
    assert rec["report_dropped"] == "8", rec  # the lines that were not the handler's
    assert len([r for r in json.loads(nuwad.ctl("crashes", "--json").stdout) if r["pid"] == 1]) == 0


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


def run_core_writer(build: Path, core_dir: Path, core: bytes, name: str, pid: str = "4242",
                    max_kb: int = 64) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([str(build / "nuwa-core-writer"), str(core_dir), str(max_kb), pid, name],
                          input=core, capture_output=True, timeout=30, check=False)


def test_core_writer_writes_the_core_exclusively_with_a_safe_name(build: Path,
                                                                  tmp_path: Path) -> None:
    """nuwa-core-writer (the kernel's core_pattern pipe for [daemon] core_dir):
    the app picks its comm, so the name is sanitised; an existing file or a
    planted symlink is never written through; the file is 0600."""
    core = b"\x7fELF" + os.urandom(5000)
    assert run_core_writer(build, tmp_path, core, "../../etc/x y").returncode == 0
    (written,) = tmp_path.iterdir()
    assert written.name == "core._._.._etc_x_y.4242" and written.read_bytes() == core
    assert written.stat().st_mode & 0o777 == 0o600
    victim = tmp_path.parent / f"{tmp_path.name}-victim"
    victim.write_text("keep")
    (tmp_path / "core.echo.7").symlink_to(victim)
    res = run_core_writer(build, tmp_path, core, "echo", "7")
    assert res.returncode != 0 and b"File exists" in res.stderr
    assert victim.read_text() == "keep"
    assert run_core_writer(build, tmp_path, core, "echo", "4242; rm").returncode == 2


def test_core_writer_cuts_a_core_longer_than_core_max_kb(build: Path, tmp_path: Path) -> None:
    assert run_core_writer(build, tmp_path, b"x" * (200 * 1024), "big", max_kb=64).returncode == 0
    (written,) = tmp_path.iterdir()
    assert written.name == "core.big.4242.truncated" and written.stat().st_size == 64 * 1024


@pytest.mark.parametrize("value", ["/tmp/with space", "/tmp/%p"])
def test_core_dir_with_a_space_or_percent_is_refused(build: Path, tmp_path: Path,
                                                     value: str) -> None:
    conf = write_config(tmp_path / "n.conf", build, daemon=f"core_dir = {value}")
    res = subprocess.run([str(build / "nuwad"), "--config", str(conf)], capture_output=True,
                         text=True, timeout=30, check=False)
    assert res.returncode != 0 and f"{conf}:" in res.stderr and "core_dir may not" in res.stderr
