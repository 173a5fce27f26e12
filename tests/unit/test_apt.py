"""The private apt: host sources, offline use of the cache, cache verification."""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from nuwa.errors import NuwaError
from nuwa.image.apt import Package, PrivateApt, Source, host_sources


def pkg(name: str, data: bytes) -> Package:
    return Package(name, "1:1.0-1", "armhf", len(data), hashlib.sha256(data).hexdigest())


def test_host_sources_come_from_apt() -> None:
    if shutil.which("apt-get") is None:
        pytest.skip("not a Debian host")
    sources = host_sources()
    assert sources and all(s.uri.endswith("/") and s.suite and s.component for s in sources)


def test_mirror_replaces_the_archive_not_security() -> None:
    if shutil.which("apt-get") is None:
        pytest.skip("not a Debian host")
    sources = host_sources(mirror="http://mirror.invalid/debian")
    for s in sources:
        expect = s.suite.endswith("-security") or s.uri == "http://mirror.invalid/debian/"
        assert expect, s


def test_offline_without_cache_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(NuwaError, match="no cached package sources"):
        PrivateApt(tmp_path, "armhf", None, offline=True)


def test_offline_without_lists_is_a_clear_error(tmp_path: Path) -> None:
    apt = PrivateApt(tmp_path, "armhf", [Source("http://x.invalid/d/", "s", "main")],
                     offline=True)
    with pytest.raises(NuwaError, match="no package lists"):
        apt.update()


def test_offline_fetch_names_missing_and_truncated(tmp_path: Path) -> None:
    apt = PrivateApt(tmp_path, "armhf", [Source("http://x.invalid/d/", "s", "main")],
                     offline=True)
    good, cut, gone = pkg("good", b"g" * 100), pkg("cut", b"c" * 100), pkg("gone", b"x")
    assert good.deb_name == "good_1%3a1.0-1_armhf.deb"
    apt.path(good).write_bytes(b"g" * 100)
    apt.path(cut).write_bytes(b"c" * 50)
    with pytest.raises(NuwaError) as e:
        apt.fetch([good, cut, gone])
    msg = str(e.value)
    assert "cut 1:1.0-1 (truncated or corrupt" in msg
    assert "gone 1:1.0-1 (missing" in msg
    assert "good" not in msg
    assert apt.fetch([good]) == [apt.path(good)]


def test_same_size_wrong_content_is_caught(tmp_path: Path) -> None:
    apt = PrivateApt(tmp_path, "armhf", [Source("http://x.invalid/d/", "s", "main")],
                     offline=True)
    p = pkg("p", b"a" * 10)
    apt.path(p).write_bytes(b"b" * 10)
    assert not apt.verify(p)
