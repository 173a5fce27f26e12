"""Unpacking .deb files into a merged-/usr tree: paths, links, pruning, bad files."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from nuwa.errors import NuwaError
from nuwa.image import debs


@pytest.mark.parametrize(("path", "merged"), [
    ("./lib/arm-linux-gnueabihf/libc.so.6", "/usr/lib/arm-linux-gnueabihf/libc.so.6"),
    ("./bin/busybox", "/usr/bin/busybox"), ("/sbin/init", "/usr/sbin/init"),
    ("./usr/bin/x", "/usr/bin/x"), ("./etc/passwd", "/etc/passwd"), ("./library", "/library"),
])
def test_usr_path(path: str, merged: str) -> None:
    assert debs.usr_path(path) == merged


@pytest.mark.parametrize(("link", "target", "rel"), [
    ("./usr/lib/a/libz.so", "/lib/a/libz.so.1", "libz.so.1"),
    ("./lib/x/y", "../../usr/share/z", "../../share/z"),
    ("./usr/bin/a", "b", "b"),
    ("./etc/alternatives/x", "/usr/bin/y", "../../usr/bin/y"),
])
def test_links_become_relative_in_the_merged_tree(link: str, target: str, rel: str) -> None:
    assert debs.relative_link(link, target) == rel


@pytest.fixture
def deb(tmp_path: Path) -> Path:
    pkg = tmp_path / "pkg"
    (pkg / "DEBIAN").mkdir(parents=True)
    (pkg / "DEBIAN/control").write_text(
        "Package: nuwa-test\nVersion: 1.0\nArchitecture: armhf\nMaintainer: t <t@t>\n"
        "Description: test\n")
    (pkg / "lib/foo").mkdir(parents=True)
    (pkg / "lib/foo/libx.so.1").write_text("lib")
    (pkg / "lib/foo/libx.so").symlink_to("libx.so.1")
    (pkg / "lib/foo/data").symlink_to("../../usr/share/nuwa-test/data")
    (pkg / "bin").mkdir()
    (pkg / "bin/tool").write_text("#!/bin/sh\n")
    (pkg / "bin/tool").chmod(0o755)
    (pkg / "usr/share/nuwa-test").mkdir(parents=True)
    (pkg / "usr/share/nuwa-test/data").write_text("data")
    (pkg / "usr/share/doc/nuwa-test").mkdir(parents=True)
    (pkg / "usr/share/doc/nuwa-test/copyright").write_text("c")
    (pkg / "usr/lib").mkdir(parents=True)
    (pkg / "usr/lib/abs").symlink_to("/lib/foo/libx.so.1")
    out = tmp_path / "nuwa-test_1.0_armhf.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zgzip", "--build", str(pkg), str(out)],
                   check=True, capture_output=True)
    return out


def test_extract_merges_prunes_and_fixes_links(tmp_path: Path, deb: Path) -> None:
    root = tmp_path / "root"
    debs.make_root(root)
    written = debs.extract(deb, root, ["usr/share/doc/*"])
    assert os.readlink(root / "lib") == "usr/lib"
    assert (root / "usr/lib/foo/libx.so.1").read_text() == "lib"
    assert (root / "usr/bin/tool").stat().st_mode & 0o777 == 0o755
    assert os.readlink(root / "usr/lib/foo/libx.so") == "libx.so.1"
    assert (root / "usr/lib/foo/data").read_text() == "data"  # ../../ re-based
    assert os.readlink(root / "usr/lib/abs") == "foo/libx.so.1"  # absolute made relative
    assert (root / "lib/foo/libx.so").read_text() == "lib"
    assert not (root / "usr/share/doc").exists()
    assert "/usr/bin/tool" in written and "/usr/share/doc/nuwa-test/copyright" not in written


def test_truncated_deb_is_named(tmp_path: Path, deb: Path) -> None:
    cut = tmp_path / "cut.deb"
    cut.write_bytes(deb.read_bytes()[: deb.stat().st_size // 2])
    root = tmp_path / "root"
    debs.make_root(root)
    with pytest.raises(NuwaError, match=r"corrupt or truncated package .*cut\.deb"):
        debs.extract(cut, root)
