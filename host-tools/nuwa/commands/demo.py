"""nuwa demo: boot the built image, show what runs in it, power off."""
from __future__ import annotations

import argparse

from .. import board
from ..target import Qemu, Target, target_from_url
from . import add_board_arg, add_mem_arg

COMMANDS = ["uname -a", "cat /proc/cmdline", "free", "df -h", "mount", "ps"]
RUNTIME = ["nuwactl apps", "nuwactl ping"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="boot the image and show a few commands' output")
    add_board_arg(p)
    add_mem_arg(p)
    p.add_argument("--target", metavar="ssh://USER@HOST:PORT",
                   help="show a running system instead of booting a guest")
    p.set_defaults(func=run)


def show(t: Target) -> None:
    cmds = list(COMMANDS)
    if t.run("test -x /usr/bin/nuwactl").ok:
        cmds += RUNTIME
    for cmd in cmds:
        r = t.run(cmd, timeout=60)
        status = "" if r.ok else f"   [exit {r.exit_status}]"
        print(f"\n$ {cmd}{status}\n{(r.stdout + r.stderr).rstrip()}", flush=True)


def run(args: argparse.Namespace) -> int:
    if args.target:
        with target_from_url(args.target) as t:
            show(t)
        return 0
    vm = Qemu(board.load(args.board), mem=args.mem)
    print(f"nuwa: booting {vm.board.name} ({vm.mem} MiB); console log {vm.log}", flush=True)
    with vm:
        print(f"nuwa: QEMU start to shell: {vm.boot_seconds:.1f} s", flush=True)
        show(vm.console)
        print(f"\n$ ssh root@127.0.0.1:{vm.ssh_port} uname -n", flush=True)
        with vm.ssh() as ssh:
            print(ssh.run("uname -n").stdout.rstrip())
    print("nuwa: guest powered off", flush=True)
    return 0
