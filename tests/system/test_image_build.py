"""`nuwa image` end to end from the real download cache: bad input gives one
clear error, a nonzero exit and leaves the previous image alone; two clean
builds give byte-identical images.

These run offline against a hard-linked copy of the cache that `make image`
filled, so they neither touch the network nor damage the real cache.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from nuwa import paths
from nuwa.board import Board

ARTIFACTS = ("vmlinuz", "initrd.img", "rootfs.img", "manifest.json")


def nuwa(*args: str, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nuwa.cli", *args], env={**os.environ, **env},
                          check=False, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def cache(guest_image: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the real cache (hard links: cheap; files are replaced, never edited)."""
    real = paths.cache_dir()
    if not (real / "apt").is_dir():
        pytest.fail(f"no download cache in {real}: run `make image` first")
    copy = tmp_path_factory.mktemp("cache") / "nuwa"
    if subprocess.run(["cp", "-al", str(real), str(copy)], check=False).returncode != 0:
        shutil.rmtree(copy, ignore_errors=True)  # another file system: a real copy
        subprocess.run(["cp", "-a", str(real), str(copy)], check=True)
    return copy


@pytest.fixture
def old_image(tmp_path: Path, guest_board: Board) -> Path:
    """An output folder already holding a (fake) good image."""
    out = tmp_path / "out"
    d = out / guest_board.name
    d.mkdir(parents=True)
    for a in ARTIFACTS:
        (d / a).write_text(f"previous {a}\n")
    return out


def assert_untouched(out: Path, board: str) -> None:
    d = out / board
    for a in ARTIFACTS:
        assert (d / a).read_text() == f"previous {a}\n", a
    assert not [p.name for p in d.iterdir() if p.name.startswith(f".{ARTIFACTS[0]}")]


def failing(args: list[str], env: dict[str, str], *messages: str) -> str:
    p = nuwa("image", *args, env=env)
    assert p.returncode != 0
    err = p.stderr
    assert "Traceback" not in err
    assert err.count("nuwa: error:") == 1, err
    for m in messages:
        assert m in err, err
    return err


def test_unknown_board(old_image: Path, cache: Path) -> None:
    failing(["--board", "no-such-board"], {"NUWA_OUT": str(old_image), "NUWA_CACHE": str(cache)},
            "unknown board 'no-such-board'", "qemu-arm-virt")


def test_bad_board_field(tmp_path: Path, old_image: Path, cache: Path, top: Path,
                         guest_board: Board) -> None:
    bdir = tmp_path / "top" / "board" / guest_board.name
    bdir.mkdir(parents=True)
    text = (guest_board.path / "board.toml").read_text()
    (bdir / "board.toml").write_text(text.replace(f'arch = "{guest_board.arch}"', 'arch = 7'))
    env = {"NUWA_TOP": str(tmp_path / "top"), "NUWA_OUT": str(old_image),
           "NUWA_CACHE": str(cache)}
    failing(["--board", guest_board.name, "--offline"], env, "field 'arch'", "board.toml")
    assert_untouched(old_image, guest_board.name)


def test_no_cross_compiler(tmp_path: Path, old_image: Path, cache: Path,
                           guest_board: Board) -> None:
    bindir = tmp_path / "bin"  # everything on PATH but the cross compiler
    bindir.mkdir()
    for d in os.environ["PATH"].split(os.pathsep):
        for f in Path(d).glob("*") if Path(d).is_dir() else []:
            if (not f.name.startswith(guest_board.gnu.cross_prefix)
                    and not (bindir / f.name).exists()):
                (bindir / f.name).symlink_to(f)
    env = {"PATH": str(bindir), "NUWA_OUT": str(old_image), "NUWA_CACHE": str(cache)}
    failing(["--board", guest_board.name, "--offline"], env,
            "no cross compiler", f"{guest_board.gnu.cross_prefix}gcc",
            f"install the Debian package {guest_board.gnu.cross_gcc_package}")
    assert_untouched(old_image, guest_board.name)


def test_architecture_dpkg_does_not_know(tmp_path: Path, old_image: Path, cache: Path,
                                         guest_board: Board) -> None:
    bdir = tmp_path / "top" / "board" / guest_board.name
    bdir.mkdir(parents=True)
    text = (guest_board.path / "board.toml").read_text()
    assert f'arch = "{guest_board.arch}"' in text
    (bdir / "board.toml").write_text(
        text.replace(f'arch = "{guest_board.arch}"', 'arch = "pdp11"'))
    env = {"NUWA_TOP": str(tmp_path / "top"), "NUWA_OUT": str(old_image),
           "NUWA_CACHE": str(cache)}
    failing(["--board", guest_board.name, "--offline"], env, "board.toml: field 'arch'",
            "dpkg-architecture does not know the architecture 'pdp11'")
    assert_untouched(old_image, guest_board.name)


def test_offline_with_empty_cache(tmp_path: Path, old_image: Path, guest_board: Board) -> None:
    env = {"NUWA_OUT": str(old_image), "NUWA_CACHE": str(tmp_path / "empty")}
    failing(["--board", guest_board.name, "--offline"], env, "--offline", "build once")
    assert_untouched(old_image, guest_board.name)


def test_no_network_and_no_cache(tmp_path: Path, old_image: Path, guest_board: Board) -> None:
    # Nothing listens on port 9: every download fails at once.
    dead = "http://127.0.0.1:9"
    env = {"NUWA_OUT": str(old_image), "NUWA_CACHE": str(tmp_path / "empty"),
           "http_proxy": dead, "HTTP_PROXY": dead, "https_proxy": dead}
    failing(["--board", guest_board.name, "--mirror", f"{dead}/debian"], env,
            "no network and no cached package lists")
    assert_untouched(old_image, guest_board.name)


def test_truncated_cached_deb(old_image: Path, cache: Path, guest_board: Board) -> None:
    manifest = json.loads((paths.board_out(guest_board.name) / "manifest.json").read_text())
    bb = next(p for p in manifest["packages"] if p["name"] == "busybox-static")
    deb = cache / "debs" / guest_board.arch / (
        f"{bb['name']}_{bb['version'].replace(':', '%3a')}_{bb['arch']}.deb")
    data = deb.read_bytes()
    deb.unlink()  # a new file: the real cache's copy stays whole
    deb.write_bytes(data[: len(data) // 2])
    try:
        env = {"NUWA_OUT": str(old_image), "NUWA_CACHE": str(cache)}
        failing(["--board", guest_board.name, "--offline"], env,
                "busybox-static", "truncated or corrupt")
        assert_untouched(old_image, guest_board.name)
    finally:
        deb.unlink()
        deb.write_bytes(data)


def test_unknown_module(tmp_path: Path, old_image: Path, cache: Path,
                        guest_board: Board) -> None:
    bdir = tmp_path / "top" / "board" / guest_board.name
    bdir.mkdir(parents=True)
    text = (guest_board.path / "board.toml").read_text()
    (bdir / "board.toml").write_text(
        text.replace('modules = ["', 'modules = ["no_such_module", "', 1))
    env = {"NUWA_TOP": str(tmp_path / "top"), "NUWA_OUT": str(old_image),
           "NUWA_CACHE": str(cache)}
    failing(["--board", guest_board.name, "--offline"], env,
            "kernel module 'no_such_module' does not exist")
    assert_untouched(old_image, guest_board.name)


def sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def checkout_copy(dest: Path, top: Path) -> Path:
    """The tracked files of this checkout at another path (a second clone, uncommitted
    changes included so that the tree under test is the one built)."""
    files = subprocess.run(["git", "-C", str(top), "ls-files", "-z", "--cached", "--others",
                            "--exclude-standard"], check=True, capture_output=True).stdout
    for rel in filter(None, files.decode().split("\0")):
        src = top / rel
        if not src.is_file() or src.is_symlink() and not src.exists():
            continue
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest / rel, follow_symlinks=False)
    return dest


def test_builds_from_two_checkouts_with_two_umasks_are_identical(
        tmp_path: Path, cache: Path, top: Path, guest_board: Board) -> None:
    """Byte-identical whatever the checkout's path and the umask: no build path in any
    binary (-ffile-prefix-map), stripped binaries, modes fixed by the builder."""
    results = []
    where = [(tmp_path / "a" / "nuwa", 0o022),
             (tmp_path / "elsewhere" / "much-longer-path" / "src", 0o002)]
    for src, umask in where:
        checkout_copy(src, top)
        out = src / "out"
        p = subprocess.run(
            [sys.executable, "-m", "nuwa.cli", "image", "--board", guest_board.name,
             "--offline"], env={**os.environ, "NUWA_TOP": str(src), "NUWA_OUT": str(out),
                                "NUWA_CACHE": str(cache)},
            check=False, capture_output=True, text=True, timeout=900,
            preexec_fn=lambda u=umask: os.umask(u))  # type: ignore[misc]
        assert p.returncode == 0, p.stderr
        results.append(out / guest_board.name)
    a, b = results
    for name in ("initrd.img", "rootfs.img", "vmlinuz"):
        assert sha(a / name) == sha(b / name), name
    ma = json.loads((a / "manifest.json").read_text())
    assert ma == json.loads((b / "manifest.json").read_text())
    for name, art in ma["artifacts"].items():
        assert art["sha256"] == sha(a / name) and art["size"] == (a / name).stat().st_size
    names = {p["name"] for p in ma["packages"]}
    assert {"busybox-static", "dropbear-bin", "libc6"} <= names
    assert all(p["version"] for p in ma["packages"])
    assert ma["kernel"]["package"].startswith("linux-image-")
    assert sorted(x.name for x in a.iterdir() if not x.name.startswith(".")) == [
        "debug", "initrd.img", "manifest.json", "rootfs.img", "sysroot", "vmlinuz"]
    # the unstripped runtime is kept for gdb, and even it names neither checkout
    debug = sorted(p for p in (a / "debug").rglob("*") if p.is_file())
    assert any(p.name == "nuwad" for p in debug)
    for f in debug:
        data = f.read_bytes()
        assert data[:4] == b"\x7fELF"
        for src, _ in where:
            assert str(src).encode() not in data, f"{src} in {f}"
    nuwad = next(p for p in debug if p.name == "nuwad")
    assert b".debug_info" in nuwad.read_bytes()


def test_cli_without_image_says_how_to_build(tmp_path: Path, guest_board: Board) -> None:
    p = nuwa("exec", "--board", guest_board.name, "--", "true",
             env={"NUWA_OUT": str(tmp_path / "none")})
    assert p.returncode == 1
    assert "no image in" in p.stderr and "make image" in p.stderr

