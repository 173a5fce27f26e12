"""`nuwa.target.snapshot.fetch` against a real native nuwad: the host side of
`nuwa snapshot` (request, copy, verify, atomic rename) with a Target that runs
commands on this machine, the way the guest's console or SSH runs them there."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from nuwa.errors import NuwaError
from nuwa.target import Result, Target
from nuwa.target.snapshot import MAGIC, fetch, verify
from nuwad_harness import Nuwad


class LocalTarget(Target):
    """This machine as a target, with nuwactl of BUILD talking to one nuwad."""

    def __init__(self, build: Path, sock: Path) -> None:
        self.env = {**os.environ, "PATH": f"{build}:{os.environ['PATH']}", "NUWA_SOCKET": str(sock)}

    def run(self, cmd: str, timeout: float = 60) -> Result:
        r = subprocess.run(["/bin/sh", "-c", cmd], check=False, capture_output=True, text=True,
                           timeout=timeout, env=self.env)
        return Result(cmd, r.stdout, r.returncode, r.stderr)

    def put(self, local: str | Path, remote: str) -> None:
        shutil.copyfile(local, remote)

    def get(self, remote: str, local: str | Path) -> None:
        shutil.copyfile(remote, local)


@pytest.fixture
def nuwad(start_nuwad: Callable[..., Nuwad]) -> Nuwad:
    d = start_nuwad()
    d.wait_ready()
    return d


@pytest.mark.parametrize("app", ["echo", "echo-exec"])
def test_fetch_round_trips_a_snapshot(nuwad: Nuwad, build: Path, tmp_path: Path, app: str) -> None:
    pid = nuwad.call("launch", app)["pid"]
    out = tmp_path / "out" / "snap.txt"
    snap = fetch(LocalTarget(build, nuwad.sock), app, out)
    assert snap.pid == pid and snap.app == app
    assert snap.mode == ("exec" if app == "echo-exec" else "template")
    data = out.read_bytes()
    assert data == Path(snap.remote_path).read_bytes()
    assert len(data) == snap.bytes and data.startswith(MAGIC)
    assert [p.name for p in out.parent.iterdir()] == ["snap.txt"]


def test_failed_fetch_keeps_the_old_file(nuwad: Nuwad, build: Path, tmp_path: Path) -> None:
    out = tmp_path / "kept" / "snap.txt"
    out.parent.mkdir()
    out.write_text("previous good snapshot\n")
    with pytest.raises(NuwaError, match="no running app"):
        fetch(LocalTarget(build, nuwad.sock), "echo", out)
    assert out.read_text() == "previous good snapshot\n"
    assert [p.name for p in out.parent.iterdir()] == ["snap.txt"]


def test_verify_rejects_cut_and_foreign_files() -> None:
    body = MAGIC + b"app: x\n== smaps\n"
    good = body + b"== end bytes=%d\n" % len(body)
    verify(good, len(good))
    with pytest.raises(NuwaError, match="bytes"):
        verify(good[:-3], len(good))
    with pytest.raises(NuwaError, match="cut short"):
        verify(body, len(body))
    with pytest.raises(NuwaError, match="header"):
        verify(b"x" * 10, 10)
