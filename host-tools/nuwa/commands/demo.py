"""nuwa demo: the newcomer's one command: `nuwa bench --quick`, the table, the report's path."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..bench.results import EXEC, TEMPLATE
from . import add_board_arg, add_mem_arg
from . import bench as bench_command


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="compare template and exec mode (`nuwa bench --quick`), print the table",
        description="Boot a fresh guest per mode, measure template versus exec mode with "
        "`nuwa bench --quick`, print the comparison table and the report's path.",
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
    where = args.target or f"a fresh {args.board} guest per mode"
    print(f"nuwa demo: template versus exec mode on {where} (`nuwa bench --quick --modes "
          "template,exec`, a few minutes; progress below)", flush=True)
    quick = argparse.Namespace(board=args.board, mem=args.mem, target=args.target, out=args.out,
                               quick=True, json=False, apps=None, lmk_threshold_kb=None,
                               repeat=1, modes=",".join(DEMO_MODES),
                               accept_new_host_key=False)
    return bench_command.run(quick)
