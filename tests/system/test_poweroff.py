"""Guests of their own: `poweroff` ends QEMU cleanly (kernel powers down, exit 0);
`nuwa exec` returns the command's output and status; a busy SSH port is replaced."""
from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from nuwa.board import Board
from nuwa.target import Qemu


def test_poweroff_is_clean(guest_board: Board, guest_image: Path) -> None:
    vm = Qemu(guest_board, image_dir=guest_image).boot(timeout=180)
    try:
        assert vm.console.run("true").ok
        assert vm.poweroff(timeout=60), f"unclean poweroff, see {vm.log}"
    finally:
        vm.kill()
    assert "reboot: Power down" in vm.log.read_text(errors="replace")


def test_nuwa_exec_status_and_output(guest_board: Board, guest_image: Path,
                                     guest_machine: str) -> None:
    p = subprocess.run([sys.executable, "-m", "nuwa.cli", "exec", "--board", guest_board.name,
                        "--", "sh", "-c", "uname -m; exit 5"],
                       check=False, capture_output=True, text=True, timeout=300)
    assert p.returncode == 5, p.stderr
    assert p.stdout.strip() == guest_machine


def test_busy_ssh_port_is_replaced(guest_board: Board, guest_image: Path,
                                   guest_machine: str) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        vm = Qemu(guest_board, image_dir=guest_image, ssh_port=port)
        with vm:
            assert vm.ssh_port != port
            with vm.ssh() as ssh:
                assert ssh.run("uname -m").stdout.strip() == guest_machine
