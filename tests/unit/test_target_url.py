"""`--target ssh://USER@HOST:PORT` parsing."""
from __future__ import annotations

from pathlib import Path

import pytest
from nuwa.errors import NuwaError
from nuwa.target import SSHTarget, target_from_url


@pytest.mark.parametrize(("url", "user", "host", "port"), [
    ("ssh://root@10.0.0.5:2222", "root", "10.0.0.5", 2222),
    ("ssh://board.local", "root", "board.local", 22),
    ("ssh://pi@[::1]:22", "pi", "::1", 22),
])
def test_ssh_urls(tmp_path: Path, url: str, user: str, host: str, port: int) -> None:
    t = target_from_url(url, key_file=tmp_path / "key")
    assert isinstance(t, SSHTarget)
    assert (t.user, t.host, t.port) == (user, host, port)


@pytest.mark.parametrize("url", ["root@host", "http://host", "ssh://", "ssh://h:99999",
                                 "ssh://h/path"])
def test_bad_urls(tmp_path: Path, url: str) -> None:
    with pytest.raises(NuwaError, match="bad target"):
        target_from_url(url, key_file=tmp_path / "key")


@pytest.mark.parametrize("url", ["labgrid://", "labgrid://a/b", "labgrid:/no/such/env.yaml"])
def test_bad_labgrid_urls(tmp_path: Path, url: str) -> None:
    with pytest.raises(NuwaError, match="bad target"):
        target_from_url(url, key_file=tmp_path / "key")
