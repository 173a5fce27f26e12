"""Fixtures for system tests: ONE real QEMU guest shared by the whole session.

- `guest_image` (session): out/<board>/ with vmlinuz, initrd.img, rootfs.img.
  Built with `nuwa image` if missing (`make test` builds it before pytest).
- `guest_vm` (session): the booted `nuwa.target.Qemu`; `.board`, `.mem`,
  `.ssh_port`, `.log` (console log in out/logs/), `.boot_seconds`.
- `guest` (session): the guest's serial console, a `nuwa.target.ConsoleTarget`:
  `guest.run(cmd, timeout=60)` -> Result(stdout, exit_status, .ok) with stderr
  merged into stdout; `guest.check(cmd)` returns stdout or raises on nonzero;
  `guest.put(local, remote)`, `guest.get(remote, local)`.
- `guest_ssh` (session): a `nuwa.target.SSHTarget` (fabric) to the same guest,
  same interface, stderr kept apart in `Result.stderr`.

The guest is shared: tests must leave it usable (no poweroff, no reboot, kill
what they start).  It is powered off when the session ends.  A test that
needs a guest of its own boots one with `Qemu(board).boot()`.

With labgrid's pytest plugin (`pytest --lg-env env.yaml`, e.g. an environment
from `nuwa labgrid-env`), `guest` and `guest_ssh` come from labgrid's `target`
fixture instead: booted by its QEMUDriver, the console is that driver's,
SSH goes to its NetworkService (nuwa.target.lab.LabgridBoardTarget). Tests
that need nuwa's own `guest_vm` skip there.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from boards_under_test import uname_machine
from nuwa import board as boards
from nuwa import paths
from nuwa.board import Board
from nuwa.errors import NuwaError
from nuwa.image.builder import ImageBuilder
from nuwa.target import ConsoleTarget, Qemu, SSHTarget
from nuwa.target.lab import LabgridBoardTarget

ARTIFACTS = ("vmlinuz", "initrd.img", "rootfs.img", "manifest.json")


@pytest.fixture(scope="session")
def guest_board(board_name: str) -> Board:
    return boards.load(board_name)


@pytest.fixture(scope="session")
def guest_machine(guest_board: Board) -> str:
    """What `uname -m` says on the session's guest."""
    return uname_machine(guest_board.arch)


@pytest.fixture(scope="session")
def guest_image(guest_board: Board) -> Path:
    out = paths.board_out(guest_board.name)
    if not all((out / a).is_file() for a in ARTIFACTS):
        try:
            ImageBuilder(guest_board).build()
        except NuwaError as e:
            pytest.fail(f"no image in {out} and building it failed: {e}")
    return out


def labgrid_env(config: pytest.Config) -> str | None:
    """The labgrid environment file given to labgrid's pytest plugin, if any."""
    try:
        given = config.getoption("lg_env")
    except ValueError:  # labgrid's plugin is not installed
        return None
    return given or os.environ.get("LG_ENV") or None


@pytest.fixture(scope="session")
def lab_guest(request: pytest.FixtureRequest) -> Iterator[LabgridBoardTarget | None]:
    """The guest of labgrid's `target` fixture under --lg-env; None otherwise."""
    env = labgrid_env(request.config)
    if env is None:
        yield None
        return
    try:
        t = LabgridBoardTarget(request.getfixturevalue("target"), f"labgrid environment {env}")
    except NuwaError as e:
        pytest.fail(f"the labgrid target did not come up: {e}")
    yield t
    t.close()


@pytest.fixture(scope="session")
def guest_vm(request: pytest.FixtureRequest, guest_board: Board,
             guest_image: Path) -> Iterator[Qemu]:
    if labgrid_env(request.config):
        pytest.skip("needs nuwa's own QEMU guest (running with a labgrid environment)")
    vm = Qemu(guest_board, image_dir=guest_image)
    try:
        vm.boot(timeout=180)
    except NuwaError as e:
        pytest.fail(f"the guest did not boot: {e}")
    try:
        yield vm
    finally:
        if vm.child is not None and not vm.poweroff(timeout=60):
            print(f"guest did not power off cleanly; console log {vm.log}")
        vm.kill()


@pytest.fixture(scope="session")
def guest(request: pytest.FixtureRequest, lab_guest: LabgridBoardTarget | None
          ) -> ConsoleTarget:
    if lab_guest is not None:
        return lab_guest.console
    return request.getfixturevalue("guest_vm").console


@pytest.fixture(scope="session")
def guest_ssh(request: pytest.FixtureRequest, lab_guest: LabgridBoardTarget | None
              ) -> Iterator[SSHTarget]:
    if lab_guest is not None:
        assert lab_guest.ssh is not None
        yield lab_guest.ssh
        return
    t = request.getfixturevalue("guest_vm").ssh()
    yield t
    t.close()
