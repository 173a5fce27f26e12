"""The initramfs: static busybox, the board's modules, and an /init that
loads them, mounts the root file system read-only and switches to it."""
from __future__ import annotations

import shutil
from pathlib import Path

from .modules import KernelModules

APPLETS = ["sh", "mount", "umount", "mkdir", "insmod", "switch_root", "sleep", "cat",
           "echo", "test", "["]

INIT = r"""#!/bin/sh
# Nuwa initramfs: load the board's modules, mount the root read-only, switch.
export PATH=/bin
mkdir -p /proc /sys /dev /newroot
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $(cat /etc/modules-load); do
    insmod "/lib/modules/$m" || echo "initramfs: cannot load $m"
done
root=/dev/vda fstype=squashfs
for arg in $(cat /proc/cmdline); do
    case "$arg" in
        root=*) root="${arg#root=}" ;;
        rootfstype=*) fstype="${arg#rootfstype=}" ;;
    esac
done
n=0
while [ ! -b "$root" ] && [ "$n" -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
if ! mount -t "$fstype" -o ro "$root" /newroot; then
    echo "initramfs: cannot mount $root ($fstype); dropping to a shell"
    exec sh
fi
mount --move /dev /newroot/dev
umount /sys /proc
exec switch_root /newroot /sbin/init
"""


def make_tree(dest: Path, busybox: Path, kmods: KernelModules, order: list[str]) -> None:
    """Fill `dest` with the initramfs contents (modules in load order)."""
    if dest.exists():
        shutil.rmtree(dest)
    (dest / "bin").mkdir(parents=True)
    (dest / "etc").mkdir()
    shutil.copyfile(busybox, dest / "bin/busybox")
    (dest / "bin/busybox").chmod(0o755)
    for a in APPLETS:
        (dest / "bin" / a).symlink_to("busybox")
    init = dest / "init"
    init.write_text(INIT)
    init.chmod(0o755)
    moddir = dest / "lib/modules"
    moddir.mkdir(parents=True)
    lines = []
    for name in order:
        rel = kmods.relpath(name)
        target = moddir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(kmods.paths[name], target)
        target.chmod(0o644)
        lines.append(rel)
    (moddir / "modules.dep").write_text(kmods.modules_dep(order))
    (dest / "etc/modules-load").write_text("\n".join(lines) + "\n")
