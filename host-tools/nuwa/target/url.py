"""`--target URL` -> a Target:

- ssh://[USER@]HOST[:PORT]  a running system over SSH;
- labgrid:ENV.yaml           target `main` of a labgrid environment file;
- labgrid://PLACE            a place of the labgrid coordinator named by LG_COORDINATOR
                             (default 127.0.0.1:20408), acquired while in use.
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from .. import sshkey
from ..errors import NuwaError
from . import hostkeys
from .base import Target
from .ssh import SSHTarget

TARGET_FORMS = "ssh://USER@HOST:PORT, labgrid:ENV.yaml or labgrid://PLACE"


def target_from_url(url: str, key_file: str | Path | None = None,
                    known_hosts: Path | None = None,
                    accept_new_host_key: bool = False) -> Target:
    """The target `url` names. For ssh:// (user root, port 22 by default) the key is the
    cached Nuwa key unless `key_file` is given; a real board needs that public key in
    root's authorized_keys. Its host key is checked against `known_hosts` (default:
    hostkeys.known_hosts_file(); trust on first use, a changed key refused unless
    accept_new_host_key)."""
    if url.startswith("labgrid://"):
        place = url.removeprefix("labgrid://").strip("/")
        if not place or "/" in place:
            raise NuwaError(f"bad target {url!r}: expected labgrid://PLACE")
        from .lab import LabgridPlaceTarget  # labgrid (gRPC) only when asked for
        return LabgridPlaceTarget(place, key_file=key_file)
    if url.startswith("labgrid:"):
        env = Path(url.removeprefix("labgrid:"))
        if not env.is_file():
            raise NuwaError(f"bad target {url!r}: no labgrid environment file {env}")
        from .lab import LabgridEnvTarget
        return LabgridEnvTarget(env)
    try:
        parts = urlsplit(url)
        port = parts.port or 22
    except ValueError as e:
        raise NuwaError(f"bad target {url!r}: {e}") from e
    if parts.scheme != "ssh" or not parts.hostname or parts.path not in ("", "/"):
        raise NuwaError(f"bad target {url!r}: expected {TARGET_FORMS}")
    key = key_file if key_file is not None else sshkey.ensure_key()[0]
    return SSHTarget(parts.hostname, port, parts.username or "root", key,
                     known_hosts=known_hosts or hostkeys.known_hosts_file(),
                     accept_new_host_key=accept_new_host_key)
