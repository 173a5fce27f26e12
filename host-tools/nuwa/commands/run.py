"""nuwa run: boot the image with the serial console on this terminal."""
from __future__ import annotations

import argparse
import subprocess

from .. import board
from ..target.qemu import Qemu
from . import add_board_arg, add_mem_arg


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="boot the image; console on the terminal (Ctrl-A X quits)")
    add_board_arg(p)
    add_mem_arg(p)
    p.add_argument("--ssh-port", type=int, help="host port forwarded to the guest's SSH")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    vm = Qemu(board.load(args.board), mem=args.mem, ssh_port=args.ssh_port)
    vm._check_image()
    print(f"nuwa: booting {vm.board.name} with {vm.mem} MiB; console log {vm.log}\n"
          f"nuwa: SSH: ssh -p {vm.ssh_port} -i ~/.cache/nuwa/ssh/id_ed25519 root@127.0.0.1  "
          f"(or --target ssh://root@127.0.0.1:{vm.ssh_port}); Ctrl-A X quits", flush=True)
    return subprocess.call(vm.command(interactive=True))
