"""Host keys of real boards (`--target ssh://`): a known_hosts file in Nuwa's cache.

Trust on first use: an unknown board's key is stored and its fingerprint printed; a
changed key is refused with a clear error unless the user says the board really changed
(`--accept-new-host-key`). Guests that nuwa boots itself make a new key at every boot and
are not checked (nuwa.target.qemu).
"""
from __future__ import annotations

import base64
import hashlib
import sys
from pathlib import Path

import paramiko

from .. import paths


def known_hosts_file() -> Path:
    return paths.cache_dir() / "ssh" / "known_hosts"


def host_id(host: str, port: int) -> str:
    """The known_hosts name of host:port (OpenSSH's form)."""
    return host if port == 22 else f"[{host}]:{port}"


def fingerprint(key: paramiko.PKey) -> str:
    """SHA256:… as ssh-keygen -l prints it."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


class TrustOnFirstUse(paramiko.MissingHostKeyPolicy):
    """Store an unknown host's key in the file and say so (paramiko refuses a changed key
    itself, before any policy is asked)."""

    def __init__(self, path: Path, replaced: str | None = None) -> None:
        self.path = path
        self.replaced = replaced  # fingerprint of the key --accept-new-host-key dropped

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str,
                         key: paramiko.PKey) -> None:
        client.get_host_keys().add(hostname, key.get_name(), key)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        client.save_host_keys(str(self.path))
        what = (f"replaced the host key {self.replaced} of {hostname} by"
                if self.replaced else f"new host {hostname}: trusting its key on first use,")
        print(f"nuwa: {what} {key.get_name()} {fingerprint(key)} (stored in {self.path})",
              file=sys.stderr)


def prepare_client(client: paramiko.SSHClient, path: Path, host: str, port: int,
                   accept_new: bool) -> None:
    """Load the known hosts into client and set the trust-on-first-use policy; with
    accept_new, forget host:port's stored key first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        client.load_host_keys(str(path))
    replaced = None
    name = host_id(host, port)
    keys = client.get_host_keys()
    if accept_new and name in keys:
        old = next(iter(keys[name].values()))
        replaced = fingerprint(old)
        del keys[name]
        # HostKeys.save, not SSHClient.save_host_keys: that one reads the file back first
        # (and so the old key)
        keys.save(str(path))
    client.set_missing_host_key_policy(TrustOnFirstUse(path, replaced))


def changed_key_message(host: str, port: int, e: paramiko.BadHostKeyException,
                        path: Path) -> str:
    return (f"the host key of {host_id(host, port)} changed: {path} has "
            f"{e.expected_key.get_name()} {fingerprint(e.expected_key)}, the board offered "
            f"{e.key.get_name()} {fingerprint(e.key)}. Refusing to connect (it may not be "
            "your board). If the board was re-installed, run again with "
            "--accept-new-host-key")
