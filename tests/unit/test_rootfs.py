"""Root file system assembly: overlay copy into merged /usr, generated files."""
from __future__ import annotations

import os
from pathlib import Path

from nuwa import board
from nuwa.image import debs, rootfs
from nuwa.target.qemu import BOOT_MARKER


def test_overlay_lands_in_merged_usr(tmp_path: Path) -> None:
    root, overlay = tmp_path / "root", tmp_path / "overlay"
    debs.make_root(root)
    (overlay / "bin").mkdir(parents=True)
    (overlay / "bin/tool").write_text("#!/bin/sh\n")
    (overlay / "bin/tool").chmod(0o755)
    (overlay / "etc").mkdir()
    (overlay / "etc/link").symlink_to("../run/x")
    rootfs.copy_tree(overlay, root)
    assert os.readlink(root / "bin") == "usr/bin"  # the merged-/usr link survives
    assert (root / "usr/bin/tool").stat().st_mode & 0o777 == 0o755
    assert os.readlink(root / "etc/link") == "../run/x"


def test_generated_files(tmp_path: Path) -> None:
    b = board.load("qemu-arm-virt")
    root = tmp_path / "root"
    debs.make_root(root)
    (root / "etc").mkdir()
    (root / "etc/inittab").write_text("ttyAMA0::respawn:-/bin/sh\n")
    certs = root / "usr/share/ca-certificates/mozilla"
    certs.mkdir(parents=True)
    (certs / "b.crt").write_text("B\n")
    (certs / "a.crt").write_text("A\n")
    rootfs.add_generated(root, b, "ssh-ed25519 AAAA nuwa")
    assert (root / "etc/hostname").read_text() == f"{b.hostname}\n"
    keys = root / "root/.ssh/authorized_keys"
    assert keys.read_text() == "ssh-ed25519 AAAA nuwa\n"
    assert keys.stat().st_mode & 0o777 == 0o600
    assert (root / "etc/ssl/certs/ca-certificates.crt").read_text() == "A\nB\n"
    for m in ("proc", "sys", "dev", "tmp", "run", "var"):
        assert (root / m).is_dir()
    assert b.console in (root / "etc/inittab").read_text()


def test_shipped_overlay_has_init_and_marker() -> None:
    overlay = Path(__file__).resolve().parents[2] / "rootfs-overlay"
    rcs = overlay / "etc/init.d/rcS"
    assert rcs.stat().st_mode & 0o111
    text = rcs.read_text()
    assert f'echo "{BOOT_MARKER}"' in text
    assert "/etc/init.d/S??*" in text
    assert "::sysinit:/etc/init.d/rcS" in (overlay / "etc/inittab").read_text()


def test_init_script_of_the_buildroot_package_is_installed_executable(tmp_path: Path) -> None:
    script = Path(__file__).resolve().parents[2] / "buildroot/package/nuwa/S50nuwad"
    root = tmp_path / "root"
    debs.make_root(root)
    rootfs.install_init_script(script, root)
    dest = root / "etc/init.d/S50nuwad"
    assert dest.read_text() == script.read_text()
    assert dest.stat().st_mode & 0o777 == 0o755
