"""A deterministic cpio ("newc") writer for the initramfs.

Entries are sorted, owned by root, stamped with one fixed mtime and numbered
in order, so the same tree always gives the same bytes.
"""
from __future__ import annotations

import gzip
import os
import stat
from pathlib import Path

from .output import atomic_write


def _header(ino: int, mode: int, nlink: int, mtime: int, size: int, name: bytes) -> bytes:
    fields = [ino, mode, 0, 0, nlink, mtime, size, 0, 0, 0, 0, len(name) + 1, 0]
    head = b"070701" + b"".join(b"%08X" % f for f in fields) + name + b"\0"
    return head + b"\0" * (-len(head) % 4)


def archive(tree: Path, mtime: int) -> bytes:
    """The newc archive of everything under `tree` (not following symlinks)."""
    entries = []
    for dirpath, dirnames, filenames in os.walk(tree):
        dirnames.sort()
        for n in [*dirnames, *filenames]:
            entries.append(Path(dirpath, n))
    entries.sort(key=lambda p: p.relative_to(tree).as_posix())
    out = bytearray()
    for ino, p in enumerate(entries, start=1):
        st = p.lstat()
        name = p.relative_to(tree).as_posix().encode()
        perm = stat.S_IMODE(st.st_mode)
        if stat.S_ISDIR(st.st_mode):
            out += _header(ino, stat.S_IFDIR | perm, 2, mtime, 0, name)
            continue
        if stat.S_ISLNK(st.st_mode):
            data = os.readlink(p).encode()
            mode = stat.S_IFLNK | 0o777
        elif stat.S_ISREG(st.st_mode):
            data = p.read_bytes()
            mode = stat.S_IFREG | perm
        else:
            raise ValueError(f"{p}: only directories, files and symlinks go into a cpio")
        out += _header(ino, mode, 1, mtime, len(data), name) + data
        out += b"\0" * (-len(data) % 4)
    out += _header(0, 0, 1, 0, 0, b"TRAILER!!!")
    return bytes(out)


def write_initramfs(tree: Path, dest: Path, mtime: int) -> None:
    """gzip'd newc archive of `tree` at `dest` (written to a temp file, then renamed)."""
    data = gzip.compress(archive(tree, mtime), compresslevel=9, mtime=0)
    atomic_write(dest, data)
