"""nuwa image: build out/<board>/{vmlinuz,initrd.img,rootfs.img,manifest.json}."""
from __future__ import annotations

import argparse

from .. import board
from ..image.builder import ImageBuilder
from . import add_board_arg


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("image", help="build the bootable image for a board")
    add_board_arg(p)
    p.add_argument("--offline", action="store_true",
                   help="use only the download cache; name every missing package")
    p.add_argument("--mirror", metavar="URL",
                   help="Debian archive to use instead of the host's (also NUWA_MIRROR)")
    p.add_argument("--no-runtime", action="store_true",
                   help="leave runtime/ out of the image (host-side development)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    ImageBuilder(board.load(args.board), offline=args.offline, mirror=args.mirror,
                 with_runtime=not args.no_runtime).build()
    return 0
