"""What a Debian architecture name means for the host tools, asked of `dpkg-architecture`.

A board names its Debian architecture (board.toml `arch`); the GNU triplet, the cross
compiler, the multiarch library directory and the qemu-user emulator all follow from it,
so no architecture is written into the host tools.
"""
from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from dataclasses import dataclass

from .errors import NuwaError


@dataclass(frozen=True)
class Arch:
    debian: str        # Debian architecture, e.g. the board's `arch`
    gnu_type: str      # GNU triplet (DEB_HOST_GNU_TYPE)
    gnu_cpu: str       # its CPU part (DEB_HOST_GNU_CPU)
    multiarch: str     # multiarch tuple: library directories usr/lib/<multiarch>

    @property
    def cross_prefix(self) -> str:
        """The prefix of Debian's cross toolchain binaries (gcc-<triplet> packages)."""
        return self.gnu_type + "-"

    @property
    def cross_gcc_package(self) -> str:
        return "gcc-" + self.gnu_type

    @property
    def cross_libc_package(self) -> str:
        return f"libc6-dev-{self.debian}-cross"

    @property
    def qemu_user(self) -> str:
        """qemu-user's binary for this CPU: QEMU names its 32-bit x86 target i386."""
        cpu = "i386" if re.fullmatch(r"i[3-6]86", self.gnu_cpu) else self.gnu_cpu
        return "qemu-" + cpu

    @property
    def library_dirs(self) -> tuple[str, ...]:
        """Library directories of a root tree of this architecture, most specific first."""
        return (f"usr/lib/{self.multiarch}", f"lib/{self.multiarch}", "usr/lib", "lib")


def _query(debian: str) -> dict[str, str]:
    if shutil.which("dpkg-architecture") is None:
        raise NuwaError("dpkg-architecture is not installed (install dpkg-dev, "
                        "or run `make deps` as root)")
    # CC=true: dpkg-architecture compares the triplet with the host's compiler and
    # warns when they differ, which for a cross architecture they always do.
    p = subprocess.run(["dpkg-architecture", "-a", debian, "-l"], capture_output=True,
                       text=True, env={**os.environ, "CC": "true"})
    values = dict(line.split("=", 1) for line in p.stdout.splitlines() if "=" in line)
    if p.returncode != 0 or not values.get("DEB_HOST_GNU_TYPE"):
        why = p.stderr.strip().splitlines()
        raise NuwaError(f"dpkg-architecture does not know the architecture {debian!r}"
                        + (f": {why[-1]}" if why else ""))
    return values


@functools.cache
def lookup(debian: str) -> Arch:
    """The Arch of a Debian architecture name, or NuwaError when dpkg does not know it."""
    v = _query(debian)
    return Arch(debian=debian, gnu_type=v["DEB_HOST_GNU_TYPE"],
                gnu_cpu=v["DEB_HOST_GNU_CPU"], multiarch=v["DEB_HOST_MULTIARCH"])
