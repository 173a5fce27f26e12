"""Snapshots and the sandbox through a real native nuwad (both builds): good
snapshots in both modes, and a hostile app whose every abuse of a grant is
contained while nuwad stays up."""

from __future__ import annotations

import ctypes
import os
import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from nuwad_harness import Nuwad, fd_count, frame, read_answer, wait_for

MAX_KB = 256
TIMEOUT_MS = 800
MAGIC = b"NUWA-SNAPSHOT 1\n"


def landlock_abi() -> int:
    """The kernel's Landlock ABI (0: none); file rules are tested only with it."""
    libc = ctypes.CDLL(None, use_errno=True)
    return max(0, int(libc.syscall(444, None, 0, 1)))  # landlock_create_ruleset(VERSION)


def hostile_apps(build: Path) -> str:
    ids = "uid = 65534\ngid = 65534\n" if os.geteuid() == 0 else ""
    return f"""
[app hostile]
library = {build}/app-hostile.so
{ids}
[app hostile-exec]
library = {build}/app-hostile.so
mode = exec
{ids}
"""


@pytest.fixture
def nuwad(start_nuwad: Callable[..., Nuwad], build: Path) -> Nuwad:
    d = start_nuwad(daemon=f"snapshot_max_kb = {MAX_KB}\nsnapshot_quota_kb = {4 * MAX_KB}\n"
                           f"snapshot_timeout_ms = {TIMEOUT_MS}",
                    apps=hostile_apps(build))
    d.wait_ready()
    return d


def snapdir(d: Nuwad) -> Path:
    return d.state / "snapshots"


def snapshot_error(d: Nuwad, target: str) -> str:
    res = d.ctl("snapshot", target, check=False)
    assert res.returncode != 0, res.stdout
    return res.stderr


def check_snapshot_file(info: dict[str, object]) -> bytes:
    path = Path(str(info["path"]))
    data = path.read_bytes()
    assert len(data) == info["bytes"]
    assert data.startswith(MAGIC)
    assert f"pid: {info['pid']}\n".encode() in data
    assert f"mode: {info['mode']}\n".encode() in data
    for section in (b"\n== smaps\n", b"\n== heap-stats\n", b"\n== allocations\n"):
        assert section in data
    body, _, tail = data.rpartition(b"== end bytes=")
    assert int(tail.strip()) == len(body)
    assert path.stat().st_mode & 0o777 == 0o600
    return data


@pytest.mark.parametrize("app", ["echo", "echo-exec", "hostile", "hostile-exec"])
def test_snapshot_of_a_sandboxed_app(nuwad: Nuwad, app: str) -> None:
    pid = nuwad.call("launch", app)["pid"]
    info = nuwad.json("snapshot", app)
    assert info["pid"] == pid and info["app"] == app
    assert info["mode"] == ("exec" if app.endswith("exec") else "template")
    data = check_snapshot_file(info)  # type: ignore[arg-type]
    assert b"/app-" in data  # its own mappings are in the smaps copy
    assert nuwad.call("app-ping", str(pid))["pid"] == pid
    # A second one gets a new id and file.
    again = nuwad.json("snapshot", str(pid))
    assert again["id"] != info["id"] and again["path"] != info["path"]


def test_snapshot_of_unknown_app_is_an_error(nuwad: Nuwad) -> None:
    assert "no running app" in snapshot_error(nuwad, "nosuchapp")
    assert "usage" in nuwad.ctl("snapshot", check=False).stderr
    assert nuwad.call("ping")["pong"] is True


def test_sandboxed_app_cannot_write_signal_or_trace(nuwad: Nuwad, tmp_path: Path) -> None:
    other = nuwad.call("launch", "echo")["pid"]
    pid = nuwad.call("launch", "hostile")["pid"]
    status = nuwad.call("call", str(pid), "status")["reply"]
    assert "nnp=1" in status and "seccomp=2" in status
    if landlock_abi():
        target = Path("/tmp") / f"nuwa-hostile-{os.getpid()}"
        assert nuwad.call("call", str(pid), f"probe create {target}")["reply"] in ("EACCES", "EPERM")
        assert not target.exists()
    if landlock_abi() or os.geteuid() == 0:  # another domain, or another uid
        assert nuwad.call("call", str(pid), f"probe mem {other}")["reply"] in ("EACCES", "EPERM")
    for victim in (other, nuwad.proc.pid, int(nuwad.template()["pid"])):  # type: ignore[arg-type]
        assert nuwad.call("call", str(pid), f"probe kill {victim}")["reply"] == "EPERM"
        assert nuwad.call("call", str(pid), f"probe ptrace {victim}")["reply"] == "EPERM"
    if landlock_abi():
        assert nuwad.call("call", str(pid), "probe exec")["reply"] in ("EACCES", "EPERM")
    assert nuwad.call("app-ping", str(other))["pid"] == other


def test_app_that_keeps_the_fd_is_killed_and_its_snapshot_removed(nuwad: Nuwad) -> None:
    pid = nuwad.call("launch", "hostile")["pid"]
    nuwad.call("call", str(pid), "grant keep-fd")
    assert "kept the granted fd" in snapshot_error(nuwad, "hostile")
    wait_for(lambda: pid not in [a["pid"] for a in nuwad.call("list")], 10, "hostile app killed")
    assert list(snapdir(nuwad).iterdir()) == []
    assert nuwad.call("ping")["pong"] is True


def test_writing_past_the_limit_is_contained(nuwad: Nuwad) -> None:
    pid = nuwad.call("launch", "hostile")["pid"]
    nuwad.call("call", str(pid), "grant overflow")
    err = snapshot_error(nuwad, "hostile")
    assert "exceeds the limit" in err or "file has" in err, err
    assert list(snapdir(nuwad).iterdir()) == []
    # The app lives on and can give a good snapshot afterwards.
    nuwad.call("call", str(pid), "grant normal")
    info = nuwad.json("snapshot", "hostile")
    assert int(info["bytes"]) <= MAX_KB * 1024  # type: ignore[call-overload]


def test_app_that_never_answers_times_out(nuwad: Nuwad) -> None:
    pid = nuwad.call("launch", "hostile")["pid"]
    nuwad.call("call", str(pid), "grant silent")
    assert f"no answer within {TIMEOUT_MS} ms" in snapshot_error(nuwad, "hostile")
    assert list(snapdir(nuwad).iterdir()) == []
    assert nuwad.call("app-ping", str(pid))["pid"] == pid
    nuwad.call("call", str(pid), "grant normal")
    check_snapshot_file(nuwad.json("snapshot", "hostile"))  # type: ignore[arg-type]


def test_garbage_answer_is_rejected(nuwad: Nuwad) -> None:
    pid = nuwad.call("launch", "hostile")["pid"]
    nuwad.call("call", str(pid), "grant garbage")
    assert "malformed answer" in snapshot_error(nuwad, "hostile")
    assert list(snapdir(nuwad).iterdir()) == []
    assert nuwad.call("app-ping", str(pid))["pid"] == pid


def test_one_outstanding_snapshot_per_app(nuwad: Nuwad) -> None:
    pid = nuwad.call("launch", "hostile")["pid"]
    nuwad.call("call", str(pid), "grant silent")
    first = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    first.settimeout(30)
    first.connect(str(nuwad.sock))
    first.sendall(frame(["snapshot", "hostile"]))
    # The grant is a memfd of nuwad's, nothing in the directory until accepted.
    def memfd_open() -> bool:
        for f in Path(f"/proc/{nuwad.proc.pid}/fd").iterdir():
            try:
                if "memfd:nuwa-snapshot" in os.readlink(f):
                    return True
            except OSError:  # an fd closed meanwhile
                pass
        return False
    wait_for(memfd_open, 10, "grant")
    assert "outstanding" in snapshot_error(nuwad, "hostile")
    status, body = read_answer(first)
    first.close()
    assert status != 0 and b"no answer" in body
    assert list(snapdir(nuwad).iterdir()) == []


def test_unsolicited_grant_messages_are_ignored(nuwad: Nuwad) -> None:
    pid = nuwad.call("launch", "hostile")["pid"]
    nuwad.call("app-ping", str(pid))
    nuwad.wait_ready(spare=True)  # the refilled spare's channel and pidfd are counted too
    fds_before = fd_count(nuwad.proc.pid)
    reply = nuwad.call("call", str(pid), "unsolicited 500")["reply"]
    assert reply == "sent 500"
    assert nuwad.call("app-ping", str(pid))["pid"] == pid
    # (the control connection of the last call may still be closing)
    # <=: a file nuwad had open only for a moment (a /proc read) may have
    # been counted before.
    wait_for(lambda: fd_count(nuwad.proc.pid) <= fds_before, 5, "nuwad fd count back to before")
    assert list(snapdir(nuwad).iterdir()) == []
    assert "unsolicited grant message" in nuwad.log_tail()
    nuwad.call("call", str(pid), "grant normal")
    check_snapshot_file(nuwad.json("snapshot", "hostile"))  # type: ignore[arg-type]
