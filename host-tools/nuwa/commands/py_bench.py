"""nuwa py-bench: Python apps on the template versus exec mode — launch
median, per-app USS/PSS, the template's cost, and the USS drift of template
children over time with gc_freeze = yes and no. Prints the markdown for
docs/benchmarks.md (Python apps)."""
from __future__ import annotations

import argparse
import shlex
import sys

from .. import board
from ..bench.py_bench import PyBench, render
from ..errors import NuwaError
from ..target import Qemu, Target, target_from_url
from . import add_board_arg, add_mem_arg, add_target_arg


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("py-bench", help="Python apps: template versus exec, gc_freeze drift",
                       description=__doc__)
    add_board_arg(p)
    add_mem_arg(p)
    add_target_arg(p)
    p.add_argument("--runs", type=int, default=5, help="launches per app and mode")
    p.add_argument("--drift-s", type=float, default=600, help="length of the drift run")
    p.add_argument("--sample-s", type=float, default=30, help="USS sample interval")
    p.add_argument("--note", default="", help="a line printed above the tables (conditions)")
    p.add_argument("--fill", action="store_true",
                   help="instead: apps before the first low-memory kill per mode (a fresh "
                   "guest each, exec mode with template = off) and the Python template's "
                   "cost and break-even")
    p.set_defaults(func=run)


def measure(t: Target, args: argparse.Namespace, command: str) -> str:
    bench = PyBench(t, runs=args.runs, drift_s=args.drift_s, sample_s=args.sample_s)
    bench.start()
    try:
        bench.launches()
        bench.memory()
        bench.drift()
    finally:
        bench.stop()
    return render(bench.f, command, args.note)


def run(args: argparse.Namespace) -> int:
    command = "nuwa " + shlex.join(sys.argv[1:])
    if getattr(args, "fill", False):
        return run_fill(args, command)
    if args.target:
        with target_from_url(args.target,
                             accept_new_host_key=args.accept_new_host_key) as t:
            text = measure(t, args, command)
    else:
        with Qemu(board.load(args.board), mem=args.mem) as vm:
            with vm.ssh() as t:
                text = measure(t, args, command)
    sys.stdout.write(text)
    return 0


def run_fill(args: argparse.Namespace, command: str) -> int:
    """`--fill`: the table goes to stdout, progress to stderr; a mode that failed makes
    one clear error after the table (what was measured is printed)."""
    from ..bench.progress import Progress
    from ..bench.py_fill import fill_errors, measure_fill, render_fill

    results = measure_fill(args.board, args.target, args.mem, Progress(),
                           accept_new_host_key=args.accept_new_host_key)
    sys.stdout.write(render_fill(results, command, args.note))
    errors = fill_errors(results)
    if errors:
        raise NuwaError("py-bench --fill is incomplete: " + "; ".join(errors))
    return 0
