"""The read-only root file system: a reproducible squashfs made by mksquashfs."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

from ..errors import NuwaError
from .output import temp_path


def write_squashfs(tree: Path, dest: Path, mtime: int, compression: str,
                   level: int | None = None) -> None:
    """squashfs image of `tree` at `dest`: root-owned, fixed times, no xattrs.

    mksquashfs sorts directory entries itself and its output does not depend
    on the number of threads, so equal trees give equal images.
    """
    tmp = temp_path(dest)
    tmp.unlink(missing_ok=True)
    cmd = ["mksquashfs", str(tree), str(tmp), "-noappend", "-quiet", "-no-progress",
           "-comp", compression, "-all-root", "-no-xattrs", "-no-exports",
           "-mkfs-time", str(mtime), "-all-time", str(mtime)]
    if level is not None:
        cmd += ["-Xcompression-level", str(level)]
    try:
        # SOURCE_DATE_EPOCH is given explicitly above; mksquashfs refuses both.
        env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
        p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    except OSError as e:
        raise NuwaError(f"cannot run mksquashfs (install squashfs-tools): {e}") from e
    if p.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise NuwaError(f"mksquashfs failed: {p.stderr.strip() or p.stdout.strip()}")
    os.chmod(tmp, 0o644)
    os.replace(tmp, dest)
