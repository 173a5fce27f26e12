"""Check every ELF file of a tree: right machine, every DT_NEEDED inside the tree."""
from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.dynamic import DynamicSegment
from elftools.elf.elffile import ELFFile

from ..errors import NuwaError

DEFAULT_DIRS = ["/lib", "/usr/lib"]


@dataclass(frozen=True)
class Problem:
    file: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.message}"


class ImageTree:
    """Paths inside an unpacked image; symlinks resolve against the image root."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def resolve(self, path: str, depth: int = 0) -> str | None:
        """The image path `path` leads to after following symlinks, or None."""
        if depth > 40:
            return None
        parts = [p for p in path.split("/") if p]
        cur = "/"
        for i, part in enumerate(parts):
            nxt = posixpath.join(cur, part)
            host = self.root / nxt.lstrip("/")
            if host.is_symlink():
                target = os.readlink(host)
                base = "/" if target.startswith("/") else cur
                rest = "/".join(parts[i + 1:])
                joined = posixpath.normpath(posixpath.join(base, target, rest))
                return self.resolve(joined, depth + 1)
            if not host.exists():
                return None
            cur = nxt
        return cur

    def exists(self, path: str) -> bool:
        r = self.resolve(path)
        return r is not None and (self.root / r.lstrip("/")).is_file()

    def library_dirs(self) -> list[str]:
        dirs = list(DEFAULT_DIRS)
        confd = self.resolve("/etc/ld.so.conf.d")
        if confd:
            for conf in sorted((self.root / confd.lstrip("/")).glob("*.conf")):
                for line in conf.read_text().splitlines():
                    line = line.split("#")[0].strip()
                    if line.startswith("/") and line not in dirs:
                        dirs.insert(0, line)
        return dirs


def _is_elf(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def check_tree(root: Path, machine: str) -> list[Problem]:
    """All problems found in the ELF files under `root` (empty list: all good)."""
    tree = ImageTree(root)
    libdirs = tree.library_dirs()
    problems: list[Problem] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            host = Path(dirpath, name)
            if host.is_symlink() or not _is_elf(host):
                continue
            rel = "/" + host.relative_to(root).as_posix()
            problems += _check_file(tree, host, rel, machine, libdirs)
    return problems


def _check_file(tree: ImageTree, host: Path, rel: str, machine: str,
                libdirs: list[str]) -> list[Problem]:
    try:
        with host.open("rb") as f:
            elf = ELFFile(f)
            if elf["e_machine"] != machine:
                return [Problem(rel, f"machine is {elf['e_machine']}, the board needs {machine}")]
            interp, needed, paths = None, [], []
            for seg in elf.iter_segments():
                if seg["p_type"] == "PT_INTERP":
                    interp = seg.get_interp_name()
                # The dynamic segment: far cheaper than walking all sections.
                if isinstance(seg, DynamicSegment):
                    for tag in seg.iter_tags():
                        if tag.entry.d_tag == "DT_NEEDED":
                            needed.append(tag.needed)
                        elif tag.entry.d_tag in ("DT_RPATH", "DT_RUNPATH"):
                            raw = tag.rpath if tag.entry.d_tag == "DT_RPATH" else tag.runpath
                            origin = posixpath.dirname(rel)
                            paths += [p.replace("$ORIGIN", origin).replace("${ORIGIN}", origin)
                                      for p in raw.split(":") if p]
    except (ELFError, OSError, ValueError) as e:
        return [Problem(rel, f"unreadable ELF file: {e}")]
    problems = []
    if interp and not tree.exists(interp):
        problems.append(Problem(rel, f"program interpreter {interp} is not in the image"))
    for lib in needed:
        if "/" in lib:
            found = tree.exists(lib)
        else:
            found = any(tree.exists(posixpath.join(d, lib)) for d in [*paths, *libdirs])
        if not found:
            problems.append(Problem(rel, f"needs {lib}, which is not in the image"))
    return problems


def check_or_fail(root: Path, machine: str) -> None:
    problems = check_tree(root, machine)
    if problems:
        shown = "\n  ".join(str(p) for p in problems[:40])
        more = f"\n  ... and {len(problems) - 40} more" if len(problems) > 40 else ""
        raise NuwaError(f"ELF check failed ({len(problems)} problems):\n  {shown}{more}")
