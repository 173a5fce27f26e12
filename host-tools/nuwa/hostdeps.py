"""The Debian packages the host needs for every board under board/ (for deps.sh).

Per board: its QEMU system emulator's package (board.toml `qemu.package`) and the cross
toolchain of its architecture (gcc-<triplet>, libc6-dev-<arch>-cross). Runs before the
virtualenv exists, so it uses the standard library only: `python3 -m nuwa.hostdeps`.
"""
from __future__ import annotations

import sys

from . import board as boards
from .errors import NuwaError


def packages(names: list[str]) -> list[str]:
    out: list[str] = []
    for name in names:
        b = boards.load(name)
        for p in (b.qemu.package, b.gnu.cross_gcc_package, b.gnu.cross_libc_package):
            if p not in out:
                out.append(p)
    return out


def main() -> int:
    try:
        print(" ".join(packages(sys.argv[1:] or boards.available())))
    except NuwaError as e:
        print(f"deps: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
