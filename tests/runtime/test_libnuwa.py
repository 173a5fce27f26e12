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


def run_check(build: Path, *args: str, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(build / "nuwa-libcheck"), *args], check=False, capture_output=True,
                          text=True, timeout=timeout, env=LEAK_CHECK_ENV)


def test_plain_fork_against_a_thread_closing_fds_never_hangs_the_child(build: Path) -> None:
    """close() takes no lock a fork child could find held (3000 plain fork()s)."""
    res = run_check(build, "fork-close", "3000", timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "ok 3000 forks" in res.stdout


def test_close_from_a_signal_handler_under_heavy_close_traffic(build: Path) -> None:
    """Handlers interrupting close() call close(): no deadlock (alarm(20) would kill it)."""
    res = run_check(build, "signal-close", "200000")
    assert res.returncode == 0, f"rc {res.returncode}: " + res.stdout + res.stderr
    assert "handlers closed meanwhile" in res.stdout


def test_fd_identity_dup2_over_epoll_reused_number_dup_and_readonly_reopen(build: Path) -> None:
    """dup2 over a tracked epoll fd, a registered fd closed and its number reused, an
    F_DUPFD of an epoll fd, close_range over an epoll fd, a raw close of a private fd
    with its number reused, and an allowed read-only file (reopened: offsets not shared)."""
    res = run_check(build, "fd-identity")
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.strip().endswith("all ok")


def test_on_demand_worker_starts_at_first_demand_in_template_and_child(build: Path) -> None:
    """NUWA_WORKER_ON_DEMAND: no thread before the first demand, none recreated by the
    fork (the child starts it at its first demand, state kept), refused while frozen,
    kept for nuwa_child_start_threads() when demanded before it."""
    res = run_check(build, "on-demand")
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.strip().endswith("all ok")


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
