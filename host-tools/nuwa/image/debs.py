"""Unpack .deb data into a tree laid out with merged /usr, pruning as we go.

No maintainer script runs: the image is assembled, not installed.  Paths
under /bin, /sbin and /lib are moved below /usr (the root keeps symlinks),
and every symlink is made relative so the tree also works as a --sysroot.
"""
from __future__ import annotations

import fnmatch
import os
import posixpath
import shutil
import subprocess
import tarfile
from collections.abc import Iterable
from pathlib import Path

from ..errors import NuwaError

MERGED = ("bin", "sbin", "lib")


def _abs(name: str) -> str:
    """A tar member name ("./usr/bin/x", "usr/bin/x" or "/usr/bin/x") as an absolute path."""
    if name.startswith("./"):
        name = name[2:]
    return posixpath.normpath("/" + name.lstrip("/"))


def usr_path(path: str) -> str:
    """Map a path (relative to the root or absolute) into the merged-/usr layout."""
    p = _abs(path)
    first = p.split("/")[1] if p != "/" else ""
    if first in MERGED:
        p = "/usr" + p
    return p


def relative_link(link: str, target: str) -> str:
    """Target for symlink `link` (a path as packaged) pointing at `target`, made
    relative to where the link lands in the merged tree."""
    src = usr_path(link)
    if target.startswith("/"):
        dest = usr_path(target)
    else:
        dest = usr_path(posixpath.join(posixpath.dirname(_abs(link)), target))
    return posixpath.relpath(dest, posixpath.dirname(src))


def make_root(dest: Path) -> None:
    """An empty merged-/usr tree: /bin, /sbin, /lib are symlinks into /usr."""
    for d in MERGED:
        (dest / "usr" / d).mkdir(parents=True, exist_ok=True)
        link = dest / d
        if not link.is_symlink():
            link.symlink_to(f"usr/{d}")


def pruned(path: str, patterns: Iterable[str]) -> bool:
    """True if `path` matches a pattern; "dir/*" also drops dir itself."""
    rel = path.lstrip("/")
    return any(fnmatch.fnmatch(rel, pat) or fnmatch.fnmatch(rel + "/", pat) for pat in patterns)


def extract(deb: Path, dest: Path, prune: Iterable[str] = ()) -> list[str]:
    """Unpack `deb` into `dest`; returns the merged paths written (files and links)."""
    patterns = list(prune)
    written: list[str] = []
    try:
        proc = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as e:
        raise NuwaError(f"cannot run dpkg-deb: {e}") from e
    assert proc.stdout is not None
    try:
        with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
            for m in tar:
                _member(tar, m, dest, patterns, written)
    except (tarfile.TarError, EOFError, OSError) as e:
        proc.kill()
        proc.wait()
        raise NuwaError(f"corrupt or truncated package {deb}: {e}") from e
    finally:
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        rc = proc.wait()
    if rc != 0:
        raise NuwaError(f"corrupt or truncated package {deb}: {err.strip()}")
    return written


def _member(tar: tarfile.TarFile, m: tarfile.TarInfo, dest: Path,
            patterns: list[str], written: list[str]) -> None:
    path = usr_path(m.name)
    if path == "/" or pruned(path, patterns):
        return
    out = dest / path.lstrip("/")
    if m.isdir():
        if out.is_symlink():  # e.g. a package's /lib onto our /lib -> usr/lib
            return
        out.mkdir(parents=True, exist_ok=True)
        os.chmod(out, m.mode & 0o7777 | 0o700)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.is_symlink() or out.exists():
        if out.is_dir() and not out.is_symlink():
            shutil.rmtree(out)
        else:
            out.unlink()
    if m.issym():
        os.symlink(relative_link(m.name, m.linkname), out)
    elif m.islnk():
        src = dest / usr_path(m.linkname).lstrip("/")
        shutil.copy2(src, out)  # a copy: squashfs/cpio writers see plain files
    elif m.isreg():
        f = tar.extractfile(m)
        assert f is not None
        with open(out, "wb") as o:
            shutil.copyfileobj(f, o, 1 << 20)
        os.chmod(out, m.mode & 0o7777)
    else:
        return  # device nodes and fifos: devtmpfs provides /dev
    written.append(path)
