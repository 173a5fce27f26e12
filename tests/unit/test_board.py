"""Board files: the shipped board parses; bad ones give one clear error."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from nuwa import board
from nuwa.errors import NuwaError

TOP = Path(__file__).resolve().parents[2]
REAL = TOP / "board" / "qemu-arm-virt" / "board.toml"


def test_shipped_board_parses() -> None:
    b = board.load("qemu-arm-virt")
    assert b.arch == "armhf"
    assert b.elf_machine == "EM_ARM"
    assert b.console == "ttyAMA0"
    assert b.memory_mib == 128
    assert b.qemu.machine == "virt" and b.qemu.cpu == "cortex-a15"
    assert {"busybox-static", "dropbear-bin", "libc6"} <= set(b.packages)
    assert {"libssl3", "libsqlite3-0", "libxml2", "libicu72"} <= set(b.packages)
    assert {"libc6-dev", "libssl-dev", "libsqlite3-dev", "libxml2-dev", "libicu-dev"} <= set(
        b.sysroot_packages)
    assert "squashfs" in b.modules and "virtio_blk" in b.modules


def test_unknown_board_names_the_known_ones() -> None:
    with pytest.raises(NuwaError, match=r"unknown board 'nope'.*qemu-arm-virt"):
        board.load("nope")


@pytest.mark.parametrize("name", ["../board", "a/b", ""])
def test_board_name_cannot_escape(name: str) -> None:
    with pytest.raises(NuwaError, match="unknown board"):
        board.load(name)


def _edited(tmp_path: Path, old: str, new: str) -> Path:
    text = REAL.read_text()
    assert old in text
    f = tmp_path / "board.toml"
    f.write_text(text.replace(old, new, 1))
    return f


@pytest.mark.parametrize(("old", "new", "field"), [
    ('arch = "armhf"', "", "arch"),
    ("memory_mib = 128", 'memory_mib = "lots"', "memory_mib"),
    ("memory_mib = 128", "memory_mib = 4", "memory_mib"),
    ('elf_machine = "EM_ARM"', 'elf_machine = "EM_Z80"', "elf_machine"),
    ('type = "squashfs"', 'type = "btrfs"', "rootfs.type"),
    ('compression = "zstd"', 'compression = "rar"', "rootfs.compression"),
    ('package = "linux-image-armmp"', "package = 3", "kernel.package"),
    ("[qemu]", "[qemu_settings]", "qemu"),
    ('cpu = "cortex-a15"', "", "qemu.cpu"),
])
def test_bad_field_is_named(tmp_path: Path, old: str, new: str, field: str) -> None:
    f = _edited(tmp_path, old, new)
    with pytest.raises(NuwaError) as e:
        board.parse(f)
    assert f"'{field}'" in str(e.value)
    assert str(f) in str(e.value)


def test_empty_package_list_is_refused(tmp_path: Path) -> None:
    text = REAL.read_text()
    start = text.index("packages = [\n  \"busybox-static\"")
    end = text.index("]\n", start) + 2
    f = tmp_path / "board.toml"
    f.write_text(text[:start] + "packages = []\n" + text[end:])
    with pytest.raises(NuwaError, match=r"'rootfs.packages' must not be empty"):
        board.parse(f)


def test_not_toml(tmp_path: Path) -> None:
    f = tmp_path / "board.toml"
    f.write_text("name = [unclosed\n")
    with pytest.raises(NuwaError, match="not valid TOML"):
        board.parse(f)


def test_folder_and_name_must_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "board" / "other").mkdir(parents=True)
    shutil.copy(REAL, tmp_path / "board" / "other" / "board.toml")
    monkeypatch.setenv("NUWA_TOP", str(tmp_path))
    with pytest.raises(NuwaError, match="folder is 'other'"):
        board.load("other")
