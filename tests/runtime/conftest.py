"""Fixtures for the native runtime tests: one private nuwad per test, on
every available build (plain, ASan+UBSan and musl)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from nuwad_harness import BUILDS, LEAK_CHECK_ENV, Nuwad, write_config


@pytest.fixture(params=sorted(BUILDS))
def build(request: pytest.FixtureRequest) -> Path:
    path = BUILDS[request.param]
    if not (path / "nuwad").exists() or not (path / "libnuwa-minifw.so").exists():
        pytest.skip(f"runtime build '{request.param}' missing (make -C runtime; make -C runtime sanitize; make -C runtime CC=musl-gcc)")
    return path


@pytest.fixture
def start_nuwad(build: Path, tmp_path: Path) -> Iterator[Callable[..., Nuwad]]:
    """start_nuwad(**config parts) -> a running Nuwad; stopped and checked after the test."""
    started: list[Nuwad] = []

    def start(**parts: str) -> Nuwad:
        work = tmp_path / f"n{len(started)}"
        work.mkdir()
        conf = write_config(work / "nuwad.conf", build, **parts)
        d = Nuwad(build, work, conf, LEAK_CHECK_ENV)
        started.append(d)
        return d

    yield start
    for d in started:
        d.stop()


@pytest.fixture
def nuwad(start_nuwad: Callable[..., Nuwad]) -> Nuwad:
    d = start_nuwad()
    d.wait_ready()
    return d


@pytest.fixture
def world_writable_dir() -> Iterator[Path]:
    """A directory anyone may write in: only Landlock can stop an app (or one of its
    threads) creating a file here."""
    path = Path(tempfile.mkdtemp(prefix="nuwa-open-", dir="/tmp"))
    path.chmod(0o777)
    yield path
    shutil.rmtree(path, ignore_errors=True)
