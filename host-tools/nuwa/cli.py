"""`nuwa` command line: one subcommand per module under nuwa/commands/.

To add a subcommand, write nuwa/commands/<name>.py with
`register(subparsers)` (which sets `func`) and list it in COMMANDS.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from .errors import NuwaError, Terminated, terminate_by_unwinding

COMMANDS = ["image", "run", "exec", "demo", "image_bench", "bench", "elf_report", "snapshot",
            "sandbox_bench", "py_bench", "labgrid_env"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nuwa", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"nuwa.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    terminate_by_unwinding()
    try:
        return int(args.func(args) or 0)
    except NuwaError as e:
        print(f"nuwa: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("nuwa: interrupted", file=sys.stderr)
        return 130
    except Terminated:
        print("nuwa: terminated", file=sys.stderr)
        return 143


if __name__ == "__main__":
    sys.exit(main())
