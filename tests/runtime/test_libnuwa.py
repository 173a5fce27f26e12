"""libnuwa's API driven directly by a small C program (runtime/testapps/libnuwa_check.c):
worker stop and restart, skip by pthread_t, hooks and their order, private
fds, per-child socketpairs, epoll rebuild, refusals (fork before freeze,
second freeze, new workers while frozen)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from nuwad_harness import LEAK_CHECK_ENV


def test_libnuwa_api(build: Path) -> None:
    res = subprocess.run([str(build / "nuwa-libcheck")], check=False, capture_output=True,
                         text=True, timeout=60, env=LEAK_CHECK_ENV)
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.strip().endswith("all ok")
    assert "FAIL" not in res.stdout


RUNTIME_FILES = ["nuwad", "nuwactl", "nuwa-template", "nuwa-exec-host", "nuwa-bench-native",
                 "libnuwa.so", "libnuwa-minifw.so", "app-echo.so"]


def test_no_private_libc_symbols(build: Path) -> None:
    """No GLIBC_PRIVATE (or other private) symbol versions are imported."""
    for name in RUNTIME_FILES:
        out = subprocess.run(["objdump", "-T", str(build / name)], check=True,
                             capture_output=True, text=True, timeout=60).stdout
        assert out.strip(), name
        private = [line for line in out.splitlines() if "PRIVATE" in line]
        assert not private, f"{name}: {private}"
