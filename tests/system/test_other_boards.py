"""Every other board folder, on a guest of its own: it boots as its architecture, every
sample app launches in template and in exec mode, sandboxed, and answers, and the sandbox
probe is confined.

The full system tests run on the session's board (NUWA_TEST_BOARD); each further board
under board/ gets this smoke test, one guest per board, powered off at the end.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from boards_under_test import OTHER_BOARDS, uname_machine
from nuwa import board as boards
from nuwa import paths
from nuwa.errors import NuwaError
from nuwa.image.builder import ImageBuilder
from nuwa.target import Qemu

APPS = ["clock", "messages", "settings", "music", "gallery", "notes"]
MODES = ["template", "exec"]

if not OTHER_BOARDS:
    pytest.skip("no board folder besides the session's", allow_module_level=True)


def ctl(guest: Any, args: str, timeout: float = 120) -> Any:
    return json.loads(guest.check(f"nuwactl --json {args}", timeout=timeout))


@pytest.fixture(scope="module", params=OTHER_BOARDS)
def other_board(request: pytest.FixtureRequest) -> boards.Board:
    """Another board with its image built (`make test` builds every board's first)."""
    b = boards.load(request.param)
    out = paths.board_out(b.name)
    if not all((out / a).is_file() for a in ("vmlinuz", "initrd.img", "rootfs.img")):
        try:
            ImageBuilder(b).build()
        except NuwaError as e:
            pytest.fail(f"no image for {b.name} and building it failed: {e}")
    return b


@pytest.fixture(scope="module")
def other(other_board: boards.Board) -> Iterator[tuple[boards.Board, Any]]:
    """(board, console) of a booted guest of another board, powered off at the end."""
    b = other_board
    vm = Qemu(b, image_dir=paths.board_out(b.name))
    try:
        vm.boot(timeout=180)
    except NuwaError as e:
        pytest.fail(f"the {b.name} guest did not boot: {e}")
    try:
        yield b, vm.console
    finally:
        if vm.child is not None and not vm.poweroff(timeout=60):
            print(f"{b.name} guest did not power off cleanly; console log {vm.log}")
        vm.kill()


def test_nuwa_exec_runs_on_the_board(other_board: boards.Board) -> None:
    p = subprocess.run([sys.executable, "-m", "nuwa.cli", "exec", "--board", other_board.name,
                        "--", "sh", "-c", "uname -m; exit 3"],
                       check=False, capture_output=True, text=True, timeout=300)
    assert p.returncode == 3, p.stderr
    assert p.stdout.strip() == uname_machine(other_board.arch)


def test_boots_as_its_architecture(other: tuple[boards.Board, Any]) -> None:
    b, guest = other
    assert guest.check("uname -m").strip() == uname_machine(b.arch)
    assert guest.check("hostname").strip() == b.hostname
    assert json.loads(guest.check("nuwactl --json ping", timeout=60))["pong"] is True


def test_every_app_launches_in_both_modes(other: tuple[boards.Board, Any]) -> None:
    _, guest = other
    deadline = time.monotonic() + 120
    while ctl(guest, "template-status").get("state") != "ready":
        assert time.monotonic() < deadline, "the template did not become ready"
        time.sleep(1)
    for mode in MODES:
        launched = [ctl(guest, f"launch {app} --mode {mode}") for app in APPS]
        try:
            for app, r in zip(APPS, launched, strict=True):
                assert r["app"] == app and r["mode"] == mode and r["launch_ms"] > 0, r
                assert ctl(guest, f"app-ping {r['pid']}")["pid"] == r["pid"]
                status = ctl(guest, f"call {r['pid']} status")["reply"]
                assert status.startswith(app + " "), status
                # Every app runs in the sandbox, seccomp filter included.
                proc = guest.check(f"cat /proc/{r['pid']}/status")
                assert re.search(r"^Seccomp:\s+2$", proc, re.MULTILINE), proc
            listed = {a["pid"]: a for a in ctl(guest, "list")}
            for r in launched:
                assert listed[r["pid"]]["mode"] == mode
                assert listed[r["pid"]]["state"] == "running"
        finally:
            for r in launched:
                guest.run(f"nuwactl kill {r['pid']} >/dev/null 2>&1", timeout=60)


def test_sandbox_probe_is_confined(other: tuple[boards.Board, Any]) -> None:
    """The seccomp filter's audit arch and syscall numbers are this architecture's:
    a wrong arch would kill the probe, a missing number would let the call through."""
    _, guest = other
    out = guest.check("/usr/libexec/nuwa/nuwa-sandbox-probe --uid 20009 --gid 20009 "
                      "--threads 4 --tmp /tmp", timeout=120)
    r = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    assert r["sandbox"] == "ok" and r["status_Seccomp"] == "2", out
    assert r["create_tmp"] == "EACCES" and r["thread_create_tmp"] == "EACCES", out
    assert r["parent_kill"] == "EPERM" and r["mount"] == "EPERM", out
    assert r["unshare_user"] == "EPERM" and r["self_kill"] == "ok", out
    assert r["status_Uid"] == "20009", out


def test_seccomp_program_decides_as_the_list(other: tuple[boards.Board, Any]) -> None:
    """The filter built for this architecture's numbers, interpreted for every
    number against the rule list (tests/system/test_seccomp_program_guest.py)."""
    _, guest = other
    r = guest.run("/usr/libexec/nuwa/nuwa-seccomp-check", timeout=300)
    assert r.ok and "FAIL" not in r.stdout, r.stdout
    assert sum(line.startswith("ok ") for line in r.stdout.splitlines()) == 7, r.stdout
