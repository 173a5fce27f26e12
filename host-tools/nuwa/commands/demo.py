"""nuwa demo: the newcomer's one command: `nuwa bench --quick --parallel` on the C apps (the
table and the report's path) and, at the same time on a guest of its own, the Python apps'
quick comparison (bench/py_quick.py), whose table follows the C one."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..bench.options import BenchOptions
from ..bench.progress import Progress
from ..errors import NuwaError
from . import add_board_arg, add_mem_arg
from . import bench as bench_command


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="compare template and exec mode for the C and the Python apps, print the tables",
        description="Boot a fresh guest per mode, both at once, measure template versus exec "
        "mode with `nuwa bench --quick --parallel`, print the comparison table and the "
        "report's path; at the same time, on a third guest, the Python apps: a couple of "
        "launches per app and mode and their USS (py-bench's method), printed as a second "
        "table. With --target, one part and one mode after the other on that board.",
    )
    add_board_arg(p)
    add_mem_arg(p)
    p.add_argument("--target", metavar="ssh://USER@HOST:PORT",
                   help="measure a running board instead of booting guests")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="report directory (default: out/bench/<UTC stamp>/)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # On fresh guests everything runs at once: the C part's two guests (--parallel) and the
    # Python part's guest, for the demo's 10 minutes; every figure is a ratio measured
    # within one guest. A --target board runs one part and one mode after the other.
    parallel = not args.target
    where = args.target or f"a fresh {args.board} guest per mode, both at once"
    print(f"nuwa demo: template versus exec mode on {where} (`nuwa bench --quick --modes "
          f"template,exec{' --parallel' if parallel else ''}`, a few minutes; progress "
          "below)", flush=True)
    quick = BenchOptions.for_demo(args.board, args.mem, args.target, args.out)
    print(f"nuwa demo: the Python apps, template versus exec mode on "
          f"{args.target or f'a fresh {args.board} guest of their own'}"
          f"{', at the same time' if parallel else ', afterwards'} (py-bench's method, a "
          "couple of launches per app and mode; its table follows the C one)", flush=True)

    def c_part() -> tuple[str | None, str | None]:
        # bench.run prints the C table itself, also before it raises
        try:
            status = bench_command.run(quick)
            return None, f"C apps: nuwa bench exited {status}" if status else None
        except NuwaError as e:
            return None, f"C apps: {e}"

    def py_part() -> tuple[str | None, str | None]:
        try:
            return python_part(args), None
        except NuwaError as e:
            return None, f"Python apps: {e}"
        except Exception as e:  # noqa: BLE001 - the C table must be shown all the same
            return None, f"Python apps: {type(e).__name__}: {e}"

    parts = {"C": c_part, "Python": py_part}
    if parallel:
        from ..bench.parallel import run_concurrently
        from ..bench.sessions import kill_guests
        done = run_concurrently(list(parts), lambda name: parts[name](), kill_guests)
    else:
        done = {name: part() for name, part in parts.items()}
    # Both platforms are shown whatever failed, then one error line per failed part.
    table = done["Python"][0]
    if table:
        print("\n" + table, end="", flush=True)
    errors = [e for _, e in done.values() if e]
    for e in errors:
        print(f"nuwa demo: error: {e}", file=sys.stderr, flush=True)
    return 1 if errors else 0


def python_part(args: argparse.Namespace) -> str:
    """The Python apps' table (py_quick): on the target, or on a fresh guest of its own."""
    from ..bench.py_quick import measure_quick, quick_table
    from ..bench.sessions import fresh_guest
    from ..target import target_from_url

    progress = Progress()
    if args.target:
        with target_from_url(args.target) as t:
            figures = measure_quick(t, progress)
    else:
        progress("python: booting the guest")
        with fresh_guest(args.board, args.mem) as vm, vm.ssh() as t:
            figures = measure_quick(t, progress)
    return quick_table(figures)
