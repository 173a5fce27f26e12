"""Snapshots of the realistic framework's sample apps, natively: the
framework's heap statistics and allocation walk (runtime/framework/
fw_snapshot.c) are in the file, in both modes, with the apps sandboxed under
their configured uids."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fw_harness import MODES, fw_daemon
from nuwad_harness import FRAMEWORK_BUILDS, Nuwad


@pytest.fixture(scope="module", params=sorted(FRAMEWORK_BUILDS))
def daemon(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nuwad]:
    with fw_daemon(request.param, tmp_path_factory.mktemp(f"fw-snap-{request.param}")) as d:
        yield d


@pytest.mark.parametrize("mode", MODES)
def test_sample_app_snapshot_has_framework_sections(daemon: Nuwad, mode: str) -> None:
    pid = daemon.call("launch", "messages", "--mode", mode)["pid"]
    try:
        info = daemon.json("snapshot", str(pid))
        assert isinstance(info, dict) and info["mode"] == mode
        data = Path(str(info["path"])).read_text(errors="replace")
        assert len(data.encode(errors="replace")) == info["bytes"]
        stats = data.split("== heap-stats\n", 1)[1].split("== allocations\n", 1)[0]
        walk = data.split("== allocations\n", 1)[1]
        assert "fw.sqlite.memory_used: " in stats and "libc.in_use_bytes: " in stats
        assert "fw.stmt bytes=" in walk and "fw.string " in walk
        assert "<malloc version=" in walk  # the C library's report follows
        status = Path(f"/proc/{pid}/status").read_text()
        assert "NoNewPrivs:\t1" in status and "Seccomp:\t2" in status
    finally:
        daemon.call("kill", str(pid))
