"""CPython in the image: what of its standard library ships, and its bytecode.

Debian's libpython3.11-stdlib is a desktop's standard library. The image
keeps what device apps and the framework can import and drops the rest
(PRUNE, applied while unpacking). Every `.py` left under /usr/lib/python3.11
and /usr/lib/nuwa is then compiled to `.pyc` by the image's own interpreter
(python3.11-minimal's binary, unpacked beside the root, never into it) under
qemu-user, so the read-only root never needs a `__pycache__` written and an
exec'd interpreter never compiles at launch.

The `.pyc` files are reproducible: unchecked-hash invalidation (no source
mtime in the header), a fixed hash seed (set and frozenset constants are
marshalled in iteration order) and device paths as their file names.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

from ..errors import NuwaError
from . import debs

STDLIB = "usr/lib/python3.11"
# The image has CPython when it has this package (its libpython3.11.so.1).
LIBRARY_PACKAGE = "libpython3.11-minimal"
# The package of the interpreter binary that compiles (same version).
INTERPRETER_PACKAGE = "python3.11-minimal"
# What gets compiled: the standard library and the Nuwa modules.
COMPILED = (STDLIB, "usr/lib/nuwa")

# Unpacked nowhere (debs.extract patterns, relative to the root). Debian
# already ships idlelib, tkinter, lib2to3, ensurepip and distutils in other
# packages; they are listed too so a future stdlib package cannot bring them.
PRUNE = [f"{STDLIB}/{p}" for p in (
    # tests and the test-only extension modules
    "test/*", "unittest/test/*", "lib-dynload/_test*", "lib-dynload/_ctypes_test*",
    "lib-dynload/_xxtestfuzz*", "lib-dynload/xxlimited*", "lib-dynload/_xxsubinterpreters*",
    "__phello__/*", "__hello__.py",
    # desktop and development tools
    "idlelib/*", "tkinter/*", "turtle.py", "turtledemo/*", "lib2to3/*", "ensurepip/*",
    "venv/*", "distutils/*", "pydoc.py", "pydoc_data/*", "config-3.11-*",
    "antigravity.py", "this.py",
    # terminals, audio and NIS: no device app has them (and their libraries go too)
    "curses/*", "lib-dynload/_curses*", "lib-dynload/readline*", "lib-dynload/nis*",
    "lib-dynload/ossaudiodev*", "lib-dynload/_dbm*", "dbm/ndbm.py",
)]


def interpreter(deb: Path, work: Path) -> Path:
    """The python3.11 binary of DEB, unpacked under WORK (not the image)."""
    tree = work / "python-interpreter"
    tree.mkdir(parents=True, exist_ok=True)
    debs.make_root(tree)
    debs.extract(deb, tree, ["usr/share/*"])
    binary = tree / "usr/bin/python3.11"
    if not binary.is_file():
        raise NuwaError(f"{deb.name} has no usr/bin/python3.11")
    return binary


def compile_tree(root: Path, binary: Path, qemu_user: str) -> int:
    """Compile every .py under ROOT's COMPILED directories; returns how many .pyc."""
    dirs = [root / d for d in COMPILED if (root / d).is_dir()]
    if not dirs:
        return 0
    # qemu-user -L ROOT: the interpreter's own absolute paths (its libraries,
    # /usr/lib/python3.11) resolve inside the image's root; the files to
    # compile are named by their host paths, -s/-p turn them into device
    # paths in the .pyc. -j1: no worker processes under emulation.
    cmd = [qemu_user, "-L", str(root), str(binary), "-I", "-m", "compileall", "-q",
           "-j", "1", "--invalidation-mode", "unchecked-hash", "-s", str(root), "-p", "/",
           *map(str, dirs)]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONHASHSEED": "0",
           "LC_ALL": "C.UTF-8"}
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
    except OSError as e:
        raise NuwaError(f"cannot run {qemu_user} (install qemu-user): {e}") from e
    if p.returncode != 0:
        raise NuwaError("compiling the Python modules failed:\n"
                        + (p.stdout + p.stderr).strip()[-3000:])
    missing = [str(py.relative_to(root)) for py in uncompiled(root)]
    if missing:
        raise NuwaError(f"no .pyc for {len(missing)} modules, e.g. {missing[:5]}")
    return sum(1 for d in dirs for _ in d.rglob("*.pyc"))


def pyc_of(py: Path) -> Path:
    return py.parent / "__pycache__" / f"{py.stem}.cpython-311.pyc"


def uncompiled(root: Path) -> list[Path]:
    """The .py files under ROOT's COMPILED directories that have no .pyc."""
    return [py for d in COMPILED if (root / d).is_dir()
            for py in sorted((root / d).rglob("*.py")) if not pyc_of(py).is_file()]
