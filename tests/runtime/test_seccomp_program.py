"""The sandbox's seccomp program against its allowlist (runtime/lib/sandbox.c).

runtime/testapps/seccomp_check.c builds both programs (without and with TCP)
the way the template does, runs them in a user-space BPF interpreter for every
system-call number from 0 to past the highest listed one (plus the x32,
negative and top-of-range numbers and foreign architectures), with argument
values on both sides of every argument check, and compares each decision with
the one read off the rule list. The kernel side (the program installs and
really stops calls) is tested by test_containment.py and test_sandbox_native.py."""

from __future__ import annotations

import os
import subprocess
from functools import cache

import pytest
from nuwad_harness import BUILDS, SANITIZER_ENV

CASES = ["list", "decisions", "copied_for_child", "foreign_arch",
         "decisions_tcp", "copied_for_child_tcp", "foreign_arch_tcp"]


@cache
def run_check(build: str) -> tuple[dict[str, str], str, str]:
    binary = BUILDS[build] / "nuwa-seccomp-check"
    res = subprocess.run([str(binary)], check=False, capture_output=True, text=True, timeout=300,
                         env={**os.environ, **SANITIZER_ENV})
    results: dict[str, str] = {}
    info = ""
    for line in res.stdout.splitlines():
        status, _, rest = line.partition(" ")
        name, _, why = rest.partition(":")
        if status == "info":
            info = rest
        else:
            results[name] = "ok" if status == "ok" else why.strip() or "failed"
    return results, info, res.stderr


@pytest.mark.parametrize("build", sorted(BUILDS))
@pytest.mark.parametrize("case", CASES)
def test_program_decides_as_the_list(build: str, case: str) -> None:
    if not (BUILDS[build] / "nuwa-seccomp-check").exists():
        pytest.skip(f"runtime build '{build}' missing (make -C runtime; make -C runtime sanitize)")
    results, _, stderr = run_check(build)
    assert "ERROR: AddressSanitizer" not in stderr and "runtime error:" not in stderr, stderr
    assert case in results, f"case {case} did not run:\n{stderr[-3000:]}"
    assert results[case] == "ok", results[case]


@pytest.mark.parametrize("build", sorted(BUILDS))
def test_program_is_a_search_not_a_list(build: str) -> None:
    """Ranges and a binary search: far fewer instructions than two per rule,
    and a listed call runs a few dozen at most (a linear list would run
    hundreds for the highest numbers)."""
    if not (BUILDS[build] / "nuwa-seccomp-check").exists():
        pytest.skip(f"runtime build '{build}' missing")
    _, info, stderr = run_check(build)
    fields = dict(f.split("=", 1) for f in info.split())
    assert fields, stderr[-2000:]
    rules, insns = int(fields["rules"]), int(fields["insns_tcp"])
    assert insns < 2 * rules, info
    assert int(fields["max_steps_tcp"]) <= 40, info
