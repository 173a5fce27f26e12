"""Assemble the root file system tree: packages, busybox links, overlay,
generated files (hostname, authorized key, CA bundle), the runtime."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from ..board import Board
from ..errors import NuwaError
from . import debs

MOUNT_POINTS = ["proc", "sys", "dev", "tmp", "run", "var", "mnt", "root"]


def busybox_links(root: Path, qemu_user: str) -> None:
    """Applet symlinks for busybox where no package put a real program; the board's
    busybox runs under `qemu_user` (the qemu-user emulator of its architecture)."""
    bb = root / "usr/bin/busybox"
    try:
        p = subprocess.run([qemu_user, str(bb), "--list-full"], capture_output=True,
                           text=True, check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        raise NuwaError(f"cannot list busybox applets with {qemu_user} (install qemu-user): "
                        f"{e}") from e
    for applet in sorted(p.stdout.split()):
        link = root / debs.usr_path(applet).lstrip("/")
        if link.exists() or link.is_symlink():
            continue
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(root / "usr/bin/busybox", link.parent))


def copy_tree(src: Path, dest: Path) -> None:
    """Copy `src` over `dest` keeping modes and symlinks (merged-/usr aware)."""
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames.sort()
        rel_dir = Path(dirpath).relative_to(src).as_posix()
        for name in sorted([*dirnames, *filenames]):
            s = Path(dirpath, name)
            rel = debs.usr_path(f"{rel_dir}/{name}")
            d = dest / rel.lstrip("/")
            if s.is_dir() and not s.is_symlink():
                if not d.is_symlink():
                    d.mkdir(parents=True, exist_ok=True)
                    shutil.copymode(s, d)
                continue
            d.parent.mkdir(parents=True, exist_ok=True)
            if d.is_symlink() or d.exists():
                d.unlink()
            if s.is_symlink():
                d.symlink_to(os.readlink(s))
            else:
                shutil.copy2(s, d)


def install_init_script(script: Path, root: Path) -> None:
    """The Buildroot package's init script (buildroot/package/nuwa/), the same on both."""
    if not script.is_file():
        raise NuwaError(f"init script {script} is missing")
    dest = root / "etc/init.d" / script.name
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(script, dest)
    dest.chmod(0o755)


def add_generated(root: Path, board: Board, pubkey: str) -> None:
    for m in MOUNT_POINTS:
        (root / m).mkdir(exist_ok=True)
    (root / "etc/hostname").write_text(board.hostname + "\n")
    inittab = root / "etc/inittab"
    if inittab.exists():  # the overlay names the console of the first board
        inittab.write_text(inittab.read_text().replace("ttyAMA0", board.console))
    ssh = root / "root/.ssh"
    ssh.mkdir(parents=True, exist_ok=True)
    ssh.chmod(0o700)
    (ssh / "authorized_keys").write_text(pubkey + "\n")
    (ssh / "authorized_keys").chmod(0o600)
    # update-ca-certificates would make the bundle at install time; no
    # maintainer script runs here, so concatenate the certificates ourselves.
    certs = sorted((root / "usr/share/ca-certificates").rglob("*.crt"))
    if certs:
        bundle = root / "etc/ssl/certs/ca-certificates.crt"
        bundle.parent.mkdir(parents=True, exist_ok=True)
        bundle.write_text("".join(c.read_text() for c in certs))


def normalise(root: Path) -> None:
    """Drop what varies between builds and means nothing on the device."""
    for p in root.rglob("__pycache__"):
        shutil.rmtree(p)
