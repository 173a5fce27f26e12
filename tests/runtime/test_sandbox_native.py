"""The app sandbox (runtime/lib/sandbox.c), natively: nuwa-sandbox-probe
applies it to itself and tries what a hostile app would; every attempt must
fail with the errno the sandbox is meant to give."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from nuwad_harness import BUILDS, SANITIZER_ENV


@pytest.fixture(params=sorted(BUILDS))
def probe(request: pytest.FixtureRequest) -> Path:
    path = BUILDS[request.param] / "nuwa-sandbox-probe"
    if not path.exists():
        pytest.skip(f"{path} missing (make -C runtime; make -C runtime sanitize)")
    return path


@pytest.fixture
def tmp_path() -> Iterator[Path]:
    """A world-searchable work dir (pytest's own is 0700 under root), so a
    denial after the uid change comes from the sandbox, not from DAC."""
    path = Path(tempfile.mkdtemp(prefix="nuwa-sandbox-", dir="/tmp"))
    path.chmod(0o777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def victim() -> Iterator[int]:
    """Another process the sandboxed one must not reach."""
    proc = subprocess.Popen(["sleep", "60"])
    yield proc.pid
    proc.kill()
    proc.wait()


def probe_env() -> dict[str, str]:
    """LeakSanitizer's exit check needs ptrace, which the sandbox denies (by
    design); memory errors and UB still abort."""
    env = {**os.environ, **SANITIZER_ENV}
    env["ASAN_OPTIONS"] = env["ASAN_OPTIONS"].replace("detect_leaks=1", "detect_leaks=0")
    return env


def run_probe(probe: Path, tmp_path: Path, *extra: str) -> dict[str, str]:
    ro = tmp_path / "ro"
    ro.mkdir(exist_ok=True)
    (ro / "readable").write_text("r\n")
    (tmp_path / "writable").write_text("w\n")
    (tmp_path / "outside").write_text("o\n")
    for p in (tmp_path, ro, ro / "readable", tmp_path / "writable", tmp_path / "outside"):
        p.chmod(0o777 if p.is_dir() else 0o666)
    if os.geteuid() == 0 and "--uid" not in extra:
        extra = ("--uid", "65534", "--gid", "65534", *extra)  # no app runs as root
    cmd = [str(probe), "--read", str(ro), "--tmp", str(tmp_path),
           "--readable", str(ro / "readable"), "--unreadable", str(tmp_path / "outside"),
           "--writable", str(tmp_path / "writable"), *extra]
    res = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=60,
                         env=probe_env())
    assert "ERROR: AddressSanitizer" not in res.stderr and "runtime error:" not in res.stderr, res.stderr
    out = dict(line.split("=", 1) for line in res.stdout.splitlines() if "=" in line)
    assert res.returncode == 0, f"probe failed ({res.returncode}): {res.stdout}\n{res.stderr}"
    return out


def test_sandboxed_process_cannot_write_signal_or_trace(probe: Path, tmp_path: Path, victim: int) -> None:
    uid = ["--uid", "65534", "--gid", "65534"] if os.geteuid() == 0 else []
    r = run_probe(probe, tmp_path, "--victim", str(victim), *uid)
    assert r["sandbox"] == "ok"
    assert r["status_NoNewPrivs"] == "1"
    assert r["status_Seccomp"] == "2"
    if uid:
        assert r["status_Uid"] == "65534"
    # seccomp and signals: independent of Landlock
    for key in ("victim_ptrace", "victim_vm_readv", "mount", "unshare_user",
                "victim_kill", "parent_kill", "group_kill"):
        assert r[key] == "EPERM", (key, r)
    assert r["self_kill"] == "ok"
    if uid or r["landlock_abi"] != "0":  # another uid, or another Landlock domain
        assert r["victim_mem"] in ("EACCES", "EPERM")
    if r["landlock_abi"] == "0":
        pytest.skip("kernel without Landlock: file rules not testable here")
    # Landlock: read only beneath the configured paths, write nowhere
    assert r["create_tmp"] == "EACCES"
    assert r["thread_create_tmp"] == "EACCES", "a thread started before the sandbox escaped it"
    assert r["write_existing"] == "EACCES"
    assert r["read_outside"] == "EACCES"
    assert r["read_allowed"] == "ok"
    assert r["read_own_smaps"] == "ok"
    assert r["exec"] in ("EACCES", "EPERM")  # Landlock, and seccomp refuses execve
    assert not list(tmp_path.glob("probe-*"))


def test_limits_apply(probe: Path, tmp_path: Path) -> None:
    big = tmp_path / "granted"
    r = run_probe(probe, tmp_path, "--nofile", "32", "--fsize", "65536", "--fsize-file", str(big))
    assert r["nofile"] == "EMFILE"
    assert int(r["nofile_opened"]) < 32
    assert r["fsize"] == "EFBIG"
    assert big.stat().st_size == 65536
    if r["landlock_abi"] != "0":
        assert r["reopen_granted"] == "EACCES"


def test_missing_read_path_is_skipped_not_fatal(probe: Path, tmp_path: Path) -> None:
    r = run_probe(probe, tmp_path, "--read", str(tmp_path / "does-not-exist"))
    assert r["sandbox"] == "ok"
    if r["landlock_abi"] != "0":
        assert "absent" in r["describe"]


def test_thread_that_cannot_be_confined_fails_the_sandbox(probe: Path, tmp_path: Path) -> None:
    ids = ["--uid", "65534", "--gid", "65534"] if os.geteuid() == 0 else []
    res = subprocess.run([str(probe), "--blocker", "--threads", "2", *ids], check=False,
                         capture_output=True, text=True, timeout=60, env=probe_env())
    if "landlock_abi=0" in res.stdout:
        pytest.skip("kernel without Landlock")
    assert res.returncode == 3, res.stdout + res.stderr
    assert "sandbox=failed" in res.stdout and "SIGRTMAX-1 blocked" in res.stdout, res.stdout


def test_sandbox_is_cheap_enough_to_run_per_launch(probe: Path, tmp_path: Path) -> None:
    """Not a benchmark: only guards against the sandbox hanging (e.g. a thread
    that never answers the Landlock signal)."""
    t0 = time.monotonic()
    run_probe(probe, tmp_path)
    assert time.monotonic() - t0 < 30


def _probe_raw(probe: Path, *args: str) -> tuple[int, dict[str, str]]:
    res = subprocess.run([str(probe), *args], check=False, capture_output=True, text=True,
                         timeout=60, env=probe_env())
    return res.returncode, dict(line.split("=", 1) for line in res.stdout.splitlines() if "=" in line)


@pytest.mark.skipif(os.geteuid() != 0, reason="the identity switch needs root (CI runs as root)")
def test_root_without_a_uid_is_refused(probe: Path) -> None:
    """No app runs as root: a sandbox without a uid fails instead of
    silently keeping uid 0 and every capability."""
    rc, r = _probe_raw(probe, "--threads", "1")
    assert rc == 3 and r["sandbox"] == "failed", r
    assert "refusing to run it as root" in r["sandbox_error"]


@pytest.mark.skipif(os.geteuid() != 0, reason="the identity switch needs root (CI runs as root)")
def test_identity_drops_every_capability_and_sets_groups(probe: Path) -> None:
    rc, r = _probe_raw(probe, "--uid", "65534", "--gid", "65533", "--group", "65532",
                       "--threads", "3", "--keep-bounding")  # dropped by every thread
    assert rc == 0 and r["sandbox"] == "ok", r
    assert r["status_Uid"] == "65534" and r["status_Gid"] == "65533", r
    assert r["status_Groups"] == "65532", r
    for key in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(r[f"status_{key}"], 16) == 0, (key, r)
