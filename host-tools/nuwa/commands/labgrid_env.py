"""nuwa labgrid-env --board B -o env.yaml: a labgrid environment for the built image.

Target `main`: a QEMUDriver booting out/<board>/ (kernel, initrd, read-only
disk, memory, kernel command line), a ShellDriver for the console's root
shell, a NetworkService on the forwarded SSH port and an SSHDriver with the
Nuwa key. Use it with `pytest --lg-env env.yaml` or
`nuwa exec --target labgrid:env.yaml -- CMD`.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from .. import board, paths, sshkey
from ..target.labgrid_env import environment, write
from ..target.qemu import free_port
from . import add_board_arg, add_mem_arg


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("labgrid-env", help="write a labgrid environment for the built image",
                       description=__doc__)
    add_board_arg(p)
    add_mem_arg(p)
    p.add_argument("-o", "--output", type=Path, required=True, metavar="FILE",
                   help="the environment file to write")
    p.add_argument("--ssh-port", type=int, metavar="PORT",
                   help="host port forwarded to the guest's SSH (default: one free now)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    b = board.load(args.board)
    key, _ = sshkey.ensure_key()
    env = environment(b, paths.board_out(b.name), args.ssh_port or free_port(), key, args.mem)
    write(args.output, env)
    print(f"labgrid environment for {b.name}: {args.output}")
    return 0
