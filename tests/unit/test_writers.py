"""The image writers are deterministic: same tree -> same bytes, whatever the
files' mtimes, owners or creation order."""
from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

import pytest
from nuwa.image.cpio import archive, write_initramfs
from nuwa.image.squashfs import write_squashfs

EPOCH = 1704067200


def make_tree(root: Path, order: list[str], mtime: int) -> Path:
    files = {"bin/busybox": b"\x7fELF...", "init": b"#!/bin/sh\n", "etc/modules-load": b"a.ko\n",
             "lib/modules/a.ko": b"module" * 100}
    for name in order:
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(files[name])
    (root / "bin/sh").symlink_to("busybox")
    (root / "init").chmod(0o755)
    (root / "empty").mkdir()
    for p in root.rglob("*"):
        if not p.is_symlink():
            os.utime(p, (mtime, mtime))
    return root


ORDER = ["bin/busybox", "init", "etc/modules-load", "lib/modules/a.ko"]


def test_cpio_same_bytes_for_same_tree(tmp_path: Path) -> None:
    a = make_tree(tmp_path / "a", ORDER, 1_000_000)
    b = make_tree(tmp_path / "b", list(reversed(ORDER)), 2_000_000)
    assert archive(a, EPOCH) == archive(b, EPOCH)
    write_initramfs(a, tmp_path / "a.img", EPOCH)
    write_initramfs(b, tmp_path / "b.img", EPOCH)
    assert (tmp_path / "a.img").read_bytes() == (tmp_path / "b.img").read_bytes()


def test_cpio_content_changes_the_bytes(tmp_path: Path) -> None:
    a = make_tree(tmp_path / "a", ORDER, 1_000_000)
    before = archive(a, EPOCH)
    (a / "init").write_text("#!/bin/sh\necho changed\n")
    assert archive(a, EPOCH) != before
    assert archive(a, EPOCH + 1) != archive(a, EPOCH)


def test_cpio_is_valid_newc(tmp_path: Path) -> None:
    data = archive(make_tree(tmp_path / "a", ORDER, 5), EPOCH)
    names, pos = [], 0
    while True:
        assert data[pos:pos + 6] == b"070701"
        fields = [int(data[pos + 6 + 8 * i: pos + 14 + 8 * i], 16) for i in range(13)]
        mode, uid, gid, mtime, size, namesize = (fields[1], fields[2], fields[3], fields[5],
                                                 fields[6], fields[11])
        name = data[pos + 110: pos + 110 + namesize - 1].decode()
        pos = (pos + 110 + namesize + 3) & ~3
        if name == "TRAILER!!!":
            break
        names.append(name)
        assert (uid, gid, mtime) == (0, 0, EPOCH)
        if name == "bin/sh":
            assert mode & 0o170000 == 0o120000
            assert data[pos:pos + size] == b"busybox"
        if name == "init":
            assert mode & 0o777 == 0o755
        pos = (pos + size + 3) & ~3
    assert names == sorted(names)
    assert {"bin", "bin/busybox", "bin/sh", "empty", "init", "lib/modules/a.ko"} <= set(names)


def test_initramfs_gzip_has_no_timestamp(tmp_path: Path) -> None:
    write_initramfs(make_tree(tmp_path / "a", ORDER, 5), tmp_path / "i.img", EPOCH)
    raw = (tmp_path / "i.img").read_bytes()
    assert raw[4:8] == b"\0\0\0\0"  # gzip MTIME field
    assert gzip.decompress(raw).startswith(b"070701")


def test_squashfs_same_bytes_for_same_tree(tmp_path: Path) -> None:
    if shutil.which("mksquashfs") is None:
        pytest.fail("mksquashfs is missing (make deps installs squashfs-tools)")
    a = make_tree(tmp_path / "a", ORDER, 1_000_000)
    b = make_tree(tmp_path / "b", list(reversed(ORDER)), 2_000_000)
    write_squashfs(a, tmp_path / "a.sqfs", EPOCH, "zstd")
    write_squashfs(b, tmp_path / "b.sqfs", EPOCH, "zstd")
    assert (tmp_path / "a.sqfs").read_bytes() == (tmp_path / "b.sqfs").read_bytes()
    (b / "init").write_text("other\n")
    write_squashfs(b, tmp_path / "b.sqfs", EPOCH, "zstd")
    assert (tmp_path / "a.sqfs").read_bytes() != (tmp_path / "b.sqfs").read_bytes()


def test_failed_squashfs_keeps_the_old_image(tmp_path: Path) -> None:
    dest = tmp_path / "rootfs.img"
    dest.write_bytes(b"good old image")
    with pytest.raises(Exception, match="mksquashfs failed"):
        write_squashfs(tmp_path / "does-not-exist", dest, EPOCH, "zstd")
    assert dest.read_bytes() == b"good old image"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rootfs.img"]
