"""The key pair root's authorized_keys trusts: made once, kept in the cache."""
from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from . import paths


def key_path() -> Path:
    return paths.cache_dir() / "ssh" / "id_ed25519"


def ensure_key() -> tuple[Path, str]:
    """(private key file, public key line); creates the pair on first use."""
    priv = key_path()
    pub = priv.with_suffix(".pub")
    if not (priv.exists() and pub.exists()):
        priv.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.OpenSSH,
                                serialization.NoEncryption())
        line = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                             serialization.PublicFormat.OpenSSH)
        tmp = priv.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        pub.write_text(line.decode() + " nuwa\n")
        os.replace(tmp, priv)
    return priv, pub.read_text().strip()
