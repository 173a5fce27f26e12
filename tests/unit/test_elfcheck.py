"""The ELF check on small ELF files built here with each board's cross compiler."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from nuwa import board as boards
from nuwa.board import Board
from nuwa.errors import NuwaError
from nuwa.image.elfcheck import check_or_fail, check_tree

# Only the interpreter's presence is checked, so any path names it.
INTERP = "/lib/ld-nuwa-test.so.1"


@pytest.fixture(scope="module", params=boards.available())
def board(request: pytest.FixtureRequest) -> Board:
    return boards.load(request.param)


@pytest.fixture(scope="module")
def machine(board: Board) -> str:
    return board.elf_machine


@pytest.fixture(scope="module")
def built(board: Board, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """libfoo.so.1, libbar.so (a stub), `prog` needing libfoo, `needs_bar` needing libbar,
    `with_origin` finding libfoo through RUNPATH $ORIGIN/../private."""
    gcc = board.gnu.cross_prefix + "gcc"

    def cc(*args: str | Path) -> None:
        if shutil.which(gcc) is None:
            pytest.fail(f"{gcc} is missing (make deps installs it)")
        p = subprocess.run([gcc, *map(str, args)], check=False, capture_output=True, text=True)
        assert p.returncode == 0, p.stderr

    d = tmp_path_factory.mktemp("elf")
    (d / "foo.c").write_text("int foo(void) { return 42; }\n")
    (d / "bar.c").write_text("int bar(void) { return 7; }\n")
    (d / "prog.c").write_text("int foo(void);\nvoid _start(void) { foo(); for (;;); }\n")
    (d / "needs_bar.c").write_text("int bar(void);\nvoid _start(void) { bar(); for (;;); }\n")
    common = ["-nostdlib", "-fPIC"]
    cc(*common, "-shared", "-Wl,-soname,libfoo.so.1", "-o", d / "libfoo.so.1", d / "foo.c")
    cc(*common, "-shared", "-Wl,-soname,libbar.so", "-o", d / "libbar.so", d / "bar.c")
    (d / "libfoo.so").symlink_to("libfoo.so.1")
    link = [*common, f"-Wl,--dynamic-linker={INTERP}", "-L", d]
    cc(*link, "-o", d / "prog", d / "prog.c", "-lfoo")
    cc(*link, "-o", d / "needs_bar", d / "needs_bar.c", "-lbar")
    cc(*link, "-Wl,--enable-new-dtags,-rpath,$ORIGIN/../private", "-o", d / "with_origin",
       d / "prog.c", "-lfoo")
    return d


def image(tmp_path: Path, built: Path, files: dict[str, str]) -> Path:
    """A merged-/usr tree holding `files` (image path -> file name in `built`)."""
    root = tmp_path / "root"
    for d in ("bin", "lib", "sbin"):
        (root / "usr" / d).mkdir(parents=True, exist_ok=True)
        (root / d).symlink_to(f"usr/{d}")
    # Any ELF stands in for the dynamic loader: only its presence is checked.
    files = {f"/usr{INTERP}": "libbar.so", **files}
    for dest, name in files.items():
        target = root / dest.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(built / name, target)
    return root


def test_complete_tree_passes(tmp_path: Path, built: Path, machine: str) -> None:
    root = image(tmp_path, built, {"/usr/bin/prog": "prog", "/usr/lib/libfoo.so.1": "libfoo.so.1"})
    assert check_tree(root, machine) == []
    check_or_fail(root, machine)


def test_missing_needed_library_is_named(tmp_path: Path, built: Path, machine: str) -> None:
    root = image(tmp_path, built, {"/usr/bin/needs_bar": "needs_bar",
                                   "/usr/bin/prog": "prog",
                                   "/usr/lib/libfoo.so.1": "libfoo.so.1"})
    problems = [str(p) for p in check_tree(root, machine)]
    assert problems == ["/usr/bin/needs_bar: needs libbar.so, which is not in the image"]
    with pytest.raises(NuwaError, match=r"/usr/bin/needs_bar: needs libbar\.so"):
        check_or_fail(root, machine)


def test_library_found_through_symlink_and_ld_so_conf(tmp_path: Path, built: Path,
                                                      board: Board) -> None:
    machine, multiarch = board.elf_machine, board.gnu.multiarch
    root = image(tmp_path, built, {"/usr/bin/prog": "prog",
                                   f"/usr/lib/{multiarch}/libfoo.so.1.0": "libfoo.so.1"})
    (root / f"usr/lib/{multiarch}/libfoo.so.1").symlink_to("libfoo.so.1.0")
    assert [str(p) for p in check_tree(root, machine)] == [
        "/usr/bin/prog: needs libfoo.so.1, which is not in the image"]
    (root / "etc/ld.so.conf.d").mkdir(parents=True)
    (root / "etc/ld.so.conf.d/multiarch.conf").write_text(f"# multiarch\n/lib/{multiarch}\n")
    assert check_tree(root, machine) == []


def test_dangling_symlink_does_not_count(tmp_path: Path, built: Path, machine: str) -> None:
    root = image(tmp_path, built, {"/usr/bin/prog": "prog"})
    (root / "usr/lib/libfoo.so.1").symlink_to("libfoo.so.1.0")  # points nowhere
    assert len(check_tree(root, machine)) == 1


def test_runpath_origin(tmp_path: Path, built: Path, machine: str) -> None:
    root = image(tmp_path, built, {"/usr/bin/with_origin": "with_origin",
                                   "/usr/private/libfoo.so.1": "libfoo.so.1"})
    assert check_tree(root, machine) == []


def test_missing_interpreter(tmp_path: Path, built: Path, machine: str) -> None:
    root = image(tmp_path, built, {"/usr/bin/prog": "prog", "/usr/lib/libfoo.so.1": "libfoo.so.1"})
    (root / "usr" / INTERP.lstrip("/")).unlink()
    assert [str(p) for p in check_tree(root, machine)] == [
        f"/usr/bin/prog: program interpreter {INTERP} is not in the image"]


def test_wrong_machine(tmp_path: Path, built: Path, machine: str) -> None:
    root = image(tmp_path, built, {"/usr/bin/prog": "prog", "/usr/lib/libfoo.so.1": "libfoo.so.1"})
    problems = [str(p) for p in check_tree(root, "EM_X86_64")]
    assert f"/usr/bin/prog: machine is {machine}, the board needs EM_X86_64" in problems


def test_non_elf_and_truncated_elf(tmp_path: Path, built: Path, machine: str) -> None:
    root = image(tmp_path, built, {})
    (root / "usr/bin/script").write_text("#!/bin/sh\n")
    (root / "usr/bin/broken").write_bytes((built / "prog").read_bytes()[:40])
    problems = [str(p) for p in check_tree(root, machine)]
    assert len(problems) == 1 and problems[0].startswith("/usr/bin/broken: unreadable ELF")
