"""`--target ssh://USER@HOST:PORT` -> a Target."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from .. import sshkey
from ..errors import NuwaError
from .ssh import SSHTarget


def target_from_url(url: str, key_file: str | Path | None = None) -> SSHTarget:
    """Parse ssh://[USER@]HOST[:PORT] (user root, port 22 by default).

    The key is the cached Nuwa key unless `key_file` is given; a real board
    needs that public key in root's authorized_keys.
    """
    try:
        parts = urlsplit(url)
        port = parts.port or 22
    except ValueError as e:
        raise NuwaError(f"bad target {url!r}: {e}") from e
    if parts.scheme != "ssh" or not parts.hostname or parts.path not in ("", "/"):
        raise NuwaError(f"bad target {url!r}: expected ssh://USER@HOST:PORT")
    key = key_file if key_file is not None else sshkey.ensure_key()[0]
    return SSHTarget(parts.hostname, port, parts.username or "root", key)
