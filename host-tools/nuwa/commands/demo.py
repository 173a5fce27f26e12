"""nuwa demo: the newcomer's one command: `nuwa bench --quick --parallel` on the C apps (the
table and the report's path), then the Python apps' quick comparison (py_quick.py) on a guest
of its own."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import board
from ..bench.progress import Progress
from ..bench.results import EXEC, TEMPLATE
from ..errors import NuwaError
from . import add_board_arg, add_mem_arg
from . import bench as bench_command


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="compare template and exec mode for the C and the Python apps, print the tables",
        description="Boot a fresh guest per mode, both at once, measure template versus exec "
        "mode with `nuwa bench --quick --parallel`, print the comparison table and the "
        "report's path; then, on "
        "one more guest, the Python apps: a couple of launches per app and mode and their "
        "USS (py-bench's method), as a second table.",
    )
    add_board_arg(p)
    add_mem_arg(p)
    p.add_argument("--target", metavar="ssh://USER@HOST:PORT",
                   help="measure a running board instead of booting guests")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="report directory (default: out/bench/<UTC stamp>/)")
    p.set_defaults(func=run)


# The KSM column needs a third guest: it does not fit make demo's 10 minutes.
DEMO_MODES = (TEMPLATE, EXEC)


def run(args: argparse.Namespace) -> int:
    # Both guests at once: the demo's 10 minutes. A --target board runs one mode after the
    # other.
    parallel = not args.target
    where = args.target or f"a fresh {args.board} guest per mode, both at once"
    print(f"nuwa demo: template versus exec mode on {where} (`nuwa bench --quick --modes "
          f"template,exec{' --parallel' if parallel else ''}`, a few minutes; progress "
          "below)", flush=True)
    quick = argparse.Namespace(board=args.board, mem=args.mem, target=args.target, out=args.out,
                               quick=True, json=False, apps=None, lmk_threshold_kb=None,
                               repeat=1, modes=",".join(DEMO_MODES), parallel=parallel,
                               accept_new_host_key=False)
    # The C part's table is printed by bench.run before it raises; keep going either way so
    # both platforms are shown, and fail at the end with each part's one error.
    errors: list[str] = []
    try:
        c_status = bench_command.run(quick)
        if c_status:
            errors.append(f"C apps: nuwa bench exited {c_status}")
    except NuwaError as e:
        errors.append(f"C apps: {e}")
    try:
        python_part(args)
    except NuwaError as e:
        errors.append(f"Python apps: {e}")
    except Exception as e:  # noqa: BLE001 - the C table above must stay the last word
        errors.append(f"Python apps: {type(e).__name__}: {e}")
    for e in errors:
        print(f"nuwa demo: error: {e}", file=sys.stderr, flush=True)
    return 1 if errors else 0


def python_part(args: argparse.Namespace) -> None:
    """The Python apps' table (py_quick): on the target, or on one more fresh guest."""
    from ..py_quick import measure_quick, quick_table
    from ..target import Qemu, target_from_url

    progress = Progress()
    print(f"\nnuwa demo: the Python apps, template versus exec mode on "
          f"{args.target or f'a fresh {args.board} guest'} (py-bench's method, a couple of "
          "launches per app and mode; a few minutes)", flush=True)
    if args.target:
        with target_from_url(args.target) as t:
            figures = measure_quick(t, progress)
    else:
        progress("python: booting the guest")
        with Qemu(board.load(args.board), mem=args.mem) as vm, vm.ssh() as t:
            figures = measure_quick(t, progress)
    print("\n" + quick_table(figures), end="", flush=True)
