"""nuwa exec -- CMD...: boot a fresh guest, run CMD, print its output, power off,
exit with CMD's status.  With --target ssh://..., run CMD there instead."""
from __future__ import annotations

import argparse
import shlex
import sys

from .. import board
from ..errors import NuwaError
from ..target import Qemu, target_from_url
from ..target.url import TARGET_FORMS
from . import add_board_arg, add_host_key_arg, add_mem_arg


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("exec", help="boot, run one command in the guest, power off")
    add_board_arg(p)
    add_mem_arg(p)
    p.add_argument("--target", metavar="URL",
                   help=f"run there instead of booting a guest: {TARGET_FORMS}")
    add_host_key_arg(p)
    p.add_argument("--timeout", type=float, default=300, help="seconds CMD may take")
    p.add_argument("cmd", nargs=argparse.REMAINDER, help="-- CMD [ARG...]")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    argv = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not argv:
        raise NuwaError("nothing to run: nuwa exec [--board B] -- CMD [ARG...]")
    cmd = shlex.join(argv)
    if args.target:
        with target_from_url(args.target,
                             accept_new_host_key=args.accept_new_host_key) as t:
            r = t.run(cmd, timeout=args.timeout)
    else:
        with Qemu(board.load(args.board), mem=args.mem) as vm:
            r = vm.console.run(cmd, timeout=args.timeout)
    sys.stdout.write(r.stdout)
    sys.stderr.write(r.stderr)
    return r.exit_status
