"""nuwa sandbox-bench: launch-latency cost of the app sandbox per mode, and the
time and peak memory of snapshots of the sample apps against their size.
Prints the markdown table for docs/benchmarks.md "Sandbox and snapshots"."""
from __future__ import annotations

import argparse
import shlex
import sys

from .. import board
from ..bench.sandbox import SandboxBench, render
from ..target import Qemu, Target, target_from_url
from . import add_board_arg, add_mem_arg, add_target_arg


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sandbox-bench", help="cost of the sandbox and of snapshots",
                       description=__doc__)
    add_board_arg(p)
    add_mem_arg(p)
    add_target_arg(p)
    p.add_argument("--runs", type=int, default=15, help="launches per mode and variant")
    p.set_defaults(func=run)


def measure(t: Target, runs: int, command: str) -> str:
    bench = SandboxBench(t, runs=runs)
    bench.start()
    try:
        launches = bench.launches()
        snaps = bench.snapshots()
    finally:
        bench.stop()
    return render(launches, snaps, command)


def run(args: argparse.Namespace) -> int:
    command = "nuwa " + shlex.join(sys.argv[1:])
    if args.target:
        with target_from_url(args.target,
                             accept_new_host_key=args.accept_new_host_key) as t:
            text = measure(t, args.runs, command)
    else:
        with Qemu(board.load(args.board), mem=args.mem) as vm:
            with vm.ssh() as t:
                text = measure(t, args.runs, command)
    sys.stdout.write(text)
    return 0
