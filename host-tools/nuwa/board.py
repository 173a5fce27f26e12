"""Board descriptions: board/<name>/board.toml parsed into a checked Board."""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from . import arch as arches
from . import paths
from .arch import Arch
from .errors import NuwaError

DEFAULT_BOARD = "qemu-arm-virt"  # what --board and BOARD= default to


def elf_machines() -> set[str] | None:
    """The e_machine names the ELF reader knows; None before the virtualenv exists
    (deps.sh reads board files with the standard library only)."""
    try:
        from elftools.elf.enums import ENUM_E_MACHINE
    except ImportError:
        return None
    return {k for k in ENUM_E_MACHINE if k.startswith("EM_")}


@dataclass(frozen=True)
class QemuSpec:
    binary: str
    package: str                     # the Debian package holding `binary` (make deps)
    machine: str
    cpu: str
    block_device: str
    net_device: str
    extra_args: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Board:
    name: str
    path: Path
    description: str
    arch: str
    elf_machine: str
    hostname: str
    console: str
    memory_mib: int
    kernel_package: str
    kernel_cmdline: str
    modules: list[str]
    rootfs_type: str
    compression: str
    compression_level: int | None
    packages: list[str]
    exclude: list[str]
    prune: list[str]
    sysroot_packages: list[str]
    qemu: QemuSpec
    gnu: Arch                          # what dpkg-architecture says `arch` means


class _Fields:
    """Typed access to one TOML table; every error names the file and the field."""

    def __init__(self, data: dict, where: str, file: Path) -> None:
        self.data, self.where, self.file = data, where, file

    def _err(self, key: str, msg: str) -> NuwaError:
        return NuwaError(f"{self.file}: field '{self.where}{key}' {msg}")

    def table(self, key: str) -> _Fields:
        v = self.data.get(key)
        if not isinstance(v, dict):
            raise self._err(key, "is missing or not a table")
        return _Fields(v, f"{self.where}{key}.", self.file)

    def str(self, key: str, default: str | None = None, pattern: str = r".+") -> str:
        v = self.data.get(key, default)
        if v is None:
            raise self._err(key, "is missing")
        if not isinstance(v, str) or not re.fullmatch(pattern, v):
            raise self._err(key, f"must be a string matching {pattern!r}, got {v!r}")
        return v

    def int(self, key: str, lo: int, hi: int) -> int:
        v = self.data.get(key)
        if v is None:
            raise self._err(key, "is missing")
        if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
            raise self._err(key, f"must be an integer from {lo} to {hi}, got {v!r}")
        return v

    def strs(self, key: str, default: list[str] | None = None, nonempty: bool = True,
             pattern: str = r"\S+") -> list[str]:
        v = self.data.get(key, default)
        if v is None:
            raise self._err(key, "is missing")
        if not isinstance(v, list) or not all(
                isinstance(x, str) and re.fullmatch(pattern, x) for x in v):
            raise self._err(key, f"must be a list of strings matching {pattern!r}")
        if nonempty and not v:
            raise self._err(key, "must not be empty")
        return list(v)


PKG = r"[a-z0-9][a-z0-9+.-]+"


def boards_dir() -> Path:
    return paths.top() / "board"


def available() -> list[str]:
    d = boards_dir()
    return sorted(p.parent.name for p in d.glob("*/board.toml")) if d.is_dir() else []


def parse(file: Path) -> Board:
    """Parse and check one board file."""
    try:
        data = tomllib.loads(file.read_text())
    except OSError as e:
        raise NuwaError(f"cannot read board file {file}: {e.strerror}") from e
    except tomllib.TOMLDecodeError as e:
        raise NuwaError(f"{file}: not valid TOML: {e}") from e
    top = _Fields(data, "", file)
    kernel, rootfs, q = top.table("kernel"), top.table("rootfs"), top.table("qemu")
    sysroot = _Fields(data.get("sysroot", {}), "sysroot.", file)
    elf_machine = top.str("elf_machine", pattern=r"EM_[A-Z0-9_]+")
    known = elf_machines()
    if known is not None and elf_machine not in known:
        raise NuwaError(f"{file}: field 'elf_machine' must be an ELF e_machine name "
                        f"(EM_ARM, EM_AARCH64, ...), got {elf_machine!r}")
    debian_arch = top.str("arch", pattern=r"[a-z0-9][a-z0-9-]*")
    try:
        gnu = arches.lookup(debian_arch)
    except NuwaError as e:
        raise NuwaError(f"{file}: field 'arch': {e}") from e
    rootfs_type = rootfs.str("type")
    if rootfs_type != "squashfs":
        raise NuwaError(f"{file}: field 'rootfs.type' must be 'squashfs', got {rootfs_type!r}")
    return Board(
        name=top.str("name", pattern=r"[a-z0-9][a-z0-9_-]*"),
        path=file.parent,
        description=top.str("description", default="") or "",
        arch=debian_arch,
        elf_machine=elf_machine,
        hostname=top.str("hostname", pattern=r"[a-zA-Z0-9][a-zA-Z0-9-]{0,62}"),
        console=top.str("console", pattern=r"tty[A-Za-z0-9]+"),
        memory_mib=top.int("memory_mib", 32, 65536),
        kernel_package=kernel.str("package", pattern=PKG),
        kernel_cmdline=kernel.str("cmdline", default="", pattern=r"[^\n]*"),
        modules=kernel.strs("modules", pattern=r"[A-Za-z0-9_-]+"),
        rootfs_type=rootfs_type,
        compression=rootfs.str("compression", default="gzip",
                               pattern=r"gzip|xz|zstd|lz4|lzo"),
        compression_level=(rootfs.int("compression_level", 1, 22)
                           if "compression_level" in rootfs.data else None),
        packages=rootfs.strs("packages", pattern=PKG),
        exclude=rootfs.strs("exclude", default=[], nonempty=False, pattern=PKG),
        prune=rootfs.strs("prune", default=[], nonempty=False),
        sysroot_packages=sysroot.strs("packages", default=[], nonempty=False, pattern=PKG),
        qemu=QemuSpec(
            binary=q.str("binary", pattern=r"[\w./-]+"),
            package=q.str("package", pattern=PKG),
            machine=q.str("machine"),
            cpu=q.str("cpu"),
            block_device=q.str("block_device"),
            net_device=q.str("net_device"),
            extra_args=q.strs("extra_args", default=[], nonempty=False, pattern=r".+"),
        ),
        gnu=gnu,
    )


def load(name: str) -> Board:
    """The board called `name` (a folder under board/), or a clear error."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
        raise NuwaError(f"unknown board {name!r}")
    file = boards_dir() / name / "board.toml"
    if not file.is_file():
        known = ", ".join(available()) or "none"
        raise NuwaError(f"unknown board {name!r} (known boards: {known})")
    b = parse(file)
    if b.name != name:
        raise NuwaError(f"{file}: field 'name' is {b.name!r} but the folder is {name!r}")
    return b
