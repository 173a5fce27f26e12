"""Board files: the shipped board parses; bad ones give one clear error."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from nuwa import board, hostdeps
from nuwa.errors import NuwaError
from nuwa.image import runtime

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
    assert b.qemu.package == "qemu-system-arm"


def test_arm64_board_parses_and_derives_its_toolchain() -> None:
    b = board.load("qemu-arm64-virt")
    assert (b.arch, b.elf_machine, b.kernel_package) == ("arm64", "EM_AARCH64",
                                                         "linux-image-arm64")
    assert (b.qemu.binary, b.qemu.machine, b.qemu.cpu) == ("qemu-system-aarch64", "virt",
                                                           "cortex-a53")
    assert b.memory_mib == 128
    # Everything else about the architecture comes from dpkg-architecture.
    assert b.gnu.cross_prefix == "aarch64-linux-gnu-"
    assert b.gnu.multiarch == "aarch64-linux-gnu"
    assert b.gnu.qemu_user == "qemu-aarch64"
    assert b.gnu.cross_gcc_package == "gcc-aarch64-linux-gnu"
    assert board.load("qemu-arm-virt").gnu.qemu_user == "qemu-arm"


def test_boards_share_their_package_lists() -> None:
    arm, arm64 = board.load("qemu-arm-virt"), board.load("qemu-arm64-virt")
    assert arm.packages == arm64.packages and arm.sysroot_packages == arm64.sysroot_packages


def test_architecture_dpkg_does_not_know(tmp_path: Path) -> None:
    f = _edited(tmp_path, 'arch = "armhf"', 'arch = "pdp11"')
    with pytest.raises(NuwaError, match=r"board.toml: field 'arch': dpkg-architecture does "
                                        r"not know the architecture 'pdp11'"):
        board.parse(f)


def test_host_packages_of_every_board() -> None:
    pkgs = hostdeps.packages(board.available())
    assert {"qemu-system-arm", "gcc-arm-linux-gnueabihf", "gcc-aarch64-linux-gnu",
            "libc6-dev-armhf-cross", "libc6-dev-arm64-cross"} <= set(pkgs)
    assert len(pkgs) == len(set(pkgs))


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
    ('elf_machine = "EM_ARM"', 'elf_machine = "EM_NO_SUCH_CPU"', "elf_machine"),
    ('elf_machine = "EM_ARM"', 'elf_machine = "arm"', "elf_machine"),
    ('type = "squashfs"', 'type = "btrfs"', "rootfs.type"),
    ('compression = "zstd"', 'compression = "rar"', "rootfs.compression"),
    ('package = "linux-image-armmp"', "package = 3", "kernel.package"),
    ("[qemu]", "[qemu_settings]", "qemu"),
    ('cpu = "cortex-a15"', "", "qemu.cpu"),
    ('package = "qemu-system-arm"', "", "qemu.package"),
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


def test_missing_cross_compiler_names_the_package(monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no compiler at all
    for name in board.available():
        gnu = board.load(name).gnu
        with pytest.raises(NuwaError, match=rf"no cross compiler for {gnu.debian}: "
                           rf"{gnu.cross_prefix}gcc .*install the Debian package "
                           rf"{gnu.cross_gcc_package}"):
            runtime.check_cross_compiler(gnu)
