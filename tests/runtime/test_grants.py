"""Unit tests of nuwad's snapshot grant bookkeeping (runtime/nuwad/grants.c).

The cases live in runtime/testapps/grants_test.c (a small C binary linked with
grants.o, plain and ASan+UBSan builds); each prints "ok NAME" or "FAIL NAME:
why". This file runs the binary and turns every case into a test result."""

from __future__ import annotations

import os
import subprocess
from functools import cache
from pathlib import Path

import pytest
from nuwad_harness import BUILDS, SANITIZER_ENV

CASES = ["good", "sealed", "one_per_app", "garbage_answer", "empty_answer", "huge_number", "wrong_count",
         "past_limit", "garbage_file", "no_header_right_count", "timeout", "quota_evicts_oldest",
         "quota_pending_refused", "kept_fd", "restart", "bad_conf", "bad_names"]


@cache
def run_cases(build: str, workdir: str) -> tuple[dict[str, str], str]:
    binary = BUILDS[build] / "nuwa-grants-test"
    res = subprocess.run([str(binary), workdir], check=False, capture_output=True, text=True,
                         timeout=120, env={**os.environ, **SANITIZER_ENV})
    results: dict[str, str] = {}
    for line in res.stdout.splitlines():
        status, _, rest = line.partition(" ")
        name, _, why = rest.partition(":")
        results[name] = "ok" if status == "ok" else why.strip() or "failed"
    return results, res.stderr


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("grants")


@pytest.mark.parametrize("build", sorted(BUILDS))
@pytest.mark.parametrize("case", CASES)
def test_grant_bookkeeping(build: str, case: str, workdir: Path) -> None:
    if not (BUILDS[build] / "nuwa-grants-test").exists():
        pytest.skip(f"runtime build '{build}' missing (make -C runtime; make -C runtime sanitize)")
    d = workdir / build
    d.mkdir(exist_ok=True)
    results, stderr = run_cases(build, str(d))
    assert "ERROR: AddressSanitizer" not in stderr and "runtime error:" not in stderr, stderr
    assert case in results, f"case {case} did not run:\n{stderr[-3000:]}"
    assert results[case] == "ok", results[case]
