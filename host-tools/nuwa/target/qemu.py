"""Qemu: boot out/<board>/ under QEMU, console on a pexpect pty, SSH forwarded."""
from __future__ import annotations

import itertools
import os
import shutil
import socket
import sys
import time
from pathlib import Path

import pexpect

from .. import paths, sshkey
from ..board import Board
from ..errors import NuwaError
from .base import TargetError, TargetTimeout
from .console import ConsoleTarget
from .ssh import SSHTarget

BOOT_MARKER = "nuwa: boot complete"  # printed by rootfs-overlay/etc/init.d/rcS


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def kernel_append(board: Board) -> str:
    """The kernel command line of the board's image."""
    return (f"console={board.console} root=/dev/vda rootfstype={board.rootfs_type} ro "
            f"{board.kernel_cmdline}").strip()


def device_args(board: Board, image_dir: Path, ssh_port: int) -> list[str]:
    """QEMU arguments past machine, CPU, memory and kernel: initrd, the read-only root
    disk, user networking with SSH on 127.0.0.1:ssh_port, the board's extra devices."""
    q = board.qemu
    return ["-no-reboot", "-initrd", str(image_dir / "initrd.img"),
            "-drive", f"file={image_dir / 'rootfs.img'},if=none,format=raw,id=root,readonly=on",
            "-device", f"{q.block_device},drive=root",
            "-netdev", f"user,id=net0,hostfwd=tcp:127.0.0.1:{ssh_port}-:22",
            "-device", f"{q.net_device},netdev=net0", *q.extra_args]


_GUEST_NUMBERS = itertools.count(1)


class Qemu:
    """One guest of `board` booted from its built image."""

    def __init__(self, board: Board, mem: int | None = None, image_dir: Path | None = None,
                 ssh_port: int | None = None, log: Path | None = None) -> None:
        self.board = board
        self.mem = mem or board.memory_mib
        self.image_dir = image_dir or paths.board_out(board.name)
        self.ssh_port = ssh_port or free_port()
        stamp = time.strftime("%Y%m%d-%H%M%S")
        # several guests of one process (`nuwa bench --parallel`) each get a log of their own
        self.log = log or paths.logs_dir() / (f"{board.name}-{stamp}-{os.getpid()}-"
                                              f"{next(_GUEST_NUMBERS)}.log")
        self.child: pexpect.spawn | None = None
        self._console: ConsoleTarget | None = None
        self.boot_seconds: float | None = None

    def _check_image(self) -> None:
        missing = [n for n in ("vmlinuz", "initrd.img", "rootfs.img")
                   if not (self.image_dir / n).is_file()]
        if missing:
            raise NuwaError(f"no image in {self.image_dir} (missing {', '.join(missing)}); "
                            f"run `make image` or `nuwa image --board {self.board.name}`")
        if shutil.which(self.board.qemu.binary) is None:
            raise NuwaError(f"{self.board.qemu.binary} is not installed (run `make deps`)")

    def command(self, interactive: bool = False) -> list[str]:
        b, q, d = self.board, self.board.qemu, self.image_dir
        cmd = [q.binary, "-M", q.machine, "-cpu", q.cpu, "-m", str(self.mem),
               "-kernel", str(d / "vmlinuz"), "-append", kernel_append(b),
               *device_args(b, d, self.ssh_port)]
        if interactive:
            # Serial and monitor on the terminal (Ctrl-A X quits, Ctrl-A C the
            # monitor), Ctrl-C to the guest, the console copied to the log.
            return [*cmd, "-display", "none",
                    "-chardev", f"stdio,id=con0,mux=on,signal=off,logfile={self.log}",
                    "-serial", "chardev:con0", "-mon", "chardev=con0"]
        # Ctrl-C typed by a driver must reach the guest, not stop QEMU.
        return [*cmd, "-display", "none", "-monitor", "none",
                "-chardev", "stdio,id=con0,signal=off", "-serial", "chardev:con0"]

    def start(self) -> Qemu:
        self._check_image()
        cmd = self.command()
        self.log.parent.mkdir(parents=True, exist_ok=True)
        logf = self.log.open("ab")
        logf.write(("$ " + " ".join(cmd) + "\n").encode())
        self._t0 = time.monotonic()
        self.child = pexpect.spawn(cmd[0], cmd[1:], timeout=30, maxread=65536,
                                   dimensions=(50, 250))
        self.child.logfile_read = logf
        return self

    def wait_boot(self, timeout: float = 120) -> float:
        """Wait for the boot-complete line; seconds from QEMU start."""
        assert self.child is not None, "start() first"
        try:
            self.child.expect_exact(BOOT_MARKER, timeout=timeout)
        except pexpect.TIMEOUT:
            raise TargetTimeout(f"the guest did not finish booting in {timeout:.0f} s; "
                                f"last seen (full log {self.log}):\n{self._tail()}") from None
        except pexpect.EOF:
            raise TargetError(f"QEMU exited while booting; last seen (full log {self.log}):\n"
                              f"{self._tail()}") from None
        self.boot_seconds = time.monotonic() - self._t0
        return self.boot_seconds

    def _tail(self) -> str:
        before = self.child.before if self.child else b""
        text = before.decode(errors="replace") if isinstance(before, bytes) else ""
        return text[-600:]

    def boot(self, timeout: float = 120) -> Qemu:
        for attempt in range(3):
            self.start()
            try:
                self.wait_boot(timeout)
                return self
            except TargetError as e:
                self.kill()
                # Another process took the free port between our check and
                # QEMU's bind: take a new one.
                if "forwarding rule" not in str(e) or attempt == 2:
                    raise
                self.ssh_port = free_port()
            except BaseException:
                self.kill()
                raise
        return self

    @property
    def console(self) -> ConsoleTarget:
        if self._console is None:
            assert self.child is not None, "boot() first"
            self._console = ConsoleTarget(self.child)
        return self._console

    def ssh(self) -> SSHTarget:
        key, _ = sshkey.ensure_key()
        return SSHTarget("127.0.0.1", self.ssh_port, "root", key)

    def poweroff(self, timeout: float = 60) -> bool:
        """Power the guest off; True if the kernel powered down and QEMU exited 0."""
        if self.child is None or not self.child.isalive():
            return False
        self.child.sendline("")
        self.child.sendline("poweroff")
        try:
            self.child.expect_exact("reboot: Power down", timeout=timeout)
            self.child.expect(pexpect.EOF, timeout=timeout)
        except (pexpect.TIMEOUT, pexpect.EOF):
            pass
        self.child.close()
        status = self.child.exitstatus
        clean = status == 0
        self.child = None
        return clean

    def kill(self) -> None:
        if self.child is not None:
            self.child.close(force=True)
            self.child = None

    def __enter__(self) -> Qemu:
        if self.child is None:
            self.boot()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.child is not None and not self.poweroff(timeout=30):
            print(f"nuwa: guest did not power off cleanly (log {self.log})", file=sys.stderr)
        self.kill()
