"""Subcommands of `nuwa`; each module has register(subparsers)."""
import argparse

from ..board import DEFAULT_BOARD, available
from ..target.url import TARGET_FORMS


def add_board_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--board", default=DEFAULT_BOARD,
                   help=f"board folder under board/ (known: {', '.join(available())})")


def add_mem_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--mem", type=int, metavar="MIB",
                   help="guest memory in MiB (default: the board's)")


def add_host_key_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--accept-new-host-key", action="store_true",
                   help="with --target: the board's host key changed on purpose (it was "
                   "re-installed); replace the stored key instead of refusing")


def add_target_arg(p: argparse.ArgumentParser) -> None:
    """--target URL (a running system instead of a fresh guest) and its host-key option."""
    p.add_argument("--target", metavar="URL",
                   help=f"a running system ({TARGET_FORMS}); default: boot a fresh guest")
    add_host_key_arg(p)
