"""runtime/Makefile as a package build uses it: CFLAGS/LDFLAGS from the caller keep the
runtime's own flags, WERROR=0, and the test programs only with install-tests."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

RUNTIME = Path(__file__).resolve().parents[2] / "runtime"
HOST_BUILD = RUNTIME / "build" / "host"
TEST_PROGRAMS = ("usr/libexec/nuwa/nuwa-sandbox-probe", "usr/libexec/nuwa/nuwa-bench-native",
                 "usr/lib/nuwa/app-hostile.so", "usr/lib/nuwa/app-echo.so",
                 "usr/lib/nuwa/libnuwa-minifw.so")
PRODUCT = ("usr/bin/nuwad", "usr/bin/nuwactl", "usr/libexec/nuwa/nuwa-template",
           "usr/libexec/nuwa/nuwa-exec-host", "usr/lib/nuwa/libnuwa.so")


def dry_run(tmp_path: Path, target: str, *args: str, env: dict[str, str] | None = None) -> str:
    """The command make would run to build `target` (below BUILD=tmp_path) from scratch."""
    e = {k: v for k, v in os.environ.items() if k not in ("CFLAGS", "LDFLAGS", "MAKEFLAGS")}
    e.update(env or {})
    p = subprocess.run(["make", "-n", "-C", str(RUNTIME), f"BUILD={tmp_path}", *args,
                        str(tmp_path / target)], check=False, capture_output=True, text=True, env=e)
    assert p.returncode == 0, p.stderr
    lines = [ln for ln in p.stdout.splitlines() if ln.split(" ", 1)[0] in ("gcc", "musl-gcc")]
    assert lines, p.stdout
    return lines[-1]


OWN = ("-std=gnu11", "-Wall", "-Wextra", "-D_GNU_SOURCE", f"-I{RUNTIME}/include")


@pytest.mark.parametrize("where", ["command line", "environment"])
def test_caller_cflags_arrive_and_own_flags_survive(tmp_path: Path, where: str) -> None:
    flags = "-O1 -DNUWA_CALLER_FLAG"
    if where == "command line":
        cmd = dry_run(tmp_path, "obj/lib/fds.o", f"CFLAGS={flags}").split()
    else:
        cmd = dry_run(tmp_path, "obj/lib/fds.o", env={"CFLAGS": flags}).split()
    for flag in (*OWN, "-Werror", "-O1", "-DNUWA_CALLER_FLAG"):
        assert flag in cmd, f"{flag} missing: {cmd}"


def test_werror_0_keeps_warnings_but_not_errors(tmp_path: Path) -> None:
    cmd = dry_run(tmp_path, "obj/lib/fds.o", "WERROR=0").split()
    assert "-Werror" not in cmd
    assert "-Wall" in cmd and "-Wextra" in cmd


@pytest.mark.parametrize("where", ["command line", "environment"])
def test_caller_ldflags_arrive(tmp_path: Path, where: str) -> None:
    flag = "-Wl,-z,now"
    if where == "command line":
        cmd = dry_run(tmp_path, "nuwactl", f"LDFLAGS={flag}").split()
    else:
        cmd = dry_run(tmp_path, "nuwactl", env={"LDFLAGS": flag}).split()
    assert flag in cmd


def install(dest: Path, target: str) -> None:
    p = subprocess.run(["make", "-s", "-C", str(RUNTIME), f"DESTDIR={dest}", target],
                       check=False, capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr


def test_install_leaves_out_test_programs_and_install_tests_adds_them(tmp_path: Path) -> None:
    if not (HOST_BUILD / "nuwad").exists():
        pytest.skip("native runtime build missing (make -C runtime)")
    product, tests = tmp_path / "product", tmp_path / "tests"
    install(product, "install")
    install(tests, "install-tests")
    for rel in PRODUCT:
        assert (product / rel).is_file(), rel
        assert (tests / rel).is_file(), rel
    for rel in TEST_PROGRAMS:
        assert not (product / rel).exists(), f"install put the test program {rel} in"
        assert (tests / rel).is_file(), f"install-tests did not install {rel}"


def test_additions_after_the_callers_flags_survive(tmp_path: Path) -> None:
    """The musl build adds its kernel-header directory after CFLAGS is fixed (override)."""
    cmd = dry_run(tmp_path, "obj/lib/fds.o", "CC=musl-gcc", "CFLAGS=-O1").split()
    assert "-isystem" in cmd and "-O1" in cmd and "-std=gnu11" in cmd
