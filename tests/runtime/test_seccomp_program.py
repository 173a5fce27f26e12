"""The sandbox's seccomp program against its allowlist (runtime/lib/sandbox_syscalls.list,
numbered per target at build time by sandbox_syscalls.sh, compiled by sandbox_bpf.c).

runtime/testapps/seccomp_check.c builds both programs (without and with TCP)
the way the template does, runs them in a user-space BPF interpreter for every
system-call number from 0 to past the highest listed one (plus the x32,
negative and top-of-range numbers and foreign architectures), with argument
values on both sides of every argument check, and compares each decision with
the one read off the rule list. The kernel side (the program installs and
really stops calls) is tested by test_containment.py and test_sandbox_native.py.
The generated table is checked against the list and the compiler's own
system-call macros, and the generator against malformed lists."""

from __future__ import annotations

import os
import re
import subprocess
from functools import cache
from pathlib import Path

import pytest
from nuwad_harness import BUILDS, SANITIZER_ENV

RUNTIME = Path(__file__).resolve().parents[2] / "runtime"
LIST = RUNTIME / "lib" / "sandbox_syscalls.list"
GENERATOR = RUNTIME / "lib" / "sandbox_syscalls.sh"
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


def listed() -> list[tuple[str, str, str | None]]:
    """(name, action, fallback number or None) of each line of the list."""
    rows = []
    for line in LIST.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        words = line.split()
        rows.append((words[0], words[1], words[2] if len(words) > 2 else None))
    return rows


def compiler_macros(build: str) -> dict[str, str]:
    """__NR_ and __ARM_NR_ macros of <sys/syscall.h> as the build's compiler sees it."""
    if build == "musl":
        cmd = ["musl-gcc", "-isystem", str(BUILDS[build] / "kernel-headers")]
    else:
        cmd = ["gcc"]
    out = subprocess.run([*cmd, "-D_GNU_SOURCE", "-dM", "-E", "-x", "c", "-"],
                         input="#include <sys/syscall.h>\n", check=True, capture_output=True,
                         text=True).stdout
    macros = {}
    for line in out.splitlines():
        m = re.match(r"#define (__(?:NR|ARM_NR)_\w+) (.*)", line)
        if m:
            macros[m.group(1)] = m.group(2).strip()
    return macros


@pytest.mark.parametrize("build", sorted(BUILDS))
def test_generated_table_is_the_list_on_this_target(build: str) -> None:
    """Every listed call the target's headers define (or with a fallback) is in
    the table, in the list's order, with its action and number; no other."""
    header = BUILDS[build] / "gen" / "sandbox_syscalls.h"
    if not header.exists():
        pytest.skip(f"runtime build '{build}' missing")
    macros = compiler_macros(build)
    want = []
    for name, action, fallback in listed():
        macro = name if name.startswith("__") else "__NR_" + name
        value = macros.get(macro, fallback)
        if value is not None:
            want.append((name, action.upper(), value))
    got = re.findall(r"^NUWA_SB_RULE\((.*), (\w+), (\w+)\)$", header.read_text(), re.MULTILINE)
    assert [(n, a) for _, a, n in got] == [(n, a) for n, a, _ in want]
    for (nr, _, name), (_, _, value) in zip(got, want):
        if re.fullmatch(r"\d+", value):
            assert nr == value, name
    assert f"#define NUWA_SB_NRULES {len(want)}" in header.read_text()
    _, info, _ = run_check(build)
    assert f"rules={len(want)} " in info + " ", info


@pytest.mark.parametrize("bad", ["read allow\nread eperm\n", "read permit\n",
                                 "read allow 12 extra\n", "read allow x\n"])
def test_generator_refuses_a_malformed_list(tmp_path: Path, bad: str) -> None:
    bad_list = tmp_path / "bad.list"
    bad_list.write_text("# comment\n" + bad)
    res = subprocess.run(["sh", str(GENERATOR), str(bad_list), str(tmp_path / "out.h"), "gcc"],
                         capture_output=True, text=True, check=False)
    assert res.returncode != 0
    assert "bad.list:" in res.stderr
    assert not (tmp_path / "out.h").exists()


@pytest.mark.parametrize("build", sorted(BUILDS))
def test_dump_prints_both_programs(build: str) -> None:
    binary = BUILDS[build] / "nuwa-seccomp-check"
    if not binary.exists():
        pytest.skip(f"runtime build '{build}' missing")
    out = subprocess.run([str(binary), "--dump"], check=True, capture_output=True, text=True,
                         env={**os.environ, **SANITIZER_ENV}).stdout
    heads = re.findall(r"^program tcp=(\d) insns=(\d+) self_checks=(\d+)$", out, re.MULTILINE)
    assert [h[0] for h in heads] == ["0", "1"]
    _, info, _ = run_check(build)
    fields = dict(f.split("=", 1) for f in info.split())
    assert [h[1] for h in heads] == [fields["insns"], fields["insns_tcp"]]
    insns = re.findall(r"^[0-9a-f]{4} [0-9a-f]{2} [0-9a-f]{2} [0-9a-f]{8}$", out, re.MULTILINE)
    assert len(insns) == int(fields["insns"]) + int(fields["insns_tcp"])
