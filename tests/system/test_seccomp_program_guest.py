"""The sandbox's seccomp program against its allowlist, built for the guest's
architecture (its own system-call numbers and #ifdefs): nuwa-seccomp-check
(runtime/testapps/seccomp_check.c, tests/runtime/test_seccomp_program.py)
interprets both programs for every number and compares each decision with the
rule list's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

if not (Path(__file__).parent / "conftest.py").exists():
    pytest.skip("no guest fixture (tests/system/conftest.py) yet", allow_module_level=True)


def test_guest_program_decides_as_the_list(guest: Any) -> None:
    r = guest.run("/usr/libexec/nuwa/nuwa-seccomp-check", timeout=300)
    lines = r.stdout.splitlines()
    assert r.ok, r.stdout
    assert not [line for line in lines if line.startswith("FAIL")], r.stdout
    oks = [line for line in lines if line.startswith("ok ")]
    assert len(oks) == 7, r.stdout
    info = dict(f.split("=", 1) for line in lines if line.startswith("info ") for f in line.split()[1:])
    assert int(info["insns_tcp"]) < 2 * int(info["rules"]), info
